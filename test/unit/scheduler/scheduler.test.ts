// The scheduler loop against the fake API, with the ReplicaSet controller
// making the pods.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { conflict } from '../../../control/api/status-error.ts'
import { Scheduler } from '../../../control/scheduler/scheduler.ts'
import { ReplicaSetController } from '../../../control/controllers/replicaset-controller.ts'
import { ApiEventRecorder } from '../../../control/controllers/events.ts'
import type { CoreEvent } from '../../../control/controllers/events.ts'
import type { Node, Pod, ReplicaSet } from '../../../control/controllers/objects.ts'
import { FakeApi } from '../controllers/fakes/fake-api.ts'
import { FakeClock } from '../controllers/fakes/fake-clock.ts'
import { fakeInformerFactory } from '../controllers/fakes/fake-informer.ts'
import { settle } from '../controllers/fakes/wait.ts'
import { node, replicaSet } from '../controllers/fakes/builders.ts'
import type { NodeOptions } from '../controllers/fakes/builders.ts'

async function start(t: Tap): Promise<{ api: FakeApi; clock: FakeClock; recorder: ApiEventRecorder; settle: () => Promise<void> }> {
  const clock = new FakeClock()
  const api = new FakeApi({ clock })
  const { factory, stopAll } = fakeInformerFactory(api)
  const recorder = new ApiEventRecorder({ client: api, clock, source: { component: 'default-scheduler' } })
  const scheduler = new Scheduler({
    client: api,
    unscheduledPods: factory<Pod>(RESOURCES.pods, { fieldSelector: 'spec.nodeName=' }),
    scheduledPods: factory<Pod>(RESOURCES.pods, { fieldSelector: 'spec.nodeName!=' }),
    nodes: factory<Node>(RESOURCES.nodes),
    clock,
    recorder,
  })
  const rsc = new ReplicaSetController({ client: api, replicaSets: factory<ReplicaSet>(RESOURCES.replicasets), pods: factory<Pod>(RESOURCES.pods), clock })
  await scheduler.start()
  await rsc.start()
  t.teardown(async () => {
    await scheduler.stop()
    await rsc.stop()
    stopAll()
  })
  return { api, clock, recorder, settle: async () => await settle(api, () => scheduler.idle() && rsc.idle()) }
}

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

async function addNode(api: FakeApi, name: string, o: NodeOptions = {}): Promise<void> {
  const n = node(name, o)
  delete n.metadata.uid
  await api.create(RESOURCES.nodes, undefined, n)
}

async function addReplicaSet(api: FakeApi, replicas: number, cpu?: string): Promise<void> {
  const rs = replicaSet({ replicas })
  delete rs.metadata.uid
  if (cpu) rs.spec!.template!.spec!.containers![0]!.resources = { requests: { cpu } }
  await api.create(RESOURCES.replicasets, 'default', rs)
}

const placement = (api: FakeApi): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const p of api.objects<Pod>(RESOURCES.pods)) {
    const n = p.spec?.nodeName ?? '(none)'
    out[n] = (out[n] ?? 0) + 1
  }
  return out
}

t.test('3 replicas spread over 2 nodes, each with a Scheduled event and PodScheduled=True', async t => {
  const s = await start(t)
  await addNode(s.api, 'node-1')
  await addNode(s.api, 'node-2')
  await addReplicaSet(s.api, 3)
  await s.settle()
  const counts = Object.values(placement(s.api)).sort()
  t.same(counts, [1, 2], 'two on one node, one on the other')
  t.notOk('(none)' in placement(s.api))
  for (const p of s.api.objects<Pod>(RESOURCES.pods)) {
    t.match(p.status?.conditions, [{ type: 'PodScheduled', status: 'True' }])
  }
  await s.recorder.flush()
  const scheduled = s.api.objects<CoreEvent>(RESOURCES.events).filter(e => e.reason === 'Scheduled')
  t.equal(scheduled.length, 3)
  const p0 = s.api.objects<Pod>(RESOURCES.pods)[0]!
  t.ok(scheduled.some(e => e.message === `Successfully assigned default/${p0.metadata.name} to ${p0.spec?.nodeName}`))
  t.equal(scheduled[0]!.source.component, 'default-scheduler')
  t.equal(scheduled[0]!.involvedObject.kind, 'Pod')
})

t.test('unschedulable pods wait with a reason, and go once a node fits', async t => {
  const s = await start(t)
  await addNode(s.api, 'small-1', { cpu: '1' })
  await addNode(s.api, 'small-2', { cpu: '1', ready: 'False' })
  await addReplicaSet(s.api, 1, '2')
  await s.settle()
  const pod = s.api.objects<Pod>(RESOURCES.pods)[0]!
  t.equal(pod.spec?.nodeName, undefined)
  const message = '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.'
  t.match(pod.status?.conditions, [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }])
  await s.recorder.flush()
  t.ok(s.api.objects<CoreEvent>(RESOURCES.events).some(e => e.type === 'Warning' && e.reason === 'FailedScheduling' && e.message === message))

  // A heartbeat-like change does not wake it.
  const before = s.api.calls.filter(c => c.verb === 'patch' && c.resource === 'pods').length
  await s.api.patch(RESOURCES.nodes, undefined, 'small-1', { status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2025-01-01T00:00:10Z' }] } }, 'merge', 'status')
  await s.settle()
  t.equal(s.api.calls.filter(c => c.verb === 'patch' && c.resource === 'pods').length, before, 'no retry on a heartbeat')

  await addNode(s.api, 'big', { cpu: '4' })
  await s.settle()
  const placed = s.api.peek<Pod>(RESOURCES.pods, 'default', pod.metadata.name!)!
  t.equal(placed.spec?.nodeName, 'big')
  t.match(placed.status?.conditions, [{ type: 'PodScheduled', status: 'True' }])
})

t.test('a conflicting bind is decided again', async t => {
  const s = await start(t)
  await addNode(s.api, 'node-1')
  s.api.failNext('patch', 'pods', conflict('pods', 'x'))
  await addReplicaSet(s.api, 1)
  await s.settle()
  t.same(placement(s.api), { 'node-1': 1 })
})

t.test('pods of another scheduler are left alone', async t => {
  const s = await start(t)
  await addNode(s.api, 'node-1')
  await s.api.create(RESOURCES.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'custom' }, spec: { schedulerName: 'my-scheduler', containers: [] },
  })
  await s.settle()
  t.equal(s.api.peek<Pod>(RESOURCES.pods, 'default', 'custom')?.spec?.nodeName, undefined)
})
