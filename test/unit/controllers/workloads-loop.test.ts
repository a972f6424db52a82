// The ReplicaSet and Deployment loops against the fake API: convergence,
// scaling, a rolling update watched at every write, expectations, retries.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { conflict, internalError } from '../../../control/api/status-error.ts'
import type { Deployment, Pod, ReplicaSet } from '../../../control/controllers/objects.ts'
import { computeHash } from '../../../control/controllers/deployment-util.ts'
import { deployment, replicaSet } from './fakes/builders.ts'
import { eventsOf, isReady, livePods, markReady, startWorkloads } from './fakes/harness.ts'
import { until } from './fakes/wait.ts'

const readyAll = async (w: Awaited<ReturnType<typeof startWorkloads>>): Promise<void> => {
  for (const p of livePods(w.api)) if (!isReady(p)) await markReady(w.api, p, true, w.clock.now())
}

const forCreate = (d: Deployment): Deployment => {
  const copy = structuredClone(d)
  delete copy.metadata.uid
  delete copy.metadata.creationTimestamp
  delete copy.metadata.generation
  return copy
}

t.test('a 3-replica deployment converges to 3 pods, then reports them available', async t => {
  const w = await startWorkloads()
  t.teardown(w.stop)
  await w.api.create(RESOURCES.deployments, 'default', forCreate(deployment('web', { replicas: 3 })))
  await w.settle()

  const rss = w.api.objects<ReplicaSet>(RESOURCES.replicasets)
  t.equal(rss.length, 1)
  const rs = rss[0]!
  t.match(rs.metadata.name, /^web-[4-9bcdf]+$/)
  const pods = livePods(w.api)
  t.equal(pods.length, 3)
  for (const p of pods) {
    t.match(p.metadata.name, new RegExp(`^${rs.metadata.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`))
    t.equal(p.metadata.labels?.['pod-template-hash'], rs.metadata.labels?.['pod-template-hash'])
    t.match(p.metadata.ownerReferences, [{ kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid, controller: true }])
  }
  t.equal(w.api.calls.filter(c => c.verb === 'create' && c.resource === 'pods').length, 3, 'exactly 3 creates')

  await readyAll(w)
  await w.settle()
  const d = w.api.peek<Deployment>(RESOURCES.deployments, 'default', 'web')!
  t.match(d.status, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 })
  t.match(d.status?.conditions, [
    { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
    { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rs.metadata.name}" has successfully progressed.` },
  ])
  t.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1')
  t.match(w.api.peek<ReplicaSet>(RESOURCES.replicasets, 'default', rs.metadata.name!)?.status, {
    replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1,
  })

  await w.recorder.flush()
  const events = eventsOf(w.api).map(e => `${e.involvedObject.kind} ${e.reason} ${e.message}`)
  t.ok(events.includes(`Deployment ScalingReplicaSet Scaled up replica set ${rs.metadata.name} to 3`))
  t.equal(events.filter(e => e.startsWith('ReplicaSet SuccessfulCreate Created pod: ')).length, 3)
})

t.test('scale 3 → 6 → 1', async t => {
  const w = await startWorkloads()
  t.teardown(w.stop)
  await w.api.create(RESOURCES.deployments, 'default', forCreate(deployment('web', { replicas: 3 })))
  await w.settle()
  await readyAll(w)
  await w.settle()
  t.equal(livePods(w.api).length, 3)

  await w.api.patch(RESOURCES.deployments, 'default', 'web', { spec: { replicas: 6 } })
  await w.settle()
  t.equal(livePods(w.api).length, 6, 'scaled up to 6')
  t.equal(w.api.objects(RESOURCES.replicasets).length, 1, 'by resizing the same ReplicaSet')
  await readyAll(w)
  await w.settle()

  // One unready pod: it goes first.
  const unready = livePods(w.api)[4]!
  await markReady(w.api, unready, false, w.clock.now())
  await w.settle()
  await w.api.patch(RESOURCES.deployments, 'default', 'web', { spec: { replicas: 1 } })
  await w.settle()
  const left = livePods(w.api)
  t.equal(left.length, 1, 'scaled down to 1')
  t.not(left[0]!.metadata.name, unready.metadata.name, 'the unready pod was among the deleted')
  const d = w.api.peek<Deployment>(RESOURCES.deployments, 'default', 'web')!
  t.match(d.status, { replicas: 1, availableReplicas: 1, updatedReplicas: 1 })
  await w.recorder.flush()
  const rsName = w.api.objects<ReplicaSet>(RESOURCES.replicasets)[0]!.metadata.name
  const messages = eventsOf(w.api).map(e => e.message)
  t.ok(messages.includes(`Scaled up replica set ${rsName} to 6`))
  t.ok(messages.includes(`Scaled down replica set ${rsName} to 1`))
})

t.test('rolling update maxSurge=1 maxUnavailable=0 keeps 3 ready pods at every write', async t => {
  const w = await startWorkloads()
  t.teardown(w.stop)
  const spec = { replicas: 3, strategy: { type: 'RollingUpdate' as const, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }
  await w.api.create(RESOURCES.deployments, 'default', forCreate(deployment('web', spec)))
  await w.settle()
  await readyAll(w)
  await w.settle()

  let minReady = Infinity
  let maxSpec = 0
  let maxPods = 0
  w.api.onChange = () => {
    const pods = livePods(w.api)
    minReady = Math.min(minReady, pods.filter(isReady).length)
    maxPods = Math.max(maxPods, pods.length)
    maxSpec = Math.max(maxSpec, w.api.objects<ReplicaSet>(RESOURCES.replicasets).reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0))
  }
  const d0 = w.api.peek<Deployment>(RESOURCES.deployments, 'default', 'web')!
  const template = structuredClone(d0.spec!.template!)
  template.spec!.containers![0]!.image = 'nginx:2'
  await w.api.patch(RESOURCES.deployments, 'default', 'web', { spec: { template } })

  let steps = 0
  for (; steps < 20; steps++) {
    await w.settle()
    const newPods = livePods(w.api).filter(p => p.spec?.containers?.[0]?.image === 'nginx:2')
    const oldPods = livePods(w.api).filter(p => p.spec?.containers?.[0]?.image !== 'nginx:2')
    if (oldPods.length === 0 && newPods.length === 3 && newPods.every(isReady)) break
    const next = newPods.find(p => !isReady(p))
    if (!next) throw new Error('stuck: no new pod to make ready')
    w.clock.advance(1000)
    await markReady(w.api, next, true, w.clock.now())
  }
  w.api.onChange = undefined
  t.equal(steps, 3, 'three pods replaced, one at a time')
  t.equal(minReady, 3, 'never fewer than 3 ready pods')
  t.equal(maxSpec, 4, 'never more than 4 replicas in all ReplicaSets')
  t.ok(maxPods <= 4, `never more than 4 pods (saw ${maxPods})`)

  await w.settle()
  const d = w.api.peek<Deployment>(RESOURCES.deployments, 'default', 'web')!
  t.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2')
  t.match(d.status, { replicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: 2 })
  const rss = w.api.objects<ReplicaSet>(RESOURCES.replicasets)
  t.equal(rss.length, 2, 'the old ReplicaSet stays, at 0, for rollback')
  t.same(rss.map(rs => rs.spec?.replicas).sort(), [0, 3])
})

t.test('Recreate: the new pods come only after the old ones are gone', async t => {
  const w = await startWorkloads({ gracefulPodDeletion: true })
  t.teardown(w.stop)
  await w.api.create(RESOURCES.deployments, 'default', forCreate(deployment('web', { replicas: 2, strategy: { type: 'Recreate' } })))
  await w.settle()
  // The pods land on a node so that deleting them takes a grace period.
  for (const p of livePods(w.api)) await w.api.patch(RESOURCES.pods, 'default', p.metadata.name!, { spec: { nodeName: 'n1' } })
  await readyAll(w)
  await w.settle()
  const d0 = w.api.peek<Deployment>(RESOURCES.deployments, 'default', 'web')!
  const template = structuredClone(d0.spec!.template!)
  template.spec!.containers![0]!.image = 'nginx:2'
  await w.api.patch(RESOURCES.deployments, 'default', 'web', { spec: { template } })
  await w.settle()
  const terminating = w.api.objects<Pod>(RESOURCES.pods).filter(p => p.metadata.deletionTimestamp)
  t.equal(terminating.length, 2, 'old pods terminating')
  t.equal(w.api.objects(RESOURCES.replicasets).length, 1, 'no new ReplicaSet while they terminate')
  for (const p of terminating) w.api.finishPodDeletion('default', p.metadata.name!)
  await w.settle()
  const pods = livePods(w.api)
  t.equal(pods.length, 2)
  t.ok(pods.every(p => p.spec?.containers?.[0]?.image === 'nginx:2'), 'all new')
})

t.test('expectations: no double creation while creates are in flight', async t => {
  const w = await startWorkloads()
  t.teardown(w.stop)
  const rs = replicaSet({ replicas: 5 })
  delete rs.metadata.uid
  delete rs.metadata.creationTimestamp
  await w.api.create(RESOURCES.replicasets, 'default', rs)
  // Poke the ReplicaSet repeatedly while its pods are being created.
  for (let i = 0; i < 5; i++) {
    await w.api.patch(RESOURCES.replicasets, 'default', 'web', { metadata: { labels: { app: 'web', poke: String(i) } } })
  }
  await w.settle()
  t.equal(w.api.calls.filter(c => c.verb === 'create' && c.resource === 'pods').length, 5)
  t.equal(livePods(w.api).length, 5)
  t.same(w.rsc.expectations.pending('default/web'), { add: 0, del: 0 })
})

t.test('a failing create is an Event and a ReplicaFailure, retried with backoff', async t => {
  const w = await startWorkloads()
  t.teardown(w.stop)
  // Twice: the status write (ReplicaFailure) itself triggers one more sync, as in Kubernetes.
  w.api.failNext('create', 'pods', internalError(new Error('disk full')), 2)
  const rs = replicaSet({ replicas: 2 })
  delete rs.metadata.uid
  await w.api.create(RESOURCES.replicasets, 'default', rs)
  await w.settle()
  t.equal(livePods(w.api).length, 0, 'slow start stopped at the failing first batch')
  t.match(w.api.peek<ReplicaSet>(RESOURCES.replicasets, 'default', 'web')?.status?.conditions, [
    { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'Internal error occurred: disk full' },
  ])
  await w.recorder.flush()
  t.ok(eventsOf(w.api).some(e => e.type === 'Warning' && e.reason === 'FailedCreate' && e.message === 'Error creating: Internal error occurred: disk full'))
  w.clock.advance(10) // the first backoff is 5 ms
  await w.settle()
  t.equal(livePods(w.api).length, 2, 'the retry created both')
  t.equal(w.api.peek<ReplicaSet>(RESOURCES.replicasets, 'default', 'web')?.status?.conditions, undefined, 'ReplicaFailure cleared')
})

t.test('a Conflict on the status write is requeued without backoff', async t => {
  const w = await startWorkloads()
  t.teardown(w.stop)
  w.api.failNext('update', 'replicasets', conflict('replicasets.apps', 'web'), 2, 'status')
  const rs = replicaSet({ replicas: 1 })
  delete rs.metadata.uid
  await w.api.create(RESOURCES.replicasets, 'default', rs)
  await w.settle()
  t.equal(livePods(w.api).length, 1)
  t.match(w.api.peek<ReplicaSet>(RESOURCES.replicasets, 'default', 'web')?.status, { replicas: 1 }, 'status written without advancing the clock')
})

t.test('orphans are adopted, pods that stop matching are released', async t => {
  const w = await startWorkloads()
  t.teardown(w.stop)
  await w.api.create(RESOURCES.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'web' } }, spec: { containers: [] } })
  const rs = replicaSet({ replicas: 2 })
  delete rs.metadata.uid
  await w.api.create(RESOURCES.replicasets, 'default', rs)
  await w.settle()
  const stray = w.api.peek<Pod>(RESOURCES.pods, 'default', 'stray')!
  const owner = w.api.peek<ReplicaSet>(RESOURCES.replicasets, 'default', 'web')!
  t.match(stray.metadata.ownerReferences, [{ kind: 'ReplicaSet', uid: owner.metadata.uid, controller: true }], 'adopted')
  t.equal(livePods(w.api).length, 2, 'it counts: one more created, not two')

  await w.api.patch(RESOURCES.pods, 'default', 'stray', { metadata: { labels: { app: 'debug' } } })
  await w.settle()
  t.equal(w.api.peek<Pod>(RESOURCES.pods, 'default', 'stray')?.metadata.ownerReferences, undefined, 'released')
  t.equal(livePods(w.api).filter(p => p.metadata.labels?.['app'] === 'web').length, 2, 'and replaced')
})

t.test('a rollout that makes no progress times out at the progress deadline', async t => {
  const w = await startWorkloads()
  t.teardown(w.stop)
  await w.api.create(RESOURCES.deployments, 'default', forCreate(deployment('web', { replicas: 2, progressDeadlineSeconds: 30 })))
  await w.settle()
  const progressing = (): { reason?: string; message?: string } | undefined =>
    w.api.peek<Deployment>(RESOURCES.deployments, 'default', 'web')?.status?.conditions?.find(c => c.type === 'Progressing')
  t.equal(progressing()?.reason, 'ReplicaSetUpdated', 'pods were created: progress')
  w.clock.advance(29_000)
  await w.settle()
  t.equal(progressing()?.reason, 'ReplicaSetUpdated', 'not yet')
  w.clock.advance(3_000) // the requeue fires at the deadline + 1 s
  await w.settle()
  const rs = w.api.objects<ReplicaSet>(RESOURCES.replicasets)[0]!
  t.match(progressing(), { reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rs.metadata.name}" has timed out progressing.` })
  await readyAll(w)
  await w.settle()
  t.match(progressing(), { reason: 'NewReplicaSetAvailable' }, 'progress afterwards completes it')
})

t.test('a pod-template hash collision bumps collisionCount and picks another name', async t => {
  const w = await startWorkloads()
  t.teardown(w.stop)
  const d = forCreate(deployment('web', { replicas: 1 }))
  // Someone else's ReplicaSet already has the name the deployment would use.
  const squatter = replicaSet({ name: `web-${computeHash(d.spec!.template)}`, selector: { app: 'other' }, labels: { app: 'other' }, replicas: 0 })
  squatter.spec!.template!.metadata!.labels = { app: 'other' }
  delete squatter.metadata.uid
  await w.api.create(RESOURCES.replicasets, 'default', squatter)
  await w.api.create(RESOURCES.deployments, 'default', d)
  await w.settle()
  const stored = w.api.peek<Deployment>(RESOURCES.deployments, 'default', 'web')!
  t.equal(stored.status?.collisionCount, 1)
  const mine = w.api.objects<ReplicaSet>(RESOURCES.replicasets).filter(rs => rs.metadata.name !== squatter.metadata.name)
  t.equal(mine.length, 1)
  t.equal(mine[0]!.metadata.name, `web-${computeHash(d.spec!.template, 1)}`)
  t.equal(livePods(w.api).filter(p => p.metadata.labels?.['app'] === 'web').length, 1)
})
