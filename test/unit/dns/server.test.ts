// The server on real sockets (127.0.0.1, random ports): UDP on both engines,
// TCP, truncation, forwarding to a fake upstream, refusal, counters, swaps.
import { execFile } from 'node:child_process'
import dgram from 'node:dgram'
import net from 'node:net'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import packet from 'dns-packet'
import { DnsServer, type DnsServerOptions } from '../../../dataplane/dns/server.ts'
import { batchUdpAvailable } from '../../../dataplane/dns/udp-batch.ts'
import { bigHeadless, decode, query, rows, spec, tcpAsk, udpAsk } from './fixtures/dns.ts'

const KUBERNETES = 'kubernetes.default.svc.cluster.local'

async function server(t: Test, options: DnsServerOptions = {}): Promise<DnsServer> {
  const s = new DnsServer({ port: 0, ...options })
  await s.start()
  t.teardown(() => s.close())
  await s.setZone({ ...spec, services: [...spec.services, bigHeadless(60)] })
  return s
}

/** A fake upstream on 127.0.0.1: answers A 192.0.2.<n> with n = queries seen, or stays silent. */
async function fakeUpstream(t: Test, silent = false): Promise<{ port: number; seen: packet.Packet[] }> {
  const s = dgram.createSocket('udp4')
  const seen: packet.Packet[] = []
  s.on('message', (msg, rinfo) => {
    const q = packet.decode(msg)
    seen.push(q)
    if (silent) return
    s.send(packet.encode({
      id: q.id, type: 'response', flags: packet.RECURSION_AVAILABLE | (q.flags ?? 0), questions: q.questions,
      answers: [{ name: q.questions![0]!.name, type: 'A', ttl: 60, data: `192.0.2.${seen.length}` }],
    }), rinfo.port, rinfo.address)
  })
  await new Promise<void>(resolve => s.bind(0, '127.0.0.1', resolve))
  t.teardown(() => s.close())
  return { port: s.address().port, seen }
}

const engines: [string, DnsServerOptions][] = [['dgram', { udpThreads: 0 }]]
if (batchUdpAvailable()) engines.unshift(['batch (recvmmsg/sendmmsg thread)', { udpThreads: 1 }], ['batch, 2 threads (SO_REUSEPORT)', { udpThreads: 2 }])

for (const [engine, options] of engines) {
  t.test(`UDP, ${engine}`, async t => {
    const s = await server(t, options)
    const d = decode((await udpAsk(s.port, query(KUBERNETES, 'A', { id: 99 })))!)
    t.equal(d.id, 99)
    t.same(rows(d), [[KUBERNETES, 'A', '10.96.0.1']])
    t.same(rows(decode((await udpAsk(s.port, query('_http._tcp.web.default.svc.cluster.local', 'SRV')))!)).length, 3)
    t.equal(decode((await udpAsk(s.port, query('nope.default.svc.cluster.local')))!).rcode, 'NXDOMAIN')
    t.equal(decode((await udpAsk(s.port, query('example.com')))!).rcode, 'REFUSED', 'no upstream: REFUSED')
    t.equal(decode((await udpAsk(s.port, Buffer.concat([query(KUBERNETES).subarray(0, 12), Buffer.from([5, 1])])))!).rcode, 'FORMERR')
    t.equal(await udpAsk(s.port, Buffer.alloc(3), 300), undefined, 'a runt is dropped')

    const tc = decode((await udpAsk(s.port, query('big.default.svc.cluster.local')))!)
    t.ok(tc.flag_tc, 'over 512 bytes: TC over UDP')
    const [full] = await tcpAsk(s.port, [query('big.default.svc.cluster.local')])
    t.equal(decode(full!).answers!.length, 60, 'the full answer over TCP')
    t.notOk(decode(full!).flag_tc)

    // Many queries in parallel, each answered with its own ID.
    const ids = Array.from({ length: 200 }, (_, i) => i + 1000)
    const answers = await Promise.all(ids.map(id => udpAsk(s.port, query(KUBERNETES, 'A', { id }))))
    t.same(answers.map(a => a && decode(a).id), ids)

    const c = s.counters
    t.equal(c.received, 208)
    t.equal(c.answered, 207)
    t.equal(c.dropped, 1)
    t.equal(c.formerr, 1)
    t.equal(c.refused, 1)
    t.equal(c.nxdomain, 1)
    t.equal(c.truncated, 1)
    t.equal(c.tcp, 1)
  })

  t.test(`zone changes are served at once, ${engine}`, async t => {
    const s = await server(t, options)
    const u = await s.updateService({ ...spec.services[0]!, clusterIP: '10.96.0.77' })
    t.ok(u.ms < 100, `programming latency ${u.ms.toFixed(1)} ms`)
    t.same(rows(decode((await udpAsk(s.port, query(KUBERNETES)))!)).map(r => r[2]), ['10.96.0.77'])
    await s.setZone({ domain: 'other.test', services: spec.services })
    t.same(rows(decode((await udpAsk(s.port, query('kubernetes.default.svc.other.test')))!)).map(r => r[2]), ['10.96.0.1'])
    t.equal(decode((await udpAsk(s.port, query(KUBERNETES)))!).rcode, 'REFUSED', 'the old domain is outside now')
    await s.removeService('default', 'kubernetes')
    t.equal(decode((await udpAsk(s.port, query('kubernetes.default.svc.other.test')))!).rcode, 'NXDOMAIN')
  })
}

t.test('TCP: several queries per connection, split frames, idle timeout', async t => {
  const s = await server(t, { tcpIdleTimeoutMs: 300 })
  const names = [KUBERNETES, 'web.default.svc.cluster.local', 'example.com', 'dns-version.cluster.local']
  const responses = await tcpAsk(s.port, names.map((n, i) => query(n, n.startsWith('dns') ? 'TXT' : 'A', { id: i + 1 })))
  t.same(responses.map(r => decode(r).id), [1, 2, 3, 4])
  t.same(responses.map(r => decode(r).rcode), ['NOERROR', 'NOERROR', 'REFUSED', 'NOERROR'])

  // One byte at a time.
  const socket = net.connect(s.port, '127.0.0.1')
  await new Promise(resolve => socket.once('connect', resolve))
  const msg = query(KUBERNETES, 'A', { id: 55 })
  const framed = Buffer.concat([Buffer.from([0, msg.length]), msg])
  const got = new Promise<Buffer>(resolve => socket.once('data', resolve))
  for (const byte of framed) {
    socket.write(Buffer.from([byte]))
    await new Promise(resolve => setImmediate(resolve))
  }
  const answer = await got
  t.equal(answer.readUInt16BE(0), answer.length - 2)
  t.equal(decode(answer.subarray(2)).id, 55)
  const closed = await Promise.race([
    new Promise(resolve => socket.once('close', () => resolve('closed'))),
    new Promise(resolve => setTimeout(() => resolve('still open'), 3000)),
  ])
  t.equal(closed, 'closed', 'idle connections are closed')
})

t.test('forwarding: only to the configured upstream, with the client\'s ID; SERVFAIL on timeout', async t => {
  const up = await fakeUpstream(t)
  for (const [engine, options] of engines) {
    const s = await server(t, { ...options, upstreams: [`127.0.0.1:${up.port}`], allowedSources: ['127.0.0.0/8'] })
    const before = up.seen.length
    const d = decode((await udpAsk(s.port, query('www.example.com', 'A', { id: 321 })))!)
    t.equal(d.id, 321, `${engine}: the client's ID`)
    t.equal(d.rcode, 'NOERROR')
    t.same(rows(d).map(r => r[2]), [`192.0.2.${before + 1}`], `${engine}: the upstream's answer`)
    t.not(up.seen[before]!.id, 321, `${engine}: the upstream saw our own ID`)
    const viaTcp = decode((await tcpAsk(s.port, [query('www.example.org', 'A', { id: 322 })]))[0]!)
    t.equal(viaTcp.id, 322)
    t.same(rows(viaTcp).map(r => r[2]), [`192.0.2.${before + 2}`], `${engine}: forwarded for a TCP client too`)
    t.same(rows(decode((await udpAsk(s.port, query(KUBERNETES)))!)).map(r => r[2]), ['10.96.0.1'], 'cluster names are never forwarded')
    t.equal(up.seen.length, before + 2)
    t.equal(s.counters.forwarded, 2)
    t.ok(decode((await udpAsk(s.port, query(KUBERNETES)))!).flag_ra, 'RA: recursion available')
  }

  const silent = await fakeUpstream(t, true)
  const s = await server(t, { upstreams: [`127.0.0.1:${silent.port}`], allowedSources: ['127.0.0.0/8'], forwardTimeoutMs: 200 })
  const d = decode((await udpAsk(s.port, query('slow.example.com', 'A', { id: 7 })))!)
  t.equal(d.rcode, 'SERVFAIL')
  t.equal(d.id, 7)
  t.equal(s.counters.servfail, 1, JSON.stringify(s.counters))
})

t.test('clients outside the allowed ranges are never recursed for', async t => {
  const up = await fakeUpstream(t)
  const s = await server(t, { upstreams: [`127.0.0.1:${up.port}`], allowedSources: ['10.244.0.0/16', '198.18.0.0/24'] })
  t.equal(decode((await udpAsk(s.port, query('www.example.com')))!).rcode, 'REFUSED')
  t.equal(decode((await tcpAsk(s.port, [query('www.example.com')]))[0]!).rcode, 'REFUSED')
  t.same(rows(decode((await udpAsk(s.port, query(KUBERNETES)))!)).map(r => r[2]), ['10.96.0.1'], 'the zone still answers them')
  t.equal(up.seen.length, 0)
})

t.test('options are checked', async t => {
  t.throws(() => new DnsServer({ upstreams: ['8.8.8.8:99999'] }), { code: 'EBADUPSTREAM' })
  t.throws(() => new DnsServer({ allowedSources: ['10.0.0.1/8'] }), { code: 'EBADCIDR' })
  t.throws(() => new DnsServer({ address: 'localhost' }), { code: 'EBADADDRESS' })
  const a = await server(t)
  const b = new DnsServer({ port: a.port, udpThreads: 0 })
  await t.rejects(b.start(), { code: 'EADDRINUSE' })
})

const dig = await promisify(execFile)('dig', ['-v']).then(() => true, () => false)
t.test('dig agrees', { skip: dig ? false : 'dig is not installed' }, async t => {
  const s = await server(t)
  const run = async (...args: string[]): Promise<string> =>
    (await promisify(execFile)('dig', ['@127.0.0.1', '-p', String(s.port), '+time=2', '+tries=1', ...args])).stdout
  t.equal((await run('+short', KUBERNETES)).trim(), '10.96.0.1')
  t.equal((await run('+short', '-x', '10.96.0.1')).trim(), `${KUBERNETES}.`)
  t.match(await run('nope.default.svc.cluster.local'), /status: NXDOMAIN/)
  t.match(await run('big.default.svc.cluster.local', '+noedns'), /Truncated, retrying in TCP mode/)
  t.equal((await run('+short', 'big.default.svc.cluster.local')).trim().split('\n').length, 60)
  t.equal((await run('+short', 'TXT', 'dns-version.cluster.local')).trim(), '"1.1.0"')
})
