// EndpointSlice mirroring: what slices a selectorless Service's Endpoints
// become (table of pure decisions), then the loop against the fake API:
// created, updated in place, deleted with the Endpoints or once the Service
// gets a selector, and nothing written when nothing changed.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { EndpointSliceMirroringController } from '../../../control/controllers/endpoint-slice-mirroring-controller.ts'
import {
  LABEL_SKIP_MIRROR,
  MIRRORING_CONTROLLER_NAME,
  reconcileMirroredSlices,
  shouldMirror,
} from '../../../control/controllers/endpoint-slice-mirroring.ts'
import type { EndpointSlice, Endpoints, Service } from '../../../control/controllers/service-objects.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { fakeInformerFactory } from './fakes/fake-informer.ts'
import { service } from './fakes/service-builders.ts'
import { settle } from './fakes/wait.ts'

const endpoints = (subsets: Endpoints['subsets'], labels?: Record<string, string>): Endpoints => ({
  apiVersion: 'v1', kind: 'Endpoints',
  metadata: { name: 'db', namespace: 'default', uid: 'uid-ep-db', ...(labels ? { labels } : {}), annotations: { team: 'data', 'endpoints.kubernetes.io/last-change-trigger-time': 'x' } },
  subsets,
})
const selectorless = service('db', { selector: null, ports: [{ name: 'pg', port: 5432, protocol: 'TCP', targetPort: 5432 }] })

t.test('which Endpoints are mirrored', async t => {
  const ep = endpoints([])
  t.ok(shouldMirror(selectorless, ep), 'a Service without a selector')
  t.notOk(shouldMirror(service('db'), ep), 'not one with a selector: the EndpointSlice controller serves it')
  t.notOk(shouldMirror(service('db', { selector: null, type: 'ExternalName' }), ep), 'not ExternalName')
  t.notOk(shouldMirror(selectorless, endpoints([], { [LABEL_SKIP_MIRROR]: 'true' })), 'not when told to skip')
  t.notOk(shouldMirror(undefined, ep), 'not without a Service')
  t.notOk(shouldMirror(selectorless, undefined), 'nor without Endpoints')
})

t.test('subsets become slices: ready and not-ready addresses, ports, labels, owner', async t => {
  const plan = reconcileMirroredSlices({
    service: selectorless,
    endpoints: endpoints([
      { addresses: [{ ip: '10.0.0.9', hostname: 'db-1' }, { ip: '10.0.0.10' }], notReadyAddresses: [{ ip: '10.0.0.11', nodeName: 'node-2' }], ports: [{ name: 'pg', port: 5432 }] },
      { addresses: [{ ip: '10.0.0.12' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
      { addresses: [{ ip: 'fd00::1' }], ports: [{ name: 'pg', port: 5432 }] },
      { addresses: [{ ip: '10.0.0.20' }], ports: [{ name: 'metrics', port: 9187, protocol: 'TCP', appProtocol: 'http' }] },
    ], { app: 'db' }),
    slices: [],
  })
  t.equal(plan.update.length + plan.delete.length, 0)
  t.same(plan.create.map(s => [s.addressType, s.ports, s.endpoints?.map(e => [e.addresses[0], e.conditions.ready])]), [
    ['IPv4', [{ name: 'metrics', port: 9187, protocol: 'TCP', appProtocol: 'http' }], [['10.0.0.20', true]]],
    ['IPv4', [{ name: 'pg', port: 5432, protocol: 'TCP' }], [['10.0.0.9', true], ['10.0.0.10', true], ['10.0.0.11', false], ['10.0.0.12', true]]],
    ['IPv6', [{ name: 'pg', port: 5432, protocol: 'TCP' }], [['fd00::1', true]]],
  ], 'subsets with the same ports share a slice, sorted by address; each address type its own')
  const pg = plan.create[1]!
  t.same(pg.endpoints?.[0], { addresses: ['10.0.0.9'], conditions: { ready: true }, hostname: 'db-1' })
  t.same(pg.endpoints?.[2], { addresses: ['10.0.0.11'], conditions: { ready: false }, nodeName: 'node-2' })
  t.same(pg.metadata.labels, { app: 'db', 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': MIRRORING_CONTROLLER_NAME })
  t.same(pg.metadata.annotations, { team: 'data' }, 'annotations but the change-trigger time')
  t.equal(pg.metadata.generateName, 'db-')
  t.match(pg.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: 'uid-ep-db', controller: true }])
})

t.test('large subsets split at the limit; stored slices are reused in place', async t => {
  const many = { addresses: Array.from({ length: 5 }, (_, i) => ({ ip: `10.0.1.${i + 1}` })), ports: [{ port: 80 }] }
  const first = reconcileMirroredSlices({ service: selectorless, endpoints: endpoints([many]), slices: [], maxEndpointsPerSlice: 2 })
  t.same(first.create.map(s => s.endpoints?.length), [2, 2, 1])
  const stored = first.create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `db-${i}`, resourceVersion: '1' } }))
  const same = reconcileMirroredSlices({ service: selectorless, endpoints: endpoints([many]), slices: stored, maxEndpointsPerSlice: 2 })
  t.same(same, { create: [], update: [], delete: [] }, 'nothing to write when nothing changed')
  const fewer = reconcileMirroredSlices({ service: selectorless, endpoints: endpoints([{ ...many, addresses: many.addresses.slice(0, 3) }]), slices: stored, maxEndpointsPerSlice: 2 })
  t.same(fewer.create, [])
  t.same(fewer.update.map(s => [s.metadata.name, s.endpoints?.length]), [['db-1', 1]])
  t.same(fewer.delete.map(s => s.metadata.name), ['db-2'])
  const gone = reconcileMirroredSlices({ service: service('db'), endpoints: endpoints([many]), slices: stored })
  t.same(gone.delete.map(s => s.metadata.name), ['db-0', 'db-1', 'db-2'], 'a selector on the Service ends the mirroring')
  const foreign = { ...stored[0]!, metadata: { ...stored[0]!.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: 'old', controller: true }] } }
  t.same(reconcileMirroredSlices({ service: selectorless, endpoints: endpoints([many]), slices: [foreign] }).delete.map(s => s.metadata.name), ['db-0'], 'a slice of older Endpoints of that name goes')
})

t.test('the loop against the API', async t => {
  const clock = new FakeClock()
  const api = new FakeApi({ clock })
  const { factory, stopAll } = fakeInformerFactory(api)
  const loop = new EndpointSliceMirroringController({
    client: api, clock,
    services: factory<Service>(RESOURCES.services),
    endpoints: factory<Endpoints>(RESOURCES.endpoints),
    endpointSlices: factory<EndpointSlice>(RESOURCES.endpointslices),
  })
  await loop.start()
  t.teardown(async () => {
    await loop.stop()
    stopAll()
  })
  const done = () => settle(api, () => loop.idle())
  const slices = () => api.objects<EndpointSlice>(RESOURCES.endpointslices)
  const { uid: _s, creationTimestamp: _c, ...svcMeta } = selectorless.metadata
  await api.create(RESOURCES.services, 'default', { ...selectorless, metadata: svcMeta })
  await api.create(RESOURCES.endpoints, 'default', { ...endpoints([{ addresses: [{ ip: '10.0.0.9' }], ports: [{ name: 'pg', port: 5432 }] }]), metadata: { name: 'db', namespace: 'default' } })
  await done()
  t.same(slices().map(s => s.endpoints?.map(e => e.addresses[0])), [['10.0.0.9']], 'mirrored')
  const name = slices()[0]!.metadata.name

  await api.update(RESOURCES.endpoints, 'default', { ...api.peek<Endpoints>(RESOURCES.endpoints, 'default', 'db')!, subsets: [{ addresses: [{ ip: '10.0.0.9' }, { ip: '10.0.0.8' }], ports: [{ name: 'pg', port: 5432 }] }] })
  await done()
  t.same(slices().map(s => [s.metadata.name, s.endpoints?.map(e => e.addresses[0])]), [[name, ['10.0.0.8', '10.0.0.9']]], 'updated in place')
  const writes = api.calls.filter(c => c.resource === 'endpointslices' && c.verb !== 'list' && c.verb !== 'watch').length
  await api.patch(RESOURCES.services, 'default', 'db', { metadata: { labels: { touched: 'yes' } } })
  await done()
  t.equal(api.calls.filter(c => c.resource === 'endpointslices' && c.verb !== 'list' && c.verb !== 'watch').length, writes, 'an unrelated change writes nothing')

  await api.delete(RESOURCES.endpoints, 'default', 'db')
  await done()
  t.same(slices(), [], 'deleted with the Endpoints')
})
