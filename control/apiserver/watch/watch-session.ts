// One client's watch: a watcher on the resource's cache plus what the request
// asked for around it — periodic BOOKMARK events (allowWatchBookmarks), an
// end after timeoutSeconds, and the ERROR event that ends a watch whose
// resourceVersion is too old.
//
// Why an ERROR event rather than an HTTP error for 410: kube-apiserver answers
// 200, sends one event {"type":"ERROR","object":<Status 410 Expired>} and
// closes the stream; client-go's reflector and the official JavaScript
// client's informer both expect exactly that to trigger a re-list.

import { StatusError } from '../../api/status-error.ts'
import type { KubeObject, WatchEvent } from '../../client/api-client.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import { groupVersion } from '../resource-definition.ts'
import type { CacheWatcher, WatchCache, WatchFilter, WatchStart } from './watch-cache.ts'

export type WatchEndReason = 'stopped' | 'timeout' | 'expired' | 'closed' | 'error'

/** A running watch, as the handler core hands it to a transport. */
export interface ApiWatch {
  /** Ends the watch; no event is delivered after it returns. Idempotent. */
  stop(): void
  /** Settles with the reason once the watch has ended. */
  readonly done: Promise<WatchEndReason>
}

export interface WatchSessionOptions {
  filter: WatchFilter
  start: WatchStart
  /** Send BOOKMARK events every bookmarkIntervalMs. */
  bookmarks: boolean
  bookmarkIntervalMs: number
  /** End the watch after this long (undefined: never). */
  timeoutSeconds: number | undefined
}

export class WatchSession implements ApiWatch {
  readonly done: Promise<WatchEndReason>
  readonly #def: ResourceDefinition
  readonly #cache: WatchCache
  readonly #onEvent: (event: WatchEvent) => void
  #watcher: CacheWatcher | undefined
  #ended = false
  #settle!: (reason: WatchEndReason) => void
  #timers: NodeJS.Timeout[] = []

  constructor(cache: WatchCache, options: WatchSessionOptions, onEvent: (event: WatchEvent) => void) {
    this.#def = cache.def
    this.#cache = cache
    this.#onEvent = onEvent
    this.done = new Promise(resolve => {
      this.#settle = resolve
    })
    try {
      this.#watcher = cache.watch(
        options.filter,
        options.start,
        (type, object) => this.#onEvent({ type, object }),
        reason => this.#end(reason === 'stopped' ? 'stopped' : reason),
      )
    } catch (err) {
      if (!(err instanceof StatusError)) throw err
      // Too old: one ERROR event, then the end (after the caller has its handle).
      queueMicrotask(() => {
        if (this.#ended) return
        try {
          this.#onEvent({ type: 'ERROR', object: err.status as unknown as KubeObject })
        } finally {
          this.#end('expired')
        }
      })
      return
    }
    if (options.bookmarks) {
      // Not unref'd: an open watch is work in progress, like its socket would be.
      this.#timers.push(setInterval(() => void this.#bookmark(), options.bookmarkIntervalMs))
    }
    if (options.timeoutSeconds !== undefined) {
      this.#timers.push(setTimeout(() => this.#end('timeout'), options.timeoutSeconds * 1000))
    }
  }

  stop(): void {
    this.#end('stopped')
  }

  async #bookmark(): Promise<void> {
    let revision: number
    try {
      revision = await this.#cache.progress()
    } catch {
      return // the store is closing; the watch ends with it
    }
    if (this.#ended) return
    this.#watcher?.bookmark({
      kind: this.#def.kind,
      apiVersion: groupVersion(this.#def),
      metadata: { resourceVersion: String(revision) },
    })
  }

  #end(reason: WatchEndReason): void {
    if (this.#ended) return
    this.#ended = true
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers = []
    this.#watcher?.stop()
    this.#settle(reason)
  }
}
