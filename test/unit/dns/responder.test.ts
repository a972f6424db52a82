// The hot path without sockets: queries in, responses decoded with dns-packet.
// Tables of {name, type, rcode, answers}, as CoreDNS tests its kubernetes plugin.
import t from 'tap'
import packet from 'dns-packet'
import { ClusterZone } from '../../../dataplane/dns/cluster-zone.ts'
import { DROP, newCounters, OUTSIDE, Responder } from '../../../dataplane/dns/responder.ts'
import type { ZoneSpec } from '../../../dataplane/dns/zone.ts'
import { bigHeadless, decode, type Decoded, query, type QueryOptions, rows, spec } from './fixtures/dns.ts'

async function responder(zoneSpec: ZoneSpec = spec, options = {}): Promise<Responder> {
  const zone = new ClusterZone()
  await zone.setZone(zoneSpec)
  return new Responder(zone, newCounters(), options)
}

const out = Buffer.alloc(65537)

function answer(r: Responder, msg: Buffer, tcp = false): Decoded | number {
  const end = r.answer(msg, tcp, out, 0)
  return end < 0 ? end : decode(Buffer.from(out.subarray(0, end)))
}

function ask(r: Responder, name: string, type: packet.RecordType = 'A', options: QueryOptions = {}): Decoded {
  const d = answer(r, query(name, type, options))
  if (typeof d === 'number') throw new Error(`no response for ${name} ${type}: ${d}`)
  return d
}

const SVC = 'svc.cluster.local'
/** dns-packet encodes it; its types do not list it. */
const ANY = 'ANY' as packet.RecordType

t.test('answers per the specification', async t => {
  const r = await responder()
  const table: [string, packet.RecordType, string, unknown[][]][] = [
    [`kubernetes.default.${SVC}`, 'A', 'NOERROR', [[`kubernetes.default.${SVC}`, 'A', '10.96.0.1']]],
    [`_https._tcp.kubernetes.default.${SVC}`, 'SRV', 'NOERROR', [[`_https._tcp.kubernetes.default.${SVC}`, 'SRV', { priority: 0, weight: 100, port: 443, target: `kubernetes.default.${SVC}` }]]],
    ['1.0.96.10.in-addr.arpa', 'PTR', 'NOERROR', [['1.0.96.10.in-addr.arpa', 'PTR', `kubernetes.default.${SVC}`]]],
    [`_dns._udp.kube-dns.kube-system.${SVC}`, 'SRV', 'NOERROR', [[`_dns._udp.kube-dns.kube-system.${SVC}`, 'SRV', { priority: 0, weight: 100, port: 53, target: `kube-dns.kube-system.${SVC}` }]]],
    [`web.default.${SVC}`, 'A', 'NOERROR', [[`web.default.${SVC}`, 'A', '10.244.1.5'], [`web.default.${SVC}`, 'A', '10.244.2.7'], [`web.default.${SVC}`, 'A', '10.244.2.8']]],
    [`web-1.web.default.${SVC}`, 'A', 'NOERROR', [[`web-1.web.default.${SVC}`, 'A', '10.244.2.7']]],
    [`10-244-2-8.web.default.${SVC}`, 'A', 'NOERROR', [[`10-244-2-8.web.default.${SVC}`, 'A', '10.244.2.8']]],
    ['7.2.244.10.in-addr.arpa', 'PTR', 'NOERROR', [['7.2.244.10.in-addr.arpa', 'PTR', `web-1.web.default.${SVC}`]]],
    [`ext.default.${SVC}`, 'A', 'NOERROR', [[`ext.default.${SVC}`, 'CNAME', 'www.example.com']]],
    [`ext.default.${SVC}`, 'CNAME', 'NOERROR', [[`ext.default.${SVC}`, 'CNAME', 'www.example.com']]],
    [`ext.default.${SVC}`, 'SRV', 'NOERROR', [[`ext.default.${SVC}`, 'CNAME', 'www.example.com']]],
    ['10-244-1-5.default.pod.cluster.local', 'A', 'NOERROR', [['10-244-1-5.default.pod.cluster.local', 'A', '10.244.1.5']]],
    ['1-2-3-4.default.pod.cluster.local', 'A', 'NOERROR', [['1-2-3-4.default.pod.cluster.local', 'A', '1.2.3.4']]],
    ['1-2-3-4.quiet.pod.cluster.local', 'A', 'NOERROR', [['1-2-3-4.quiet.pod.cluster.local', 'A', '1.2.3.4']]],
    ['dns-version.cluster.local', 'TXT', 'NOERROR', [['dns-version.cluster.local', 'TXT', '1.1.0']]],
    ['cluster.local', 'NS', 'NOERROR', [['cluster.local', 'NS', 'ns.dns.cluster.local']]],
    // NXDOMAIN: no such name.
    [`nope.default.${SVC}`, 'A', 'NXDOMAIN', []],
    [`kubernetes.nons.${SVC}`, 'A', 'NXDOMAIN', []],
    [`empty.default.${SVC}`, 'A', 'NXDOMAIN', []],
    [`not-ready.web.default.${SVC}`, 'A', 'NXDOMAIN', []],
    [`_http._udp.web.default.${SVC}`, 'SRV', 'NXDOMAIN', []],
    [`x.kubernetes.default.${SVC}`, 'A', 'NXDOMAIN', []],
    ['1-2-3-4.nons.pod.cluster.local', 'A', 'NXDOMAIN', []],
    ['1-2-3-256.default.pod.cluster.local', 'A', 'NXDOMAIN', []],
    ['01-2-3-4.default.pod.cluster.local', 'A', 'NXDOMAIN', []],
    ['1-2-3.default.pod.cluster.local', 'A', 'NXDOMAIN', []],
    ['x.1-2-3-4.default.pod.cluster.local', 'A', 'NXDOMAIN', []],
    ['other.cluster.local', 'A', 'NXDOMAIN', []],
    // NODATA: the name exists, not with that type (or is an empty non-terminal).
    [`kubernetes.default.${SVC}`, 'AAAA', 'NOERROR', []],
    [`kubernetes.default.${SVC}`, 'TXT', 'NOERROR', []],
    [`web.default.${SVC}`, 'AAAA', 'NOERROR', []],
    [`default.${SVC}`, 'A', 'NOERROR', []],
    [`quiet.${SVC}`, 'A', 'NOERROR', []],
    [SVC, 'A', 'NOERROR', []],
    ['pod.cluster.local', 'A', 'NOERROR', []],
    ['default.pod.cluster.local', 'A', 'NOERROR', []],
    [`_tcp.kubernetes.default.${SVC}`, 'SRV', 'NOERROR', []],
    ['1-2-3-4.default.pod.cluster.local', 'AAAA', 'NOERROR', []],
    ['1.0.96.10.in-addr.arpa', 'A', 'NOERROR', []],
    ['cluster.local', 'A', 'NOERROR', []],
  ]
  for (const [name, type, rcode, answers] of table) {
    const d = ask(r, name, type)
    t.equal(d.rcode, rcode, `${name} ${type}: ${rcode}`)
    t.same(rows(d), answers, `${name} ${type}: answers`)
    t.ok(d.flag_aa, `${name} ${type}: authoritative`)
    if (answers.length === 0) {
      t.same(rows(d, 'authorities').map(a => [a[0], a[1]]), [[name.endsWith('.arpa') ? 'in-addr.arpa' : 'cluster.local', 'SOA']], `${name} ${type}: SOA in authority`)
    }
  }
})

t.test('SRV answers carry the targets\' A records in the additional section', async t => {
  const r = await responder()
  t.same(rows(ask(r, `_http._tcp.web.default.${SVC}`, 'SRV'), 'additionals'), [
    [`web-0.web.default.${SVC}`, 'A', '10.244.1.5'], [`web-1.web.default.${SVC}`, 'A', '10.244.2.7'], [`10-244-2-8.web.default.${SVC}`, 'A', '10.244.2.8'],
  ])
  t.same(rows(ask(r, `_https._tcp.kubernetes.default.${SVC}`, 'SRV'), 'additionals'), [[`kubernetes.default.${SVC}`, 'A', '10.96.0.1']])
})

t.test('SOA of negative answers: TTLs and fields', async t => {
  const r = await responder({ ...spec, ttl: 30 })
  const d = ask(r, `nope.${SVC}`)
  const soa = d.authorities![0] as packet.Answer & { data: packet.SoaData; ttl: number }
  t.equal(soa.ttl, 30)
  t.match(soa.data, { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', minimum: 30 })
  t.equal((ask(r, `kubernetes.default.${SVC}`).answers![0] as { ttl: number }).ttl, 30)
  t.same(rows(ask(r, 'cluster.local', 'SOA')).map(a => a[1]), ['SOA'])
})

t.test('names are case-insensitive and the answer echoes the question', async t => {
  const r = await responder()
  const d = ask(r, `KuBeRnEtEs.DEFAULT.Svc.Cluster.Local`)
  t.equal(d.questions![0]!.name, 'KuBeRnEtEs.DEFAULT.Svc.Cluster.Local')
  t.same(rows(d), [['KuBeRnEtEs.DEFAULT.Svc.Cluster.Local', 'A', '10.96.0.1']])
  const srv = ask(r, `_HTTPS._TCP.kubernetes.default.${SVC}`, 'SRV')
  t.equal(srv.answers!.length, 1)
  t.equal(ask(r, '1-2-3-4.DEFAULT.POD.cluster.LOCAL').answers![0]!.name, '1-2-3-4.DEFAULT.POD.cluster.LOCAL')
  t.equal(ask(r, `NOPE.${SVC.toUpperCase()}`).authorities![0]!.name.toLowerCase(), 'cluster.local')
})

t.test('ANY returns every record of the name', async t => {
  const r = await responder()
  t.same(rows(ask(r, 'cluster.local', ANY)).map(a => a[1]), ['SOA', 'NS'])
  t.same(rows(ask(r, `kubernetes.default.${SVC}`, ANY)), [[`kubernetes.default.${SVC}`, 'A', '10.96.0.1']])
})

t.test('pods verified: only known pods', async t => {
  const r = await responder({ ...spec, podRecords: 'verified' })
  t.equal(ask(r, '10-244-1-5.default.pod.cluster.local').answers!.length, 1)
  t.equal(ask(r, '1-2-3-4.default.pod.cluster.local').rcode, 'NXDOMAIN')
})

t.test('header: ID, RD copied, RA only with recursion, QR and AA set', async t => {
  const r = await responder()
  const d = ask(r, `kubernetes.default.${SVC}`, 'A', { id: 777 })
  t.equal(d.id, 777)
  t.equal(d.type, 'response')
  t.ok(d.flags! & packet.RECURSION_DESIRED)
  t.notOk(d.flag_ra)
  t.notOk(ask(r, `kubernetes.default.${SVC}`, 'A', { rd: false }).flags! & packet.RECURSION_DESIRED)
  const withUpstream = await responder(spec, { recursion: true })
  t.ok(ask(withUpstream, `kubernetes.default.${SVC}`).flag_ra)
})

t.test('EDNS0: OPT echoed with our size; the client\'s size honoured; TC when it does not fit', async t => {
  const r = await responder({ ...spec, services: [...spec.services, bigHeadless(100)] })
  const small = ask(r, `kubernetes.default.${SVC}`, 'A', { edns: 4096 })
  const opt = small.additionals!.find(a => a.type === 'OPT') as { udpPayloadSize: number } | undefined
  t.equal(opt?.udpPayloadSize, 1232)
  t.notOk(ask(r, `kubernetes.default.${SVC}`).additionals?.length, 'no OPT without EDNS')

  const big = `big.default.${SVC}` // 100 A records: 12 + 29 + 100 * 16 = 1641 bytes
  const plain = ask(r, big)
  t.ok(plain.flag_tc, 'no EDNS: over 512 bytes, TC')
  t.equal(plain.answers!.length, 0)
  t.ok(ask(r, big, 'A', { edns: 1200 }).flag_tc, 'EDNS 1200: TC')
  const r4k = await responder({ ...spec, services: [bigHeadless(100)] }, { maxUdpPayload: 4096 })
  const full = ask(r4k, big, 'A', { edns: 4096 })
  t.notOk(full.flag_tc)
  t.equal(full.answers!.length, 100)
  t.ok(ask(r4k, big, 'A', { edns: 1500 }).flag_tc, 'the client\'s smaller size wins')
  t.equal((answer(r4k, query(big), true) as Decoded).answers!.length, 100, 'TCP: everything')
  t.equal(r.counters.truncated, 2)
})

t.test('SRV over the limit drops the additional section before truncating', async t => {
  const r = await responder({ services: [bigHeadless(12)] })
  const d = ask(r, `_http._tcp.big.default.${SVC}`, 'SRV') // 12 SRV fit in 512 bytes, their A records do not
  t.notOk(d.flag_tc)
  t.equal(d.answers!.length, 12)
  t.equal(rows(d, 'additionals').length, 0)
  t.equal(rows(ask(r, `_http._tcp.big.default.${SVC}`, 'SRV', { edns: 1232 }), 'additionals').length, 12)
})

t.test('outside the zone, unsupported classes and opcodes, EDNS versions', async t => {
  const r = await responder()
  t.equal(r.answer(query('example.com'), false, out, 0), OUTSIDE)
  t.equal(r.answer(query('10.0.0.1.in-addr.arpa', 'PTR'), false, out, 0), OUTSIDE, 'a PTR we do not hold falls through')
  t.equal(r.answer(query('local'), false, out, 0), OUTSIDE)
  t.equal(r.answer(query('xcluster.local'), false, out, 0), OUTSIDE)
  const refused = decode(Buffer.from(out.subarray(0, r.refuse(query('example.com'), false, out, 0))))
  t.equal(refused.rcode, 'REFUSED')
  t.equal(refused.questions![0]!.name, 'example.com')

  const chaos = packet.encode({ id: 1, type: 'query', questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }] })
  t.equal((answer(r, chaos) as Decoded).rcode, 'REFUSED')
  t.equal(ask(r, 'cluster.local', 'AXFR').rcode, 'REFUSED')
  const update = query(`kubernetes.default.${SVC}`)
  update[2] = (update[2]! & 0x87) | (5 << 3)
  t.equal((answer(r, update) as Decoded).rcode, 'NOTIMP')
  const v1 = query(`kubernetes.default.${SVC}`, 'A', { edns: 1232 })
  v1[v1.length - 5] = 1 // OPT: name, type, class, then TTL = extended rcode, version, flags
  const badvers = decode(Buffer.from(out.subarray(0, r.answer(v1, false, out, 0))))
  t.equal(out[3]! & 0x0f, 0, 'header rcode 0 ...')
  const opt = badvers.additionals!.find(a => a.type === 'OPT') as { extendedRcode: number } | undefined
  t.equal(opt?.extendedRcode, 1, '... extended rcode 16 (BADVERS) in OPT')
})

t.test('malformed queries: FORMERR when a header parses, else dropped; all counted', async t => {
  const r = await responder()
  const good = query(`kubernetes.default.${SVC}`)
  t.equal(r.answer(Buffer.alloc(5), false, out, 0), DROP, 'shorter than a header')
  const response = Buffer.from(good)
  response[2]! |= 0x80
  t.equal(r.answer(response, false, out, 0), DROP, 'a response')
  const formerr = (msg: Buffer, why: string): void => {
    const d = answer(r, msg) as Decoded
    t.equal(d.rcode, 'FORMERR', why)
    t.equal(d.id, msg.readUInt16BE(0), `${why}: same ID`)
  }
  formerr(good.subarray(0, 20), 'cut inside the name')
  formerr(good.subarray(0, good.length - 2), 'cut inside the question')
  const two = Buffer.from(good)
  two[5] = 2
  formerr(two, 'qdcount 2')
  const none = Buffer.from(good.subarray(0, 12))
  none[5] = 0
  formerr(none, 'qdcount 0')
  const pointer = Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])])
  formerr(pointer, 'a compression pointer in the question')
  const long = Buffer.concat([good.subarray(0, 12), Buffer.from([64, ...Buffer.alloc(64, 97), 0, 0, 1, 0, 1])])
  formerr(long, 'a 64-byte label')
  const labels = Buffer.concat([good.subarray(0, 12), ...Array.from({ length: 130 }, () => Buffer.from([1, 97])), Buffer.from([0, 0, 1, 0, 1])])
  formerr(labels, 'a name longer than 255 bytes')
  const ar = Buffer.from(good)
  ar[11] = 3
  formerr(ar, 'arcount says 3, none there')
  const twoOpt = query(`kubernetes.default.${SVC}`, 'A', { edns: 1232 })
  const opt = twoOpt.subarray(twoOpt.length - 11)
  const doubled = Buffer.concat([twoOpt, opt])
  doubled[11] = 2
  formerr(doubled, 'two OPT records')
  const optQuestion = query('.', 'OPT')
  formerr(optQuestion, 'qtype OPT')
  t.equal(r.counters.formerr, 10)
  t.equal(r.counters.dropped, 2)
})

t.test('queries with extra sections still parse (answer, authority, OPT not first)', async t => {
  const r = await responder()
  const msg = packet.encode({
    id: 9, type: 'query', questions: [{ name: `kubernetes.default.${SVC}`, type: 'A' }],
    answers: [{ name: 'x.example', type: 'A', data: '1.2.3.4' }],
    additionals: [{ name: 'y.example', type: 'TXT', data: 'hi' }, { type: 'OPT', name: '.', udpPayloadSize: 2048 } as packet.Answer],
  })
  const d = answer(r, msg) as Decoded
  t.same(rows(d), [[`kubernetes.default.${SVC}`, 'A', '10.96.0.1']])
  t.ok(d.additionals!.some(a => a.type === 'OPT'))
})
