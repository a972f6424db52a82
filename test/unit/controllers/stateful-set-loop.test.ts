// The StatefulSet loop against the fake API: ordered creation with claims,
// scale-down in reverse, recreation under the same name, a rolling update
// with a partition, OnDelete, Parallel, retention policies and the history.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { formatTime } from '../../../control/controllers/clock.ts'
import type { ControllerRevision } from '../../../control/controllers/controller-history.ts'
import { ApiEventRecorder } from '../../../control/controllers/events.ts'
import type { Pod } from '../../../control/controllers/objects.ts'
import type { PersistentVolumeClaim, StatefulSet, StatefulSetSpec } from '../../../control/controllers/stateful-set.ts'
import { StatefulSetController } from '../../../control/controllers/stateful-set-controller.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { fakeInformerFactory } from './fakes/fake-informer.ts'
import { eventsOf } from './fakes/harness.ts'
import { settle } from './fakes/wait.ts'

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

async function start(t: TapTest) {
  const clock = new FakeClock()
  const api = new FakeApi({ clock, gracefulPodDeletion: true })
  const { factory, stopAll } = fakeInformerFactory(api)
  const recorder = new ApiEventRecorder({ client: api, clock, source: { component: 'statefulset-controller' } })
  const ssc = new StatefulSetController({
    client: api, clock, recorder,
    statefulSets: factory<StatefulSet>(RESOURCES.statefulsets),
    pods: factory<Pod>(RESOURCES.pods),
    claims: factory<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims),
    revisions: factory<ControllerRevision>(RESOURCES.controllerrevisions),
  })
  await ssc.start()
  t.teardown(async () => {
    await ssc.stop()
    stopAll()
  })
  const quiet = async (): Promise<void> => await settle(api, () => ssc.idle())
  return { api, clock, recorder, quiet }
}
type World = Awaited<ReturnType<typeof start>>

const sts = (spec: StatefulSetSpec = {}): StatefulSet => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas: 3,
    serviceName: 'nginx',
    podManagementPolicy: 'OrderedReady',
    revisionHistoryLimit: 10,
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] } as never] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    ...spec,
  },
})

const names = (w: World): string[] => w.api.objects<Pod>(RESOURCES.pods).map(p => p.metadata.name ?? '').sort()
const getPod = (w: World, name: string): Pod | undefined => w.api.peek<Pod>(RESOURCES.pods, 'default', name)
const getSet = (w: World): StatefulSet => w.api.peek<StatefulSet>(RESOURCES.statefulsets, 'default', 'web')!

/** What the scheduler and the node agent do: bind the pod, then report it Running and Ready. */
async function run(w: World, name: string): Promise<void> {
  await w.api.patch(RESOURCES.pods, 'default', name, { spec: { nodeName: 'node-1' } })
  await w.api.patch(RESOURCES.pods, 'default', name, {
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(w.clock.now()) }] },
  }, 'merge', 'status')
  await w.quiet()
}

/** Runs every pod that is not Ready yet until nothing new appears. */
async function runAll(w: World): Promise<void> {
  for (;;) {
    const pending = w.api.objects<Pod>(RESOURCES.pods).filter(p => !p.metadata.deletionTimestamp && p.status?.phase !== 'Running')
    if (pending.length === 0) return
    for (const p of pending) await run(w, p.metadata.name ?? '')
  }
}

/** The agent's part of a graceful delete: the pod object goes. */
async function finish(w: World, name: string): Promise<void> {
  w.api.finishPodDeletion('default', name)
  await w.quiet()
}

const eventTexts = async (w: World): Promise<string[]> => {
  await w.recorder.flush()
  return eventsOf(w.api).map(e => `${e.reason} ${e.message}`)
}

t.test('OrderedReady: each ordinal waits for the one before to be Running and Ready; claims come first', async t => {
  const w = await start(t)
  const order: string[] = []
  w.api.onChange = ({ type, resource, object }) => {
    const plural = resource.split('/').pop() ?? ''
    if (type === 'ADDED' && (plural === 'pods' || plural === 'persistentvolumeclaims')) order.push(`${plural} ${object.metadata.name}`)
  }
  await w.api.create(RESOURCES.statefulsets, 'default', sts())
  await w.quiet()
  t.same(names(w), ['web-0'], 'only web-0 until it is ready')
  const set = getSet(w)
  const pod = getPod(w, 'web-0')!
  t.match(pod.metadata.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': set.status?.updateRevision })
  t.match(pod.metadata.ownerReferences, [{ kind: 'StatefulSet', name: 'web', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }])
  t.equal(pod.spec?.hostname, 'web-0')
  t.equal(pod.spec?.subdomain, 'nginx')
  t.same(pod.spec?.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }])
  const claim = w.api.peek<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims, 'default', 'data-web-0')!
  t.same(claim.metadata.labels, { app: 'web' }, "the selector's labels")
  t.notOk(claim.metadata.ownerReferences, 'Retain: no owner')

  await w.api.patch(RESOURCES.pods, 'default', 'web-0', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } }, 'merge', 'status')
  await w.quiet()
  t.same(names(w), ['web-0'], 'running but not ready: still waiting')
  await run(w, 'web-0')
  t.same(names(w), ['web-0', 'web-1'])
  await run(w, 'web-1')
  t.same(names(w), ['web-0', 'web-1', 'web-2'])
  await run(w, 'web-2')
  t.same(order, [
    'persistentvolumeclaims data-web-0', 'pods web-0',
    'persistentvolumeclaims data-web-1', 'pods web-1',
    'persistentvolumeclaims data-web-2', 'pods web-2',
  ])
  const status = getSet(w).status
  t.match(status, { replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, observedGeneration: 1, collisionCount: 0 })
  t.equal(status?.currentRevision, status?.updateRevision)
  t.equal(w.api.objects(RESOURCES.controllerrevisions).length, 1)
  const events = await eventTexts(w)
  t.ok(events.includes('SuccessfulCreate create Pod web-0 in StatefulSet web successful'))
  t.ok(events.includes('SuccessfulCreate create Claim data-web-0 Pod web-0 in StatefulSet web success'))
})

t.test('scale down removes the highest ordinal first, one at a time, waiting until it is gone', async t => {
  const w = await start(t)
  await w.api.create(RESOURCES.statefulsets, 'default', sts())
  await w.quiet()
  await runAll(w)
  await w.api.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { replicas: 1 } })
  await w.quiet()
  t.ok(getPod(w, 'web-2')?.metadata.deletionTimestamp, 'web-2 is terminating')
  t.notOk(getPod(w, 'web-1')?.metadata.deletionTimestamp, 'web-1 waits')
  await finish(w, 'web-2')
  t.ok(getPod(w, 'web-1')?.metadata.deletionTimestamp, 'then web-1')
  await finish(w, 'web-1')
  t.same(names(w), ['web-0'])
  t.equal(w.api.objects(RESOURCES.persistentvolumeclaims).length, 3, 'Retain keeps the claims')
  const events = await eventTexts(w)
  t.ok(events.indexOf('SuccessfulDelete delete Pod web-2 in StatefulSet web successful') < events.indexOf('SuccessfulDelete delete Pod web-1 in StatefulSet web successful'))
  t.match(getSet(w).status, { replicas: 1, readyReplicas: 1 })

  const claimUid = w.api.peek(RESOURCES.persistentvolumeclaims, 'default', 'data-web-1')?.metadata.uid
  await w.api.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { replicas: 2 } })
  await w.quiet()
  t.same(names(w), ['web-0', 'web-1'], 'scaling up again reuses the name')
  t.equal(w.api.peek(RESOURCES.persistentvolumeclaims, 'default', 'data-web-1')?.metadata.uid, claimUid, 'and the claim')
})

t.test('a deleted or failed pod comes back under the same name', async t => {
  const w = await start(t)
  await w.api.create(RESOURCES.statefulsets, 'default', sts())
  await w.quiet()
  await runAll(w)
  const before = getPod(w, 'web-1')!
  await w.api.delete(RESOURCES.pods, 'default', 'web-1')
  await w.quiet()
  t.ok(getPod(w, 'web-1')?.metadata.deletionTimestamp, 'terminating: not replaced yet')
  await finish(w, 'web-1')
  const after = getPod(w, 'web-1')!
  t.not(after.metadata.uid, before.metadata.uid, 'a new pod')
  t.equal(after.spec?.hostname, 'web-1')
  t.same(after.spec?.volumes, before.spec?.volumes, 'with the same claim')

  await run(w, 'web-1')
  await w.api.patch(RESOURCES.pods, 'default', 'web-2', { status: { phase: 'Failed' } }, 'merge', 'status')
  await w.quiet()
  t.ok(getPod(w, 'web-2')?.metadata.deletionTimestamp, 'a failed pod is deleted')
  await finish(w, 'web-2')
  t.equal(getPod(w, 'web-2')?.status?.phase, undefined, 'and made again')
})

t.test('RollingUpdate: highest ordinal first, each waiting for Ready, stopping at the partition', async t => {
  const w = await start(t)
  await w.api.create(RESOURCES.statefulsets, 'default', sts())
  await w.quiet()
  await runAll(w)
  const first = getSet(w).status?.currentRevision
  await w.api.patch(RESOURCES.statefulsets, 'default', 'web', {
    spec: { updateStrategy: { rollingUpdate: { partition: 1 } }, template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } },
  })
  await w.quiet()
  const update = getSet(w).status?.updateRevision
  t.not(update, first)
  t.match(getSet(w).status, { currentRevision: first, updateRevision: update, observedGeneration: 2 })
  t.ok(getPod(w, 'web-2')?.metadata.deletionTimestamp, 'web-2 goes first')
  t.notOk(getPod(w, 'web-1')?.metadata.deletionTimestamp)
  await finish(w, 'web-2')
  t.equal(getPod(w, 'web-2')?.metadata.labels?.['controller-revision-hash'], update, 'and comes back at the update revision')
  t.equal(getPod(w, 'web-2')?.spec?.containers?.[0]?.image, 'nginx:2')
  t.notOk(getPod(w, 'web-1')?.metadata.deletionTimestamp, 'web-1 waits for web-2 to be ready')
  await run(w, 'web-2')
  t.ok(getPod(w, 'web-1')?.metadata.deletionTimestamp, 'then web-1')
  await finish(w, 'web-1')
  await run(w, 'web-1')
  t.notOk(getPod(w, 'web-0')?.metadata.deletionTimestamp, 'web-0 is below the partition')
  t.equal(getPod(w, 'web-0')?.metadata.labels?.['controller-revision-hash'], first)
  t.match(getSet(w).status, { replicas: 3, currentReplicas: 1, updatedReplicas: 2, currentRevision: first, updateRevision: update })

  // A pod below the partition that is deleted comes back at the current revision.
  await w.api.delete(RESOURCES.pods, 'default', 'web-0')
  await finish(w, 'web-0')
  t.equal(getPod(w, 'web-0')?.spec?.containers?.[0]?.image, 'nginx:1')
  await run(w, 'web-0')

  await w.api.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } })
  await w.quiet()
  await finish(w, 'web-0')
  await run(w, 'web-0')
  t.match(getSet(w).status, { currentReplicas: 3, updatedReplicas: 3, currentRevision: update, updateRevision: update }, 'done: current = update')
})

t.test('OnDelete: the new template only when the user deletes a pod', async t => {
  const w = await start(t)
  await w.api.create(RESOURCES.statefulsets, 'default', sts({ updateStrategy: { type: 'OnDelete' } }))
  await w.quiet()
  await runAll(w)
  await w.api.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } })
  await w.quiet()
  t.notOk(w.api.objects<Pod>(RESOURCES.pods).some(p => p.metadata.deletionTimestamp), 'nothing deleted')
  t.match(getSet(w).status, { updatedReplicas: 0, currentReplicas: 3 })
  await w.api.delete(RESOURCES.pods, 'default', 'web-1')
  await finish(w, 'web-1')
  t.equal(getPod(w, 'web-1')?.spec?.containers?.[0]?.image, 'nginx:2')
  t.equal(getPod(w, 'web-0')?.spec?.containers?.[0]?.image, 'nginx:1')
  await run(w, 'web-1')
  t.match(getSet(w).status, { updatedReplicas: 1, currentReplicas: 2 })
})

t.test('Parallel: all at once, up and down', async t => {
  const w = await start(t)
  await w.api.create(RESOURCES.statefulsets, 'default', sts({ podManagementPolicy: 'Parallel' }))
  await w.quiet()
  t.same(names(w), ['web-0', 'web-1', 'web-2'], 'created without waiting')
  await runAll(w)
  await w.api.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { replicas: 0 } })
  await w.quiet()
  t.equal(w.api.objects<Pod>(RESOURCES.pods).filter(p => p.metadata.deletionTimestamp).length, 3, 'deleted together')
})

t.test('retention policy: owner references on the claims', async t => {
  const w = await start(t)
  await w.api.create(RESOURCES.statefulsets, 'default', sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }))
  await w.quiet()
  await runAll(w)
  const set = getSet(w)
  const claim = (n: number): PersistentVolumeClaim => w.api.peek<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims, 'default', `data-web-${n}`)!
  t.same(claim(0).metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata.uid }], 'whenDeleted: owned by the set')
  const web2 = getPod(w, 'web-2')!
  await w.api.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { replicas: 2 } })
  await w.quiet()
  t.same(claim(2).metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Pod', name: 'web-2', uid: web2.metadata.uid }], 'whenScaled: a condemned pod owns its claim')
  t.same(claim(1).metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata.uid }])

  await w.api.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' } } })
  await w.quiet()
  t.notOk(claim(0).metadata.ownerReferences, 'Retain takes the references away')
})

t.test('history: a rollback renumbers the equal revision; revisionHistoryLimit prunes', async t => {
  const w = await start(t)
  await w.api.create(RESOURCES.statefulsets, 'default', sts({ replicas: 1, revisionHistoryLimit: 1, volumeClaimTemplates: [] }))
  await w.quiet()
  await runAll(w)
  const image = async (tag: string): Promise<void> => {
    await w.api.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'c', image: `nginx:${tag}`, volumeMounts: null }] } } } })
    await w.quiet()
    await finish(w, 'web-0')
    await run(w, 'web-0')
  }
  const revisions = (): Array<[string, number]> =>
    w.api.objects<ControllerRevision>(RESOURCES.controllerrevisions).map(r => [r.metadata.name ?? '', r.revision ?? 0] as [string, number]).sort((a, b) => a[1] - b[1])
  const r1 = getSet(w).status?.updateRevision
  await image('2')
  const r2 = getSet(w).status?.updateRevision
  t.same(revisions(), [[r1, 1], [r2, 2]])
  await image('3')
  const r3 = getSet(w).status?.updateRevision
  t.same(revisions(), [[r2, 2], [r3, 3]], 'one old revision kept')
  await image('2')
  t.same(revisions(), [[r3, 3], [r2, 4]], 'back to 2: the same revision, renumbered')
  t.equal(getSet(w).status?.updateRevision, r2)
  const revision = w.api.peek<KubeObject>(RESOURCES.controllerrevisions, 'default', r2 ?? '')!
  t.match(revision.metadata, { labels: { app: 'web' }, ownerReferences: [{ kind: 'StatefulSet', name: 'web', controller: true }] })
})

t.test('an orphan web-0 is adopted, not made again; a hash collision bumps collisionCount', async t => {
  const w = await start(t)
  const s = sts({ replicas: 1 })
  // A revision of someone else's under the name the set's first revision would get.
  const { newRevision } = await import('../../../control/controllers/controller-history.ts')
  const squatter = newRevision({ ...s, metadata: { ...s.metadata, uid: 'x' }, status: { collisionCount: 0 } }, { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'x', controller: true }, {}, 1)
  squatter.data = { spec: { template: { metadata: { labels: { other: 'x' } }, $patch: 'replace' } } }
  await w.api.create(RESOURCES.controllerrevisions, 'default', squatter)
  await w.api.create(RESOURCES.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
  } as Pod)
  await w.api.create(RESOURCES.statefulsets, 'default', s)
  await w.quiet()
  const set = getSet(w)
  t.equal(set.status?.collisionCount, 1, 'one collision')
  t.not(set.status?.updateRevision, squatter.metadata.name, 'so another name')
  t.equal(w.api.objects(RESOURCES.controllerrevisions).length, 2)
  const pod = getPod(w, 'web-0')!
  t.match(pod.metadata.ownerReferences, [{ kind: 'StatefulSet', uid: set.metadata.uid, controller: true }], 'adopted')
  t.equal(w.api.calls.filter(c => c.verb === 'create' && c.resource === 'pods').length, 1, 'not created again')
  t.same(pod.metadata.labels?.['statefulset.kubernetes.io/pod-name'], 'web-0', 'its identity labels fixed')
})
