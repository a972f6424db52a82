// What every verb needs: the store, the registry, the clock, cluster
// settings, and the translation of store errors into Kubernetes Status errors.
//
// Why one small interface: verbs stay plain functions over (core, definition,
// request), testable against a MemoryStore without any HTTP.

import {
  alreadyExists,
  badRequest,
  internalError,
  notFound,
  serviceUnavailable,
  StatusError,
} from '../../api/status-error.ts'
import type { Store } from '../../store/store.ts'
import { StoreError } from '../../store/store.ts'
import type { ClusterSettings, ResourceDefinition } from '../resource-definition.ts'
import { groupResource } from '../resource-definition.ts'
import type { ResourceRegistry } from '../resources.ts'

export interface HandlerCore {
  readonly store: Store
  readonly registry: ResourceRegistry
  readonly settings: ClusterSettings
  now(): Date
  /** Runs `fn` holding `def`'s write lock when the kind serializes writes, else directly. */
  serialize<T>(def: ResourceDefinition, fn: () => Promise<T>): Promise<T>
}

/** RFC 3339 in UTC to the second, as Kubernetes writes metav1.Time. */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Turns a store failure into the Status error a client expects. */
export function storeFailure(err: unknown, def: ResourceDefinition, name: string): StatusError {
  if (err instanceof StatusError) return err
  if (err instanceof StoreError) {
    switch (err.code) {
      case 'AlreadyExists':
        return alreadyExists(groupResource(def), name)
      case 'NotFound':
        return notFound(groupResource(def), name)
      case 'InvalidArgument':
        return badRequest(err.message)
      case 'Closed':
      case 'Unavailable':
        return serviceUnavailable(err.message)
      default:
        return internalError(err)
    }
  }
  return internalError(err)
}

/** A chain of promises per key: what `serialize` is made of. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>()

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    const result = previous.then(fn, fn)
    const tail = result.then(
      () => undefined,
      () => undefined,
    )
    this.#tails.set(key, tail)
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    })
    return result
  }
}

/**
 * After a write conflict: waits until the store shows `key` at `revision` or
 * later (or gone). A durable store accepts writes before they reach the disk,
 * so a read right after a conflict can still return the older object; retrying
 * at once would only conflict again.
 */
export async function waitForRevision(store: Store, key: string, revision: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const current = await store.get(key)
    if (current === undefined || Number(current.metadata.resourceVersion) >= revision) return
    await new Promise(resolve => (attempt < 3 ? setImmediate(resolve) : setTimeout(resolve, Math.min(attempt, 20))))
  }
}
