// Writes a loop made that its informer has not shown yet (Kubernetes'
// endpointSliceTracker, by resourceVersion instead of generation).
//
// Why: a loop that decides from its cache must not decide again before the
// cache holds its own last writes, or it creates a second slice for the same
// endpoints, or rewrites an object it already fixed. After each write the
// loop records what it expects to see (the resourceVersion the server
// answered, or that the object is gone); the informer's handlers tick the
// expectations off as the events arrive. While an owner (a Service) has
// expectations left its cache is stale: the loop skips the sync and the
// event it waits for queues the owner again. An expectation is given up
// after `maxWaitMs` so a missed event (a relist that jumped past it) cannot
// stall a Service for good.

import type { KubeObject } from '../client/api-client.ts'
import { objectKey } from '../client/api-client.ts'
import type { Clock } from './clock.ts'

interface Expectation {
  /** The resourceVersion to see; undefined: the object's deletion. */
  resourceVersion?: string
  uid?: string
  owner: string
  at: number
}

export const WRITE_TRACKER_MAX_WAIT_MS = 2000

export class WriteTracker {
  /** object key → what the loop expects to see of it. */
  private readonly expected = new Map<string, Expectation>()

  constructor(
    private readonly clock: Clock,
    private readonly maxWaitMs = WRITE_TRACKER_MAX_WAIT_MS,
  ) {}

  /** `object` was written for `owner` (the server's answer); `cached` is what the cache holds now. */
  wrote(owner: string, object: KubeObject, cached?: KubeObject): void {
    const rv = object.metadata.resourceVersion
    if (rv === undefined || cached?.metadata.resourceVersion === rv) return
    this.expected.set(objectKey(object), { resourceVersion: rv, uid: object.metadata.uid, owner, at: this.clock.now() })
  }

  /** `key` ("namespace/name") was deleted for `owner`. */
  deleted(owner: string, key: string): void {
    this.expected.set(key, { owner, at: this.clock.now() })
  }

  /**
   * An informer event: ticks off the expectation it meets — the version
   * written, or the object gone (awaited deletion, or the written object
   * deleted by someone since).
   */
  observed(object: KubeObject, gone: boolean): void {
    const key = objectKey(object)
    const e = this.expected.get(key)
    if (!e) return
    const met = gone
      ? e.resourceVersion === undefined || e.uid === object.metadata.uid
      : e.resourceVersion === object.metadata.resourceVersion
    if (met) this.expected.delete(key)
  }

  /** Milliseconds until the cache of `owner` can be trusted: 0 when nothing is awaited. */
  staleFor(owner: string): number {
    const now = this.clock.now()
    let wait = 0
    for (const [key, e] of this.expected) {
      if (e.owner !== owner) continue
      const left = e.at + this.maxWaitMs - now
      if (left <= 0) this.expected.delete(key)
      else wait = Math.max(wait, left)
    }
    return wait
  }

  /** Drops what is awaited for `owner` (it is gone). */
  forget(owner: string): void {
    for (const [key, e] of this.expected) if (e.owner === owner) this.expected.delete(key)
  }
}
