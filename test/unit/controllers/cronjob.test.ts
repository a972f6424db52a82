// The CronJob controller's pure decision: tables of (CronJob, Jobs, now) →
// deletions, the Job to create, the status, the Events and the requeue, as
// Kubernetes' syncCronJob / cleanupFinishedJobs / mostRecentScheduleTime
// decide them.

import t from 'tap'
import type { CronJob, CronJobSpec, CronJobStatus, JobView } from '../../../control/controllers/cronjob.ts'
import {
  byJobStartTime,
  CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION,
  jobFromTemplate,
  jobNameFor,
  mostRecentScheduleTime,
  nextScheduleDelay,
  parseCronJobSchedule,
  reconcileCronJob,
  statusWithCreated,
} from '../../../control/controllers/cronjob.ts'

const T = (iso: string): number => Date.parse(iso)
const CREATED = '2025-01-01T09:30:00Z'

function cronJob(spec: CronJobSpec = {}, status: CronJobStatus = {}, extra: Partial<CronJob['metadata']> = {}): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'report', namespace: 'default', uid: 'uid-report', creationTimestamp: CREATED, resourceVersion: '5', ...extra },
    spec: {
      schedule: '0 * * * *',
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { labels: { app: 'report' }, annotations: { team: 'data' } },
        spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'OnFailure' } } },
      },
      ...spec,
    },
    status,
  }
}

interface JobOptions {
  finished?: 'Complete' | 'Failed'
  started?: string
  completed?: string
  uid?: string
  owner?: string
}

function job(name: string, o: JobOptions = {}): JobView {
  const j: JobView = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: 'default',
      uid: o.uid ?? `uid-${name}`,
      resourceVersion: '7',
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: o.owner ?? 'report', uid: 'uid-report', controller: true, blockOwnerDeletion: true }],
    },
    spec: {},
    status: {},
  }
  if (o.started) j.status!.startTime = o.started
  if (o.finished) j.status!.conditions = [{ type: o.finished, status: 'True' }]
  if (o.completed) j.status!.completionTime = o.completed
  return j
}

const ref = (name: string, uid = `uid-${name}`) => ({ kind: 'Job', namespace: 'default', name, uid, apiVersion: 'batch/v1', resourceVersion: '7' })
const reasons = (plan: ReturnType<typeof reconcileCronJob>): string[] => plan.events.map(e => `${e.type} ${e.reason}: ${e.message}`)

// 10:00 UTC on 1 January 2025 in minutes since the epoch.
const TEN = T('2025-01-01T10:00:00Z')
const TEN_NAME = `report-${TEN / 60_000}`

t.test('start times: due, not yet due, already started', async t => {
  const cases: Array<{ name: string; cj: CronJob; now: string; create?: number; requeue?: number }> = [
    { name: 'before the first start time', cj: cronJob(), now: '2025-01-01T09:59:00Z', requeue: 60_100 },
    { name: 'at the start time', cj: cronJob(), now: '2025-01-01T10:00:00.100Z', create: TEN },
    { name: 'late, within no deadline', cj: cronJob(), now: '2025-01-01T10:42:00Z', create: TEN },
    { name: 'several missed: only the latest', cj: cronJob(), now: '2025-01-01T13:05:00Z', create: T('2025-01-01T13:00:00Z') },
    { name: 'already scheduled', cj: cronJob({}, { lastScheduleTime: '2025-01-01T10:00:00Z' }), now: '2025-01-01T10:30:00Z', requeue: 30 * 60_000 + 100 },
    { name: 'already active by name', cj: cronJob({}, { active: [ref(TEN_NAME)] }), now: '2025-01-01T10:00:01Z', requeue: 3_599_100 },
    { name: 'deadline not passed', cj: cronJob({ startingDeadlineSeconds: 300 }), now: '2025-01-01T10:04:00Z', create: TEN },
    { name: 'deadline passed: skipped', cj: cronJob({ startingDeadlineSeconds: 300 }), now: '2025-01-01T10:06:00Z', requeue: 54 * 60_000 + 100 },
    { name: 'created after the start time', cj: cronJob({}, {}, { creationTimestamp: '2025-01-01T10:00:30Z' }), now: '2025-01-01T10:01:00Z', requeue: 59 * 60_000 + 100 },
  ]
  for (const c of cases) {
    const plan = reconcileCronJob({ cronJob: c.cj, jobs: [], now: T(c.now) })
    t.equal(plan.create?.scheduledTime, c.create, `${c.name}: creates`)
    if (c.requeue !== undefined) t.equal(plan.requeueAfterMs, c.requeue, `${c.name}: requeue`)
    t.same(plan.delete, [], `${c.name}: deletes nothing`)
  }
})

t.test('the Job made from the template', async t => {
  const cj = cronJob()
  const j = jobFromTemplate(cj, TEN)
  t.equal(j.metadata.name, TEN_NAME, 'named by the start time in minutes')
  t.equal(jobNameFor(cj, TEN), `report-${28_928_760}`)
  t.same(j.metadata.labels, { app: 'report' })
  t.same(j.metadata.annotations, { team: 'data', [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: '2025-01-01T10:00:00Z' })
  t.same(j.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'report', uid: 'uid-report', controller: true, blockOwnerDeletion: true }])
  t.same(j.spec, cj.spec?.jobTemplate?.spec)
  t.not(j.spec, cj.spec?.jobTemplate?.spec, 'a copy')
  const zoned = jobFromTemplate(cronJob({ timeZone: 'America/New_York', schedule: '0 5 * * *' }), T('2025-01-01T10:00:00Z'))
  t.equal(zoned.metadata.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION], '2025-01-01T05:00:00-05:00', 'the timestamp in the CronJob\'s zone')
  const created = statusWithCreated({ lastSuccessfulTime: 'x' }, { ...j, metadata: { ...j.metadata, uid: 'u1', resourceVersion: '9' } }, TEN)
  t.same(created, {
    lastSuccessfulTime: 'x',
    active: [{ kind: 'Job', namespace: 'default', name: TEN_NAME, uid: 'u1', apiVersion: 'batch/v1', resourceVersion: '9' }],
    lastScheduleTime: '2025-01-01T10:00:00Z',
  })
})

t.test('concurrency policies', async t => {
  const now = T('2025-01-01T11:00:00.100Z')
  const running = job('report-28928760', { started: '2025-01-01T10:00:01Z' })
  const status = { active: [ref('report-28928760')], lastScheduleTime: '2025-01-01T10:00:00Z' }

  const allow = reconcileCronJob({ cronJob: cronJob({}, status), jobs: [running], now })
  t.equal(allow.create?.job.metadata.name, 'report-28928820', 'Allow: a second Job beside the first')
  t.same(allow.delete, [])

  const forbid = reconcileCronJob({ cronJob: cronJob({ concurrencyPolicy: 'Forbid' }, status), jobs: [running], now })
  t.equal(forbid.create, undefined, 'Forbid: no Job while one runs')
  t.same(reasons(forbid), ['Normal JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid'])
  t.equal(forbid.requeueAfterMs, 3_600_000, 'back at the next start time')

  const replace = reconcileCronJob({ cronJob: cronJob({ concurrencyPolicy: 'Replace' }, status), jobs: [running], now })
  t.same(replace.delete.map(d => [d.job.metadata.name, d.why]), [['report-28928760', 'replace']], 'Replace: the running one goes')
  t.equal(replace.create?.job.metadata.name, 'report-28928820', 'and the new one starts')
  t.same(replace.status.active, undefined, 'the old one leaves status.active')

  const done = job('report-28928760', { finished: 'Complete', started: '2025-01-01T10:00:01Z', completed: '2025-01-01T10:03:00Z' })
  const forbidDone = reconcileCronJob({ cronJob: cronJob({ concurrencyPolicy: 'Forbid' }, status), jobs: [done], now })
  t.equal(forbidDone.create?.job.metadata.name, 'report-28928820', 'Forbid: runs once the previous one finished')
  t.same(reasons(forbidDone), ['Normal SawCompletedJob: Saw completed job: report-28928760, condition: Complete'])
  t.equal(forbidDone.status.lastSuccessfulTime, '2025-01-01T10:03:00Z')
})

t.test('finished, unexpected and missing Jobs', async t => {
  const now = T('2025-01-01T10:30:00Z')
  const status: CronJobStatus = { active: [ref('a'), ref('b'), ref('gone')], lastScheduleTime: '2025-01-01T10:00:00Z', lastSuccessfulTime: '2025-01-01T09:10:00Z' }
  const plan = reconcileCronJob({
    cronJob: cronJob({}, status),
    jobs: [
      job('a', { finished: 'Complete', started: '2025-01-01T10:00:00Z', completed: '2025-01-01T10:05:00Z' }),
      job('b', { finished: 'Failed', started: '2025-01-01T10:00:00Z' }),
      job('stray'),
      job('old', { finished: 'Complete', completed: '2025-01-01T09:20:00Z' }),
    ],
    missingActive: new Set(['uid-gone']),
    now,
  })
  t.same(reasons(plan), [
    'Normal SawCompletedJob: Saw completed job: a, condition: Complete',
    'Normal SawCompletedJob: Saw completed job: b, condition: Failed',
    'Warning UnexpectedJob: Saw a job that the controller did not create or forgot: stray',
    'Normal MissingJob: Active job went missing: gone',
  ])
  t.same(plan.status, { lastScheduleTime: '2025-01-01T10:00:00Z', lastSuccessfulTime: '2025-01-01T10:05:00Z' }, 'active emptied, newest success kept')
  // An active Job only missing from the cache (not confirmed gone) stays.
  const kept = reconcileCronJob({ cronJob: cronJob({}, { active: [ref('slow')] }), jobs: [], now })
  t.same(kept.status.active, [ref('slow')])
  t.same(kept.events, [])
})

t.test('history limits delete the oldest finished Jobs', async t => {
  const now = T('2025-01-01T10:30:00Z')
  const ok = (n: number, started?: string): JobView => job(`ok-${n}`, { finished: 'Complete', ...(started ? { started } : {}), completed: `2025-01-01T0${n}:05:00Z` })
  const bad = (n: number): JobView => job(`bad-${n}`, { finished: 'Failed', started: `2025-01-01T0${n}:00:00Z` })
  const jobs = [ok(4, '2025-01-01T04:00:00Z'), ok(2, '2025-01-01T02:00:00Z'), ok(3, '2025-01-01T03:00:00Z'), ok(5), ok(1, '2025-01-01T01:00:00Z'), bad(1), bad(2), job('running')]
  const plan = reconcileCronJob({ cronJob: cronJob({ successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }, { active: [ref('running')], lastScheduleTime: '2025-01-01T10:00:00Z' }), jobs, now })
  t.same(plan.delete.map(d => `${d.why} ${d.job.metadata.name}`), ['history ok-1', 'history ok-2', 'history ok-3', 'history bad-1'],
    'oldest start first; never started counts as newest')
  t.equal(plan.status.lastSuccessfulTime, '2025-01-01T05:05:00Z', 'deleted ones still count for the last success')
  const zero = reconcileCronJob({ cronJob: cronJob({ successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 0 }, { lastScheduleTime: '2025-01-01T10:00:00Z' }), jobs: [ok(1), bad(1)], now })
  t.same(zero.delete.map(d => d.job.metadata.name), ['ok-1', 'bad-1'], 'limit 0 keeps none')
  const none = reconcileCronJob({ cronJob: cronJob({ successfulJobsHistoryLimit: undefined, failedJobsHistoryLimit: undefined }, { lastScheduleTime: '2025-01-01T10:00:00Z' }), jobs: [ok(1), ok(2), bad(1), bad(2)], now })
  t.same(none.delete, [], 'no limits: nothing deleted')
  t.same([ok(5), ok(2, '2025-01-01T02:00:00Z'), job('a', { started: '2025-01-01T02:00:00Z' })].sort(byJobStartTime).map(j => j.metadata.name), ['a', 'ok-2', 'ok-5'], 'ties by name')
})

t.test('suspended, deleting, bad schedules and zones', async t => {
  const now = T('2025-01-01T10:00:30Z')
  const suspended = reconcileCronJob({ cronJob: cronJob({ suspend: true }), jobs: [], now })
  t.equal(suspended.create, undefined)
  t.equal(suspended.requeueAfterMs, undefined, 'suspended: no requeue until it changes')

  const finished = job('a', { finished: 'Complete', completed: '2025-01-01T10:00:10Z' })
  const deleting = reconcileCronJob({ cronJob: cronJob({}, { active: [ref('a')] }, { deletionTimestamp: '2025-01-01T10:00:20Z' }), jobs: [finished], now })
  t.equal(deleting.create, undefined, 'a CronJob being deleted starts nothing')
  t.same(deleting.status, { lastSuccessfulTime: '2025-01-01T10:00:10Z' }, 'but its status is still kept up to date')

  const unparseable = reconcileCronJob({ cronJob: cronJob({ schedule: '61 * * * *' }), jobs: [], now })
  t.same(reasons(unparseable), ['Warning UnparseableSchedule: unparseable schedule: "61 * * * *" : end of range (61) above maximum (59): 61'])
  t.equal(unparseable.requeueAfterMs, undefined)

  const never = reconcileCronJob({ cronJob: cronJob({ schedule: '0 0 31 2 *' }), jobs: [], now })
  t.same(reasons(never), ['Warning InvalidSchedule: invalid schedule: 0 0 31 2 * : time difference between two schedules is less than 1 second'])

  const zone = reconcileCronJob({ cronJob: cronJob({ timeZone: 'Mars/Olympus' }), jobs: [], now })
  t.same(reasons(zone), ['Warning UnknownTimeZone: invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus'])

  const tz = reconcileCronJob({ cronJob: cronJob({ schedule: 'TZ=UTC 0 * * * *' }), jobs: [], now })
  t.match(reasons(tz), ['Warning UnsupportedSchedule: CRON_TZ or TZ used in schedule "TZ=UTC 0 * * * *" is not officially supported'])
  t.equal(tz.create?.scheduledTime, TEN, 'and it still runs')
})

t.test('many missed start times', async t => {
  const cj = cronJob({ schedule: '* * * * *' }, {}, { creationTimestamp: '2025-01-01T00:00:00Z' })
  const now = T('2025-01-01T03:00:30Z')
  const plan = reconcileCronJob({ cronJob: cj, jobs: [], now })
  t.same(reasons(plan), ['Warning TooManyMissedTimes: too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew'])
  t.equal(plan.create?.scheduledTime, T('2025-01-01T03:00:00Z'), 'the latest still starts')
  const r = mostRecentScheduleTime(cj, now, parseCronJobSchedule(cj), true)
  t.equal(r.missed, 'many')
  const few = mostRecentScheduleTime(cj, T('2025-01-01T01:00:30Z'), parseCronJobSchedule(cj), true)
  t.same(few, { earliest: T('2025-01-01T00:00:00Z'), mostRecent: T('2025-01-01T01:00:00Z'), missed: 'few' }, '60 missed: a few')
  const deadline = cronJob({ schedule: '* * * * *', startingDeadlineSeconds: 200 }, {}, { creationTimestamp: '2025-01-01T00:00:00Z' })
  const within = reconcileCronJob({ cronJob: deadline, jobs: [], now })
  t.same(within.events, [], 'a deadline bounds how far back it looks: no warning')
  t.equal(within.create?.scheduledTime, T('2025-01-01T03:00:00Z'))
  // Uneven schedules: the estimate from the first two start times is corrected by the schedule itself.
  const uneven = cronJob({ schedule: '30 6-16/4 * * 1-5' }, {}, { creationTimestamp: '2025-01-06T00:00:00Z' })
  t.equal(mostRecentScheduleTime(uneven, T('2025-01-08T12:00:00Z'), parseCronJobSchedule(uneven), true).mostRecent, T('2025-01-08T10:30:00Z'))
})

t.test('the requeue delay', async t => {
  const cj = cronJob({ schedule: '*/5 * * * *' }, { lastScheduleTime: '2025-01-01T10:00:00Z' })
  const schedule = parseCronJobSchedule(cj)
  t.equal(nextScheduleDelay(cj, T('2025-01-01T10:01:00Z'), schedule), 4 * 60_000 + 100, 'next start time plus 100 ms')
  t.equal(nextScheduleDelay(cj, T('2025-01-01T10:07:00Z'), schedule), 3 * 60_000 + 100, 'one missed: from the missed one')
  const zoned = cronJob({ schedule: '0 3 * * *', timeZone: 'Europe/Paris' }, { lastScheduleTime: '2025-01-01T02:00:00Z' })
  t.equal(nextScheduleDelay(zoned, T('2025-01-01T12:00:00Z'), parseCronJobSchedule(zoned)), 14 * 3_600_000 + 100, '03:00 in Paris is 02:00 UTC')
})
