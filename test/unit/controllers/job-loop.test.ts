// The Job and TTL-after-finished loops against the fake API, time on a
// FakeClock: the parallelism cap at every write, completions, the back-off
// between failures, backoffLimit, the deadline, suspend, and the TTL.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { formatTime } from '../../../control/controllers/clock.ts'
import { ApiEventRecorder } from '../../../control/controllers/events.ts'
import type { CoreEvent } from '../../../control/controllers/events.ts'
import { GarbageCollector } from '../../../control/controllers/garbage-collector-controller.ts'
import type { Job, JobSpec } from '../../../control/controllers/job.ts'
import { JobController } from '../../../control/controllers/job-controller.ts'
import type { Pod } from '../../../control/controllers/objects.ts'
import { TtlAfterFinishedController } from '../../../control/controllers/ttl-after-finished-controller.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { fakeInformerFactory } from './fakes/fake-informer.ts'
import { settle } from './fakes/wait.ts'

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

async function startJobs(t: TapTest) {
  const clock = new FakeClock()
  const api = new FakeApi({ clock })
  const { factory, stopAll } = fakeInformerFactory(api)
  const recorder = new ApiEventRecorder({ client: api, clock, source: { component: 'job-controller' } })
  const jobs = factory<Job>(RESOURCES.jobs)
  const pods = factory<Pod>(RESOURCES.pods)
  const jc = new JobController({ client: api, clock, recorder, jobs, pods })
  const ttl = new TtlAfterFinishedController({ client: api, clock, jobs })
  const gc = new GarbageCollector({ client: api, clock, resources: [RESOURCES.jobs, RESOURCES.pods].map(ref => ({ ref, informer: factory(ref) })) })
  for (const loop of [jc, ttl, gc]) await loop.start()
  t.teardown(async () => {
    for (const loop of [jc, ttl, gc]) await loop.stop()
    stopAll()
  })
  return {
    api,
    clock,
    recorder,
    settle: async () => await settle(api, () => jc.idle() && ttl.idle() && gc.idle()),
    job: () => api.peek<Job>(RESOURCES.jobs, 'default', 'pi'),
    pods: () => api.objects<Pod>(RESOURCES.pods, 'default'),
    events: async () => {
      await recorder.flush()
      return api.objects<CoreEvent>(RESOURCES.events).map(e => `${e.type} ${e.reason} ${e.message}`)
    },
  }
}

const newJob = (spec: JobSpec = {}, restartPolicy = 'Never'): Job => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'pi' },
  spec: {
    parallelism: 1,
    completions: 1,
    backoffLimit: 6,
    selector: { matchLabels: { 'job-name': 'pi' } },
    template: { metadata: { labels: { 'job-name': 'pi' } }, spec: { restartPolicy, containers: [{ name: 'c', image: 'busybox', command: ['true'] }] } },
    ...spec,
  },
  status: {},
})

const isActive = (p: Pod): boolean => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'

/** What the node agent reports when a pod's only container exits. */
async function finish(api: FakeApi, clock: FakeClock, pod: Pod, exitCode: number): Promise<void> {
  const finishedAt = formatTime(clock.now())
  await api.patch(RESOURCES.pods, 'default', pod.metadata.name ?? '', {
    status: {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [{ name: 'c', restartCount: 0, ready: false, state: { terminated: { exitCode, finishedAt } } }],
    },
  }, 'merge', 'status')
}

const types = (job: Job | undefined): string[] => (job?.status?.conditions ?? []).map(c => `${c.type}=${c.status}${c.reason ? `/${c.reason}` : ''}`)

t.test('completions 5, parallelism 2: never more than 2 active, then Complete', async t => {
  const w = await startJobs(t)
  let maxActive = 0
  w.api.onChange = () => {
    maxActive = Math.max(maxActive, w.pods().filter(isActive).length)
  }
  await w.api.create(RESOURCES.jobs, 'default', newJob({ completions: 5, parallelism: 2 }))
  await w.settle()
  t.equal(w.pods().filter(isActive).length, 2, 'two pods started')
  t.match(w.job()?.status, { active: 2, ready: 0, terminating: 0, startTime: formatTime(w.clock.now()) })
  for (let step = 0; step < 10 && !types(w.job()).includes('Complete=True/CompletionsReached'); step++) {
    const next = w.pods().find(isActive)
    if (!next) throw new Error('stuck: nothing running')
    w.clock.advance(1000)
    await finish(w.api, w.clock, next, 0)
    await w.settle()
  }
  w.api.onChange = undefined
  const pods = w.pods()
  t.equal(pods.length, 5, 'five pods in all')
  t.ok(pods.every(p => p.status?.phase === 'Succeeded'), 'all succeeded')
  t.ok(pods.every(p => p.metadata.generateName === 'pi-' && p.metadata.ownerReferences?.[0]?.kind === 'Job'), 'named pi-xxxxx and owned by the Job')
  t.equal(maxActive, 2, 'never more than 2 active')
  const job = w.job()!
  t.same(types(job), ['SuccessCriteriaMet=True/CompletionsReached', 'Complete=True/CompletionsReached'])
  t.match(job.status, { succeeded: 5, ready: 0, terminating: 0, completionTime: formatTime(w.clock.now()) })
  t.equal(job.status?.active, undefined)
  const events = await w.events()
  t.equal(events.filter(e => e.startsWith('Normal SuccessfulCreate Created pod: pi-')).length, 5)
  t.ok(events.includes('Normal Completed Job completed'))
})

t.test('restartPolicy Never: back-off 10 s, 20 s between replacements, then BackoffLimitExceeded', async t => {
  const w = await startJobs(t)
  await w.api.create(RESOURCES.jobs, 'default', newJob({ backoffLimit: 2 }))
  await w.settle()
  const failActive = async () => {
    const pod = w.pods().find(isActive)
    if (!pod) throw new Error('no pod to fail')
    await finish(w.api, w.clock, pod, 1)
    await w.settle()
  }
  await failActive()
  t.equal(w.job()?.status?.failed, 1)
  t.equal(w.pods().filter(isActive).length, 0, 'no replacement at once')
  w.clock.advance(9_000)
  await w.settle()
  t.equal(w.pods().filter(isActive).length, 0, 'not after 9 s')
  w.clock.advance(1_000)
  await w.settle()
  t.equal(w.pods().filter(isActive).length, 1, 'replaced after 10 s')

  await failActive()
  w.clock.advance(19_000)
  await w.settle()
  t.equal(w.pods().filter(isActive).length, 0, 'second failure: not after 19 s')
  w.clock.advance(1_000)
  await w.settle()
  t.equal(w.pods().filter(isActive).length, 1, 'replaced after 20 s')

  await failActive()
  const job = w.job()!
  t.same(types(job), ['FailureTarget=True/BackoffLimitExceeded', 'Failed=True/BackoffLimitExceeded'])
  t.equal(job.status?.failed, 3)
  w.clock.advance(600_000)
  await w.settle()
  t.equal(w.pods().length, 3, 'three pods in all: backoffLimit 2 allows two retries')
  t.ok((await w.events()).includes('Warning BackoffLimitExceeded Job has reached the specified backoff limit'))
})

t.test('restartPolicy OnFailure: container restarts count towards backoffLimit', async t => {
  const w = await startJobs(t)
  await w.api.create(RESOURCES.jobs, 'default', newJob({ backoffLimit: 2 }, 'OnFailure'))
  await w.settle()
  const pod = w.pods()[0]!
  for (const restarts of [1, 2]) {
    await w.api.patch(RESOURCES.pods, 'default', pod.metadata.name!, {
      status: { phase: 'Running', containerStatuses: [{ name: 'c', restartCount: restarts, ready: false, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
    }, 'merge', 'status')
    await w.settle()
  }
  t.same(types(w.job()), ['FailureTarget=True/BackoffLimitExceeded', 'Failed=True/BackoffLimitExceeded'], 'two restarts reach backoffLimit 2')
  t.equal(w.pods().length, 0, 'the pod was deleted')
  t.equal(w.job()?.status?.failed, 1)
  t.ok((await w.events()).some(e => e.startsWith('Normal SuccessfulDelete Deleted pod: pi-')))
})

t.test('activeDeadlineSeconds stops a running Job and deletes its pods', async t => {
  const w = await startJobs(t)
  await w.api.create(RESOURCES.jobs, 'default', newJob({ parallelism: 2, completions: 2, activeDeadlineSeconds: 30 }))
  await w.settle()
  t.equal(w.pods().length, 2)
  w.clock.advance(29_000)
  await w.settle()
  t.same(types(w.job()), [], 'not yet')
  w.clock.advance(1_000)
  await w.settle()
  t.same(types(w.job()), ['FailureTarget=True/DeadlineExceeded', 'Failed=True/DeadlineExceeded'])
  t.equal(w.pods().length, 0, 'pods deleted')
  t.ok((await w.events()).includes('Warning DeadlineExceeded Job was active longer than specified deadline'))
})

t.test('suspend deletes the pods, resume starts them again', async t => {
  const w = await startJobs(t)
  await w.api.create(RESOURCES.jobs, 'default', newJob({ parallelism: 2, completions: 4 }))
  await w.settle()
  t.equal(w.pods().length, 2)
  await w.api.patch(RESOURCES.jobs, 'default', 'pi', { spec: { suspend: true } })
  await w.settle()
  t.equal(w.pods().length, 0, 'suspended: no pods')
  t.same(types(w.job()), ['Suspended=True/JobSuspended'])
  t.equal(w.job()?.status?.active, undefined)
  w.clock.advance(5_000)
  await w.api.patch(RESOURCES.jobs, 'default', 'pi', { spec: { suspend: false } })
  await w.settle()
  t.equal(w.pods().length, 2, 'resumed: two pods again')
  t.same(types(w.job()), ['Suspended=False/JobResumed'])
  t.equal(w.job()?.status?.startTime, formatTime(w.clock.now()))
  const events = await w.events()
  t.ok(events.includes('Normal Suspended Job suspended'))
  t.ok(events.includes('Normal Resumed Job resumed'))
})

t.test('ttlSecondsAfterFinished deletes the finished Job and its pods', async t => {
  const w = await startJobs(t)
  await w.api.create(RESOURCES.jobs, 'default', newJob({ ttlSecondsAfterFinished: 60 }))
  await w.settle()
  await finish(w.api, w.clock, w.pods()[0]!, 0)
  await w.settle()
  t.ok(types(w.job()).includes('Complete=True/CompletionsReached'))
  w.clock.advance(59_000)
  await w.settle()
  t.ok(w.job(), 'kept for 59 s')
  let foreground = false
  w.api.onChange = ({ resource, object }) => {
    if (resource === 'batch/jobs' && object.metadata.finalizers?.includes('foregroundDeletion')) foreground = true
  }
  w.clock.advance(1_000)
  await w.settle()
  w.api.onChange = undefined
  t.ok(foreground, 'deleted with propagationPolicy Foreground')
  t.equal(w.job(), undefined, 'the Job is gone after 60 s')
  t.equal(w.pods().length, 0, 'and its pods with it')

  await w.api.create(RESOURCES.jobs, 'default', newJob({ ttlSecondsAfterFinished: 0, backoffLimit: 0 }))
  await w.settle()
  await finish(w.api, w.clock, w.pods()[0]!, 1)
  await w.settle()
  t.equal(w.job(), undefined, 'a Failed Job with ttl 0 goes at once')
})
