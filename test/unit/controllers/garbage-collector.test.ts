import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject, OwnerReference } from '../../../control/client/api-client.ts'
import { planGarbageCollection } from '../../../control/controllers/garbage-collector.ts'
import type { GcAction, GcDependent, OwnerState } from '../../../control/controllers/garbage-collector.ts'
import { GarbageCollector } from '../../../control/controllers/garbage-collector-controller.ts'
import type { Pod, ReplicaSet } from '../../../control/controllers/objects.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { fakeInformerFactory } from './fakes/fake-informer.ts'
import { settle } from './fakes/wait.ts'
import { at, deployment, pod, replicaSet } from './fakes/builders.ts'
import { startWorkloads } from './fakes/harness.ts'

const owner = (uid: string, extra: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid, controller: true, ...extra,
})

function obj(name: string, refs: OwnerReference[] = [], extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { metadata: { name, namespace: 'default', uid: `uid-${name}`, ownerReferences: refs, ...extra } }
}

const dep = (o: KubeObject, hasDependents = false): GcDependent => ({ resource: RESOURCES.pods, object: o, hasDependents })

function plan(object: KubeObject, owners: Record<string, OwnerState> = {}, dependents: GcDependent[] = []): string[] {
  return planGarbageCollection({ resource: RESOURCES.pods, object, owners: new Map(Object.entries(owners)), dependents }).map(describe)
}

function describe(a: GcAction): string {
  const name = a.target.object.metadata.name
  switch (a.type) {
    case 'delete':
      return `delete ${name} ${a.policy}`
    case 'removeOwnerReferences':
      return `unref ${name} ${a.ownerUids.join(',')}`
    case 'removeFinalizer':
      return `unfinalize ${name} ${a.finalizer}`
  }
}

t.test('decisions for objects that are not being deleted', async t => {
  const cases: Array<[string, KubeObject, Record<string, OwnerState>, GcDependent[], string[]]> = [
    ['no owners: nothing', obj('p'), {}, [], []],
    ['owner alive: nothing', obj('p', [owner('a')]), { a: 'alive' }, [], []],
    ['owner gone: background delete', obj('p', [owner('a')]), { a: 'absent' }, [], ['delete p Background']],
    ['all owners gone', obj('p', [owner('a'), owner('b', { controller: false })]), { a: 'absent', b: 'absent' }, [], ['delete p Background']],
    ['one of two gone: drop that reference', obj('p', [owner('a'), owner('b', { controller: false })]), { a: 'alive', b: 'absent' }, [], ['unref p b']],
    ['owner waiting, no dependents of its own: background', obj('p', [owner('a')]), { a: 'waitingForDependents' }, [], ['delete p Background']],
    ['owner waiting, has dependents: foreground', obj('rs', [owner('a')]), { a: 'waitingForDependents' }, [dep(obj('x'))], ['delete rs Foreground']],
    ['alive and waiting owners: drop the waiting one', obj('p', [owner('a'), owner('b')]), { a: 'alive', b: 'waitingForDependents' }, [], ['unref p b']],
    ['garbage with its own orphan finalizer', obj('p', [owner('a')], { finalizers: ['orphan'] }), { a: 'absent' }, [], ['delete p Orphan']],
    ['an owner missing from the map counts as alive', obj('p', [owner('a')]), {}, [], []],
  ]
  for (const [name, o, owners, deps, want] of cases) t.same(plan(o, owners, deps), want, name)
})

t.test('orphan finalizer: references removed from dependents, then the finalizer', async t => {
  const rs = obj('rs', [], { deletionTimestamp: at(1), finalizers: ['orphan'] })
  t.same(plan(rs, {}, [dep(obj('p1', [owner('uid-rs')])), dep(obj('p2', [owner('uid-rs')]))]), [
    'unref p1 uid-rs',
    'unref p2 uid-rs',
    'unfinalize rs orphan',
  ])
  t.same(plan(rs), ['unfinalize rs orphan'], 'no dependents left: just the finalizer')
})

t.test('foregroundDeletion: dependents first, the finalizer when no blocking dependent is left', async t => {
  const d = obj('d', [], { deletionTimestamp: at(1), finalizers: ['foregroundDeletion'] })
  const blocking = obj('rs', [owner('uid-d', { blockOwnerDeletion: true })])
  const nonBlocking = obj('cm', [owner('uid-d', { controller: false })])
  const terminating = obj('rs2', [owner('uid-d', { blockOwnerDeletion: true })], { deletionTimestamp: at(2) })
  t.same(plan(d, {}, [dep(blocking, true), dep(nonBlocking)]), ['delete rs Foreground', 'delete cm Background'])
  t.same(plan(d, {}, [dep(terminating)]), [], 'a terminating blocking dependent: wait')
  t.same(plan(d, {}, [dep(nonBlocking)]), ['delete cm Background', 'unfinalize d foregroundDeletion'], 'nothing blocks')
  t.same(plan(d), ['unfinalize d foregroundDeletion'])
  t.same(plan(obj('x', [owner('a')], { deletionTimestamp: at(1) }), { a: 'absent' }), [], 'already being deleted: nothing')
})

// --- the loop ---------------------------------------------------------------

async function startGc(): Promise<{ api: FakeApi; gc: GarbageCollector; settle: () => Promise<void> }> {
  const clock = new FakeClock()
  const api = new FakeApi({ clock })
  const { factory, stopAll } = fakeInformerFactory(api)
  const refs = [RESOURCES.deployments, RESOURCES.replicasets, RESOURCES.pods]
  const gc = new GarbageCollector({ client: api, clock, resources: refs.map(ref => ({ ref, informer: factory(ref) })) })
  await gc.start()
  t.teardown(async () => {
    await gc.stop()
    stopAll()
  })
  return { api, gc, settle: async () => await settle(api, () => gc.idle()) }
}

const create = async <T extends KubeObject>(api: FakeApi, ref: typeof RESOURCES.pods, o: T): Promise<T> => {
  const copy = structuredClone(o)
  delete copy.metadata.uid
  delete copy.metadata.creationTimestamp
  return await api.create(ref, 'default', copy)
}

t.test('GC deletes the pods of a deleted ReplicaSet (background)', async t => {
  const { api, settle } = await startGc()
  const rs = await create(api, RESOURCES.replicasets, replicaSet({ replicas: 2 }))
  await create(api, RESOURCES.pods, pod({ name: 'a', owner: rs }))
  await create(api, RESOURCES.pods, pod({ name: 'b', owner: rs }))
  await create(api, RESOURCES.pods, pod({ name: 'unowned' }))
  await settle()
  t.equal(api.objects(RESOURCES.pods).length, 3, 'nothing collected while the owner lives')
  await api.delete(RESOURCES.replicasets, 'default', 'web')
  await settle()
  t.same(api.objects(RESOURCES.pods).map(p => p.metadata.name), ['unowned'])
})

t.test('GC deletes objects whose owner never existed, and drops dangling extra references', async t => {
  const { api, settle } = await startGc()
  const rs = await create(api, RESOURCES.replicasets, replicaSet())
  await create(api, RESOURCES.pods, pod({ name: 'ghost', owner: replicaSet({ name: 'gone', uid: 'uid-never-existed' }) }))
  const both = pod({ name: 'both', owner: rs })
  both.metadata.ownerReferences!.push({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'uid-never-existed' })
  await create(api, RESOURCES.pods, both)
  // Same name as a live owner but another uid: that owner is gone too.
  await create(api, RESOURCES.pods, pod({ name: 'stale', owner: replicaSet({ name: 'web', uid: 'uid-old-web' }) }))
  await settle()
  t.same(api.objects<Pod>(RESOURCES.pods).map(p => p.metadata.name), ['both'])
  t.same(api.peek<Pod>(RESOURCES.pods, 'default', 'both')?.metadata.ownerReferences?.map(r => r.uid), [rs.metadata.uid])
})

t.test('orphan propagation keeps the pods and strips their owner references', async t => {
  const { api, settle } = await startGc()
  const rs = await create(api, RESOURCES.replicasets, replicaSet())
  await create(api, RESOURCES.pods, pod({ name: 'a', owner: rs }))
  await create(api, RESOURCES.pods, pod({ name: 'b', owner: rs }))
  await api.delete(RESOURCES.replicasets, 'default', 'web', { propagationPolicy: 'Orphan' })
  await settle()
  t.equal(api.objects(RESOURCES.replicasets).length, 0, 'the ReplicaSet is gone once the orphan finalizer is removed')
  const pods = api.objects<Pod>(RESOURCES.pods)
  t.same(pods.map(p => p.metadata.name).sort(), ['a', 'b'])
  t.ok(pods.every(p => p.metadata.ownerReferences === undefined))
})

t.test('foreground propagation: dependents go first, then the owner', async t => {
  const { api, settle } = await startGc()
  const d = await create(api, RESOURCES.deployments, deployment('web'))
  const rs = await create(api, RESOURCES.replicasets, replicaSet({ owner: d }))
  await create(api, RESOURCES.pods, pod({ name: 'a', owner: rs }))
  let ownerGoneWhilePodsLeft = false
  api.onChange = e => {
    if (e.type === 'DELETED' && e.resource === 'apps/deployments' && api.objects(RESOURCES.pods).length > 0) ownerGoneWhilePodsLeft = true
  }
  await api.delete(RESOURCES.deployments, 'default', 'web', { propagationPolicy: 'Foreground' })
  await settle()
  t.equal(api.objects(RESOURCES.deployments).length, 0)
  t.equal(api.objects(RESOURCES.replicasets).length, 0)
  t.equal(api.objects(RESOURCES.pods).length, 0)
  t.notOk(ownerGoneWhilePodsLeft, 'the deployment outlived its pods')
})

t.test('deleting a deployment cascades through the running controllers', async t => {
  const w = await startWorkloads()
  t.teardown(w.stop)
  const { factory, stopAll } = fakeInformerFactory(w.api)
  const gc = new GarbageCollector({
    client: w.api,
    clock: w.clock,
    resources: [RESOURCES.deployments, RESOURCES.replicasets, RESOURCES.pods].map(ref => ({ ref, informer: factory(ref) })),
  })
  await gc.start()
  t.teardown(async () => {
    await gc.stop()
    stopAll()
  })
  const d = deployment('web', { replicas: 3 })
  delete d.metadata.uid
  await w.api.create(RESOURCES.deployments, 'default', d)
  await settle(w.api, () => w.rsc.idle() && w.dc.idle() && gc.idle())
  t.equal(w.api.objects(RESOURCES.pods).length, 3)
  await w.api.delete(RESOURCES.deployments, 'default', 'web')
  await settle(w.api, () => w.rsc.idle() && w.dc.idle() && gc.idle())
  t.equal(w.api.objects<ReplicaSet>(RESOURCES.replicasets).length, 0)
  t.equal(w.api.objects(RESOURCES.pods).length, 0)
})
