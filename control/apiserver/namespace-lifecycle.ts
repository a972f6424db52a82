// Namespaces from birth to removal: the system namespaces exist from the
// start, and a deleted namespace is emptied, then removed.
//
// Why in the API server: in Kubernetes the namespace controller (in the
// controller manager) empties a Terminating namespace and then removes the
// `kubernetes` finalizer from spec.finalizers. kubewire keeps that protocol —
// the namespace turns Terminating, new content is refused, every object in
// it is deleted with the ordinary delete (so pods on nodes get their grace
// period and the node agent finishes them) — but runs it here, driven by the
// watch caches: whenever something changes in a terminating namespace, it
// checks again, and once nothing is left it drops the finalizer, which
// removes the namespace.

import { isAlreadyExists, isConflict, isNotFound } from '../api/status-error.ts'
import type { KubeObject } from '../client/api-client.ts'
import { NAMESPACE_FINALIZER, namespaces, specFinalizers } from './kinds/namespace.ts'
import { listPrefix } from './storage-keys.ts'
import type { HandlerCore } from './verbs/core.ts'
import { createObject } from './verbs/create.ts'
import { deleteObject } from './verbs/delete.ts'
import { guaranteedUpdate } from './verbs/guaranteed-update.ts'
import type { CacheWatcher, WatchCache } from './watch/watch-cache.ts'

export async function ensureNamespaces(core: HandlerCore, names: readonly string[]): Promise<void> {
  for (const name of names) {
    try {
      await createObject(core, namespaces, undefined, { metadata: { name } })
    } catch (err) {
      if (!isAlreadyExists(err)) throw err
    }
  }
}

export class NamespaceLifecycle {
  readonly #core: HandlerCore
  readonly #caches: readonly WatchCache[]
  readonly #terminating = new Set<string>()
  readonly #scheduled = new Set<string>()
  readonly #running = new Map<string, Promise<void>>()
  readonly #watchers: CacheWatcher[] = []
  readonly #onError: (err: unknown) => void
  #closed = false

  /** `caches`: the namespaces cache and every namespaced resource's cache. */
  constructor(core: HandlerCore, caches: readonly WatchCache[], onError: (err: unknown) => void) {
    this.#core = core
    this.#caches = caches
    this.#onError = onError
    for (const cache of caches) {
      const isNamespaces = cache.def === namespaces
      this.#watchers.push(
        cache.watch({}, { kind: 'state' }, (type, object) => {
          if (isNamespaces) {
            const name = object.metadata.name ?? ''
            if (type === 'DELETED') this.#terminating.delete(name)
            else if (object.metadata.deletionTimestamp !== undefined) {
              this.#terminating.add(name)
              this.#schedule(name)
            }
          } else {
            const namespace = object.metadata.namespace
            if (namespace !== undefined && this.#terminating.has(namespace)) this.#schedule(namespace)
          }
        }, () => {}),
      )
    }
  }

  /** Resolves when no namespace is being worked on (for tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#scheduled.size > 0) {
      await Promise.all([...this.#running.values()])
      await new Promise<void>(resolve => setImmediate(resolve))
    }
  }

  close(): void {
    this.#closed = true
    for (const watcher of this.#watchers) watcher.stop()
  }

  #schedule(namespace: string): void {
    if (this.#closed || this.#scheduled.has(namespace)) return
    this.#scheduled.add(namespace)
    setImmediate(() => {
      this.#scheduled.delete(namespace)
      const previous = this.#running.get(namespace) ?? Promise.resolve()
      const next = previous.then(() => this.#sweep(namespace)).catch(this.#onError)
      this.#running.set(namespace, next)
      void next.then(() => {
        if (this.#running.get(namespace) === next) this.#running.delete(namespace)
      })
    })
  }

  /** Deletes what is left in a terminating namespace; removes the namespace once it is empty. */
  async #sweep(namespace: string): Promise<void> {
    if (this.#closed || !this.#terminating.has(namespace)) return
    const core = this.#core
    let remaining = 0
    for (const cache of this.#caches) {
      const def = cache.def
      if (!def.namespaced) continue
      const { items } = await core.store.list(listPrefix(def, namespace))
      remaining += items.length
      for (const item of items) {
        if (item.metadata.deletionTimestamp !== undefined) continue
        try {
          await deleteObject(core, def, namespace, String(item.metadata.name), { propagationPolicy: 'Background' })
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) this.#onError(err)
        }
      }
    }
    if (remaining > 0 || this.#closed) return
    try {
      await guaranteedUpdate(core, namespaces, undefined, namespace, current => {
        if (current.metadata.deletionTimestamp === undefined) return undefined
        const finalizers = specFinalizers(current)
        if (!finalizers.includes(NAMESPACE_FINALIZER)) return undefined
        const next = structuredClone(current) as KubeObject
        next.spec = { ...(next.spec as object), finalizers: finalizers.filter(f => f !== NAMESPACE_FINALIZER) }
        return next
      })
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }
}
