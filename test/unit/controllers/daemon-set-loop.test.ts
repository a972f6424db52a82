// The DaemonSet loop against the fake API, with the real scheduler binding
// its pods and the node lifecycle controller cleaning up after deleted
// nodes: nodes joining and leaving, nodeSelector and taints, a rolling
// update watched at every write, failed pods with back-off, history and a
// hash collision.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { ControllerRevision } from '../../../control/controllers/controller-history.ts'
import { revisionHash } from '../../../control/controllers/controller-history.ts'
import { DaemonSetController } from '../../../control/controllers/daemon-set-controller.ts'
import type { DaemonSet, DaemonSetSpec } from '../../../control/controllers/daemon-set-util.ts'
import { targetNodeName } from '../../../control/controllers/daemon-set-util.ts'
import { ApiEventRecorder } from '../../../control/controllers/events.ts'
import { NodeLifecycleController } from '../../../control/controllers/node-lifecycle-controller.ts'
import type { Node, Pod, Taint } from '../../../control/controllers/objects.ts'
import { Scheduler } from '../../../control/scheduler/scheduler.ts'
import { node, template } from './fakes/builders.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { fakeInformerFactory } from './fakes/fake-informer.ts'
import { eventsOf, isReady, livePods, markReady } from './fakes/harness.ts'
import { settle } from './fakes/wait.ts'

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

async function start(t: TapTest, nodeNames: string[], options: { gracefulPodDeletion?: boolean } = {}) {
  const clock = new FakeClock()
  const api = new FakeApi({ clock, ...options })
  for (const n of nodeNames) await api.create(RESOURCES.nodes, undefined, node(n))
  const { factory, stopAll } = fakeInformerFactory(api)
  const recorder = new ApiEventRecorder({ client: api, clock, source: { component: 'daemonset-controller' } })
  const pods = factory<Pod>(RESOURCES.pods)
  const nodes = factory<Node>(RESOURCES.nodes)
  const dsc = new DaemonSetController({
    client: api, clock, recorder,
    daemonSets: factory<DaemonSet>(RESOURCES.daemonsets),
    pods,
    nodes,
    revisions: factory<ControllerRevision>(RESOURCES.controllerrevisions),
  })
  const scheduler = new Scheduler({
    client: api, clock,
    unscheduledPods: factory<Pod>(RESOURCES.pods, { fieldSelector: 'spec.nodeName=' }),
    scheduledPods: factory<Pod>(RESOURCES.pods, { fieldSelector: 'spec.nodeName!=' }),
    nodes,
  })
  const lifecycle = new NodeLifecycleController({ client: api, clock, nodes, pods, monitorPeriodMs: 3600_000 })
  const loops = [dsc, scheduler, lifecycle]
  for (const l of loops) await l.start()
  t.teardown(async () => {
    for (const l of loops) await l.stop()
    stopAll()
  })
  const quiet = async (): Promise<void> => await settle(api, () => loops.every(l => l.idle()))
  // The node agents' part: bound pods start and pass readiness.
  const runAgents = async (): Promise<void> => {
    for (;;) {
      await quiet()
      const starting = livePods(api).filter(p => p.spec?.nodeName && !isReady(p) && p.status?.phase !== 'Failed')
      if (starting.length === 0) return
      for (const p of starting) await markReady(api, p, true, clock.now())
    }
  }
  return { api, clock, recorder, dsc, quiet, runAgents }
}

// As the API server stores it (the fake API keeps the template generation
// annotation only as written: tests that change the template bump it).
function daemonSet(name = 'agent', spec: DaemonSetSpec = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'default', annotations: { 'deprecated.daemonset.template.generation': '1' } },
    spec: {
      selector: { matchLabels: { app: name } },
      template: template({ app: name }),
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      ...spec,
    },
  }
}

const podsOf = (api: FakeApi, app = 'agent'): Pod[] => livePods(api).filter(p => p.metadata.labels?.app === app)
const nodesOf = (pods: readonly Pod[]): string[] => pods.map(p => p.spec?.nodeName ?? `(unbound for ${targetNodeName(p)})`).sort()
const statusOf = (api: FakeApi, name = 'agent'): DaemonSet['status'] => api.peek<DaemonSet>(RESOURCES.daemonsets, 'default', name)?.status

t.test('one pod per node, bound by the scheduler; nodes joining and leaving', async t => {
  const w = await start(t, ['node-1', 'node-2'])
  const ds = await w.api.create(RESOURCES.daemonsets, 'default', daemonSet())
  await w.runAgents()
  const pods = podsOf(w.api)
  t.same(nodesOf(pods), ['node-1', 'node-2'])
  for (const p of pods) {
    t.equal(p.spec?.nodeName, targetNodeName({ ...p, spec: { ...p.spec, nodeName: undefined } }), 'bound where its affinity says')
    t.match(p.metadata, { generateName: 'agent-', labels: { app: 'agent', 'pod-template-generation': '1', 'controller-revision-hash': /.+/ } })
    t.match(p.metadata.ownerReferences, [{ kind: 'DaemonSet', name: 'agent', uid: ds.metadata.uid, controller: true }])
  }
  t.match(statusOf(w.api), { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 2, numberMisscheduled: 0, observedGeneration: 1 })
  t.equal(statusOf(w.api)?.numberUnavailable, undefined)
  await w.recorder.flush()
  const events = eventsOf(w.api).map(e => `${e.reason} ${e.message}`)
  t.same(events.filter(e => e.startsWith('SuccessfulCreate')).sort(), pods.map(p => `SuccessfulCreate Created pod: ${p.metadata.name}`).sort())

  await w.api.create(RESOURCES.nodes, undefined, node('node-3'))
  await w.runAgents()
  t.same(nodesOf(podsOf(w.api)), ['node-1', 'node-2', 'node-3'], 'a joining node gets a pod')
  t.match(statusOf(w.api), { desiredNumberScheduled: 3, numberAvailable: 3 })

  const creates = w.api.calls.filter(c => c.verb === 'create' && c.resource === 'pods').length
  await w.api.delete(RESOURCES.nodes, undefined, 'node-2')
  await w.runAgents()
  t.same(nodesOf(podsOf(w.api)), ['node-1', 'node-3'], 'a leaving node loses its pod')
  t.equal(w.api.calls.filter(c => c.verb === 'create' && c.resource === 'pods').length, creates, 'and nothing replaces it')
  t.match(statusOf(w.api), { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberAvailable: 2 })
})

t.test('nodeSelector and taints', async t => {
  const w = await start(t, ['node-1', 'node-2', 'node-3'])
  const edge = daemonSet('edge', { template: { ...template({ app: 'edge' }), spec: { containers: [{ name: 'c', image: 'nginx' }], nodeSelector: { role: 'edge' } } } })
  await w.api.create(RESOURCES.daemonsets, 'default', edge)
  await w.api.create(RESOURCES.daemonsets, 'default', daemonSet())
  await w.runAgents()
  t.same(podsOf(w.api, 'edge'), [], 'no labelled node')
  t.match(statusOf(w.api, 'edge'), { desiredNumberScheduled: 0, currentNumberScheduled: 0 })

  await w.api.patch(RESOURCES.nodes, undefined, 'node-2', { metadata: { labels: { role: 'edge' } } })
  await w.runAgents()
  t.same(nodesOf(podsOf(w.api, 'edge')), ['node-2'], 'a labelled node gets one')
  await w.api.patch(RESOURCES.nodes, undefined, 'node-2', { metadata: { labels: { role: null } } })
  await w.runAgents()
  t.same(podsOf(w.api, 'edge'), [], 'an unlabelled node loses it')

  const noSchedule: Taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' }
  await w.api.patch(RESOURCES.nodes, undefined, 'node-1', { spec: { taints: [noSchedule] } })
  await w.runAgents()
  t.same(nodesOf(podsOf(w.api)), ['node-1', 'node-2', 'node-3'], 'a NoSchedule taint keeps the running pod')
  t.match(statusOf(w.api), { desiredNumberScheduled: 2, numberMisscheduled: 1 })
  await w.api.create(RESOURCES.nodes, undefined, { ...node('node-4'), spec: { taints: [noSchedule] } })
  await w.runAgents()
  t.same(nodesOf(podsOf(w.api)), ['node-1', 'node-2', 'node-3'], 'a new NoSchedule node gets none')

  await w.api.patch(RESOURCES.nodes, undefined, 'node-1', { spec: { taints: [{ ...noSchedule, effect: 'NoExecute' }] } })
  await w.runAgents()
  t.same(nodesOf(podsOf(w.api)), ['node-2', 'node-3'], 'an untolerated NoExecute taint takes it away')

  await w.api.patch(RESOURCES.daemonsets, 'default', 'agent', {
    metadata: { annotations: { 'deprecated.daemonset.template.generation': '2' } },
    spec: { template: { spec: { tolerations: [{ key: 'dedicated', operator: 'Exists' }] } } },
  })
  for (let i = 0; i < 10 && podsOf(w.api).length < 4; i++) await w.runAgents()
  t.same(nodesOf(podsOf(w.api)), ['node-1', 'node-2', 'node-3', 'node-4'], 'tolerating the taint: every node')
  const p1 = podsOf(w.api).find(p => p.spec?.nodeName === 'node-1')
  t.ok(p1?.spec?.tolerations?.some(x => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoExecute' && x.tolerationSeconds === undefined), 'with the daemon tolerations')
})

t.test('a rolling update never has more than maxUnavailable nodes without an available pod', async t => {
  const nodes = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5']
  const w = await start(t, nodes, { gracefulPodDeletion: true })
  await w.api.create(RESOURCES.daemonsets, 'default', daemonSet('agent', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '40%', maxSurge: 0 } } }))
  await w.runAgents()
  const before = podsOf(w.api)
  t.equal(before.length, 5)

  let worst = 0
  let perNodeMax = 0
  w.api.onChange = ({ resource }) => {
    if (resource !== '/pods') return
    const all = w.api.objects<Pod>(RESOURCES.pods)
    const available = new Set(all.filter(p => !p.metadata.deletionTimestamp && isReady(p)).map(p => p.spec?.nodeName))
    worst = Math.max(worst, nodes.filter(n => !available.has(n)).length)
    for (const n of nodes) perNodeMax = Math.max(perNodeMax, all.filter(p => targetNodeName(p) === n).length)
  }
  // Pods being deleted stay until their agent finishes them.
  const finishDeletions = (): void => {
    for (const p of w.api.objects<Pod>(RESOURCES.pods)) if (p.metadata.deletionTimestamp) w.api.finishPodDeletion(p.metadata.namespace ?? '', p.metadata.name ?? '')
  }
  await w.api.patch(RESOURCES.daemonsets, 'default', 'agent', {
    metadata: { annotations: { 'deprecated.daemonset.template.generation': '2' } },
    spec: { template: { metadata: { annotations: { rollout: '2' } } } },
  })
  const oldNames = new Set(before.map(p => p.metadata.name))
  for (let i = 0; i < 20 && !(podsOf(w.api).length === 5 && podsOf(w.api).every(p => !oldNames.has(p.metadata.name) && isReady(p))); i++) {
    await w.runAgents()
    finishDeletions()
  }
  await w.runAgents()
  const after = podsOf(w.api)
  t.same(nodesOf(after), nodes, 'one pod per node')
  t.ok(after.every(p => !oldNames.has(p.metadata.name) && isReady(p)), 'every pod replaced and ready')
  t.ok(after.every(p => p.metadata.labels?.['pod-template-generation'] === '2'), 'labelled with the new template generation')
  t.equal(worst, 2, '40% of 5 rounds up to 2, and the update used it')
  t.equal(perNodeMax, 1, 'never two pods for one node: the new one waits until the old one is gone')
  t.equal(w.api.objects(RESOURCES.controllerrevisions).length, 2)
  t.match(statusOf(w.api), { desiredNumberScheduled: 5, updatedNumberScheduled: 5, numberAvailable: 5 })
  await w.recorder.flush()
  t.equal(eventsOf(w.api).filter(e => e.reason === 'SuccessfulDelete').length, 5, 'SuccessfulDelete for each old pod')
})

t.test('failed pods are deleted and replaced, with back-off', async t => {
  const w = await start(t, ['node-1'])
  await w.api.create(RESOURCES.daemonsets, 'default', daemonSet())
  await w.runAgents()
  const fail = async (): Promise<string> => {
    const p = podsOf(w.api)[0]!
    await w.api.patch(RESOURCES.pods, 'default', p.metadata.name ?? '', { status: { phase: 'Failed', conditions: [{ type: 'Ready', status: 'False' }] } }, 'merge', 'status')
    return p.metadata.name ?? ''
  }
  const first = await fail()
  await w.runAgents()
  const replacement = podsOf(w.api)[0]
  t.not(replacement?.metadata.name, first, 'replaced at once')
  const second = await fail()
  await w.quiet()
  t.equal(podsOf(w.api)[0]?.metadata.name, second, 'a second failure within the back-off waits')
  w.clock.advance(1000)
  await w.runAgents()
  t.not(podsOf(w.api)[0]?.metadata.name, second, 'and is replaced once it ends')
  await w.recorder.flush()
  const failed = eventsOf(w.api).filter(e => e.reason === 'FailedDaemonPod').map(e => e.message)
  t.same(failed, [first, second].map(n => `Found failed daemon pod default/${n} on node node-1, will try to kill it`))
})

t.test('history: one revision per template, pruned to revisionHistoryLimit; a hash collision bumps collisionCount', async t => {
  const w = await start(t, ['node-1'])
  const ds = daemonSet('agent', { revisionHistoryLimit: 1 })
  // Someone else's revision holds the name the first template would get.
  const name = `agent-${revisionHash(ds.spec?.template)}`
  await w.api.create(RESOURCES.controllerrevisions, 'default', { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name, namespace: 'default' }, data: { other: true }, revision: 1 })
  await w.api.create(RESOURCES.daemonsets, 'default', ds)
  for (let i = 0; i < 5 && statusOf(w.api)?.collisionCount === undefined; i++) {
    await w.quiet()
    w.clock.advance(1000)
  }
  await w.runAgents()
  t.equal(statusOf(w.api)?.collisionCount, 1)
  const own = (): ControllerRevision[] => w.api.objects<ControllerRevision>(RESOURCES.controllerrevisions).filter(r => r.metadata.ownerReferences?.[0]?.kind === 'DaemonSet')
  t.equal(own().length, 1)
  t.not(own()[0]?.metadata.name, name, 'named with the collision count')
  t.equal(podsOf(w.api)[0]?.metadata.labels?.['controller-revision-hash'], own()[0]?.metadata.name?.replace('agent-', ''))

  for (const [i, image] of ['busybox', 'pause', 'agnhost'].entries()) {
    await w.api.patch(RESOURCES.daemonsets, 'default', 'agent', {
      metadata: { annotations: { 'deprecated.daemonset.template.generation': String(i + 2) } },
      spec: { template: { spec: { containers: [{ name: 'c', image }] } } },
    })
    for (let i = 0; i < 5; i++) await w.runAgents()
  }
  const revisions = own().sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0))
  t.same(revisions.map(r => r.revision), [3, 4], 'the current one and one old one')
  t.equal(podsOf(w.api)[0]?.spec?.containers?.[0]?.image, 'agnhost', 'the pod runs the last template')
})

t.test('duplicate revisions of the current template: the highest numbered stays, pods follow its hash', async t => {
  const w = await start(t, ['node-1', 'node-2'])
  const ds = await w.api.create(RESOURCES.daemonsets, 'default', daemonSet())
  await w.runAgents()
  const [first] = w.api.objects<ControllerRevision>(RESOURCES.controllerrevisions)
  const podNames = podsOf(w.api).map(p => p.metadata.name).sort()
  await w.api.create(RESOURCES.controllerrevisions, 'default', {
    apiVersion: 'apps/v1', kind: 'ControllerRevision',
    metadata: {
      name: 'agent-dup', namespace: 'default', labels: { app: 'agent', 'controller-revision-hash': 'dup' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: ds.metadata.uid ?? '', controller: true }],
    },
    data: first?.data,
    revision: 5,
  })
  await w.runAgents()
  t.same(w.api.objects(RESOURCES.controllerrevisions).map(r => r.metadata.name), ['agent-dup'], 'the lower numbered duplicate deleted')
  t.same(podsOf(w.api).map(p => p.metadata.name).sort(), podNames, 'no pod replaced')
  t.ok(podsOf(w.api).every(p => p.metadata.labels?.['controller-revision-hash'] === 'dup'), 'pods relabelled with the kept hash')
  t.match(statusOf(w.api), { updatedNumberScheduled: 2 })
})
