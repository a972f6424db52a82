// A rate-limited work queue of object keys (client-go's workqueue), and the
// one worker loop that drains it.
//
// Why: event handlers only record "this key changed" here; one loop reconciles
// each key from the informer caches. The queue gives the guarantees the
// controllers lean on:
// - a key is queued at most once however many events arrive (dirty set);
// - a key is never processed twice at the same time: added while in flight,
//   it is queued again when the worker is done with it;
// - `addAfter` keeps the earliest pending deadline of a key;
// - `addRateLimited` backs off per key, 5 ms doubling up to 1000 s (the
//   ItemExponentialFailureRateLimiter defaults), until `forget`.
// client-go's overall token bucket (10 qps, burst 100) is left out: there is
// one worker per controller here.

import type { Clock } from './clock.ts'
import { isConflict } from '../api/status-error.ts'
import type { Logger } from './logger.ts'

export interface RateLimit {
  baseMs: number
  maxMs: number
}

export const DEFAULT_RATE_LIMIT: RateLimit = { baseMs: 5, maxMs: 1000_000 }

export class WorkQueue {
  private readonly queue: string[] = []
  private readonly dirty = new Set<string>()
  private readonly processing = new Set<string>()
  private readonly waiters: Array<(key: string | undefined) => void> = []
  private readonly failures = new Map<string, number>()
  private readonly timers = new Map<string, { at: number; cancel: () => void }>()
  private shuttingDown = false

  constructor(
    private readonly clock: Clock,
    private readonly limit: RateLimit = DEFAULT_RATE_LIMIT,
  ) {}

  /** Queues `key` unless it is already waiting. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return
    this.dirty.add(key)
    if (this.processing.has(key)) return
    const waiter = this.waiters.shift()
    if (waiter) {
      this.dirty.delete(key)
      this.processing.add(key)
      waiter(key)
    } else {
      this.queue.push(key)
    }
  }

  /** Queues `key` after `ms`; an earlier pending deadline for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return
    if (ms <= 0) {
      this.add(key)
      return
    }
    const at = this.clock.now() + ms
    const pending = this.timers.get(key)
    if (pending && pending.at <= at) return
    pending?.cancel()
    const cancel = this.clock.setTimer(ms, () => {
      if (this.timers.get(key)?.cancel !== cancel) return
      this.timers.delete(key)
      this.add(key)
    })
    this.timers.set(key, { at, cancel })
  }

  /** Queues `key` after its backoff, which doubles with every call until forget. */
  addRateLimited(key: string): void {
    this.addAfter(key, this.when(key))
  }

  /** The backoff the next addRateLimited will use, and counts the failure. */
  private when(key: string): number {
    const n = this.failures.get(key) ?? 0
    this.failures.set(key, n + 1)
    return Math.min(this.limit.baseMs * 2 ** n, this.limit.maxMs)
  }

  /** Clears the failure count of `key`. */
  forget(key: string): void {
    this.failures.delete(key)
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0
  }

  /** The next key to process (marked in flight), or undefined once shut down. */
  async get(): Promise<string | undefined> {
    const key = this.queue.shift()
    if (key !== undefined) {
      this.dirty.delete(key)
      this.processing.add(key)
      return key
    }
    if (this.shuttingDown) return undefined
    return await new Promise(resolve => this.waiters.push(resolve))
  }

  /** Marks `key` processed; queues it again if it was added meanwhile. */
  done(key: string): void {
    this.processing.delete(key)
    if (this.dirty.has(key)) {
      this.dirty.delete(key)
      this.add(key)
    }
  }

  /** Keys waiting (not in flight, not delayed). */
  len(): number {
    return this.queue.length
  }

  /** Nothing queued and nothing in flight (delayed keys do not count). */
  idle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0
  }

  /** Stops handing out keys; get() resolves undefined. */
  shutDown(): void {
    this.shuttingDown = true
    for (const { cancel } of this.timers.values()) cancel()
    this.timers.clear()
    for (const waiter of this.waiters.splice(0)) waiter(undefined)
  }

  isShuttingDown(): boolean {
    return this.shuttingDown
  }
}

/** What one reconcile asks for: come back after this many milliseconds. */
export interface SyncResult {
  requeueAfterMs?: number
}

/** How many Conflicts in a row are retried at once before backing off. */
const IMMEDIATE_CONFLICT_RETRIES = 3

/**
 * The worker: takes keys one at a time and calls `sync`. Success forgets the
 * key's backoff (and honours requeueAfterMs); a Conflict (someone wrote the
 * object first, or the cache was stale) requeues at once, up to three times
 * in a row, then with backoff; any other error is logged and retried with
 * backoff. Resolves when the queue shuts down.
 */
export async function runWorker(
  queue: WorkQueue,
  sync: (key: string) => Promise<SyncResult | void>,
  logger: Logger,
): Promise<void> {
  const conflicts = new Map<string, number>()
  for (;;) {
    const key = await queue.get()
    if (key === undefined) return
    try {
      const result = await sync(key)
      queue.forget(key)
      conflicts.delete(key)
      if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs)
    } catch (err) {
      if (queue.isShuttingDown()) return
      const n = conflicts.get(key) ?? 0
      if (isConflict(err) && n < IMMEDIATE_CONFLICT_RETRIES) {
        conflicts.set(key, n + 1)
        logger.debug('conflict, requeued', { key, error: err })
        queue.add(key)
      } else {
        conflicts.delete(key)
        logger.warn('sync failed, will retry', { key, retries: queue.numRequeues(key), error: err })
        queue.addRateLimited(key)
      }
    } finally {
      queue.done(key)
    }
  }
}
