import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import {
  conditionsAfterSilence,
  evictionTime,
  heartbeatPatch,
  observeNodeHealth,
  planEvictions,
  readyHeartbeat,
  reconcileNode,
  reconcileTaints,
  toleratesTaint,
} from '../../../control/controllers/node-lifecycle.ts'
import type { NodeLifecycleOptions } from '../../../control/controllers/node-lifecycle.ts'
import { NodeLifecycleController } from '../../../control/controllers/node-lifecycle-controller.ts'
import { ReplicaSetController } from '../../../control/controllers/replicaset-controller.ts'
import { ApiEventRecorder } from '../../../control/controllers/events.ts'
import type { CoreEvent } from '../../../control/controllers/events.ts'
import type { Node, Pod, ReplicaSet, Taint, Toleration } from '../../../control/controllers/objects.ts'
import { formatTime } from '../../../control/controllers/clock.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { fakeInformerFactory } from './fakes/fake-informer.ts'
import { settle } from './fakes/wait.ts'
import { T0, at, node, pod, replicaSet } from './fakes/builders.ts'

const opts: NodeLifecycleOptions = { gracePeriodMs: 40_000, startupGracePeriodMs: 60_000, tolerationSeconds: 300 }

t.test('the heartbeat is a Ready=True KubeletReady condition', async t => {
  const first = readyHeartbeat(undefined, T0)
  t.same(first, {
    type: 'Ready',
    status: 'True',
    lastHeartbeatTime: at(0),
    lastTransitionTime: at(0),
    reason: 'KubeletReady',
    message: 'kubelet is posting ready status',
  })
  const later = readyHeartbeat(first, T0 + 10_000)
  t.equal(later.lastHeartbeatTime, at(10))
  t.equal(later.lastTransitionTime, at(0), 'the transition time stays while Ready stays True')
  const back = readyHeartbeat({ ...first, status: 'Unknown' }, T0 + 99_000)
  t.equal(back.lastTransitionTime, at(99), 'coming back from Unknown is a transition')

  const n = node('n1')
  n.status!.conditions!.push({ type: 'MemoryPressure', status: 'False' })
  const patch = heartbeatPatch(n, T0 + 5000)
  t.same(patch.status.conditions.map(c => c.type), ['Ready', 'MemoryPressure'])
  t.equal(patch.status.conditions[0]!.lastHeartbeatTime, at(5))
})

t.test('silence: the probe time is the controller clock when the heartbeat changed', async t => {
  const n = node('n1', { heartbeat: 0 })
  const h0 = observeNodeHealth(n, undefined, T0 + 1000)
  t.same(h0, { heartbeat: at(0), probeTimestamp: T0 + 1000 })
  t.equal(observeNodeHealth(n, h0, T0 + 30_000), h0, 'same heartbeat: unchanged')
  const n2 = node('n1', { heartbeat: 25 })
  t.same(observeNodeHealth(n2, h0, T0 + 30_000), { heartbeat: at(25), probeTimestamp: T0 + 30_000 })

  t.equal(conditionsAfterSilence(n, h0, T0 + 41_000, opts), undefined, 'exactly at the grace period: still fine')
  const after = conditionsAfterSilence(n, h0, T0 + 41_001, opts)
  t.match(after, [{
    type: 'Ready',
    status: 'Unknown',
    reason: 'NodeStatusUnknown',
    message: 'Kubelet stopped posting node status.',
    lastHeartbeatTime: at(0),
    lastTransitionTime: formatTime(T0 + 41_001),
  }])
  const unknown = { ...n, status: { ...n.status, conditions: after } }
  t.equal(conditionsAfterSilence(unknown, h0, T0 + 90_000, opts), undefined, 'already Unknown: nothing more')

  const fresh = node('n2', { ready: 'missing' })
  const hf = observeNodeHealth(fresh, undefined, T0 + 5000)
  t.equal(hf.probeTimestamp, T0, 'a node that never posted counts from its creation')
  t.equal(conditionsAfterSilence(fresh, hf, T0 + 59_000, opts), undefined, 'startup grace')
  t.match(conditionsAfterSilence(fresh, hf, T0 + 61_000, opts), [
    { type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.' },
  ])
  const pressured = node('n3')
  pressured.status!.conditions!.push({ type: 'DiskPressure', status: 'False' })
  t.match(conditionsAfterSilence(pressured, observeNodeHealth(pressured, undefined, T0), T0 + 50_000, opts), [
    { type: 'Ready', status: 'Unknown' },
    { type: 'DiskPressure', status: 'Unknown', reason: 'NodeStatusUnknown' },
  ])
})

t.test('taints follow Ready and spec.unschedulable; others are kept', async t => {
  const other: Taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' }
  const cases: Array<[string, Node, Array<string> | undefined]> = [
    ['ready: nothing', node('n', { taints: [other] }), undefined],
    ['unknown: unreachable', node('n', { ready: 'Unknown', taints: [other] }), [
      'dedicated:NoSchedule', 'node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute@' + at(7),
    ]],
    ['not ready: not-ready', node('n', { ready: 'False' }), [
      'node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute@' + at(7),
    ]],
    ['back to ready: removed', node('n', { taints: [other, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: at(1) }, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] }), ['dedicated:NoSchedule']],
    ['unknown → false: swapped', node('n', { ready: 'False', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: at(1) }] }), [
      'node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute@' + at(7),
    ]],
    ['already tainted: unchanged', node('n', { ready: 'Unknown', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: at(1) }, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] }), undefined],
    ['cordoned', node('n', { unschedulable: true }), ['node.kubernetes.io/unschedulable:NoSchedule']],
  ]
  for (const [name, n, want] of cases) {
    const got = reconcileTaints(n, T0 + 7000)
    t.same(got?.map(x => `${x.key}:${x.effect}${x.timeAdded ? '@' + x.timeAdded : ''}`), want, name)
  }
})

t.test('tolerations', async t => {
  const taint: Taint = { key: 'k', value: 'v', effect: 'NoExecute' }
  const cases: Array<[Toleration, boolean]> = [
    [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute' }, true],
    [{ key: 'k', value: 'v' }, true],
    [{ key: 'k', value: 'w' }, false],
    [{ key: 'k', operator: 'Exists' }, true],
    [{ operator: 'Exists' }, true],
    [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, false],
    [{ key: 'other', operator: 'Exists' }, false],
  ]
  for (const [tol, want] of cases) t.equal(toleratesTaint(tol, taint), want, JSON.stringify(tol))
})

t.test('eviction times: untolerated at once, default 300 s, own tolerationSeconds, forever', async t => {
  const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: at(10) }
  const custom: Taint = { key: 'maintenance', effect: 'NoExecute', timeAdded: at(10) }
  const p = (tolerations?: Toleration[]): Pod => pod({ name: 'p', nodeName: 'n', tolerations })
  const now = T0 + 20_000
  t.equal(evictionTime(p(), [unreachable], now, 300), T0 + 310_000, 'default toleration: 300 s after the taint')
  t.equal(evictionTime(p(), [unreachable], now, 5), T0 + 15_000, 'configurable')
  t.equal(evictionTime(p([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }]), [unreachable], now, 300), T0 + 40_000)
  t.equal(evictionTime(p([{ operator: 'Exists' }]), [unreachable], now, 300), undefined, 'tolerates everything forever')
  t.equal(evictionTime(p(), [custom], now, 300), now, 'an untolerated taint: now')
  t.equal(evictionTime(p(), [], now, 300), undefined)

  const n = node('n', { ready: 'Unknown', taints: [unreachable] })
  const pods = [
    pod({ name: 'a', nodeName: 'n' }),
    pod({ name: 'b', nodeName: 'n', tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] }),
    pod({ name: 'c', nodeName: 'n', deleting: true, tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }] }),
  ]
  const plan = planEvictions(n, pods, now, 300)
  t.same(plan.evict.map(e => [e.pod.metadata.name, e.gracePeriodSeconds]), [['b', 0], ['c', 0]], 'force on an unreachable node, terminating ones too')
  t.equal(plan.nextInMs, 290_000)

  const notReady = node('n', { ready: 'False', taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: at(0) }] })
  const plan2 = planEvictions(notReady, [pod({ name: 'a', nodeName: 'n' }), pod({ name: 'd', nodeName: 'n', deleting: true })], T0 + 301_000, 300)
  t.same(plan2.evict.map(e => [e.pod.metadata.name, e.gracePeriodSeconds]), [['a', undefined]], 'the agent is alive: its own grace, terminating pods left to it')
})

t.test('reconcileNode puts it together', async t => {
  const n = node('n1', { heartbeat: 0 })
  const pods = [pod({ name: 'a', nodeName: 'n1', ready: true })]
  const p0 = reconcileNode({ node: n, health: undefined, pods, now: T0, options: opts })
  t.equal(p0.conditions, undefined)
  t.equal(p0.requeueAfterMs, 40_001, 'back when the grace runs out')
  const p1 = reconcileNode({ node: n, health: p0.health, pods, now: T0 + 45_000, options: opts })
  t.match(p1.conditions, [{ type: 'Ready', status: 'Unknown' }])
  t.match(p1.taints, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: formatTime(T0 + 45_000) }])
  t.same(p1.markNotReady.map(p => p.metadata.name), ['a'])
  t.same(p1.evict, [])
  t.equal(p1.requeueAfterMs, 300_000)
  t.same(p1.events, [{ reason: 'NodeNotReady', message: 'Node n1 status is now: NodeNotReady' }])
})

// --- the loop ---------------------------------------------------------------------------------

t.test('node lifecycle loop: a silent node is marked, tainted, emptied; it comes back clean', async t => {
  const clock = new FakeClock(T0)
  const api = new FakeApi({ clock })
  const { factory, stopAll } = fakeInformerFactory(api)
  const nodes = factory<Node>(RESOURCES.nodes)
  const pods = factory<Pod>(RESOURCES.pods)
  const replicaSets = factory<ReplicaSet>(RESOURCES.replicasets)
  const recorder = new ApiEventRecorder({ client: api, clock, source: { component: 'node-controller' } })
  const nlc = new NodeLifecycleController({
    client: api, nodes, pods, clock, recorder,
    lifecycle: { gracePeriodMs: 4000, tolerationSeconds: 10 },
    monitorPeriodMs: 1000,
  })
  const rsc = new ReplicaSetController({ client: api, replicaSets, pods, clock })
  t.teardown(async () => {
    await nlc.stop()
    await rsc.stop()
    stopAll()
  })
  const idle = (): boolean => nlc.idle() && rsc.idle()

  const beat = async (name: string): Promise<void> => {
    const n = api.peek<Node>(RESOURCES.nodes, undefined, name)!
    await api.patch(RESOURCES.nodes, undefined, name, heartbeatPatch(n, clock.now()), 'merge', 'status')
  }
  for (const name of ['n1', 'n2']) {
    const n = node(name)
    delete n.metadata.uid
    delete n.status!.conditions
    await api.create(RESOURCES.nodes, undefined, n)
    await beat(name)
  }
  const rs = replicaSet({ replicas: 2 })
  delete rs.metadata.uid
  await api.create(RESOURCES.replicasets, 'default', rs)
  await nlc.start()
  await rsc.start()
  await settle(api, idle)
  // Bind the pods to n1 (the scheduler's job) and make them ready (the agent's).
  for (const p of api.objects<Pod>(RESOURCES.pods)) {
    await api.patch(RESOURCES.pods, 'default', p.metadata.name!, { spec: { nodeName: 'n1' } })
    await api.patch(RESOURCES.pods, 'default', p.metadata.name!, {
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(clock.now()) }] },
    }, 'merge', 'status')
  }
  await settle(api, idle)
  const original = api.objects<Pod>(RESOURCES.pods).map(p => p.metadata.name).sort()

  // n2 keeps beating, n1 goes silent.
  for (let s = 0; s < 6; s++) {
    clock.advance(1000)
    await beat('n2')
    await settle(api, idle)
  }
  const n1 = api.peek<Node>(RESOURCES.nodes, undefined, 'n1')!
  t.match(n1.status?.conditions, [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }])
  t.match(n1.spec?.taints, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }])
  const n2 = api.peek<Node>(RESOURCES.nodes, undefined, 'n2')!
  t.match(n2.status?.conditions, [{ type: 'Ready', status: 'True' }], 'the beating node stays Ready')
  t.equal(n2.spec?.taints, undefined)
  const marked = api.objects<Pod>(RESOURCES.pods)
  t.ok(marked.every(p => p.status?.conditions?.find(c => c.type === 'Ready')?.status === 'False'), 'pods of the silent node are not ready')
  t.same(marked.map(p => p.metadata.name).sort(), original, 'but not evicted yet')

  // The toleration (10 s here) runs out.
  for (let s = 0; s < 11; s++) {
    clock.advance(1000)
    await beat('n2')
    await settle(api, idle)
  }
  const now = api.objects<Pod>(RESOURCES.pods)
  t.equal(now.length, 2, 'the ReplicaSet replaced them')
  t.notOk(now.some(p => original.includes(p.metadata.name)), 'the evicted pods are gone (deleted with grace 0)')
  await recorder.flush()
  const events = api.objects<CoreEvent>(RESOURCES.events)
  t.ok(events.some(e => e.reason === 'TaintManagerEviction' && e.message === `Marking for deletion Pod default/${original[0]}`))
  t.ok(events.some(e => e.reason === 'NodeNotReady' && e.message === 'Node n1 status is now: NodeNotReady'))

  // n1 comes back.
  await beat('n1')
  await settle(api, idle)
  const back = api.peek<Node>(RESOURCES.nodes, undefined, 'n1')!
  t.match(back.status?.conditions, [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }])
  t.equal(back.spec?.taints, undefined, 'taints removed')
})
