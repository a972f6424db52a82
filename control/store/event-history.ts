// The recent past, kept so a watch can resume from a revision.
//
// Like the Kubernetes watch cache (and etcd before compaction), the store
// keeps a window of the latest events in memory. Every revision after the
// first is exactly one event, so events in the window are contiguous and the
// event for revision r sits at a computable position; no search is needed.
// A watch from a revision whose successors have left the window gets Gone
// (410) and must re-list, as Kubernetes clients already do.

import { GoneError } from './store.ts'
import type { WatchEvent } from './store.ts'

export class EventHistory {
  readonly #capacity: number
  readonly #ring: Array<WatchEvent | undefined>
  #start = 0 // ring index of the oldest event
  #count = 0
  #compacted: number

  /**
   * compactedRevision: events up to and including it are not available
   * (0 when nothing was ever lost: a fresh store).
   */
  constructor (capacity: number, compactedRevision: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError(`bad history size ${capacity}`)
    this.#capacity = capacity
    this.#ring = new Array<WatchEvent | undefined>(capacity)
    this.#compacted = compactedRevision
  }

  /** Events with revision <= this are gone; a watch must start at or after it. */
  get compactedRevision (): number {
    return this.#compacted
  }

  /** Appends the next event (revisions must be consecutive). */
  push (event: WatchEvent): void {
    const newest = this.#at(this.#count - 1)
    if (newest !== undefined && event.revision !== newest.revision + 1) {
      throw new Error(`history: revision ${event.revision} after ${newest.revision}`)
    }
    if (this.#capacity === 0) {
      this.#compacted = event.revision
      return
    }
    if (this.#count === this.#capacity) {
      const oldest = this.#at(0)
      if (oldest !== undefined) this.#compacted = oldest.revision
      this.#ring[this.#start] = event
      this.#start = (this.#start + 1) % this.#capacity
    } else {
      this.#ring[(this.#start + this.#count) % this.#capacity] = event
      this.#count++
    }
  }

  /** Every retained event with revision > fromRevision, oldest first; Gone if some are missing. */
  since (fromRevision: number): WatchEvent[] {
    if (fromRevision < this.#compacted) throw new GoneError(fromRevision, this.#compacted)
    const oldest = this.#at(0)
    if (oldest === undefined) return []
    const events: WatchEvent[] = []
    for (let i = Math.max(0, fromRevision + 1 - oldest.revision); i < this.#count; i++) {
      const event = this.#at(i)
      if (event !== undefined) events.push(event)
    }
    return events
  }

  #at (index: number): WatchEvent | undefined {
    if (index < 0 || index >= this.#count) return undefined
    return this.#ring[(this.#start + index) % this.#capacity]
  }
}
