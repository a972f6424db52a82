// API objects to the responder's slim structs (control/dns/zone-objects.ts):
// ClusterIP, headless from EndpointSlices (ready, hostnames, IPv4 only,
// sorted), ExternalName, pods with an address.
import t from 'tap'
import { dnsPod, dnsService, samePod, sliceEndpoints } from '../../../control/dns/zone-objects.ts'
import { sliceServiceKey, type EndpointSlice, type Service } from '../../../control/controllers/service-objects.ts'

const service = (name: string, spec: Service['spec'], namespace = 'shop'): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec })
const slice = (name: string, svc: string, endpoints: EndpointSlice['endpoints'], addressType = 'IPv4'): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': svc } },
  addressType, endpoints, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
})

t.test('a ClusterIP Service: address, type and ports; its slices do not matter', async t => {
  const web = service('web', { type: 'NodePort', clusterIP: '10.96.4.5', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }, { port: 9000, protocol: 'UDP' }] })
  const expected = {
    namespace: 'shop', name: 'web', type: 'NodePort', clusterIP: '10.96.4.5',
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9000, protocol: 'UDP' }],
  }
  t.same(dnsService(web), expected)
  t.same(dnsService(web, [slice('web-x', 'web', [{ addresses: ['10.244.1.5'], conditions: { ready: true } }])]), expected)
  t.same(dnsService(service('bare', {})), { namespace: 'shop', name: 'bare', type: 'ClusterIP', clusterIP: '', ports: [] }, 'no clusterIP yet: no records')
})

t.test('a headless Service: every IPv4 address of its slices with hostname and readiness, sorted', async t => {
  const db = service('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] })
  const slices = [
    slice('db-b', 'db', [
      { addresses: ['10.244.2.9'], conditions: { ready: false, serving: false } },
      { addresses: ['10.244.2.7'], conditions: {}, hostname: 'db-1' },
    ]),
    slice('db-a', 'db', [{ addresses: ['10.244.1.5'], conditions: { ready: true }, hostname: 'db-0' }]),
    slice('db-v6', 'db', [{ addresses: ['fd00::5'], conditions: { ready: true } }], 'IPv6'),
  ]
  t.same(dnsService(db, slices).endpoints, [
    { ip: '10.244.1.5', hostname: 'db-0', ready: true },
    { ip: '10.244.2.7', hostname: 'db-1', ready: true },
    { ip: '10.244.2.9', ready: false },
  ], 'an absent ready condition counts as ready; IPv6 slices are skipped')
  t.same(sliceEndpoints([...slices].reverse()), sliceEndpoints(slices), 'the order of slices does not matter')
  t.same(dnsService(db).endpoints, [], 'no slices yet: no endpoints')
})

t.test('ExternalName: the target, no endpoints', async t => {
  t.same(dnsService(service('search', { type: 'ExternalName', externalName: 'search.example.com' })), {
    namespace: 'shop', name: 'search', type: 'ExternalName', clusterIP: '', ports: [], externalName: 'search.example.com',
  })
})

t.test('the slice\'s Service', async t => {
  t.equal(sliceServiceKey(slice('x', 'web', [])), 'shop/web')
  t.equal(sliceServiceKey({ metadata: { name: 'y', namespace: 'shop' } }), undefined, 'an unlabelled slice belongs to no Service')
})

t.test('pods: an address while running, none once terminal or deleting', async t => {
  const pod = (status: Record<string, unknown>, deleting = false) => ({
    metadata: { name: 'p', namespace: 'shop', ...(deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) }, status,
  })
  t.same(dnsPod(pod({ phase: 'Running', podIP: '10.244.1.5' })), { namespace: 'shop', ip: '10.244.1.5' })
  t.equal(dnsPod(pod({ phase: 'Pending' })), undefined)
  t.equal(dnsPod(pod({ phase: 'Succeeded', podIP: '10.244.1.5' })), undefined)
  t.equal(dnsPod(pod({ phase: 'Running', podIP: '10.244.1.5' }, true)), undefined)
  t.ok(samePod(undefined, undefined))
  t.ok(samePod({ namespace: 'a', ip: '1.2.3.4' }, { namespace: 'a', ip: '1.2.3.4' }))
  t.notOk(samePod({ namespace: 'a', ip: '1.2.3.4' }, undefined))
})
