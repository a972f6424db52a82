// The CronJob controller's decision (pkg/controller/cronjob
// cronjob_controllerv2.go syncCronJob and cleanupFinishedJobs, utils.go):
// from one CronJob, the Jobs it controls and the time, what to delete, what
// to create, the status to write, the Events and when to look again.
//
// In short, as Kubernetes does it:
// - Finished Jobs (condition Complete or Failed, status True) leave
//   status.active (SawCompletedJob); the newest completionTime of a
//   succeeded one is status.lastSuccessfulTime. Active references whose Job
//   is gone are dropped (MissingJob); an unfinished Job we control but do not
//   list is reported (UnexpectedJob).
// - successfulJobsHistoryLimit / failedJobsHistoryLimit: the oldest finished
//   Jobs (by status.startTime, unstarted last, then name) beyond the limit
//   are deleted.
// - A start time is due when the schedule had one between the last schedule
//   time (or the CronJob's creation) and now; only the most recent one
//   counts. startingDeadlineSeconds moves that window's start to now minus
//   the deadline, so older start times are skipped; more than 100 missed
//   ones warn (TooManyMissedTimes) and still start the latest.
// - Forbid skips a due start while a Job is active (JobAlreadyActive);
//   Replace deletes the active Jobs first; Allow runs them side by side.
// - The Job is named `<cronjob>-<start time in minutes since the epoch>`
//   (the name is the lock against starting the same time twice), carries
//   the template's labels and annotations, the annotation
//   batch.kubernetes.io/cronjob-scheduled-timestamp and a controller
//   reference to the CronJob.
// - The key comes back at the next start time plus 100 ms
//   (nextScheduleDelta), so the loop wakes up on schedule through the Clock.

import { goQuote } from '../api/status-error.ts'
import type { KubeObject, ObjectMeta } from '../client/api-client.ts'
import { formatTime, parseTime } from './clock.ts'
import type { CronSchedule } from '../api/cron-schedule.ts'
import { CronScheduleError, parseCronSchedule } from '../api/cron-schedule.ts'
import { formatRfc1123Z, formatRfc3339In, isKnownTimeZone } from '../api/cron-time-zone.ts'
import type { EventType, ObjectReference } from './events.ts'
import type { Condition, PodTemplateSpec } from './objects.ts'
import { compareText, controllerRefOf, newControllerRef } from './objects.ts'

export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp'

/** Padding on the requeue at the next start time (NTP skew), as Kubernetes' nextScheduleDelta. */
export const NEXT_SCHEDULE_DELTA_MS = 100

/** More missed start times than this warn (TooManyMissedTimes). */
export const MANY_MISSED_SCHEDULES = 100

// --- the slice of batch/v1 the controller reads ------------------------------

export interface JobSpecView {
  template?: PodTemplateSpec
  [field: string]: unknown
}

export interface JobStatusView {
  conditions?: Condition[]
  startTime?: string
  completionTime?: string
  [field: string]: unknown
}

export interface JobView extends KubeObject {
  spec?: JobSpecView
  status?: JobStatusView
}

export interface CronJobSpec {
  schedule?: string
  timeZone?: string
  startingDeadlineSeconds?: number
  concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace'
  suspend?: boolean
  jobTemplate?: { metadata?: ObjectMeta; spec?: JobSpecView }
  successfulJobsHistoryLimit?: number
  failedJobsHistoryLimit?: number
  [field: string]: unknown
}

export interface CronJobStatus {
  active?: ObjectReference[]
  lastScheduleTime?: string
  lastSuccessfulTime?: string
  [field: string]: unknown
}

export interface CronJob extends KubeObject {
  spec?: CronJobSpec
  status?: CronJobStatus
}

// --- Job helpers -------------------------------------------------------------

/** Complete or Failed, whichever is True (jobutil.FinishedCondition). */
export function finishedCondition(job: JobView): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type
  }
  return undefined
}

export const isJobFinished = (job: JobView): boolean => finishedCondition(job) !== undefined

/** Whether `job`'s controller reference names `cronJob` (getJobsToBeReconciled goes by name). */
export function isControlledBy(job: KubeObject, cronJob: KubeObject): boolean {
  const ref = controllerRefOf(job)
  return ref !== undefined && ref.kind === 'CronJob' && ref.name === cronJob.metadata.name
}

/** The object reference status.active holds (ref.GetReference). */
export function jobReference(job: JobView): ObjectReference {
  const ref: ObjectReference = {
    kind: 'Job',
    namespace: job.metadata.namespace ?? '',
    name: job.metadata.name ?? '',
    uid: job.metadata.uid ?? '',
    apiVersion: 'batch/v1',
  }
  if (job.metadata.resourceVersion !== undefined) ref.resourceVersion = job.metadata.resourceVersion
  return ref
}

/** byJobStartTime: started before unstarted, earlier first, then by name. */
export function byJobStartTime(a: JobView, b: JobView): number {
  const sa = parseTime(a.status?.startTime)
  const sb = parseTime(b.status?.startTime)
  if (sa === undefined && sb !== undefined) return 1
  if (sa !== undefined && sb === undefined) return -1
  if (sa === sb) return compareText(a.metadata.name ?? '', b.metadata.name ?? '')
  return (sa ?? 0) - (sb ?? 0)
}

// --- schedule helpers --------------------------------------------------------

/** The schedule the controller parses: spec.timeZone applies unless the schedule names a zone itself (formatSchedule). */
export function parseCronJobSchedule(cronJob: CronJob): CronSchedule {
  const schedule = cronJob.spec?.schedule ?? ''
  const zone = cronJob.spec?.timeZone
  if (!schedule.includes('TZ') && zone !== undefined && isKnownTimeZone(zone)) return parseCronSchedule(schedule, zone)
  return parseCronSchedule(schedule, 'UTC')
}

export type MissedSchedules = 'none' | 'few' | 'many'

export interface MostRecent {
  /** The last schedule time, else the creation (and the deadline's window start when asked). */
  earliest: number
  /** The most recent start time in (earliest, now], if any. */
  mostRecent?: number
  missed: MissedSchedules
  /** A schedule that parses but never or always fires (31 February). */
  error?: string
}

/**
 * mostRecentScheduleTime: counts the start times missed since `earliest` by
 * the spacing of the first two (not one by one: a clock decades off must not
 * eat the controller) and finds the latest one not after now.
 */
export function mostRecentScheduleTime(cronJob: CronJob, now: number, schedule: CronSchedule, withDeadline: boolean): MostRecent {
  let earliest = parseTime(cronJob.status?.lastScheduleTime) ?? parseTime(cronJob.metadata.creationTimestamp) ?? 0
  const deadline = cronJob.spec?.startingDeadlineSeconds
  if (withDeadline && typeof deadline === 'number') {
    const windowStart = now - deadline * 1000
    if (windowStart > earliest) earliest = windowStart
  }
  const t1 = schedule.next(earliest)
  if (t1 !== undefined && now < t1) return { earliest, missed: 'none' }
  const t2 = t1 === undefined ? undefined : schedule.next(t1)
  if (t1 !== undefined && t2 !== undefined && now < t2) return { earliest, mostRecent: t1, missed: 'none' }
  if (t1 === undefined || t2 === undefined || Math.round((t2 - t1) / 1000) < 1) {
    return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' }
  }
  const between = Math.round((t2 - t1) / 1000)
  const elapsed = Math.trunc((now - t1) / 1000)
  const missedCount = Math.trunc(elapsed / between) + 1
  // Start one spacing before the estimate and let the schedule find the real times (uneven schedules).
  let mostRecent: number | undefined
  for (let t = schedule.next(t1 + (missedCount - 2) * between * 1000); t !== undefined && t <= now; t = schedule.next(t)) mostRecent = t
  const missed: MissedSchedules = missedCount > MANY_MISSED_SCHEDULES ? 'many' : missedCount > 0 ? 'few' : 'none'
  return mostRecent === undefined ? { earliest, missed } : { earliest, mostRecent, missed }
}

/** nextScheduleTimeDuration: how long until the start time after the most recent one, plus the 100 ms padding. */
export function nextScheduleDelay(cronJob: CronJob, now: number, schedule: CronSchedule): number | undefined {
  const r = mostRecentScheduleTime(cronJob, now, schedule, false)
  let from: number
  if (r.error !== undefined) from = now
  else if (r.mostRecent !== undefined) from = r.mostRecent
  else from = r.missed === 'none' ? r.earliest : now
  const next = schedule.next(from)
  return next === undefined ? undefined : next + NEXT_SCHEDULE_DELTA_MS - now
}

/** `<cronjob>-<minutes since the epoch>`. */
export function jobNameFor(cronJob: CronJob, scheduledTime: number): string {
  return `${cronJob.metadata.name ?? ''}-${Math.floor(scheduledTime / 60_000)}`
}

/** getJobFromTemplate2: the Job for one start time. */
export function jobFromTemplate(cronJob: CronJob, scheduledTime: number): JobView {
  const template = cronJob.spec?.jobTemplate ?? {}
  const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) }
  annotations[CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION] = formatRfc3339In(scheduledTime, cronJob.spec?.timeZone ?? 'UTC')
  const metadata: ObjectMeta = {
    name: jobNameFor(cronJob, scheduledTime),
    namespace: cronJob.metadata.namespace ?? 'default',
    annotations,
    ownerReferences: [newControllerRef(cronJob, 'batch/v1', 'CronJob')],
  }
  const labels = template.metadata?.labels
  if (labels && Object.keys(labels).length > 0) metadata.labels = { ...labels }
  return { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: structuredClone(template.spec ?? {}) }
}

// --- the decision ------------------------------------------------------------

export interface CronJobEvent {
  type: EventType
  reason: string
  message: string
}

export interface CronJobSyncInput {
  cronJob: CronJob
  /** The Jobs it controls (controller reference by name), from the cache. */
  jobs: readonly JobView[]
  /** uids in status.active whose Job the API server confirmed gone. */
  missingActive?: ReadonlySet<string>
  now: number
}

export interface JobDeletion {
  job: JobView
  /** history: over a history limit; replace: concurrencyPolicy Replace. */
  why: 'history' | 'replace'
}

export interface CronJobPlan {
  /** Deletions in order (history first, then Replace); each removes the Job from status.active. */
  delete: JobDeletion[]
  /** The Job to create for `scheduledTime`; on success it joins status.active and lastScheduleTime is set. */
  create?: { job: JobView; scheduledTime: number }
  /** The status after the deletions (assumed to succeed) and before the creation. */
  status: CronJobStatus
  events: CronJobEvent[]
  requeueAfterMs?: number
}

function withoutActive(status: CronJobStatus, uid: string | undefined): void {
  const active = (status.active ?? []).filter(r => r.uid !== uid)
  if (active.length > 0) status.active = active
  else delete status.active
}

/** The oldest finished Jobs beyond the limits (removeOldestJobs). */
function historyToDelete(cronJob: CronJob, jobs: readonly JobView[]): JobView[] {
  const succeeded = jobs.filter(j => finishedCondition(j) === 'Complete')
  const failed = jobs.filter(j => finishedCondition(j) === 'Failed')
  const oldest = (list: JobView[], limit: number | undefined): JobView[] =>
    limit === undefined || list.length <= limit ? [] : [...list].sort(byJobStartTime).slice(0, list.length - limit)
  return [...oldest(succeeded, cronJob.spec?.successfulJobsHistoryLimit), ...oldest(failed, cronJob.spec?.failedJobsHistoryLimit)]
}

export function reconcileCronJob(input: CronJobSyncInput): CronJobPlan {
  const { cronJob, jobs, now } = input
  const status: CronJobStatus = structuredClone(cronJob.status ?? {})
  const events: CronJobEvent[] = []
  const plan: CronJobPlan = { delete: [], status, events }
  const event = (type: EventType, reason: string, message: string): void => {
    events.push({ type, reason, message })
  }

  for (const job of historyToDelete(cronJob, jobs)) {
    plan.delete.push({ job, why: 'history' })
    withoutActive(status, job.metadata.uid)
  }

  // What the Jobs say (the ones just deleted for history too: they count for lastSuccessfulTime).
  const activeUids = new Set((status.active ?? []).map(r => r.uid))
  for (const job of jobs) {
    const finished = finishedCondition(job)
    if (finished === undefined) {
      if (!activeUids.has(job.metadata.uid)) {
        event('Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata.name ?? ''}`)
      }
      continue
    }
    if (activeUids.has(job.metadata.uid)) {
      withoutActive(status, job.metadata.uid)
      event('Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name ?? ''}, condition: ${finished}`)
    }
    const completed = parseTime(job.status?.completionTime)
    if (finished === 'Complete' && completed !== undefined) {
      const last = parseTime(status.lastSuccessfulTime)
      if (last === undefined || completed > last) status.lastSuccessfulTime = job.status?.completionTime
    }
  }
  const present = new Set(jobs.map(j => j.metadata.uid))
  for (const ref of [...(status.active ?? [])]) {
    if (present.has(ref.uid) || !input.missingActive?.has(ref.uid ?? '')) continue
    event('Normal', 'MissingJob', `Active job went missing: ${ref.name ?? ''}`)
    withoutActive(status, ref.uid)
  }

  if (cronJob.metadata.deletionTimestamp) return plan

  const spec = cronJob.spec ?? {}
  if (spec.timeZone !== undefined && !isKnownTimeZone(spec.timeZone)) {
    event('Warning', 'UnknownTimeZone', `invalid timeZone: ${goQuote(spec.timeZone)}: unknown time zone ${spec.timeZone}`)
    return plan
  }
  if (spec.suspend === true) return plan

  const scheduleText = spec.schedule ?? ''
  if (scheduleText.includes('TZ')) {
    event('Warning', 'UnsupportedSchedule', `CRON_TZ or TZ used in schedule ${goQuote(scheduleText)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`)
  }
  let schedule: CronSchedule
  try {
    schedule = parseCronJobSchedule(cronJob)
  } catch (err) {
    if (!(err instanceof CronScheduleError)) throw err
    event('Warning', 'UnparseableSchedule', `unparseable schedule: ${goQuote(scheduleText)} : ${err.message}`)
    return plan
  }
  const requeue = (): CronJobPlan => {
    const delay = nextScheduleDelay({ ...cronJob, status }, now, schedule)
    if (delay !== undefined) plan.requeueAfterMs = delay
    return plan
  }

  const recent = mostRecentScheduleTime({ ...cronJob, status }, now, schedule, true)
  if (recent.mostRecent === undefined || recent.mostRecent > now) {
    if (recent.error !== undefined) {
      event('Warning', 'InvalidSchedule', `invalid schedule: ${scheduleText} : ${recent.error}`)
      return plan
    }
    return requeue()
  }
  if (recent.missed === 'many') {
    event('Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew')
  }
  const scheduledTime = recent.mostRecent

  const deadline = spec.startingDeadlineSeconds
  if (typeof deadline === 'number' && scheduledTime + deadline * 1000 < now) {
    event('Warning', 'MissSchedule', `Missed scheduled time to start a job: ${formatRfc1123Z(scheduledTime)}`)
    return requeue()
  }
  const name = jobNameFor(cronJob, scheduledTime)
  const namespace = cronJob.metadata.namespace ?? 'default'
  const alreadyActive = (status.active ?? []).some(r => r.name === name && (r.namespace ?? '') === namespace)
  if (alreadyActive || parseTime(status.lastScheduleTime) === scheduledTime) return requeue()

  if (spec.concurrencyPolicy === 'Forbid' && (status.active ?? []).length > 0) {
    event('Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid')
    return requeue()
  }
  if (spec.concurrencyPolicy === 'Replace') {
    for (const ref of [...(status.active ?? [])]) {
      const job = jobs.find(j => j.metadata.uid === ref.uid)
      // An active Job missing from the cache but not confirmed gone: delete it by its reference.
      plan.delete.push({ job: job ?? { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: ref.name, namespace: ref.namespace, uid: ref.uid } }, why: 'replace' })
      withoutActive(status, ref.uid)
    }
  }
  plan.create = { job: jobFromTemplate(cronJob, scheduledTime), scheduledTime }
  return plan
}

/** What the status becomes once the planned Job exists. */
export function statusWithCreated(status: CronJobStatus, job: JobView, scheduledTime: number): CronJobStatus {
  return { ...status, active: [...(status.active ?? []), jobReference(job)], lastScheduleTime: formatTime(scheduledTime) }
}

/** The requeue after a creation: the start time after `scheduledTime`. */
export function requeueAfterCreate(cronJob: CronJob, status: CronJobStatus, now: number): number | undefined {
  try {
    return nextScheduleDelay({ ...cronJob, status }, now, parseCronJobSchedule(cronJob))
  } catch {
    return undefined
  }
}
