// An informer (client-go's reflector + store): list, then watch from the
// list's resourceVersion, keeping a cache of one resource and telling
// handlers what changed.
//
// Why it never misses a change: the watch resumes from the last
// resourceVersion seen (events and BOOKMARKs advance it). When the watch
// ends it is re-opened from there; when the server says that version is too
// old (an ERROR event with 410, or a 410 answer), the informer lists again
// and compares the new list with its cache, emitting add / update / delete
// for every difference — so handlers see the same sequence of states they
// would have seen had nothing gone wrong (intermediate states collapsed).
// Errors back off (100 ms doubling to 5 s) and never stop the informer;
// only stop() does.

import { isGoneOrExpired, isStatus } from '../api/status-error.ts'
import type { Status } from '../api/status-error.ts'
import { StatusError } from '../api/status-error.ts'
import type { ApiClient, Informer, KubeObject, ListOptions, ResourceRef, WatchEvent, WatchHandle } from './api-client.ts'
import { objectKey } from './api-client.ts'

export interface InformerOptions {
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
  /** Where a throwing handler's error goes (default: console.error). */
  onError?: (err: unknown) => void
  /** Ask the server for BOOKMARK events (default true). */
  bookmarks?: boolean
}

type Handlers<T> = {
  add: Array<(object: T) => void>
  update: Array<(object: T, old: T) => void>
  delete: Array<(object: T) => void>
}

const MIN_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 5000

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

class ListWatchInformer<T extends KubeObject> implements Informer<T> {
  readonly synced: Promise<void>
  readonly #client: ApiClient
  readonly #ref: ResourceRef
  readonly #options: InformerOptions
  readonly #cache = new Map<string, T>()
  readonly #handlers: Handlers<T> = { add: [], update: [], delete: [] }
  #resourceVersion = ''
  #synced = false
  #markSynced!: () => void
  #stopped = false
  #watch: WatchHandle | undefined
  #timer: NodeJS.Timeout | undefined
  #backoff = MIN_BACKOFF_MS
  /** Relists done (tests and diagnostics). */
  relists = 0

  constructor(client: ApiClient, ref: ResourceRef, options: InformerOptions) {
    this.#client = client
    this.#ref = ref
    this.#options = options
    this.synced = new Promise(resolve => {
      this.#markSynced = resolve
    })
    void this.#relist()
  }

  hasSynced(): boolean {
    return this.#synced
  }

  /** The resourceVersion the informer is up to date with. */
  get resourceVersion(): string {
    return this.#resourceVersion
  }

  list(): T[] {
    return [...this.#cache.values()]
  }

  get(key: string): T | undefined {
    return this.#cache.get(key)
  }

  on(event: 'add', handler: (object: T) => void): void
  on(event: 'update', handler: (object: T, old: T) => void): void
  on(event: 'delete', handler: (object: T) => void): void
  on(event: 'add' | 'update' | 'delete', handler: ((object: T) => void) | ((object: T, old: T) => void)): void {
    if (event === 'add') {
      const add = handler as (object: T) => void
      this.#handlers.add.push(add)
      // Like client-go: a handler added late still hears about what is cached.
      for (const object of this.#cache.values()) this.#call(() => add(object))
    } else if (event === 'update') {
      this.#handlers.update.push(handler as (object: T, old: T) => void)
    } else {
      this.#handlers.delete.push(handler as (object: T) => void)
    }
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#watch?.stop()
  }

  #call(fn: () => void): void {
    try {
      fn()
    } catch (err) {
      ;(this.#options.onError ?? (e => console.error('kubewire informer: handler failed:', e)))(err)
    }
  }

  #emitAdd(object: T): void {
    for (const handler of this.#handlers.add) this.#call(() => handler(object))
  }

  #emitUpdate(object: T, old: T): void {
    for (const handler of this.#handlers.update) this.#call(() => handler(object, old))
  }

  #emitDelete(object: T): void {
    for (const handler of this.#handlers.delete) this.#call(() => handler(object))
  }

  #listOptions(): ListOptions {
    const options: ListOptions = {}
    if (this.#options.labelSelector !== undefined) options.labelSelector = this.#options.labelSelector
    if (this.#options.fieldSelector !== undefined) options.fieldSelector = this.#options.fieldSelector
    return options
  }

  #retry(step: () => Promise<void>): void {
    if (this.#stopped) return
    const delay = this.#backoff
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS)
    this.#timer = setTimeout(() => void step(), delay)
    this.#timer.unref()
  }

  /** Lists, replaces the cache (emitting the differences), then watches. */
  async #relist(): Promise<void> {
    if (this.#stopped) return
    if (this.#synced) this.relists++
    let list
    try {
      list = await this.#client.list<T>(this.#ref, this.#options.namespace, this.#listOptions())
    } catch {
      this.#retry(() => this.#relist())
      return
    }
    if (this.#stopped) return
    const seen = new Set<string>()
    for (const item of list.items) {
      const object = deepFreeze(item)
      const key = objectKey(object)
      seen.add(key)
      const old = this.#cache.get(key)
      this.#cache.set(key, object)
      if (old === undefined) this.#emitAdd(object)
      else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) this.#emitUpdate(object, old)
    }
    for (const [key, old] of [...this.#cache]) {
      if (seen.has(key)) continue
      this.#cache.delete(key)
      this.#emitDelete(old)
    }
    this.#resourceVersion = list.metadata.resourceVersion
    if (!this.#synced) {
      this.#synced = true
      this.#markSynced()
    }
    await this.#startWatch()
  }

  async #startWatch(): Promise<void> {
    if (this.#stopped) return
    let expired = false
    let delivered = false
    const options: ListOptions = { ...this.#listOptions(), resourceVersion: this.#resourceVersion }
    if (this.#options.bookmarks !== false) options.allowWatchBookmarks = true
    let handle: WatchHandle
    try {
      handle = await this.#client.watch<T>(this.#ref, this.#options.namespace, options, event => {
        if (this.#stopped || expired) return
        if (event.type === 'ERROR') {
          const status = event.object as unknown as Status
          expired = isStatus(status) && isGoneOrExpired(StatusError.fromStatus(status))
          if (!expired) this.#watch?.stop()
          return
        }
        delivered = true
        this.#apply(event)
      })
    } catch (err) {
      if (isGoneOrExpired(err)) this.#retry(() => this.#relist())
      else this.#retry(() => this.#startWatch())
      return
    }
    this.#watch = handle
    if (this.#stopped) {
      handle.stop()
      return
    }
    await handle.done
    if (this.#stopped) return
    if (expired) {
      await this.#relist()
      return
    }
    // The stream ended (timeout, server restart, network): resume where we
    // were, at once if it was delivering, after a back-off if it was not.
    if (delivered) {
      this.#backoff = MIN_BACKOFF_MS
      await this.#startWatch()
    } else {
      this.#retry(() => this.#startWatch())
    }
  }

  #apply(event: WatchEvent<T>): void {
    this.#backoff = MIN_BACKOFF_MS
    const object = event.object
    const rv = object.metadata.resourceVersion
    if (rv !== undefined && rv !== '') this.#resourceVersion = rv
    if (event.type === 'BOOKMARK') return
    const frozen = deepFreeze(object)
    const key = objectKey(frozen)
    const old = this.#cache.get(key)
    if (event.type === 'DELETED') {
      if (old === undefined) return
      this.#cache.delete(key)
      this.#emitDelete(frozen)
      return
    }
    this.#cache.set(key, frozen)
    if (old === undefined) this.#emitAdd(frozen)
    else this.#emitUpdate(frozen, old)
  }
}

/** An informer on one resource (optionally one namespace, filtered by selectors); it starts at once. */
export function createInformer<T extends KubeObject = KubeObject>(client: ApiClient, ref: ResourceRef, options: InformerOptions = {}): Informer<T> & { readonly resourceVersion: string; readonly relists: number } {
  return new ListWatchInformer<T>(client, ref, options)
}
