// The Job control loop: handlers record which Jobs to look at (and what the
// pod cache confirmed, for the expectations); one worker applies
// reconcileJob's plan through the ApiClient.
//
// As in Kubernetes: creations go out in slow-start batches (1, 2, 4, ...)
// and stop at the first batch with an error; deletions go out together; each
// is an Event on the Job (SuccessfulCreate "Created pod: pi-abc12",
// FailedCreate "Error creating: ...", SuccessfulDelete "Deleted pod: ...",
// FailedDelete "Error deleting: ..."), as are the plan's own (Completed,
// BackoffLimitExceeded, DeadlineExceeded, Suspended, Resumed). Adoption first
// re-reads the Job, so a Job deleted meanwhile adopts nothing. The status is
// written with PUT on the status subresource, with the cached
// resourceVersion. Timed rules (back-off, deadline) come back through the queue's
// delays, which run on the injected Clock.

import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isNotFound } from '../api/status-error.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import type { EventRecorder } from './events.ts'
import { nullRecorder } from './events.ts'
import { Expectations } from './expectations.ts'
import type { Job, JobStatus, PodFailureBackoff } from './job.ts'
import { DEFAULT_POD_FAILURE_BACKOFF, jobKey, reconcileJob } from './job.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import type { Pod } from './objects.ts'
import { namespacedName, newControllerRef } from './objects.ts'
import { adoptAndReleasePods, handleOwnedPods, specSelectorMatches } from './pod-owner-handlers.ts'
import type { SyncResult } from './work-queue.ts'
import { createPodsInBatches, deletePods, type PodWriter } from './pod-writes.ts'

export interface JobControllerOptions {
  client: ApiClient
  jobs: Informer<Job>
  pods: Informer<Pod>
  clock?: Clock
  recorder?: EventRecorder
  logger?: Logger
  /** The replacement back-off after pod failures (default 10 s doubling, capped at 6 min). */
  podFailureBackoff?: Partial<PodFailureBackoff>
}


export class JobController extends Controller {
  readonly expectations: Expectations
  private readonly client: ApiClient
  private readonly jobs: Informer<Job>
  private readonly pods: Informer<Pod>
  private readonly recorder: EventRecorder
  private readonly backoff: PodFailureBackoff

  constructor(options: JobControllerOptions) {
    const clock = options.clock ?? systemClock
    super(clock, (options.logger ?? silentLogger).with({ component: 'job-controller' }))
    this.client = options.client
    this.jobs = options.jobs
    this.pods = options.pods
    this.recorder = options.recorder ?? nullRecorder
    this.expectations = new Expectations(clock)
    this.backoff = { ...DEFAULT_POD_FAILURE_BACKOFF, ...options.podFailureBackoff }

    this.jobs.on('add', job => this.queue.add(jobKey(job)))
    this.jobs.on('update', (job, old) => {
      if (!sameVersion(job, old)) this.queue.add(jobKey(job))
    })
    this.jobs.on('delete', job => {
      this.expectations.delete(jobKey(job))
      this.queue.add(jobKey(job))
    })
    handleOwnedPods({
      pods: this.pods,
      owners: this.jobs,
      kind: 'Job',
      keyOf: jobKey,
      expectations: this.expectations,
      enqueue: key => this.queue.add(key),
      selects: specSelectorMatches,
      updates: 'every',
    })
  }

  private get writer(): PodWriter {
    return { client: this.client, recorder: this.recorder, expectations: this.expectations }
  }

  protected informers(): readonly Informer[] {
    return [this.jobs, this.pods]
  }

  protected initialKeys(): Iterable<string> {
    return this.jobs.list().map(jobKey)
  }

  // --- the worker ------------------------------------------------------------

  protected async sync(key: string): Promise<SyncResult | void> {
    const started = this.clock.now()
    const job = this.jobs.get(key)
    if (!job) {
      this.expectations.delete(key)
      return
    }
    const ns = job.metadata.namespace
    const plan = reconcileJob({
      job,
      pods: this.pods.list().filter(p => p.metadata.namespace === ns),
      now: started,
      expectationsSatisfied: this.expectations.satisfied(key),
      backoff: this.backoff,
    })

    const ref = newControllerRef(job, 'batch/v1', 'Job')
    if (!(await adoptAndReleasePods(this.client, RESOURCES.jobs, job, ref, plan.adopt, plan.release))) return { requeueAfterMs: 0 }

    let failure: string | undefined
    let created = 0
    let deleted = 0
    if (plan.delete.length > 0) {
      const result = await this.deletePods(key, job, plan.delete)
      deleted = result.deleted
      failure = result.error
    }
    if (plan.create.length > 0) {
      const result = await this.createPods(key, job, plan.create)
      created = result.created
      failure ??= result.error
    }

    let status = plan.status
    if (created < plan.create.length) {
      // Creations that failed are not active.
      status = { ...(status ?? job.status), active: Math.max(0, (status?.active ?? 0) - (plan.create.length - created)) }
      if (status.active === 0) delete status.active
    }
    if (status) await this.writeStatus(job, status)
    // Events about the Job's state only once the status saying it is stored.
    for (const e of plan.events) this.recorder.event(job, e.type, e.reason, e.message)

    const changed = created + deleted + plan.adopt.length + plan.release.length > 0 || status !== undefined
    this.logger[changed ? 'info' : 'debug']('synced job', {
      job: key,
      owned: plan.owned.length,
      created,
      deleted,
      active: status?.active ?? job.status?.active ?? 0,
      succeeded: status?.succeeded ?? job.status?.succeeded ?? 0,
      failed: status?.failed ?? job.status?.failed ?? 0,
      statusUpdated: status !== undefined,
      ms: this.clock.now() - started,
    })
    if (failure) throw new Error(failure)
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined
  }

  private async createPods(key: string, job: Job, pods: Pod[]): Promise<{ created: number; error?: string }> {
    this.expectations.expectCreations(key, pods.length)
    return await createPodsInBatches(this.writer, key, job, pods)
  }

  private async deletePods(key: string, job: Job, pods: Pod[]): Promise<{ deleted: number; error?: string }> {
    this.expectations.expectDeletions(key, pods.map(namespacedName))
    return await deletePods(this.writer, key, job, pods)
  }

  private async writeStatus(job: Job, status: JobStatus): Promise<void> {
    await this.client.update(RESOURCES.jobs, job.metadata.namespace, { ...job, status }, 'status')
  }
}

