// The CronJob loop against the fake API, time driven by a manual clock: the
// queue's requeue at the next start time is what wakes the loop, so
// advancing the clock a minute is a minute of schedule (no real waiting).
// The clock starts a second past midnight, so each step of a minute passes
// one start time (and its 100 ms padding); the sync runs when the step ends,
// a second late.

import t from 'tap'
import { internalError } from '../../../control/api/status-error.ts'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { formatTime } from '../../../control/controllers/clock.ts'
import type { CronJob, CronJobSpec, JobView } from '../../../control/controllers/cronjob.ts'
import { CronJobController } from '../../../control/controllers/cronjob-controller.ts'
import { ApiEventRecorder } from '../../../control/controllers/events.ts'
import { eventsOf } from './fakes/harness.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { fakeInformerFactory } from './fakes/fake-informer.ts'
import { settle } from './fakes/wait.ts'
import type { TapTest } from '../apiserver/helpers.ts'

const MINUTE = 60_000
const T0 = Date.parse('2025-01-01T00:00:00Z')
const minuteName = (name: string, minutes: number): string => `${name}-${(T0 + minutes * MINUTE) / MINUTE}`

interface Cron {
  api: FakeApi
  clock: FakeClock
  recorder: ApiEventRecorder
  /** Starts the loop (tests that want it down for a while start it late). */
  start(): Promise<void>
  settle(): Promise<void>
  /** Moves the clock on by `minutes`, one minute at a time, settling after each. */
  minutes(minutes: number): Promise<void>
  jobs(): JobView[]
  cronJob(name?: string): CronJob
  events(): Promise<string[]>
  finish(name: string, condition: 'Complete' | 'Failed'): Promise<void>
}

async function startCron(t: TapTest, startNow = true): Promise<Cron> {
  const clock = new FakeClock(T0 + 1000)
  const api = new FakeApi({ clock })
  const { factory, stopAll } = fakeInformerFactory(api)
  const recorder = new ApiEventRecorder({ client: api, clock, source: { component: 'cronjob-controller' } })
  let controller: CronJobController | undefined
  const idle = (): boolean => controller?.idle() ?? true
  const cron: Cron = {
    api,
    clock,
    recorder,
    async start() {
      controller = new CronJobController({ client: api, clock, recorder, cronJobs: factory<CronJob>(RESOURCES.cronjobs), jobs: factory<JobView>(RESOURCES.jobs) })
      await controller.start()
      await cron.settle()
    },
    settle: async () => await settle(api, idle),
    async minutes(n) {
      for (let i = 0; i < n; i++) {
        clock.advance(MINUTE)
        await cron.settle()
      }
    },
    jobs: () => api.objects<JobView>(RESOURCES.jobs).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '')),
    cronJob: (name = 'tick') => api.peek<CronJob>(RESOURCES.cronjobs, 'default', name)!,
    async events() {
      await recorder.flush()
      return eventsOf(api).map(e => `${e.reason}: ${e.message}`)
    },
    async finish(name, condition) {
      const now = formatTime(clock.now())
      await api.patch(RESOURCES.jobs, 'default', name, {
        status: { startTime: now, conditions: [{ type: condition, status: 'True' }], ...(condition === 'Complete' ? { completionTime: now } : {}) },
      }, 'merge', 'status')
      await cron.settle()
    },
  }
  t.teardown(async () => {
    await controller?.stop()
    stopAll()
  })
  if (startNow) await cron.start()
  return cron
}

async function createCronJob(cron: Cron, spec: CronJobSpec, name = 'tick'): Promise<void> {
  await cron.api.create(RESOURCES.cronjobs, 'default', {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule: '* * * * *',
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { labels: { app: name } },
        spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox', command: ['date'] }], restartPolicy: 'OnFailure' } } },
      },
      ...spec,
    },
  })
  await cron.settle()
}

t.test('an every-minute CronJob creates one Job per minute', async t => {
  const cron = await startCron(t)
  await createCronJob(cron, {})
  t.same(cron.jobs(), [], 'nothing before the first minute')
  await cron.minutes(1)
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 1)])
  await cron.minutes(2)
  const jobs = cron.jobs()
  t.same(jobs.map(j => j.metadata.name), [1, 2, 3].map(m => minuteName('tick', m)), 'one per minute, named by the minute')
  const first = jobs[0]!
  t.same(first.metadata.labels, { app: 'tick' })
  t.equal(first.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2025-01-01T00:01:00Z')
  const cj = cron.cronJob()
  t.match(first.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }])
  t.same(cj.status?.active?.map(r => [r.kind, r.name, r.uid]), jobs.map(j => ['Job', j.metadata.name, j.metadata.uid]), 'all three active')
  t.equal(cj.status?.lastScheduleTime, '2025-01-01T00:03:00Z')
  t.same((await cron.events()).filter(e => e.startsWith('SuccessfulCreate')), [1, 2, 3].map(m => `SuccessfulCreate: Created job ${minuteName('tick', m)}`))
  t.equal(cron.api.calls.filter(c => c.verb === 'create' && c.resource === 'jobs').length, 3, 'exactly three creates')

  await cron.finish(minuteName('tick', 1), 'Complete')
  t.equal(cron.jobs().length, 3, 'a finished Job stays (history)')
  const after = cron.cronJob()
  t.same(after.status?.active?.map(r => r.name), [2, 3].map(m => minuteName('tick', m)), 'the finished one leaves status.active')
  t.equal(after.status?.lastSuccessfulTime, '2025-01-01T00:03:01Z', 'its completionTime')
  t.ok((await cron.events()).includes(`SawCompletedJob: Saw completed job: ${minuteName('tick', 1)}, condition: Complete`))
})

t.test('Forbid skips a start time while a Job runs', async t => {
  const cron = await startCron(t)
  await createCronJob(cron, { concurrencyPolicy: 'Forbid' })
  await cron.minutes(1)
  await cron.minutes(2)
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 1)], 'still one')
  t.equal(cron.cronJob().status?.lastScheduleTime, '2025-01-01T00:01:00Z')
  t.ok((await cron.events()).includes('JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid'))
  // As in Kubernetes, the skipped start time was never recorded: it runs as soon as nothing is active.
  await cron.finish(minuteName('tick', 1), 'Failed')
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 1), minuteName('tick', 3)], 'the latest skipped start time runs once the Job finished')
  t.same(cron.cronJob().status?.active?.map(r => r.name), [minuteName('tick', 3)])
  await cron.minutes(1)
  t.equal(cron.jobs().length, 2, 'and blocks the next one in turn')
})

t.test('Replace deletes the running Job and starts the new one', async t => {
  const cron = await startCron(t)
  await createCronJob(cron, { concurrencyPolicy: 'Replace' })
  await cron.minutes(1)
  const first = cron.jobs()[0]!
  await cron.minutes(1)
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 2)], 'only the new one')
  t.same(cron.cronJob().status?.active?.map(r => r.name), [minuteName('tick', 2)])
  const events = await cron.events()
  t.ok(events.includes(`SuccessfulDelete: Deleted job ${first.metadata.name}`))
  t.ok(events.includes(`SuccessfulCreate: Created job ${minuteName('tick', 2)}`))
  t.equal(cron.api.calls.filter(c => c.verb === 'delete' && c.resource === 'jobs').length, 1)
})

t.test('suspend stops new Jobs; resuming runs the latest missed start time', async t => {
  const cron = await startCron(t)
  await createCronJob(cron, { suspend: true })
  await cron.minutes(3)
  t.same(cron.jobs(), [], 'suspended: none')
  await cron.api.patch(RESOURCES.cronjobs, 'default', 'tick', { spec: { suspend: false } })
  await cron.settle()
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 3)], 'resumed: the most recent start time at once')
  await cron.minutes(1)
  t.equal(cron.jobs().length, 2, 'and on schedule again')
  await cron.api.patch(RESOURCES.cronjobs, 'default', 'tick', { spec: { suspend: true } })
  await cron.settle()
  await cron.minutes(2)
  t.equal(cron.jobs().length, 2, 'suspended again: no more')
})

t.test('startingDeadlineSeconds: a start time missed by more is skipped', async t => {
  const cron = await startCron(t)
  await createCronJob(cron, { suspend: true, startingDeadlineSeconds: 20 })
  await cron.minutes(2)
  cron.clock.advance(30_000)
  await cron.api.patch(RESOURCES.cronjobs, 'default', 'tick', { spec: { suspend: false } })
  await cron.settle()
  t.same(cron.jobs(), [], '00:02:00 was 31 s ago, the deadline is 20 s')
  cron.clock.advance(29_500)
  await cron.settle()
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 3)], 'the next one runs on time')

  await createCronJob(cron, { suspend: true, startingDeadlineSeconds: 40 }, 'late')
  cron.clock.advance(75_000)
  await cron.settle()
  await cron.api.patch(RESOURCES.cronjobs, 'default', 'late', { spec: { suspend: false } })
  await cron.settle()
  t.ok(cron.jobs().some(j => j.metadata.name === minuteName('late', 4)), '00:04:00 was 15.5 s ago: within its deadline a late start still runs')
})

t.test('a controller down for hours: too many missed start times, the latest runs', async t => {
  const cron = await startCron(t, false)
  await createCronJob(cron, {})
  cron.clock.advance(3 * 60 * MINUTE)
  await cron.start()
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 180)], 'one Job, for 03:00')
  t.ok((await cron.events()).includes('TooManyMissedTimes: too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew'))
  await cron.minutes(1)
  t.equal(cron.jobs().length, 2, 'then every minute again')
})

t.test('history limits delete the oldest finished Jobs', async t => {
  const cron = await startCron(t)
  await createCronJob(cron, { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 })
  for (let m = 1; m <= 4; m++) {
    await cron.minutes(1)
    await cron.finish(minuteName('tick', m), 'Complete')
  }
  for (let m = 5; m <= 6; m++) {
    await cron.minutes(1)
    await cron.finish(minuteName('tick', m), 'Failed')
  }
  t.same(cron.jobs().map(j => j.metadata.name), [3, 4, 6].map(m => minuteName('tick', m)), 'two successful, one failed kept')
  const events = await cron.events()
  for (const m of [1, 2, 5]) t.ok(events.includes(`SuccessfulDelete: Deleted job ${minuteName('tick', m)}`), `deleted ${m}`)
  t.equal(cron.cronJob().status?.lastSuccessfulTime, '2025-01-01T00:04:01Z')
})

t.test('a Job deleted by someone else leaves status.active; an unexpected one is reported', async t => {
  const cron = await startCron(t)
  await createCronJob(cron, {})
  await cron.minutes(1)
  await cron.api.delete(RESOURCES.jobs, 'default', minuteName('tick', 1))
  await cron.settle()
  t.same(cron.cronJob().status?.active, undefined)
  t.ok((await cron.events()).includes(`MissingJob: Active job went missing: ${minuteName('tick', 1)}`))
  const cj = cron.cronJob()
  await cron.api.create(RESOURCES.jobs, 'default', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'stray', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata.uid ?? '', controller: true }] },
    spec: {},
  })
  await cron.settle()
  t.ok((await cron.events()).includes('UnexpectedJob: Saw a job that the controller did not create or forgot: stray'))
})

t.test('a new schedule takes effect at its next start time; a Job name already taken is adopted only if ours', async t => {
  const cron = await startCron(t)
  await createCronJob(cron, { schedule: '0 * * * *' })
  await cron.minutes(5)
  t.same(cron.jobs(), [])
  await cron.api.patch(RESOURCES.cronjobs, 'default', 'tick', { spec: { schedule: '*/10 * * * *' } })
  await cron.settle()
  t.same(cron.jobs(), [], 'no start time of the new schedule since creation (00:00 is before it)')
  await cron.minutes(5)
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 10)])

  // Our own Job under the next name, created before the status could say so (a crash between the two writes).
  const cj = cron.cronJob()
  const name = minuteName('tick', 20)
  await cron.api.create(RESOURCES.jobs, 'default', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata.uid ?? '', controller: true }] },
    spec: {},
  })
  await cron.minutes(10)
  t.ok(cron.cronJob().status?.active?.some(r => r.name === name), 'the existing Job joins status.active')
  t.equal(cron.cronJob().status?.lastScheduleTime, '2025-01-01T00:20:00Z')
})

t.test('a failed create is an Event and is retried with backoff; a failed Replace starts nothing', async t => {
  const cron = await startCron(t)
  await createCronJob(cron, { concurrencyPolicy: 'Replace' })
  cron.api.failNext('create', 'jobs', internalError(new Error('etcd is down')))
  await cron.minutes(1)
  t.same(cron.jobs(), [], 'the create failed')
  t.ok((await cron.events()).some(e => e.startsWith('FailedCreate: Error creating job: ')), 'FailedCreate')
  cron.clock.advance(10)
  await cron.settle()
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 1)], 'the retry (5 ms backoff) made it')

  cron.api.failNext('delete', 'jobs', internalError(new Error('etcd is down')))
  await cron.minutes(1)
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 1)], 'the old Job could not be deleted: no new one')
  t.same(cron.cronJob().status?.active?.map(r => r.name), [minuteName('tick', 1)], 'and it is still listed')
  t.ok((await cron.events()).some(e => e.startsWith('FailedDelete: Deleted job: ')), 'FailedDelete')
  cron.clock.advance(10)
  await cron.settle()
  t.same(cron.jobs().map(j => j.metadata.name), [minuteName('tick', 2)], 'the retry replaced it')
})
