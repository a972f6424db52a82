// What every control loop here shares: informers feed a work queue through
// handlers that only enqueue; one worker reconciles key by key once the
// caches have synced (client-go's WaitForCacheSync), starting with every
// object already cached, so nothing depends on whether an informer replays
// its cache to late handlers.

import type { Informer } from '../client/api-client.ts'
import type { Clock } from './clock.ts'
import type { Logger } from './logger.ts'
import { runWorker, WorkQueue } from './work-queue.ts'
import type { SyncResult } from './work-queue.ts'

export abstract class Controller {
  readonly queue: WorkQueue
  private worker: Promise<void> | undefined
  private stopped = false

  constructor(
    protected readonly clock: Clock,
    protected readonly logger: Logger,
  ) {
    this.queue = new WorkQueue(clock)
  }

  /** The informers to wait for before the first sync. */
  protected abstract informers(): readonly Informer[]
  /** The keys to reconcile once the caches are in. */
  protected abstract initialKeys(): Iterable<string>
  /** Reconciles one key; throws to retry with backoff. */
  protected abstract sync(key: string): Promise<SyncResult | void>

  /** Resolves once the caches have synced and the worker runs. */
  async start(): Promise<void> {
    await Promise.all(this.informers().map(async i => await i.synced))
    if (this.stopped) return
    for (const key of this.initialKeys()) this.queue.add(key)
    this.worker = runWorker(this.queue, async key => await this.sync(key), this.logger)
  }

  /** Stops handing out keys and waits for the sync in flight. */
  async stop(): Promise<void> {
    this.stopped = true
    this.queue.shutDown()
    await this.worker
  }

  /** Nothing queued and nothing in flight (tests). */
  idle(): boolean {
    return this.queue.idle()
  }
}

/** Whether a resync delivered the same object again (resourceVersion unchanged). */
export function sameVersion(a: { metadata: { resourceVersion?: string } }, b: { metadata: { resourceVersion?: string } }): boolean {
  return a.metadata.resourceVersion !== undefined && a.metadata.resourceVersion === b.metadata.resourceVersion
}
