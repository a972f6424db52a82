// The records of the Kubernetes DNS specification (schema 1.1.0), one kind at a time.
import t from 'tap'
import {
  apexRecords, endpointHostname, isValidName, namespaceNames, parseIpv4, podRecords, reverseName,
  serviceRecords, zoneRecords,
} from '../../../dataplane/dns/zone.ts'
import { spec } from './fixtures/dns.ts'

t.test('ClusterIP Service: A, SRV per named port (target the Service), PTR', async t => {
  t.same(serviceRecords(spec.services[1]!), [
    { name: 'kube-dns.kube-system.svc.cluster.local', type: 'A', address: '10.96.0.10' },
    { name: '_dns._udp.kube-dns.kube-system.svc.cluster.local', type: 'SRV', priority: 0, weight: 100, port: 53, target: 'kube-dns.kube-system.svc.cluster.local' },
    { name: '_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local', type: 'SRV', priority: 0, weight: 100, port: 53, target: 'kube-dns.kube-system.svc.cluster.local' },
    { name: '10.0.96.10.in-addr.arpa', type: 'PTR', target: 'kube-dns.kube-system.svc.cluster.local' },
  ], 'the unnamed port 9153 has no SRV')
})

t.test('headless Service: A per ready endpoint, endpoint A, SRV per endpoint and port, PTR', async t => {
  const fq = 'web.default.svc.cluster.local'
  t.same(serviceRecords(spec.services[2]!), [
    { name: fq, type: 'A', address: '10.244.1.5' },
    { name: fq, type: 'A', address: '10.244.2.7' },
    { name: fq, type: 'A', address: '10.244.2.8' },
    { name: `web-0.${fq}`, type: 'A', address: '10.244.1.5' },
    { name: `web-1.${fq}`, type: 'A', address: '10.244.2.7' },
    { name: `10-244-2-8.${fq}`, type: 'A', address: '10.244.2.8' },
    { name: `_http._tcp.${fq}`, type: 'SRV', priority: 0, weight: 33, port: 80, target: `web-0.${fq}` },
    { name: `_http._tcp.${fq}`, type: 'SRV', priority: 0, weight: 33, port: 80, target: `web-1.${fq}` },
    { name: `_http._tcp.${fq}`, type: 'SRV', priority: 0, weight: 33, port: 80, target: `10-244-2-8.${fq}` },
    { name: '5.1.244.10.in-addr.arpa', type: 'PTR', target: `web-0.${fq}` },
    { name: '7.2.244.10.in-addr.arpa', type: 'PTR', target: `web-1.${fq}` },
    { name: '8.2.244.10.in-addr.arpa', type: 'PTR', target: `10-244-2-8.${fq}` },
  ], 'the endpoint with ready: false is not published')
  t.same(serviceRecords(spec.services[3]!), [], 'no published endpoints: no records (NXDOMAIN)')
})

t.test('ExternalName: a CNAME, the trailing dot dropped', async t => {
  t.same(serviceRecords(spec.services[4]!), [{ name: 'ext.default.svc.cluster.local', type: 'CNAME', target: 'www.example.com' }])
  t.same(serviceRecords({ namespace: 'a', name: 'b', type: 'ExternalName', externalName: 'not a name!' }), [])
})

t.test('services without an address, with bad names or IPv6 endpoints give nothing', async t => {
  t.same(serviceRecords({ namespace: 'a', name: 'pending', clusterIP: '' }), [])
  t.same(serviceRecords({ namespace: 'a', name: 'v6', clusterIP: 'fd00::1' }), [])
  t.same(serviceRecords({ namespace: 'a', name: 'x'.repeat(64), clusterIP: '10.96.0.5' }), [])
  t.same(serviceRecords({ namespace: 'a', name: 'h', clusterIP: 'None', endpoints: [{ ip: 'fd00::5' }] }), [])
})

t.test('duplicate endpoint addresses give one service A record', async t => {
  const r = serviceRecords({ namespace: 'a', name: 'h', clusterIP: 'None', endpoints: [{ ip: '10.0.0.1', hostname: 'x' }, { ip: '10.0.0.1', hostname: 'y' }] })
  t.same(r.filter(x => x.name === 'h.a.svc.cluster.local').length, 1)
  t.same(r.filter(x => x.type === 'PTR').map(x => x.type === 'PTR' && x.target), ['x.h.a.svc.cluster.local', 'y.h.a.svc.cluster.local'])
})

t.test('pods, namespaces, the apex, the whole zone', async t => {
  t.same(podRecords({ namespace: 'default', ip: '10.244.1.5' }), [{ name: '10-244-1-5.default.pod.cluster.local', type: 'A', address: '10.244.1.5' }])
  t.same(namespaceNames('quiet'), ['quiet.svc.cluster.local', 'quiet.pod.cluster.local'])
  const apex = apexRecords({ domain: 'example.test', serial: 7, ttl: 30, nameserverIP: '10.96.0.10' })
  t.same(apex.records.map(r => [r.name, r.type]), [
    ['example.test', 'SOA'], ['example.test', 'NS'], ['dns-version.example.test', 'TXT'], ['ns.dns.example.test', 'A'],
  ])
  t.match(apex.records[2], { text: '1.1.0' })
  t.same(apex.names, ['svc.example.test', 'pod.example.test'])
  const all = zoneRecords(spec)
  t.ok(all.names.includes('quiet.svc.cluster.local') && all.names.includes('kube-system.pod.cluster.local'))
})

t.test('helpers', async t => {
  t.same(parseIpv4('10.0.0.255'), [10, 0, 0, 255])
  for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4.5', 'a.b.c.d', '', '1..2.3', '1.2.3.4 ']) t.equal(parseIpv4(bad), undefined, bad)
  t.equal(reverseName('10.96.0.1'), '1.0.96.10.in-addr.arpa')
  t.equal(endpointHostname({ ip: '10.1.2.3' }), '10-1-2-3')
  t.equal(endpointHostname({ ip: '10.1.2.3', hostname: 'Pet-0' }), 'pet-0')
  t.equal(endpointHostname({ ip: '10.1.2.3', hostname: 'bad.name' }), '10-1-2-3')
  t.ok(isValidName('_http._tcp.a.b'))
  t.notOk(isValidName('a..b'))
  t.notOk(isValidName(`${'a'.repeat(60)}.`.repeat(5)))
})
