// The TTL-after-finished loop: Jobs that finished and carry
// ttlSecondsAfterFinished are queued; the worker waits (a delayed requeue on
// the injected Clock) until they expire, re-reads the Job from the API to
// make sure the cache was not stale (a Job whose TTL was raised or that was
// restarted is spared), and deletes it with propagationPolicy Foreground and
// a uid precondition, as Kubernetes does: the garbage collector deletes the
// Job's pods first, then the Job.

import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isNotFound } from '../api/status-error.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller } from './controller.ts'
import type { Job } from './job.ts'
import { jobKey } from './job.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import { needsCleanup, ttlDecision } from './ttl-after-finished.ts'
import type { SyncResult } from './work-queue.ts'

export interface TtlAfterFinishedOptions {
  client: ApiClient
  jobs: Informer<Job>
  clock?: Clock
  logger?: Logger
}

export class TtlAfterFinishedController extends Controller {
  private readonly client: ApiClient
  private readonly jobs: Informer<Job>

  constructor(options: TtlAfterFinishedOptions) {
    super(options.clock ?? systemClock, (options.logger ?? silentLogger).with({ component: 'ttl-after-finished-controller' }))
    this.client = options.client
    this.jobs = options.jobs
    this.jobs.on('add', job => this.enqueue(job))
    this.jobs.on('update', job => this.enqueue(job))
  }

  private enqueue(job: Job): void {
    if (needsCleanup(job)) this.queue.add(jobKey(job))
  }

  protected informers(): readonly Informer[] {
    return [this.jobs]
  }

  protected initialKeys(): Iterable<string> {
    return this.jobs.list().filter(needsCleanup).map(jobKey)
  }

  protected async sync(key: string): Promise<SyncResult | void> {
    const cached = this.jobs.get(key)
    if (!cached) return
    const decision = ttlDecision(cached, this.clock.now())
    if (decision.action === 'wait') return { requeueAfterMs: decision.ms }
    if (decision.action === 'none') return
    const ns = cached.metadata.namespace
    const name = cached.metadata.name ?? ''
    let fresh: Job
    try {
      fresh = await this.client.get<Job>(RESOURCES.jobs, ns, name)
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
    const again = ttlDecision(fresh, this.clock.now())
    if (again.action === 'wait') return { requeueAfterMs: again.ms }
    if (again.action === 'none') return
    try {
      await this.client.delete(RESOURCES.jobs, ns, name, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid } })
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
    this.logger.info('deleted expired job', { job: key, ttlSecondsAfterFinished: fresh.spec?.ttlSecondsAfterFinished })
  }
}
