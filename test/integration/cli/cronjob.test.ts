// CronJobs end to end on the in-process cluster (real HTTPS API server, real
// controllers): the controllers run on a manual clock, so a minute of
// schedule is one clock.advance, no real waiting. The API server keeps real
// time (creationTimestamp), so the clock is first brought to the CronJob's
// creation. The Job controller is not what finishes a Job here: the test
// writes the Job's status through the status subresource, as the Job
// controller would.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { formatTime } from '../../../control/controllers/clock.ts'
import type { CronJob, JobView } from '../../../control/controllers/cronjob.ts'
import { FakeClock } from '../../unit/controllers/fakes/fake-clock.ts'
import { startCliCluster, untilObjects } from './cluster.ts'

const MANIFEST = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  jobTemplate:
    metadata:
      labels:
        app: tick
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: date
            image: busybox
            command: ["date"]
`

t.test('an every-minute CronJob on a manual clock; get; create job --from', async t => {
  // Behind real time, so that it can be brought forward to the CronJob's creation.
  const clock = new FakeClock(Date.now() - 120_000)
  const cluster = await startCliCluster(t, {}, { clock })

  t.equal((await cluster.runWithStdin(MANIFEST, 'apply', '-f', '-')).out, 'cronjob.batch/tick created')
  const created = await cluster.client.get<CronJob>(RESOURCES.cronjobs, 'default', 'tick')
  clock.advance(Date.parse(created.metadata.creationTimestamp ?? '') + 1000 - clock.now())
  t.same((await cluster.local.list(RESOURCES.jobs, 'default')).items, [], 'no Job before the first start time')

  clock.advance(60_000)
  const [job] = await untilObjects<JobView>(cluster, RESOURCES.jobs, 'default', jobs => jobs.length > 0)
  const [cronJob] = await untilObjects<CronJob>(cluster, RESOURCES.cronjobs, 'default', cjs => (cjs[0]?.status?.active ?? []).length > 0)
  const scheduled = Date.parse(cronJob!.status?.lastScheduleTime ?? '')
  t.equal(job!.metadata.name, `tick-${scheduled / 60_000}`, 'named by the start time in minutes')
  t.ok(scheduled > Date.parse(created.metadata.creationTimestamp ?? '') && scheduled <= clock.now(), 'a start time after the creation, not after now')
  t.match(job!.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: created.metadata.uid, controller: true }])
  t.equal(job!.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], formatTime(scheduled))
  t.same(job!.metadata.labels?.app, 'tick')
  t.match(cronJob!.status?.active, [{ kind: 'Job', name: job!.metadata.name, uid: job!.metadata.uid, apiVersion: 'batch/v1' }])

  const cronJobs = await cluster.run('get', 'cronjobs')
  t.equal(cronJobs.code, 0)
  const [header, row] = cronJobs.out.split('\n')
  t.match(header, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE$/)
  t.match(row, /^tick\s+\* \* \* \* \*\s+<none>\s+False\s+1\s+\S+\s+\S+$/)
  const jobs = await cluster.run('get', 'jobs')
  t.equal(jobs.code, 0)
  t.match(jobs.out, new RegExp(`^${job!.metadata.name}\\s`, 'm'), 'get jobs lists it')

  // By hand, from the CronJob's template.
  t.same(await cluster.run('create', 'job', 'tick-manual', '--from=cronjob/tick'), { code: 0, out: 'job.batch/tick-manual created', err: '' })
  const manual = await cluster.client.get<JobView>(RESOURCES.jobs, 'default', 'tick-manual')
  t.match(manual.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: created.metadata.uid, controller: true }])
  t.equal(manual.metadata.annotations?.['cronjob.kubernetes.io/instantiate'], 'manual')
  t.equal(manual.metadata.labels?.app, 'tick')
  t.match(manual.spec, { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'date', image: 'busybox', command: ['date'] }] } } })
  t.same(await cluster.run('create', 'job', 'x', '--from=cronjob/nope'), { code: 1, out: '', err: 'Error from server (NotFound): cronjobs.batch "nope" not found' })

  // The scheduled Job finishes (what the Job controller would write).
  const now = formatTime(clock.now())
  await cluster.local.patch(RESOURCES.jobs, 'default', job!.metadata.name ?? '', {
    status: { startTime: now, completionTime: now, succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now }] },
  }, 'merge', 'status')
  const [done] = await untilObjects<CronJob>(cluster, RESOURCES.cronjobs, 'default', cjs => cjs[0]?.status?.lastSuccessfulTime !== undefined)
  t.same(done!.status?.active, undefined, 'the finished Job left status.active')
  t.equal(done!.status?.lastSuccessfulTime, now)

  // Another minute, another Job.
  clock.advance(60_000)
  const after = await untilObjects<JobView>(cluster, RESOURCES.jobs, 'default', js => js.filter(j => j.metadata.name?.startsWith('tick-') && j.metadata.name !== 'tick-manual').length === 2)
  t.equal(after.length, 3, 'two scheduled Jobs and the manual one')
})
