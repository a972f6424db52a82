// The Endpoints, EndpointSlice and LoadBalancer loops against the fake API:
// pods becoming ready reach Endpoints and slices, nothing is written when
// nothing changed, deleted Services take their Endpoints and slices along,
// selectorless Services are left alone, addresses survive a restart.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { EndpointSliceController } from '../../../control/controllers/endpoint-slice-controller.ts'
import { EndpointsController } from '../../../control/controllers/endpoints-controller.ts'
import { ApiEventRecorder } from '../../../control/controllers/events.ts'
import type { Pod } from '../../../control/controllers/objects.ts'
import type { EndpointSlice, Endpoints, Service } from '../../../control/controllers/service-objects.ts'
import type { LoadBalancerPool } from '../../../control/controllers/service-lb.ts'
import { ServiceLoadBalancerController } from '../../../control/controllers/service-lb-controller.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { fakeInformerFactory } from './fakes/fake-informer.ts'
import { eventsOf, markReady } from './fakes/harness.ts'
import { backend, service } from './fakes/service-builders.ts'
import { settle } from './fakes/wait.ts'

async function startLoops(o: { api?: FakeApi; clock?: FakeClock; pool?: LoadBalancerPool } = {}) {
  const clock = o.clock ?? new FakeClock()
  const api = o.api ?? new FakeApi({ clock })
  const { factory, stopAll } = fakeInformerFactory(api)
  const services = factory<Service>(RESOURCES.services)
  const pods = factory<Pod>(RESOURCES.pods)
  const recorder = new ApiEventRecorder({ client: api, clock, source: { component: 'service-lb-controller' } })
  const loops = [
    new EndpointsController({ client: api, clock, services, pods, endpoints: factory<Endpoints>(RESOURCES.endpoints) }),
    new EndpointSliceController({ client: api, clock, services, pods, endpointSlices: factory<EndpointSlice>(RESOURCES.endpointslices) }),
    new ServiceLoadBalancerController({ client: api, clock, services, recorder, pool: o.pool }),
  ]
  await Promise.all(loops.map(async l => await l.start()))
  return {
    api,
    clock,
    recorder,
    lb: loops[2] as ServiceLoadBalancerController,
    settle: async () => await settle(api, () => loops.every(l => l.idle())),
    stop: async () => {
      await Promise.all(loops.map(async l => await l.stop()))
      stopAll()
      await recorder.flush()
    },
  }
}

const forCreate = <T extends KubeObject>(o: T): T => {
  const copy = structuredClone(o)
  delete copy.metadata.uid
  delete copy.metadata.creationTimestamp
  return copy
}

const writesTo = (api: FakeApi, resource: string, from = 0) =>
  api.calls.slice(from).filter(c => c.resource === resource && ['create', 'update', 'patch', 'delete'].includes(c.verb))

const slicesOf = (api: FakeApi, name: string) =>
  api.objects<EndpointSlice>(RESOURCES.endpointslices, 'default').filter(s => s.metadata.labels?.['kubernetes.io/service-name'] === name)

t.test('a pod becoming ready updates the Endpoints and the slice, once; nothing else is written', async t => {
  const w = await startLoops()
  t.teardown(w.stop)
  await w.api.create(RESOURCES.services, 'default', forCreate(service('web')))
  await w.api.create(RESOURCES.pods, 'default', forCreate(backend('a', { ip: '10.244.1.5', ready: false })))
  await w.api.create(RESOURCES.pods, 'default', forCreate(backend('b', { ip: '10.244.1.6' })))
  await w.settle()

  const ep = w.api.peek<Endpoints>(RESOURCES.endpoints, 'default', 'web')!
  t.match(ep.subsets, [{ addresses: [{ ip: '10.244.1.6', nodeName: 'node-1', targetRef: { kind: 'Pod', name: 'b' } }], notReadyAddresses: [{ ip: '10.244.1.5' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }])
  const slices = slicesOf(w.api, 'web')
  t.equal(slices.length, 1, 'one slice')
  t.match(slices[0]!.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
  t.same(slices[0]!.endpoints?.map(e => [e.addresses[0], e.conditions.ready]), [['10.244.1.5', false], ['10.244.1.6', true]])

  const mark = w.api.calls.length
  const pod = w.api.peek<Pod>(RESOURCES.pods, 'default', 'a')!
  await markReady(w.api, pod, true, w.clock.now())
  await w.settle()
  t.same(w.api.peek<Endpoints>(RESOURCES.endpoints, 'default', 'web')?.subsets?.[0]?.addresses?.map(a => a.ip), ['10.244.1.5', '10.244.1.6'])
  t.notOk(w.api.peek<Endpoints>(RESOURCES.endpoints, 'default', 'web')?.subsets?.[0]?.notReadyAddresses)
  t.same(slicesOf(w.api, 'web')[0]!.endpoints?.map(e => e.conditions), [
    { ready: true, serving: true, terminating: false },
    { ready: true, serving: true, terminating: false },
  ])
  t.same(writesTo(w.api, 'endpoints', mark).map(c => c.verb), ['update'], 'one Endpoints write')
  t.same(writesTo(w.api, 'endpointslices', mark).map(c => c.verb), ['update'], 'one slice write')

  const quiet = w.api.calls.length
  await w.api.patch(RESOURCES.pods, 'default', 'a', { metadata: { annotations: { note: 'x' } } })
  await w.api.patch(RESOURCES.services, 'default', 'web', { metadata: { annotations: { note: 'y' } } })
  await w.settle()
  t.same(writesTo(w.api, 'endpoints', quiet), [], 'unrelated changes: no Endpoints write')
  t.same(writesTo(w.api, 'endpointslices', quiet), [], 'and no slice write')

  // A terminating pod leaves the Endpoints but stays in the slice as terminating.
  await w.api.delete(RESOURCES.pods, 'default', 'a')
  await w.settle()
  t.same(w.api.peek<Endpoints>(RESOURCES.endpoints, 'default', 'web')?.subsets?.[0]?.addresses?.map(a => a.ip), ['10.244.1.6'])
  t.same(slicesOf(w.api, 'web')[0]!.endpoints?.map(e => e.addresses[0]), ['10.244.1.6'], 'deleted at once by the fake: gone from the slice')
})

t.test('a burst of pod changes makes one slice, not one per sync', async t => {
  const w = await startLoops()
  t.teardown(w.stop)
  await w.api.create(RESOURCES.services, 'default', forCreate(service('web')))
  for (let i = 0; i < 20; i++) {
    await w.api.create(RESOURCES.pods, 'default', forCreate(backend(`p${i}`, { ip: `10.244.1.${i + 10}`, ready: false })))
    await new Promise(resolve => setImmediate(resolve))
  }
  for (let i = 0; i < 20; i++) {
    await markReady(w.api, w.api.peek<Pod>(RESOURCES.pods, 'default', `p${i}`)!, true, w.clock.now())
    await new Promise(resolve => setImmediate(resolve))
  }
  await w.settle()
  t.equal(slicesOf(w.api, 'web').length, 1)
  t.equal(writesTo(w.api, 'endpointslices').filter(c => c.verb === 'create').length, 1, 'created once')
  t.equal(slicesOf(w.api, 'web')[0]!.endpoints?.filter(e => e.conditions.ready).length, 20)
  t.equal(w.api.peek<Endpoints>(RESOURCES.endpoints, 'default', 'web')?.subsets?.[0]?.addresses?.length, 20)
})

t.test('a deleted Service takes its Endpoints and slices along', async t => {
  const w = await startLoops()
  t.teardown(w.stop)
  await w.api.create(RESOURCES.services, 'default', forCreate(service('web')))
  await w.api.create(RESOURCES.pods, 'default', forCreate(backend('a', { ip: '10.244.1.5' })))
  await w.settle()
  t.ok(w.api.peek(RESOURCES.endpoints, 'default', 'web'))
  t.equal(slicesOf(w.api, 'web').length, 1)

  await w.api.delete(RESOURCES.services, 'default', 'web')
  await w.settle()
  t.equal(w.api.peek(RESOURCES.endpoints, 'default', 'web'), undefined, 'Endpoints deleted')
  t.same(slicesOf(w.api, 'web'), [], 'slices deleted')
})

t.test('Services without a selector are left alone', async t => {
  const w = await startLoops()
  t.teardown(w.stop)
  // As the API server keeps `kubernetes`, and as users write Endpoints for external backends.
  await w.api.create(RESOURCES.services, 'default', forCreate(service('kubernetes', { selector: null, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] })))
  const user: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default' }, subsets: [{ addresses: [{ ip: '198.18.0.1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }] }
  await w.api.create(RESOURCES.endpoints, 'default', user)
  await w.api.create(RESOURCES.pods, 'default', forCreate(backend('a', { ip: '10.244.1.5', labels: { app: 'web' } })))
  await w.settle()
  t.same(w.api.peek<Endpoints>(RESOURCES.endpoints, 'default', 'kubernetes')?.subsets, user.subsets, 'Endpoints untouched')
  t.same(slicesOf(w.api, 'kubernetes'), [], 'no slice made')
  t.same(writesTo(w.api, 'endpoints').map(c => c.verb), ['create'], 'only the user wrote Endpoints')
})

t.test('at start: leftovers of Services deleted while the loops were down go, other managers\' slices stay', async t => {
  const clock = new FakeClock()
  const api = new FakeApi({ clock })
  await api.create(RESOURCES.endpoints, 'default', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'gone' } })
  const labels = (manager: string) => ({ 'kubernetes.io/service-name': 'gone', 'endpointslice.kubernetes.io/managed-by': manager })
  await api.create(RESOURCES.endpointslices, 'default', { metadata: { generateName: 'gone-', labels: labels('endpointslice-controller.k8s.io') }, addressType: 'IPv4', endpoints: [] })
  await api.create(RESOURCES.endpointslices, 'default', { metadata: { name: 'gone-manual', labels: labels('me') }, addressType: 'IPv4', endpoints: [] })
  const w = await startLoops({ api, clock })
  t.teardown(w.stop)
  await w.settle()
  t.equal(api.peek(RESOURCES.endpoints, 'default', 'gone'), undefined)
  t.same(slicesOf(api, 'gone').map(s => s.metadata.name), ['gone-manual'])
})

t.test('LoadBalancer: an address from the pool, AllocationFailed when it runs out, released on delete, kept across restarts', async t => {
  const clock = new FakeClock()
  const api = new FakeApi({ clock })
  const pool = { first: '198.18.0.200', last: '198.18.0.201' }
  let w = await startLoops({ api, clock, pool })
  const ingress = (name: string) => api.peek<Service>(RESOURCES.services, 'default', name)?.status?.loadBalancer?.ingress
  for (const name of ['a', 'b', 'c']) {
    await api.create(RESOURCES.services, 'default', forCreate(service(name, { type: 'LoadBalancer' })))
    await w.settle()
  }
  t.same(ingress('a'), [{ ip: '198.18.0.200' }])
  t.same(ingress('b'), [{ ip: '198.18.0.201' }])
  t.equal(ingress('c'), undefined, 'the pool is exhausted: no status')
  t.same(writesTo(api, 'services').filter(c => c.subresource === 'status').map(c => c.name), ['a', 'b'], 'status written through the subresource')
  await w.recorder.flush()
  t.match(eventsOf(api).find(e => e.reason === 'AllocationFailed'), {
    type: 'Warning',
    involvedObject: { kind: 'Service', name: 'c' },
    message: 'Failed to allocate IP for "default/c": no available IPs in pool 198.18.0.200-198.18.0.201',
  })

  await api.delete(RESOURCES.services, 'default', 'a')
  await w.settle()
  t.same(ingress('c'), [{ ip: '198.18.0.200' }], 'the waiting Service gets the released address')

  // A restart rebuilds from the statuses: nothing moves, nothing is written.
  await w.stop()
  const before = api.calls.length
  w = await startLoops({ api, clock, pool })
  t.teardown(w.stop)
  await w.settle()
  t.equal(w.lb.allocated('default/b'), '198.18.0.201')
  t.equal(w.lb.allocated('default/c'), '198.18.0.200')
  t.same(writesTo(api, 'services', before), [], 'no status write after the restart')

  await api.patch(RESOURCES.services, 'default', 'b', { spec: { type: 'ClusterIP' } })
  await w.settle()
  t.same(api.peek<Service>(RESOURCES.services, 'default', 'b')?.status?.loadBalancer, {}, 'no longer a LoadBalancer: status cleared')
  t.equal(w.lb.allocated('default/b'), undefined)
  await api.create(RESOURCES.services, 'default', forCreate(service('d', { type: 'LoadBalancer', loadBalancerIP: '198.18.0.201' })))
  await w.settle()
  t.same(ingress('d'), [{ ip: '198.18.0.201' }], 'the requested, now free address')
})
