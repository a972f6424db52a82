// The CronJob control loop (cronjob_controllerv2.go's shell): Job and
// CronJob handlers enqueue the CronJob; one worker gathers what
// reconcileCronJob needs, carries out its plan through the ApiClient and
// requeues the key at the next start time through the Clock (the work
// queue's addAfter), so a test's manual clock drives the schedule.
//
// Before deciding, as Kubernetes does: an unfinished Job we control that the
// cached status does not list sends us to the API for a fresh CronJob (our
// own status write may not have reached the cache), and an active reference
// missing from the Job cache is looked up (a Job the cache has not seen yet
// is not "missing"). Jobs are deleted with propagationPolicy Background (the
// garbage collector takes their pods). A Job that already exists under the
// planned name is ours if it carries our controller reference. The status
// is written with PUT on the status subresource.

import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isAlreadyExists, isNotFound } from '../api/status-error.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import type { CronJob, CronJobPlan, CronJobStatus, JobDeletion, JobView } from './cronjob.ts'
import { isControlledBy, isJobFinished, nextScheduleDelay, parseCronJobSchedule, reconcileCronJob, requeueAfterCreate, statusWithCreated } from './cronjob.ts'
import type { EventRecorder } from './events.ts'
import { nullRecorder } from './events.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import { controllerRefOf } from './objects.ts'
import type { SyncResult } from './work-queue.ts'
import { objectKey } from '../client/api-client.ts'
import { errorMessage } from './objects.ts'

export interface CronJobControllerOptions {
  client: ApiClient
  cronJobs: Informer<CronJob>
  jobs: Informer<JobView>
  clock?: Clock
  recorder?: EventRecorder
  logger?: Logger
}

export class CronJobController extends Controller {
  private readonly client: ApiClient
  private readonly cronJobs: Informer<CronJob>
  private readonly jobs: Informer<JobView>
  private readonly recorder: EventRecorder

  constructor(options: CronJobControllerOptions) {
    super(options.clock ?? systemClock, (options.logger ?? silentLogger).with({ component: 'cronjob-controller' }))
    this.client = options.client
    this.cronJobs = options.cronJobs
    this.jobs = options.jobs
    this.recorder = options.recorder ?? nullRecorder

    this.cronJobs.on('add', cj => this.queue.add(objectKey(cj)))
    this.cronJobs.on('update', (cj, old) => this.cronJobUpdated(cj, old))
    this.cronJobs.on('delete', cj => this.queue.add(objectKey(cj)))
    this.jobs.on('add', job => this.enqueueOwner(job))
    this.jobs.on('update', (job, old) => {
      if (sameVersion(job, old)) return
      const before = controllerRefOf(old)
      if (!jsonEqual(controllerRefOf(job) ?? null, before ?? null)) this.enqueueOwner(old)
      this.enqueueOwner(job)
    })
    this.jobs.on('delete', job => this.enqueueOwner(job))
  }

  protected informers(): readonly Informer[] {
    return [this.cronJobs, this.jobs]
  }

  protected initialKeys(): Iterable<string> {
    return this.cronJobs.list().map(objectKey)
  }

  // --- handlers: only enqueue ------------------------------------------------

  private enqueueOwner(job: JobView): void {
    const ref = controllerRefOf(job)
    if (!ref || ref.kind !== 'CronJob') return
    const cronJob = this.cronJobs.get(`${job.metadata.namespace ?? ''}/${ref.name}`)
    if (cronJob && cronJob.metadata.uid === ref.uid) this.queue.add(objectKey(cronJob))
  }

  // A new schedule: come back at its next start time; anything else: now.
  private cronJobUpdated(cronJob: CronJob, old: CronJob): void {
    const key = objectKey(cronJob)
    if (cronJob.spec?.schedule === old.spec?.schedule && cronJob.spec?.timeZone === old.spec?.timeZone) {
      this.queue.add(key)
      return
    }
    let delay: number | undefined
    try {
      delay = nextScheduleDelay(cronJob, this.clock.now(), parseCronJobSchedule(cronJob))
    } catch {
      this.recorder.event(cronJob, 'Warning', 'UnParseableCronJobSchedule', `unparseable schedule for cronjob: ${cronJob.spec?.schedule ?? ''}`)
      return
    }
    if (delay !== undefined) this.queue.addAfter(key, delay)
  }

  // --- the worker --------------------------------------------------------------

  protected async sync(key: string): Promise<SyncResult | void> {
    const started = this.clock.now()
    let cronJob = this.cronJobs.get(key)
    if (!cronJob) return
    const ns = cronJob.metadata.namespace
    const jobs = this.jobs.list().filter(j => j.metadata.namespace === ns && isControlledBy(j, cronJob!))

    // The cached status may predate our own last write.
    const listed = new Set((cronJob.status?.active ?? []).map(r => r.uid))
    if (jobs.some(j => !isJobFinished(j) && !listed.has(j.metadata.uid))) {
      const fresh = await this.getCronJob(cronJob)
      if (!fresh) return
      cronJob = fresh
    }
    const gathered = await this.withActiveJobs(cronJob, jobs)

    const plan = reconcileCronJob({ cronJob, jobs: gathered.jobs, missingActive: gathered.missing, now: this.clock.now() })
    const result = await this.execute(cronJob, plan)

    const changed = plan.delete.length > 0 || result.created !== undefined || result.statusWritten
    this.logger[changed ? 'info' : 'debug']('synced cronjob', {
      cronJob: key,
      active: (result.status.active ?? []).length,
      deleted: result.deleted,
      created: result.created,
      statusUpdated: result.statusWritten,
      requeueAfterMs: result.requeueAfterMs,
      ms: this.clock.now() - started,
    })
    if (result.error) throw result.error
    return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : undefined
  }

  private async getCronJob(cronJob: CronJob): Promise<CronJob | undefined> {
    try {
      const fresh = await this.client.get<CronJob>(RESOURCES.cronjobs, cronJob.metadata.namespace, cronJob.metadata.name ?? '')
      return fresh.metadata.uid === cronJob.metadata.uid ? fresh : undefined
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }

  // Active references the Job cache lacks: present in the API (keep), or gone (missing).
  private async withActiveJobs(cronJob: CronJob, jobs: JobView[]): Promise<{ jobs: JobView[]; missing: Set<string> }> {
    const known = new Set(jobs.map(j => j.metadata.uid))
    const missing = new Set<string>()
    const all = [...jobs]
    for (const ref of cronJob.status?.active ?? []) {
      if (known.has(ref.uid)) continue
      try {
        const job = await this.client.get<JobView>(RESOURCES.jobs, ref.namespace || cronJob.metadata.namespace, ref.name ?? '')
        if (job.metadata.uid === ref.uid) all.push(job)
        else missing.add(ref.uid ?? '')
      } catch (err) {
        if (!isNotFound(err)) throw err
        missing.add(ref.uid ?? '')
      }
    }
    return { jobs: all, missing }
  }

  private async execute(cronJob: CronJob, plan: CronJobPlan): Promise<{
    status: CronJobStatus
    deleted: number
    created?: string
    statusWritten: boolean
    requeueAfterMs?: number
    error?: unknown
  }> {
    let status = plan.status
    let deleted = 0
    let error: unknown
    let requeueAfterMs = plan.requeueAfterMs
    const failedReplace: JobDeletion[] = []
    const remove = async (deletion: JobDeletion): Promise<void> => {
      if (await this.deleteJob(cronJob, deletion)) {
        deleted++
        return
      }
      // Still there: it stays listed if it was.
      const ref = (cronJob.status?.active ?? []).find(r => r.uid === deletion.job.metadata.uid)
      if (ref) status = { ...status, active: [...(status.active ?? []), ref] }
      if (deletion.why === 'replace') failedReplace.push(deletion)
    }
    // Kubernetes' order: history clean-up, what the Jobs say, then Replace and the new Job.
    for (const deletion of plan.delete) if (deletion.why === 'history') await remove(deletion)
    for (const e of plan.events) this.recorder.event(cronJob, e.type, e.reason, e.message)
    for (const deletion of plan.delete) if (deletion.why === 'replace') await remove(deletion)

    let created: string | undefined
    if (plan.create && failedReplace.length > 0) {
      const job = failedReplace[0]!.job
      error = new Error(`could not replace job ${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`)
    } else if (plan.create) {
      const outcome = await this.createJob(cronJob, plan.create.job)
      if (outcome.error !== undefined) {
        error = outcome.error
        requeueAfterMs = undefined
      } else if (outcome.job === undefined) {
        requeueAfterMs = undefined // someone else's Job under our name, or already listed
      } else {
        created = outcome.job.metadata.name
        status = statusWithCreated(status, outcome.job, plan.create.scheduledTime)
        requeueAfterMs = requeueAfterCreate(cronJob, status, this.clock.now())
      }
    }

    let statusWritten = false
    if (!jsonEqual(status, cronJob.status ?? {})) {
      try {
        await this.client.update(RESOURCES.cronjobs, cronJob.metadata.namespace, { ...cronJob, status }, 'status')
        statusWritten = true
      } catch (err) {
        if (!isNotFound(err)) return { status, deleted, statusWritten, error: err, ...(created ? { created } : {}) }
      }
    }
    const result = { status, deleted, statusWritten, ...(created ? { created } : {}), ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) }
    return error === undefined ? result : { ...result, error }
  }

  private async deleteJob(cronJob: CronJob, { job }: JobDeletion): Promise<boolean> {
    const name = job.metadata.name ?? ''
    try {
      await this.client.delete(RESOURCES.jobs, job.metadata.namespace ?? cronJob.metadata.namespace, name, { propagationPolicy: 'Background' })
    } catch (err) {
      if (!isNotFound(err)) {
        this.recorder.event(cronJob, 'Warning', 'FailedDelete', `Deleted job: ${errorMessage(err)}`)
        return false
      }
    }
    this.recorder.event(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`)
    return true
  }

  /** The created Job; undefined when the name is taken by a Job that is not ours or that we already list. */
  private async createJob(cronJob: CronJob, job: JobView): Promise<{ job?: JobView; error?: unknown }> {
    const ns = cronJob.metadata.namespace
    try {
      const created = await this.client.create<JobView>(RESOURCES.jobs, ns, job)
      this.recorder.event(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name ?? ''}`)
      return { job: created }
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.recorder.event(cronJob, 'Warning', 'FailedCreate', `Error creating job: ${errorMessage(err)}`)
        return { error: err }
      }
    }
    // Created before, but the status write may not have made it.
    let existing: JobView
    try {
      existing = await this.client.get<JobView>(RESOURCES.jobs, ns, job.metadata.name ?? '')
    } catch (err) {
      return { error: err }
    }
    this.logger.info('job already exists', { cronJob: objectKey(cronJob), job: job.metadata.name })
    if (controllerRefOf(existing)?.uid !== cronJob.metadata.uid) return {}
    if ((cronJob.status?.active ?? []).some(r => r.uid === existing.metadata.uid)) return {}
    return { job: existing }
  }
}

