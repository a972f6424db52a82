// Controller expectations (Kubernetes' UIDTrackingControllerExpectations).
//
// Why: after a ReplicaSet controller creates 3 pods, its pod cache does not
// show them until the watch events arrive. A sync in between would see too
// few pods and create 3 more. So before creating or deleting, the controller
// records what it expects to observe; handlers lower the counts as the
// informer shows the creations and deletions; manageReplicas runs only once
// every expectation is met, or after a TTL (5 minutes) in case an event was
// lost. Deletions are tracked by pod key, so only the deletions this
// controller asked for count.

import type { Clock } from './clock.ts'

/** How long unmet expectations hold the controller back (ExpectationsTimeout). */
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000

interface Record {
  add: number
  del: number
  timestamp: number
  deleteKeys: Set<string>
}

export class Expectations {
  private readonly records = new Map<string, Record>()

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = EXPECTATIONS_TTL_MS,
  ) {}

  /**
   * Whether the controller of `key` may act (SatisfiedExpectations): no
   * record, every expectation met, or the record expired.
   */
  satisfied(key: string): boolean {
    const r = this.records.get(key)
    if (!r) return true
    if (r.add <= 0 && r.del <= 0) return true
    return this.clock.now() - r.timestamp > this.ttlMs
  }

  /** Expects `count` creations (replacing any record). */
  expectCreations(key: string, count: number): void {
    this.records.set(key, { add: count, del: 0, timestamp: this.clock.now(), deleteKeys: new Set() })
  }

  /** Expects the deletion of exactly these pod keys (replacing any record). */
  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.records.set(key, {
      add: 0,
      del: podKeys.length,
      timestamp: this.clock.now(),
      deleteKeys: new Set(podKeys),
    })
  }

  /** Expects `count` creations and these deletions from one sync (replacing any record). */
  expectCreationsAndDeletions(key: string, count: number, podKeys: readonly string[]): void {
    this.records.set(key, { add: count, del: podKeys.length, timestamp: this.clock.now(), deleteKeys: new Set(podKeys) })
  }

  /** One creation was seen (or will never be: a failed or skipped create). */
  creationObserved(key: string): void {
    const r = this.records.get(key)
    if (r) r.add--
  }

  /** A pod went away or got a deletionTimestamp; counts only if expected. */
  deletionObserved(key: string, podKey: string): void {
    const r = this.records.get(key)
    if (r && r.deleteKeys.delete(podKey)) r.del--
  }

  /** Forgets the controller of `key` (it was deleted). */
  delete(key: string): void {
    this.records.delete(key)
  }

  /** Pending creations and deletions, for logs and tests. */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.records.get(key)
    return r ? { add: r.add, del: r.del } : undefined
  }
}
