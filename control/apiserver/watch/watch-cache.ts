// One resource's watch cache: the current objects plus a window of recent
// events, fed by a single store watch and fanned out to every API watcher of
// that resource.
//
// Why (kube-apiserver's Cacher does the same):
// - Fan-out: fifty node agents watching pods cost one store watch, and each
//   event is matched against each watcher's filter in one pass.
// - Filtered watches need the previous state of an object: a pod whose label
//   stops matching `-l app=web` must reach that watcher as DELETED, one that
//   starts matching as ADDED. Store events carry only the new state, so the
//   cache keeps the current objects and pairs every event with its predecessor.
// - Resuming: a watch from resourceVersion N replays the cached events after
//   N. Events leave the window as new ones arrive (the window is per
//   resource); N older than the window is "too old" (410 Expired), and the
//   client re-lists. After a restart the window starts at the restart.
// Delivery to each watcher is queued and drained in a microtask, so a slow or
// throwing watcher never holds up the others or the store.

import { tooOldResourceVersion } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import type { Store, StoredObject, WatchHandle } from '../../store/store.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import { resourcePrefix } from '../storage-keys.ts'

export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface CacheEvent {
  readonly type: CacheEventType
  readonly key: string
  /** The new state; for DELETED the last state, stamped with the deletion's revision. */
  readonly object: StoredObject
  /** The state before this event (undefined for ADDED). */
  readonly prev: StoredObject | undefined
  readonly revision: number
}

/** Which objects a watcher wants. */
export interface WatchFilter {
  readonly namespace?: string | undefined
  readonly name?: string | undefined
  /** Label and field selectors; undefined selects every object. */
  readonly matches?: ((object: KubeObject) => boolean) | undefined
}

export type WatchDeliveryType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'
export type Deliver = (type: WatchDeliveryType, object: KubeObject) => void

export interface CacheWatcher {
  /** Queues a BOOKMARK behind the events already queued. */
  bookmark(object: KubeObject): void
  /** Stops delivery; queued events are dropped. Idempotent. */
  stop(): void
  readonly ended: boolean
}

/** Where a new watcher starts. */
export type WatchStart =
  | { kind: 'resume'; after: number }
  /** Synthetic ADDED events for the current state, then what follows. */
  | { kind: 'state' }

const DEFAULT_WINDOW = 10_000

function restamp(object: StoredObject, revision: number): StoredObject {
  return Object.freeze({ ...object, metadata: Object.freeze({ ...object.metadata, resourceVersion: String(revision) }) })
}

/** The previous state as a filtered watcher's DELETED carries it: stamped with the event's revision (made once per event). */
function deletedPrevOf(event: CacheEvent): () => StoredObject {
  let restamped: StoredObject | undefined
  return () => (restamped ??= restamp(event.prev as StoredObject, event.revision))
}

class Watcher implements CacheWatcher {
  readonly filter: WatchFilter
  readonly #deliver: Deliver
  readonly #onEnd: (reason: 'stopped' | 'closed' | 'error', error?: unknown) => void
  #queue: Array<[WatchDeliveryType, KubeObject]> = []
  #scheduled = false
  ended = false
  readonly #release: (w: Watcher) => void

  constructor(
    filter: WatchFilter,
    deliver: Deliver,
    onEnd: (reason: 'stopped' | 'closed' | 'error', error?: unknown) => void,
    release: (w: Watcher) => void,
  ) {
    this.filter = filter
    this.#deliver = deliver
    this.#onEnd = onEnd
    this.#release = release
  }

  accepts(object: KubeObject): boolean {
    const { namespace, name, matches } = this.filter
    if (namespace !== undefined && object.metadata.namespace !== namespace) return false
    if (name !== undefined && object.metadata.name !== name) return false
    return matches === undefined || matches(object)
  }

  offer(event: CacheEvent, deletedPrev: () => StoredObject): void {
    const now = event.type !== 'DELETED' && this.accepts(event.object)
    const before = event.prev !== undefined && this.accepts(event.prev)
    if (now && !before) this.push('ADDED', event.object)
    else if (now && before) this.push('MODIFIED', event.object)
    else if (!now && before) this.push('DELETED', event.type === 'DELETED' ? event.object : deletedPrev())
  }

  push(type: WatchDeliveryType, object: KubeObject): void {
    if (this.ended) return
    this.#queue.push([type, object])
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => this.#drain())
  }

  bookmark(object: KubeObject): void {
    this.push('BOOKMARK', object)
  }

  #drain(): void {
    for (let i = 0; !this.ended && i < this.#queue.length; i++) {
      const item = this.#queue[i] as [WatchDeliveryType, KubeObject]
      try {
        this.#deliver(item[0], item[1])
      } catch (error) {
        this.end('error', error)
      }
    }
    this.#queue = []
    this.#scheduled = false
  }

  end(reason: 'stopped' | 'closed' | 'error', error?: unknown): void {
    if (this.ended) return
    this.ended = true
    this.#queue = []
    this.#release(this)
    this.#onEnd(reason, error)
  }

  stop(): void {
    this.end('stopped')
  }
}

export class WatchCache {
  readonly def: ResourceDefinition
  readonly #store: Store
  readonly #objects = new Map<string, StoredObject>()
  readonly #perNamespace = new Map<string, number>()
  readonly #window: number
  #ring: Array<CacheEvent | undefined>
  #start = 0
  #count = 0
  /** Events up to and including this revision are not in the window. */
  #compacted: number
  /** The newest revision this cache is known to be complete up to. */
  #revision: number
  readonly #watchers = new Set<Watcher>()
  #storeWatch: WatchHandle | undefined
  #closed = false

  private constructor(store: Store, def: ResourceDefinition, window: number, revision: number) {
    this.#store = store
    this.def = def
    this.#window = Math.max(1, window)
    this.#ring = new Array<CacheEvent | undefined>(this.#window)
    this.#compacted = revision
    this.#revision = revision
  }

  /** Lists the resource and follows the store from the list's revision. */
  static async start(store: Store, def: ResourceDefinition, window = DEFAULT_WINDOW): Promise<WatchCache> {
    const prefix = resourcePrefix(def)
    const listed = await store.list(prefix)
    const cache = new WatchCache(store, def, window, listed.revision)
    for (const object of listed.items) cache.#put(object)
    cache.#storeWatch = await store.watch(prefix, { fromRevision: listed.revision }, event => {
      const prev = cache.#objects.get(event.key)
      if (event.type === 'DELETED') cache.#remove(event.key, prev)
      else cache.#put(event.object, event.key, prev)
      cache.#record({ type: event.type, key: event.key, object: event.object, prev, revision: event.revision })
    })
    void cache.#storeWatch.done.then(() => cache.close())
    return cache
  }

  /** The newest revision the cache has applied (at least its start). */
  get revision(): number {
    return this.#revision
  }

  get watcherCount(): number {
    return this.#watchers.size
  }

  /**
   * A revision the cache is complete up to, at least as new as any write
   * finished before the call: waits until the store's pending deliveries
   * (microtasks) have reached the cache.
   */
  async progress(): Promise<number> {
    const storeRevision = await this.#store.revision()
    await new Promise<void>(resolve => setImmediate(resolve))
    this.#revision = Math.max(this.#revision, storeRevision)
    return this.#revision
  }

  /** Current objects (frozen), in key order. */
  objects(): StoredObject[] {
    return [...this.#objects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, object]) => object)
  }

  /** How many objects the cache holds in `namespace`. */
  countInNamespace(namespace: string): number {
    return this.#perNamespace.get(namespace) ?? 0
  }

  /**
   * Registers a watcher. For { kind: 'resume', after: N } it first receives
   * the cached events after N; throws a 410 Expired StatusError when N is
   * older than the window. For { kind: 'state' } it first receives ADDED for
   * every current object it selects. Then live events, in order.
   */
  watch(
    filter: WatchFilter,
    start: WatchStart,
    deliver: Deliver,
    onEnd: (reason: 'stopped' | 'closed' | 'error', error?: unknown) => void,
  ): CacheWatcher {
    const watcher = new Watcher(filter, deliver, onEnd, w => this.#watchers.delete(w))
    if (this.#closed) {
      queueMicrotask(() => watcher.end('closed'))
      return watcher
    }
    if (start.kind === 'resume') {
      if (start.after < this.#compacted) throw tooOldResourceVersion(start.after, this.#compacted)
      for (const event of this.#since(start.after)) watcher.offer(event, deletedPrevOf(event))
    } else {
      for (const object of this.objects()) if (watcher.accepts(object)) watcher.push('ADDED', object)
    }
    this.#watchers.add(watcher)
    return watcher
  }

  /** Ends every watcher; the cache stops following the store. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#storeWatch?.stop()
    for (const watcher of [...this.#watchers]) watcher.end('closed')
  }

  #put(object: StoredObject, key?: string, prev?: StoredObject): void {
    const k = key ?? this.#keyOf(object)
    this.#objects.set(k, object)
    if (prev === undefined) this.#count1(object.metadata.namespace, +1)
  }

  #remove(key: string, prev: StoredObject | undefined): void {
    if (!this.#objects.delete(key)) return
    this.#count1(prev?.metadata.namespace, -1)
  }

  #count1(namespace: unknown, delta: number): void {
    if (typeof namespace !== 'string' || namespace === '') return
    const next = (this.#perNamespace.get(namespace) ?? 0) + delta
    if (next <= 0) this.#perNamespace.delete(namespace)
    else this.#perNamespace.set(namespace, next)
  }

  #keyOf(object: StoredObject): string {
    const { namespace, name } = object.metadata
    return this.def.namespaced ? `${resourcePrefix(this.def)}${String(namespace)}/${String(name)}` : `${resourcePrefix(this.def)}${String(name)}`
  }

  #record(event: CacheEvent): void {
    if (this.#count === this.#window) {
      const oldest = this.#ring[this.#start]
      if (oldest !== undefined) this.#compacted = oldest.revision
      this.#ring[this.#start] = event
      this.#start = (this.#start + 1) % this.#window
    } else {
      this.#ring[(this.#start + this.#count) % this.#window] = event
      this.#count++
    }
    this.#revision = Math.max(this.#revision, event.revision)
    const deletedPrev = deletedPrevOf(event)
    for (const watcher of this.#watchers) watcher.offer(event, deletedPrev)
  }

  /** Cached events with revision > after, oldest first (binary search: revisions increase). */
  #since(after: number): CacheEvent[] {
    let lo = 0
    let hi = this.#count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const event = this.#ring[(this.#start + mid) % this.#window] as CacheEvent
      if (event.revision <= after) lo = mid + 1
      else hi = mid
    }
    const out: CacheEvent[] = []
    for (let i = lo; i < this.#count; i++) out.push(this.#ring[(this.#start + i) % this.#window] as CacheEvent)
    return out
  }
}
