import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { harness, rejectsStatus } from './helpers.ts'

type Spec = { clusterIP: string; clusterIPs: string[]; ports: Array<{ nodePort?: number; port: number }>; type: string }
const spec = (s: KubeObject): Spec => s.spec as Spec
const svc = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...extra } })

t.test('the kubernetes service exists with the first address once the server reconciles it', async t => {
  const { handler, client } = await harness(t)
  await handler.reconcileKubernetesService({ port: 6443, addresses: ['198.18.0.1'] })
  const kubernetes = await client.get(RESOURCES.services, 'default', 'kubernetes')
  t.equal(spec(kubernetes).clusterIP, '10.96.0.1')
  t.same(spec(kubernetes).ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }])
  const endpoints = await client.get(RESOURCES.endpoints, 'default', 'kubernetes')
  t.same(endpoints.subsets, [{ addresses: [{ ip: '198.18.0.1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }])
  const slice = await client.get(RESOURCES.endpointslices, 'default', 'kubernetes')
  t.equal(slice.addressType, 'IPv4')
  await handler.reconcileKubernetesService({ port: 6443, addresses: ['198.18.0.1'] })
  t.equal((await client.get(RESOURCES.endpoints, 'default', 'kubernetes')).metadata.resourceVersion, endpoints.metadata.resourceVersion, 'idempotent')
})

t.test('cluster IPs are allocated from the service range, unique', async t => {
  const { client } = await harness(t, { settings: { serviceCidr: '10.96.0.0/28' } })
  const ips = new Set<string>()
  for (let i = 0; i < 14; i++) {
    const s = await client.create<KubeObject>(RESOURCES.services, 'default', svc(`s${i}`))
    t.match(spec(s).clusterIP, /^10\.96\.0\.([1-9]|1[0-4])$/)
    t.same(spec(s).clusterIPs, [spec(s).clusterIP])
    ips.add(spec(s).clusterIP)
  }
  t.equal(ips.size, 14)
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.services, 'default', svc('full')), 500, 'Internal error occurred: failed to allocate a serviceIP: range is full')
  await client.delete(RESOURCES.services, 'default', 's3')
  t.ok(await client.create<KubeObject>(RESOURCES.services, 'default', svc('again')), 'a freed address is reused')
})

t.test('requested cluster IPs: in range, free, immutable, kept on replace', async t => {
  const { client } = await harness(t)
  const dns = await client.create<KubeObject>(RESOURCES.services, 'kube-system', svc('kube-dns', { clusterIP: '10.96.0.10' }))
  t.equal(spec(dns).clusterIP, '10.96.0.10')
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.services, 'default', svc('dup', { clusterIP: '10.96.0.10' })), 422, 'Service "dup" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.10": failed to allocate IP 10.96.0.10: provided IP is already allocated')
  await rejectsStatus(
    t,
    client.create<KubeObject>(RESOURCES.services, 'default', svc('out', { clusterIP: '10.0.0.1' })),
    422,
    'Service "out" is invalid: spec.clusterIPs[0]: Invalid value: "10.0.0.1": failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
  )
  const headless = await client.create<KubeObject>(RESOURCES.services, 'default', svc('headless', { clusterIP: 'None', ports: undefined }))
  t.equal(spec(headless).clusterIP, 'None')
  const { resourceVersion, ...meta } = dns.metadata
  t.ok(resourceVersion)
  const replaced = await client.update<KubeObject>(RESOURCES.services, 'kube-system', { metadata: meta, spec: { selector: { app: 'dns' }, ports: [{ port: 53, protocol: 'UDP' }] } })
  t.equal(spec(replaced).clusterIP, '10.96.0.10', 'a replace without clusterIP keeps it')
  await rejectsStatus(t, client.patch(RESOURCES.services, 'kube-system', 'kube-dns', { spec: { clusterIP: '10.96.0.11' } }), 422, 'Service "kube-dns" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.11": may not change once set')
})

t.test('node ports', async t => {
  const { client } = await harness(t)
  const np = await client.create<KubeObject>(RESOURCES.services, 'default', svc('np', { type: 'NodePort', ports: [{ port: 80 }, { name: 'b', port: 81, nodePort: 30081 }].map((p, i) => ({ name: `p${i}`, ...p })) }))
  const ports = spec(np).ports
  t.ok((ports[0]?.nodePort ?? 0) >= 30000 && (ports[0]?.nodePort ?? 0) <= 32767)
  t.equal(ports[1]?.nodePort, 30081)
  t.equal((np.spec as { externalTrafficPolicy: string }).externalTrafficPolicy, 'Cluster')
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.services, 'default', svc('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: 30081 }] })), 422, 'Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30081: provided port is already allocated')
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.services, 'default', svc('np3', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })), 422, 'Service "np3" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767')
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.services, 'default', svc('cip', { ports: [{ port: 80, nodePort: 30090 }] })), 422, "Service \"cip\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'")
  const kept = await client.update<KubeObject>(RESOURCES.services, 'default', { ...np, spec: { ...(np.spec as object), ports: [{ name: 'p0', port: 80 }, { name: 'p1', port: 81 }] } })
  t.same(spec(kept).ports.map(p => p.nodePort), ports.map(p => p.nodePort), 'node ports kept on replace')
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.services, 'default', { metadata: { name: 'noports' }, spec: {} }), 422, 'Service "noports" is invalid: spec.ports: Required value')
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.services, 'default', { metadata: { name: 'two' }, spec: { ports: [{ port: 80 }, { port: 81 }] } }), 422, 'Service "two" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]')
})
