import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { ApiEventRecorder, EventCorrelator } from '../../../control/controllers/events.ts'
import type { CoreEvent } from '../../../control/controllers/events.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { T0, at, node, replicaSet } from './fakes/builders.ts'

function event(message: string, reason = 'FailedCreate', time = T0): CoreEvent {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `web.${time}`, namespace: 'default' },
    involvedObject: { kind: 'ReplicaSet', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'apps/v1' },
    reason,
    message,
    source: { component: 'replicaset-controller' },
    firstTimestamp: new Date(time).toISOString(),
    lastTimestamp: new Date(time).toISOString(),
    count: 1,
    type: 'Warning',
    reportingComponent: 'replicaset-controller',
    reportingInstance: '',
  }
}

t.test('correlator: repeats become count bumps of the first event', async t => {
  const c = new EventCorrelator()
  const first = c.correlate(event('boom'), T0)
  t.equal(first.action, 'create')
  const second = c.correlate(event('boom', 'FailedCreate', T0 + 5000), T0 + 5000)
  if (second.action !== 'patch') throw new Error(second.action)
  t.equal(second.event.metadata.name, first.event.metadata.name, 'same Event object')
  t.equal(second.event.count, 2)
  t.equal(second.event.firstTimestamp, first.event.firstTimestamp)
  t.same(second.patch, { count: 2, lastTimestamp: new Date(T0 + 5000).toISOString(), message: 'boom' })
  t.equal(c.correlate(event('other reason', 'Other'), T0).action, 'create', 'another reason is another event')
})

t.test('correlator: many messages of one reason collapse into a combined event', async t => {
  const c = new EventCorrelator()
  const results = Array.from({ length: 12 }, (_, i) => c.correlate(event(`message ${i}`), T0 + i))
  t.same(results.slice(0, 9).map(r => r.action), Array(9).fill('create'))
  const tenth = results[9]!
  t.equal(tenth.action, 'create')
  t.equal(tenth.event.message, '(combined from similar events): message 9')
  const eleventh = results[10]!
  if (eleventh.action !== 'patch') throw new Error(eleventh.action)
  t.equal(eleventh.event.message, '(combined from similar events): message 10')
  t.equal(eleventh.event.count, 2)
  t.equal(eleventh.event.metadata.name, tenth.event.metadata.name)
  const later = c.correlate(event('fresh start'), T0 + 11 * 60_000)
  t.equal(later.action, 'create', 'after 10 quiet minutes the window starts over')
  t.equal(later.event.message, 'fresh start')
})

t.test('correlator: a burst beyond 25 identical events is dropped, one per 5 minutes refills', async t => {
  const c = new EventCorrelator()
  const actions = Array.from({ length: 30 }, () => c.correlate(event('again'), T0).action)
  t.equal(actions.filter(a => a !== 'drop').length, 25)
  t.equal(c.correlate(event('again'), T0 + 299_000).action, 'drop')
  t.equal(c.correlate(event('again'), T0 + 300_000).action, 'patch')
})

t.test('recorder: creates, then patches, the Event through the API', async t => {
  const clock = new FakeClock(T0)
  const api = new FakeApi({ clock })
  const recorder = new ApiEventRecorder({ client: api, clock, source: { component: 'deployment-controller' } })
  const rs = replicaSet({ name: 'web-5d78f9b8c4' })
  rs.metadata.resourceVersion = '7'
  recorder.event(rs, 'Normal', 'ScalingReplicaSet', 'Scaled up replica set web-5d78f9b8c4 to 3')
  await recorder.flush()
  let events = api.objects<CoreEvent>(RESOURCES.events)
  t.equal(events.length, 1)
  const e = events[0]!
  t.match(e.metadata.name, /^web-5d78f9b8c4\.[0-9a-f]+$/)
  t.equal(e.metadata.namespace, 'default')
  t.same(e.involvedObject, { kind: 'ReplicaSet', namespace: 'default', name: 'web-5d78f9b8c4', uid: 'uid-web-5d78f9b8c4', apiVersion: 'apps/v1', resourceVersion: '7' })
  t.match(e, {
    reason: 'ScalingReplicaSet',
    message: 'Scaled up replica set web-5d78f9b8c4 to 3',
    type: 'Normal',
    count: 1,
    source: { component: 'deployment-controller' },
    firstTimestamp: at(0),
    lastTimestamp: at(0),
    reportingComponent: 'deployment-controller',
  })
  clock.advance(7000)
  recorder.event(rs, 'Normal', 'ScalingReplicaSet', 'Scaled up replica set web-5d78f9b8c4 to 3')
  await recorder.flush()
  events = api.objects<CoreEvent>(RESOURCES.events)
  t.equal(events.length, 1, 'still one Event')
  t.match(events[0], { count: 2, firstTimestamp: at(0), lastTimestamp: at(7) })

  // The stored Event expired: the next repeat is created again.
  await api.delete(RESOURCES.events, 'default', e.metadata.name!)
  recorder.event(rs, 'Normal', 'ScalingReplicaSet', 'Scaled up replica set web-5d78f9b8c4 to 3')
  await recorder.flush()
  events = api.objects<CoreEvent>(RESOURCES.events)
  t.equal(events.length, 1)
  t.equal(events[0]!.count, 3)

  recorder.event(node('n1'), 'Normal', 'NodeNotReady', 'Node n1 status is now: NodeNotReady')
  await recorder.flush()
  const nodeEvent = api.objects<CoreEvent>(RESOURCES.events).find(x => x.reason === 'NodeNotReady')
  t.equal(nodeEvent?.metadata.namespace, 'default', 'events about cluster-scoped objects go to default')
  t.equal(nodeEvent?.involvedObject.namespace, undefined)
})

t.test('recorder: write failures are logged and dropped, never thrown', async t => {
  const clock = new FakeClock(T0)
  const api = new FakeApi({ clock })
  api.failNext('create', 'events', new Error('down'))
  const recorder = new ApiEventRecorder({ client: api, clock, source: { component: 'x' } })
  recorder.event(replicaSet(), 'Warning', 'R', 'm')
  await recorder.flush()
  recorder.event(replicaSet(), 'Warning', 'R', 'm')
  await recorder.flush()
  t.equal(api.objects(RESOURCES.events).length, 1, 'the next one is created afresh')
})
