// Zone updates: by difference, source by source; full rebuilds swapped in whole.
import t from 'tap'
import { ClusterZone, INCREMENTAL_LIMIT, sameService } from '../../../dataplane/dns/cluster-zone.ts'
import { newCounters, Responder } from '../../../dataplane/dns/responder.ts'
import type { DnsService } from '../../../dataplane/dns/zone.ts'
import { decode, query, rows, spec } from './fixtures/dns.ts'

const out = Buffer.alloc(65537)
function lookup(zone: ClusterZone, name: string, type: Parameters<typeof query>[1] = 'A'): { rcode: string | undefined; answers: unknown[] } {
  const r = new Responder(zone, newCounters())
  const end = r.answer(query(name, type), true, out, 0)
  if (end < 0) return { rcode: 'OUTSIDE', answers: [] }
  const d = decode(Buffer.from(out.subarray(0, end)))
  return { rcode: d.rcode, answers: rows(d).map(a => a[2]) }
}

const services = (n: number, ip = (i: number): string => `10.96.${i >> 8}.${i & 255}`): DnsService[] =>
  Array.from({ length: n }, (_, i) => ({ namespace: `ns-${i % 10}`, name: `svc-${i}`, clusterIP: ip(i), ports: [{ name: 'http', port: 80 }] }))

t.test('a changed Service is rebuilt alone; removed names and empty non-terminals go', async t => {
  const zone = new ClusterZone()
  const first = await zone.setZone(spec)
  t.ok(first.rebuilt === false || first.rebuilt === true)
  const next = structuredClone(spec)
  next.services[0]!.clusterIP = '10.96.0.2'
  const u = await zone.setZone(next)
  t.equal(u.changedSources, 1, 'one source')
  t.equal(u.rebuilt, false)
  t.same(lookup(zone, 'kubernetes.default.svc.cluster.local').answers, ['10.96.0.2'])
  t.equal(lookup(zone, '1.0.96.10.in-addr.arpa', 'PTR').rcode, 'OUTSIDE', 'the old PTR is gone (falls through)')
  t.same(lookup(zone, '2.0.96.10.in-addr.arpa', 'PTR').answers, ['kubernetes.default.svc.cluster.local'])

  const again = await zone.setZone(next)
  t.equal(again.changedSources, 0, 'the same zone again: nothing to do')

  // Remove kube-dns: its namespace had nothing else, so kube-system.svc goes too.
  const fewer = { ...next, services: next.services.filter(s => s.name !== 'kube-dns') }
  await zone.setZone(fewer)
  t.equal(lookup(zone, 'kube-dns.kube-system.svc.cluster.local').rcode, 'NXDOMAIN')
  t.equal(lookup(zone, '_dns._udp.kube-dns.kube-system.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN')
  t.equal(lookup(zone, '_udp.kube-dns.kube-system.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN')
  t.equal(lookup(zone, 'kube-system.svc.cluster.local').rcode, 'NXDOMAIN')
  t.equal(lookup(zone, 'default.svc.cluster.local').rcode, 'NOERROR', 'default still has Services')
  t.equal(lookup(zone, 'quiet.svc.cluster.local').rcode, 'NOERROR', 'a listed namespace exists without anything in it')
  await zone.setZone({ ...fewer, namespaces: [] })
  t.equal(lookup(zone, 'quiet.svc.cluster.local').rcode, 'NXDOMAIN')
  t.equal(lookup(zone, '1-2-3-4.quiet.pod.cluster.local').rcode, 'NXDOMAIN', 'pod names need the namespace')
  t.equal(lookup(zone, 'svc.cluster.local').rcode, 'NOERROR', 'svc.<zone> always exists')
})

t.test('updateService and removeService', async t => {
  const zone = new ClusterZone()
  await zone.setZone(spec)
  const u = await zone.updateService({ namespace: 'new', name: 'api', clusterIP: '10.96.9.9' })
  t.equal(u.changedSources, 2, 'the Service and its new namespace')
  t.same(lookup(zone, 'api.new.svc.cluster.local').answers, ['10.96.9.9'])
  t.equal(lookup(zone, 'new.svc.cluster.local').rcode, 'NOERROR')
  await zone.updateService({ ...spec.services[2]!, endpoints: [{ ip: '10.244.9.1', hostname: 'web-0' }] })
  t.same(lookup(zone, 'web.default.svc.cluster.local').answers, ['10.244.9.1'])
  t.equal(lookup(zone, 'web-1.web.default.svc.cluster.local').rcode, 'NXDOMAIN')
  await zone.removeService('new', 'api')
  t.equal(lookup(zone, 'api.new.svc.cluster.local').rcode, 'NXDOMAIN')
  t.equal(lookup(zone, 'new.svc.cluster.local').rcode, 'NXDOMAIN')
  t.equal((await zone.removeService('new', 'api')).changedSources, 0, 'removing twice is fine')
})

t.test('a PTR shared by two Services keeps the other when one goes', async t => {
  const zone = new ClusterZone()
  const a: DnsService = { namespace: 'x', name: 'a', clusterIP: 'None', endpoints: [{ ip: '10.244.0.9', hostname: 'p' }] }
  const b: DnsService = { namespace: 'x', name: 'b', clusterIP: 'None', endpoints: [{ ip: '10.244.0.9', hostname: 'p' }] }
  await zone.setZone({ services: [a, b] })
  t.same(lookup(zone, '9.0.244.10.in-addr.arpa', 'PTR').answers, ['p.a.x.svc.cluster.local', 'p.b.x.svc.cluster.local'])
  await zone.removeService('x', 'a')
  t.same(lookup(zone, '9.0.244.10.in-addr.arpa', 'PTR').answers, ['p.b.x.svc.cluster.local'])
})

t.test('objects changed in place and handed over again are seen as changed', async t => {
  const zone = new ClusterZone()
  const svcs = services(3)
  await zone.setZone({ services: svcs })
  svcs[1]!.clusterIP = '10.96.200.1'
  const u = await zone.setZone({ services: svcs })
  t.equal(u.changedSources, 1)
  t.same(lookup(zone, 'svc-1.ns-1.svc.cluster.local').answers, ['10.96.200.1'])
})

t.test('settings change or a large change: a new table, swapped in whole; queries see old or new, never a mix', async t => {
  const zone = new ClusterZone()
  await zone.setZone({ services: services(100) })
  const before = zone.table
  const n = INCREMENTAL_LIMIT + 100
  const pending = zone.setZone({ services: services(n, i => `10.100.${i >> 8}.${i & 255}`) })
  // While the new table is built (in slices), the old one still answers.
  await new Promise(resolve => setImmediate(resolve))
  t.same(lookup(zone, 'svc-5.ns-5.svc.cluster.local').answers, zone.table === before ? ['10.96.0.5'] : ['10.100.0.5'])
  const u = await pending
  t.equal(u.rebuilt, true)
  t.not(zone.table, before)
  t.same(lookup(zone, 'svc-5.ns-5.svc.cluster.local').answers, ['10.100.0.5'])
  t.same(lookup(zone, `svc-${n - 1}.ns-${(n - 1) % 10}.svc.cluster.local`).answers, [`10.100.${(n - 1) >> 8}.${(n - 1) & 255}`])

  const renamed = await zone.setZone({ domain: 'kw.test', services: services(2) })
  t.equal(renamed.rebuilt, true)
  t.equal(lookup(zone, 'svc-1.ns-1.svc.cluster.local').rcode, 'OUTSIDE')
  t.same(lookup(zone, 'svc-1.ns-1.svc.kw.test').answers, ['10.96.0.1'])
})

t.test('a queued full build that a later setZone replaces is skipped', async t => {
  const zone = new ClusterZone()
  const a = zone.setZone({ services: services(INCREMENTAL_LIMIT + 10) })
  const b = zone.setZone({ ttl: 9, services: services(INCREMENTAL_LIMIT + 10, () => '10.1.1.1') })
  await Promise.all([a, b])
  t.same(lookup(zone, 'svc-3.ns-3.svc.cluster.local').answers, ['10.1.1.1'])
})

t.test('one change in 10 000 Services is cheap', async t => {
  const zone = new ClusterZone()
  const svcs = services(10_000)
  await zone.setZone({ services: svcs })
  const times: number[] = []
  for (let k = 0; k < 20; k++) {
    svcs[k * 13] = { ...svcs[k * 13]!, clusterIP: `10.99.0.${k}` }
    times.push((await zone.setZone({ services: svcs })).ms)
  }
  times.sort((a, b) => a - b)
  t.ok(times[10]! < 50, `setZone with one change: median ${times[10]!.toFixed(1)} ms`)
  const u = await zone.updateService({ ...svcs[0]!, clusterIP: '10.99.1.1' })
  t.ok(u.ms < 20, `updateService: ${u.ms.toFixed(2)} ms`)
  t.same(lookup(zone, 'svc-0.ns-0.svc.cluster.local').answers, ['10.99.1.1'])
})

t.test('sameService compares what makes records', async t => {
  const s = spec.services[2]!
  t.ok(sameService(structuredClone(s), s))
  t.notOk(sameService({ ...s, endpoints: [...s.endpoints!.slice(1)] }, s))
  t.notOk(sameService({ ...s, ports: [{ name: 'http', port: 81 }] }, s))
  t.ok(sameService({ ...s, endpoints: s.endpoints!.map(e => ({ ...e, ready: e.ready ?? true })) }, s), 'ready defaults to true')
})
