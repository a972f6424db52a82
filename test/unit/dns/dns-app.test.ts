// The cluster DNS program (control/dns/dns-app.ts) against an in-process API
// server, on 127.0.0.1 with free ports: not ready before its first zone, then
// every change to Services, EndpointSlices, namespaces and pods reaches the
// answers by watch; REFUSED outside the zone; health, readiness and metrics.
import { request } from 'node:http'
import t from 'tap'
import { RESOURCES, type ApiClient, type KubeObject, type ListOptions, type ObjectList, type ResourceRef } from '../../../control/client/api-client.ts'
import { startDnsApp, type DnsApp } from '../../../control/dns/dns-app.ts'
import { batchUdpAvailable } from '../../../dataplane/dns/udp-batch.ts'
import { harness, type TapTest } from '../apiserver/helpers.ts'
import { decode, query, rows, tcpAsk, udpAsk, type Decoded } from './fixtures/dns.ts'

function get(port: number, path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, res => {
      let body = ''
      res.on('data', c => (body += c))
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }))
    }).on('error', reject).end()
  })
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 10))
  }
}

async function app(t: TapTest, client: ApiClient, podRecords: 'insecure' | 'verified' = 'insecure', udpThreads = 0): Promise<DnsApp> {
  const a = await startDnsApp({
    client, address: '127.0.0.1', port: 0, upstreams: [], allowedSources: ['127.0.0.0/8'], udpThreads,
    readyPort: 0, healthPort: 0, metricsPort: 0, httpAddress: '127.0.0.1', podRecords, nameserverIP: '10.96.0.10', log: () => {},
  })
  t.teardown(() => a.close())
  return a
}

const ask = async (a: DnsApp, name: string, type: Parameters<typeof query>[1] = 'A'): Promise<Decoded> => decode((await udpAsk(a.dns.port, query(name, type)))!)
const service = (name: string, spec: Record<string, unknown>, namespace = 'default'): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec })

t.test('not ready and not listening until the first zone; then ready, healthy, serving', async t => {
  // A client whose lists hang until released: the informers cannot sync.
  const { client } = await harness(t)
  let release!: () => void
  const gate = new Promise<void>(resolve => (release = resolve))
  const slow: ApiClient = Object.create(client, {
    list: { value: async (ref: ResourceRef, ns: string | undefined, o?: ListOptions): Promise<ObjectList<KubeObject>> => { await gate; return client.list(ref, ns, o) } },
  })
  const a = await app(t, slow)
  t.equal((await get(a.http.health!, '/health')).code, 200, 'healthy at once')
  t.equal((await get(a.http.ready!, '/ready')).code, 503, 'not ready before the zone is loaded')
  t.equal(a.dns.port, 0, 'no DNS socket yet: nobody gets an answer from an empty zone')
  await client.create(RESOURCES.services, 'default', service('api', { ports: [{ port: 443 }] }))
  release()
  await a.serving
  t.equal((await get(a.http.ready!, '/ready')).code, 200, 'ready once served')
  t.same(rows(await ask(a, 'api.default.svc.cluster.local')).map(r => r[1]), ['A'], 'the first zone has what the first lists had')
  t.match((await get(a.http.metrics!, '/metrics')).body, /kubewire_dns_received_total \d+\n[^]*kubewire_dns_ready 1\n/)
})

for (const threads of batchUdpAvailable() ? [0, 1] : [0]) t.test(`Services, slices, namespaces by watch; REFUSED outside; TCP (UDP threads: ${threads})`, async t => {
  const { client } = await harness(t)
  const a = await app(t, client, 'insecure', threads)
  await a.serving
  const created = await client.create(RESOURCES.services, 'default', service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] }))
  const ip = (created.spec as { clusterIP: string }).clusterIP
  await waitFor('web to resolve', async () => (await ask(a, 'web.default.svc.cluster.local')).answers?.length === 1)
  t.same(rows(await ask(a, 'web.default.svc.cluster.local')), [['web.default.svc.cluster.local', 'A', ip]])
  t.same(rows(await ask(a, '_http._tcp.web.default.svc.cluster.local', 'SRV')).map(r => r[1]), ['SRV'])
  const [overTcp] = await tcpAsk(a.dns.port, [query('web.default.svc.cluster.local')])
  t.same(rows(decode(overTcp!)), [['web.default.svc.cluster.local', 'A', ip]], 'TCP answers the same')

  await client.create(RESOURCES.services, 'default', service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] }))
  const slice = (endpoints: unknown[]): KubeObject => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'db-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4', endpoints, ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  } as KubeObject)
  t.equal((await ask(a, 'db.default.svc.cluster.local')).rcode, 'NXDOMAIN', 'a headless Service without endpoints: NXDOMAIN')
  const stored = await client.create(RESOURCES.endpointslices, 'default', slice([
    { addresses: ['10.244.1.5'], conditions: { ready: true }, hostname: 'db-0' },
    { addresses: ['10.244.2.6'], conditions: { ready: false } },
  ]))
  await waitFor('db to resolve', async () => (await ask(a, 'db.default.svc.cluster.local')).answers?.length === 1)
  t.same(rows(await ask(a, 'db-0.db.default.svc.cluster.local')), [['db-0.db.default.svc.cluster.local', 'A', '10.244.1.5']], 'the endpoint\'s hostname')
  await client.update(RESOURCES.endpointslices, 'default', { ...slice([
    { addresses: ['10.244.1.5'], conditions: { ready: true }, hostname: 'db-0' },
    { addresses: ['10.244.2.6'], conditions: { ready: true } },
  ]), metadata: stored.metadata })
  await waitFor('the second endpoint, once ready', async () => (await ask(a, 'db.default.svc.cluster.local')).answers?.length === 2)
  t.pass('a slice update reaches the answers')

  await client.delete(RESOURCES.services, 'default', 'web')
  await waitFor('web to go', async () => (await ask(a, 'web.default.svc.cluster.local')).rcode === 'NXDOMAIN')
  t.pass('a deleted Service is NXDOMAIN')

  t.equal((await ask(a, 'team.svc.cluster.local')).rcode, 'NXDOMAIN', 'no such namespace')
  await client.create(RESOURCES.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } })
  await waitFor('the namespace to exist', async () => (await ask(a, 'team.svc.cluster.local')).rcode === 'NOERROR')
  const nodata = await ask(a, 'team.svc.cluster.local')
  t.same([nodata.answers?.length, nodata.authorities?.[0]?.type], [0, 'SOA'], 'an empty namespace: NODATA with the SOA')

  t.equal((await ask(a, 'example.com')).rcode, 'REFUSED', 'outside the zone, no upstream: REFUSED')
  t.equal(a.dns.counters.forwarded, 0, 'nothing forwarded')
})

t.test('pods verified: a pod\'s record appears with its address and goes with it', async t => {
  const { client } = await harness(t)
  const a = await app(t, client, 'verified')
  await a.serving
  const name = '10-244-1-9.default.pod.cluster.local'
  t.equal((await ask(a, name)).rcode, 'NXDOMAIN', 'no pod has that address')
  const pod = await client.create(RESOURCES.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx' }] },
  })
  await client.update(RESOURCES.pods, 'default', { ...pod, status: { phase: 'Running', podIP: '10.244.1.9' } }, 'status')
  await waitFor('the pod record', async () => (await ask(a, name)).answers?.length === 1)
  t.same(rows(await ask(a, name)), [[name, 'A', '10.244.1.9']])
  await client.delete(RESOURCES.pods, 'default', 'p', { gracePeriodSeconds: 0 })
  await waitFor('the pod record to go', async () => (await ask(a, name)).rcode === 'NXDOMAIN')
  t.pass('gone with the pod')
})
