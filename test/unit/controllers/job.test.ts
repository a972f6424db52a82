// reconcileJob, table by table: how many pods run, the back-off between
// failures, the limits and the deadline, success, suspend, and the status.

import t from 'tap'
import type { Job, JobSpec } from '../../../control/controllers/job.ts'
import { backoffRemainingMs, isJobFinished, jobFinishTime, podFromJobTemplate, reconcileJob } from '../../../control/controllers/job.ts'
import type { Pod } from '../../../control/controllers/objects.ts'
import { T0, at } from './fakes/builders.ts'

const UID = 'uid-pi'
const LABELS = { 'batch.kubernetes.io/controller-uid': UID, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': UID, 'job-name': 'pi' }

function job(spec: JobSpec = {}, status: Job['status'] = {}): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: UID, generation: 1, creationTimestamp: at(0) },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } },
      template: { metadata: { labels: LABELS }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] } },
      ...spec,
    },
    status,
  }
}

interface PodOptions {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed'
  /** Seconds after T0 when its container ended. */
  finished?: number
  ready?: boolean
  restarts?: number
  deleting?: boolean
  owned?: boolean
  labels?: Record<string, string>
}

function jobPod(name: string, o: PodOptions = {}): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: o.labels ?? LABELS, creationTimestamp: at(0) },
    spec: { restartPolicy: 'Never', containers: [{ name: 'c' }] },
    status: { phase: o.phase ?? 'Running' },
  }
  if (o.owned !== false) {
    p.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: UID, controller: true, blockOwnerDeletion: true }]
  }
  const state = o.finished !== undefined ? { terminated: { exitCode: o.phase === 'Failed' ? 1 : 0, finishedAt: at(o.finished) } } : { running: {} }
  p.status!.containerStatuses = [{ name: 'c', restartCount: o.restarts ?? 0, ready: o.ready ?? false, state }]
  if (o.ready) p.status!.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: at(0) }]
  if (o.deleting) p.metadata.deletionTimestamp = at(1)
  return p
}

const sync = (j: Job, pods: Pod[], seconds = 0, expectationsSatisfied = true) =>
  reconcileJob({ job: j, pods, now: T0 + seconds * 1000, expectationsSatisfied })

const conditionTypes = (j: Job['status']) => (j?.conditions ?? []).map(c => `${c.type}=${c.status}${c.reason ? `/${c.reason}` : ''}`)

t.test('how many pods run: min(parallelism, completions - succeeded)', async t => {
  const cases: Array<{ name: string; spec: JobSpec; pods: Pod[]; create: number; del: number; active: number }> = [
    { name: 'a new job starts parallelism pods', spec: { completions: 5, parallelism: 2 }, pods: [], create: 2, del: 0, active: 2 },
    { name: 'no more than the completions left', spec: { completions: 5, parallelism: 2 }, pods: [1, 2, 3, 4].map(i => jobPod(`s${i}`, { phase: 'Succeeded', finished: i })), create: 1, del: 0, active: 1 },
    { name: 'running pods count', spec: { completions: 5, parallelism: 3 }, pods: [jobPod('a'), jobPod('b')], create: 1, del: 0, active: 3 },
    { name: 'parallelism lowered: extra pods are deleted', spec: { completions: 5, parallelism: 1 }, pods: [jobPod('a'), jobPod('b', { ready: true })], create: 0, del: 1, active: 1 },
    { name: 'terminating pods are replaced (TerminatingOrFailed)', spec: { completions: 2, parallelism: 2 }, pods: [jobPod('a'), jobPod('b', { deleting: true })], create: 1, del: 0, active: 2 },
    { name: 'podReplacementPolicy Failed waits for terminating pods', spec: { completions: 2, parallelism: 2, podReplacementPolicy: 'Failed' }, pods: [jobPod('a'), jobPod('b', { deleting: true })], create: 0, del: 0, active: 1 },
    { name: 'a work queue runs parallelism pods until one succeeds', spec: { completions: null, parallelism: 3 }, pods: [], create: 3, del: 0, active: 3 },
    { name: 'then starts no new ones', spec: { completions: null, parallelism: 3 }, pods: [jobPod('s', { phase: 'Succeeded', finished: 1 }), jobPod('a')], create: 0, del: 0, active: 1 },
    { name: 'parallelism 0 runs nothing', spec: { completions: 3, parallelism: 0 }, pods: [], create: 0, del: 0, active: 0 },
  ]
  for (const c of cases) {
    const plan = sync(job(c.spec), c.pods)
    t.equal(plan.create.length, c.create, `${c.name}: creates`)
    t.equal(plan.delete.length, c.del, `${c.name}: deletes`)
    t.equal(plan.status?.active ?? 0, c.active, `${c.name}: status.active`)
  }
  const lowered = sync(job({ completions: 5, parallelism: 1 }), [jobPod('a', { ready: true }), jobPod('b')])
  t.equal(lowered.delete[0]?.metadata.name, 'b', 'the unready pod goes first')
  t.equal(sync(job({ completions: 5, parallelism: 2 }), [], 0, false).create.length, 0, 'nothing while expectations are pending')
})

t.test('the pods it creates', async t => {
  const p = podFromJobTemplate(job())
  t.equal(p.metadata.generateName, 'pi-')
  t.same(p.metadata.labels, LABELS)
  t.same(p.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: UID, controller: true, blockOwnerDeletion: true }])
  t.equal(p.spec?.restartPolicy, 'Never')
})

t.test('status: startTime, active, ready, succeeded, failed, terminating', async t => {
  const plan = sync(job({ completions: 5, parallelism: 3, backoffLimit: 6 }), [
    jobPod('r', { ready: true }),
    jobPod('p', { phase: 'Pending' }),
    jobPod('s', { phase: 'Succeeded', finished: 1 }),
    jobPod('f', { phase: 'Failed', finished: 95 }),
    jobPod('t', { deleting: true }),
  ], 100)
  t.same(plan.status, { startTime: at(100), active: 2, ready: 1, succeeded: 1, failed: 1, terminating: 1 })
  t.equal(plan.create.length, 0, 'the back-off after the failure holds the third pod back')
  t.equal(sync(job({}, { startTime: at(0), active: 1, ready: 0, terminating: 0 }), [jobPod('a')], 5).status, undefined, 'nothing to write when current')
  const grown = sync(job({}, { startTime: at(0), succeeded: 3 }), [], 5)
  t.equal(grown.status?.succeeded, 3, 'counts never go down when pods are gone')
  const foreign = jobPod('other', { owned: false, labels: { app: 'x' } })
  const orphan = jobPod('orphan', { owned: false })
  const claimed = sync(job({ completions: 2, parallelism: 2 }), [foreign, orphan])
  t.same(claimed.adopt.map(p => p.metadata.name), ['orphan'], 'matching orphans are adopted')
  t.equal(claimed.create.length, 1, 'and count')
})

t.test('restartPolicy Never: replacements after an exponential back-off', async t => {
  const spec: JobSpec = { completions: 1, parallelism: 1, backoffLimit: 6 }
  const one = [jobPod('f1', { phase: 'Failed', finished: 10 })]
  t.equal(sync(job(spec), one, 15).create.length, 0, '5 s after one failure: wait')
  t.equal(sync(job(spec), one, 15).requeueAfterMs, 5000, 'and come back when the 10 s are over')
  t.equal(sync(job(spec), one, 20).create.length, 1, '10 s after: replaced')
  const two = [...one, jobPod('f2', { phase: 'Failed', finished: 30 })]
  t.equal(sync(job(spec), two, 45).requeueAfterMs, 5000, 'two failures: 20 s from the newest')
  t.equal(sync(job(spec), two, 50).create.length, 1)
  const backoff = { baseMs: 10_000, maxMs: 360_000 }
  const many = Array.from({ length: 9 }, (_, i) => jobPod(`f${i}`, { phase: 'Failed', finished: i }))
  t.equal(backoffRemainingMs([], many, T0 + 8000, backoff), 360_000, 'capped at 6 minutes')
  const success = [jobPod('s', { phase: 'Succeeded', finished: 20 })]
  t.equal(backoffRemainingMs(success, one, T0 + 21_000, backoff), 0, 'a success since the failure resets it')
  t.equal(reconcileJob({ job: job(spec), pods: one, now: T0 + 10_050, expectationsSatisfied: true, backoff: { baseMs: 50, maxMs: 1000 } }).create.length, 1, 'the base delay is an option')
})

t.test('backoffLimit: Failed pods (Never) and container restarts (OnFailure)', async t => {
  const failed = [1, 2, 3].map(i => jobPod(`f${i}`, { phase: 'Failed', finished: i }))
  const atLimit = sync(job({ backoffLimit: 3 }), failed, 100)
  t.same(conditionTypes(atLimit.status), [], '3 failures with backoffLimit 3: not yet')
  const over = sync(job({ backoffLimit: 2 }), failed, 100)
  t.same(conditionTypes(over.status), ['FailureTarget=True/BackoffLimitExceeded', 'Failed=True/BackoffLimitExceeded'])
  t.match(over.status?.conditions?.[1], { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: at(100) })
  t.equal(over.status?.failed, 3)
  t.equal(over.status?.completionTime, undefined, 'a failed Job has no completionTime')
  t.same(over.events, [{ type: 'Warning', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }])
  t.equal(over.create.length, 0)

  const onFailure = (backoffLimit: number, restarts: number) => {
    const j = job({ backoffLimit })
    j.spec!.template!.spec!.restartPolicy = 'OnFailure'
    return sync(j, [jobPod('a', { restarts })], 100)
  }
  t.same(conditionTypes(onFailure(2, 1).status), [], 'one restart of two allowed')
  const restarted = onFailure(2, 2)
  t.same(conditionTypes(restarted.status), ['FailureTarget=True/BackoffLimitExceeded'], 'restarts reached the limit: the pod is deleted first')
  t.same(restarted.delete.map(p => p.metadata.name), ['a'])
  t.equal(restarted.status?.failed, 1, 'the deleted pod counts as failed')
  t.same(restarted.events, [], 'no Failed yet while the pod terminates')
  t.same(conditionTypes(onFailure(0, 1).status), ['FailureTarget=True/BackoffLimitExceeded'], 'backoffLimit 0: any restart')

  const terminating = sync(restartedJob(restarted.status), [jobPod('a', { deleting: true })], 101)
  t.same(terminating.delete, [], 'nothing more to delete')
  t.notOk(terminating.status?.conditions?.some(c => c.type === 'Failed'), 'still terminating')
  const gone = sync(restartedJob(restarted.status), [], 102)
  t.same(conditionTypes(gone.status), ['FailureTarget=True/BackoffLimitExceeded', 'Failed=True/BackoffLimitExceeded'], 'Failed once the pods are gone')
  t.equal(gone.status?.failed, 1)
  t.equal(gone.events[0]?.reason, 'BackoffLimitExceeded')
})

function restartedJob(status: Job['status']): Job {
  const j = job({ backoffLimit: 2 }, structuredClone(status))
  j.spec!.template!.spec!.restartPolicy = 'OnFailure'
  return j
}

t.test('activeDeadlineSeconds', async t => {
  const spec: JobSpec = { activeDeadlineSeconds: 30 }
  const early = sync(job(spec, { startTime: at(0), active: 1, ready: 0, terminating: 0 }), [jobPod('a')], 10)
  t.equal(early.requeueAfterMs, 20_000, 'come back at the deadline')
  t.same(conditionTypes(early.status), [])
  const late = sync(job(spec, { startTime: at(0), active: 1 }), [jobPod('a')], 30)
  t.same(conditionTypes(late.status), ['FailureTarget=True/DeadlineExceeded'])
  t.match(late.status?.conditions?.[0], { message: 'Job was active longer than specified deadline' })
  t.same(late.delete.map(p => p.metadata.name), ['a'])
  t.equal(late.create.length, 0)
  const after = sync(job(spec, late.status), [], 31)
  t.same(conditionTypes(after.status), ['FailureTarget=True/DeadlineExceeded', 'Failed=True/DeadlineExceeded'])
  t.same(after.events, [{ type: 'Warning', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }])
})

t.test('success: SuccessCriteriaMet, then Complete once no pod is left running', async t => {
  const done = [1, 2].map(i => jobPod(`s${i}`, { phase: 'Succeeded', finished: i }))
  const plan = sync(job({ completions: 2, parallelism: 2 }, { startTime: at(0), active: 1 }), done, 50)
  t.same(conditionTypes(plan.status), ['SuccessCriteriaMet=True/CompletionsReached', 'Complete=True/CompletionsReached'])
  t.match(plan.status?.conditions?.[1], { message: 'Reached expected number of succeeded pods' })
  t.match(plan.status, { startTime: at(0), completionTime: at(50), succeeded: 2, ready: 0, terminating: 0 })
  t.equal(plan.status?.active, undefined, 'active 0 is left out')
  t.same(plan.events, [{ type: 'Normal', reason: 'Completed', message: 'Job completed' }])

  const extra = sync(job({ completions: 1, parallelism: 2 }, { startTime: at(0) }), [jobPod('s', { phase: 'Succeeded', finished: 1 }), jobPod('a')], 50)
  t.same(conditionTypes(extra.status), ['SuccessCriteriaMet=True/CompletionsReached'], 'a pod still running: not complete yet')
  t.same(extra.delete.map(p => p.metadata.name), ['a'], 'and it is deleted')

  const queue = sync(job({ completions: null, parallelism: 2 }, { startTime: at(0) }), [jobPod('s', { phase: 'Succeeded', finished: 1 })], 9)
  t.same(conditionTypes(queue.status), ['SuccessCriteriaMet=True/CompletionsReached', 'Complete=True/CompletionsReached'], 'a work queue completes when one succeeded and none runs')

  const finished = job({}, plan.status)
  t.ok(isJobFinished(finished))
  t.equal(jobFinishTime(finished), T0 + 50_000)
  const again = sync(finished, [jobPod('late')], 60)
  t.same([again.create.length, again.delete.length, again.status, again.events], [0, 0, undefined, []], 'a finished Job is left alone')
})

t.test('suspend and resume', async t => {
  const running = job({ completions: 3, parallelism: 2, suspend: true, activeDeadlineSeconds: 10 }, { startTime: at(0), active: 2 })
  const suspended = sync(running, [jobPod('a'), jobPod('b')], 20)
  t.equal(suspended.delete.length, 2, 'active pods deleted')
  t.equal(suspended.create.length, 0)
  t.same(conditionTypes(suspended.status), ['Suspended=True/JobSuspended'], 'no deadline while suspended')
  t.equal(suspended.status?.startTime, undefined, 'startTime cleared')
  t.match(suspended.status?.conditions?.[0], { message: 'Job suspended' })
  t.same(suspended.events, [{ type: 'Normal', reason: 'Suspended', message: 'Job suspended' }])
  t.equal(sync(job({ suspend: true }), [], 0).status?.startTime, undefined, 'a Job created suspended has not started')

  const resumed = job({ completions: 3, parallelism: 2, suspend: false, activeDeadlineSeconds: 10 }, suspended.status)
  const plan = sync(resumed, [], 40)
  t.same(conditionTypes(plan.status), ['Suspended=False/JobResumed'])
  t.match(plan.status?.conditions?.[0], { message: 'Job resumed', lastTransitionTime: at(40) })
  t.equal(plan.status?.startTime, at(40), 'the deadline clock starts over')
  t.equal(plan.create.length, 2)
  t.equal(plan.requeueAfterMs, 10_000)
  t.same(plan.events, [{ type: 'Normal', reason: 'Resumed', message: 'Job resumed' }])
})
