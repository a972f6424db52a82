// 100 000 random and mutated datagrams at a real server socket, garbage over
// TCP, and the hot path fed directly: nothing may crash or leak, and correct
// answers must still come back afterwards.
import net from 'node:net'
import dgram from 'node:dgram'
import v8 from 'node:v8'
import vm from 'node:vm'
import t from 'tap'
import { ClusterZone } from '../../../dataplane/dns/cluster-zone.ts'
import { DROP, newCounters, OUTSIDE, Responder } from '../../../dataplane/dns/responder.ts'
import { DnsServer } from '../../../dataplane/dns/server.ts'
import { bigHeadless, decode, query, rows, spec, tcpAsk, udpAsk } from './fixtures/dns.ts'

// A GC we can call (for heap figures that mean something), set before any thread starts.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void
;(globalThis as { gc?: () => void }).gc ??= gc

// xorshift32: the same packets every run.
let seed = 0x5eed1234
function rand(n: number): number {
  seed ^= seed << 13; seed >>>= 0
  seed ^= seed >>> 17
  seed ^= seed << 5; seed >>>= 0
  return seed % n
}

const names = [
  'kubernetes.default.svc.cluster.local', 'web.default.svc.cluster.local', '_http._tcp.web.default.svc.cluster.local',
  '1-2-3-4.default.pod.cluster.local', 'nope.svc.cluster.local', 'example.com', '1.0.96.10.in-addr.arpa', 'cluster.local',
  'big.default.svc.cluster.local', 'dns-version.cluster.local', 'WEB.Default.SVC.cluster.local', '.',
]
const types = ['A', 'AAAA', 'SRV', 'PTR', 'TXT', 'SOA', 'NS', 'CNAME', 'MX'] as const
const bases = names.flatMap(n => types.map(ty => query(n, ty, rand(2) ? { edns: [512, 1232, 4096, 65535, 100][rand(5)] } : {})))

function packetAt(): Buffer {
  switch (rand(8)) {
    case 0: { // random bytes
      const b = Buffer.alloc(rand(10) === 0 ? rand(1500) : rand(64))
      for (let i = 0; i < b.length; i++) b[i] = rand(256)
      return b
    }
    case 1: { // a valid query cut short
      const b = bases[rand(bases.length)]!
      return Buffer.from(b.subarray(0, rand(b.length)))
    }
    case 2: { // a valid query with junk appended
      const b = bases[rand(bases.length)]!
      const junk = Buffer.alloc(rand(40))
      for (let i = 0; i < junk.length; i++) junk[i] = rand(256)
      return Buffer.concat([b, junk])
    }
    case 3: { // header counts set wild
      const b = Buffer.from(bases[rand(bases.length)]!)
      b.writeUInt16BE(rand(65536), 4 + 2 * rand(4))
      return b
    }
    case 4: { // a label length or pointer planted in the name
      const b = Buffer.from(bases[rand(bases.length)]!)
      b[12 + rand(Math.max(1, b.length - 12))] = [0xc0, 0x3f, 0x40, 0xff, 0, 1][rand(6)]!
      return b
    }
    case 5: // a valid query, as is
      return bases[rand(bases.length)]!
    default: { // a few bytes flipped anywhere
      const b = Buffer.from(bases[rand(bases.length)]!)
      for (let k = 1 + rand(4); k > 0; k--) {
        const at = rand(b.length)
        b[at] = b[at]! ^ (1 << rand(8))
      }
      return b
    }
  }
}

t.test('the hot path: 200 000 packets, every answer decodable', async t => {
  const zone = new ClusterZone()
  await zone.setZone({ ...spec, services: [...spec.services, bigHeadless(60)] })
  const r = new Responder(zone, newCounters())
  const out = Buffer.alloc(65537)
  let answered = 0
  let undecodable = 0
  for (let i = 0; i < 200_000; i++) {
    const msg = packetAt()
    const tcp = rand(4) === 0
    const end = r.answer(msg, tcp, out, 0)
    if (end === DROP) continue
    const response = end === OUTSIDE ? out.subarray(0, r.refuse(msg, tcp, out, 0)) : out.subarray(0, end)
    if (!tcp && response.length > 4096) t.fail('UDP response over 4096 bytes')
    answered++
    try {
      const d = decode(Buffer.from(response))
      if (d.id !== msg.readUInt16BE(0)) t.fail('ID not echoed')
    } catch {
      undecodable++
    }
  }
  t.ok(answered > 100_000, `${answered} answered`)
  t.equal(undecodable, 0, 'every response decodes')
  t.ok(r.counters.formerr > 1000, `${r.counters.formerr} FORMERR`)
  t.ok(r.counters.dropped > 100, `${r.counters.dropped} dropped`)
})

t.test('a real server: 100 000 datagrams and TCP garbage, then correct answers and a flat heap', async t => {
  const s = new DnsServer({ port: 0 })
  await s.start()
  t.teardown(() => s.close())
  await s.setZone({ ...spec, services: [...spec.services, bigHeadless(60)] })
  const heap0 = await s.heapUsed()

  const client = dgram.createSocket('udp4')
  let replies = 0
  client.on('message', () => { replies++ })
  await new Promise<void>(resolve => client.bind(0, '127.0.0.1', resolve))
  t.teardown(() => client.close())
  const started = Date.now()
  const TOTAL = 100_000
  const BURST = 250
  for (let sent = 0; sent < TOTAL; sent += BURST) {
    for (let i = 0; i < BURST; i++) client.send(packetAt(), s.port, '127.0.0.1')
    // Let the server keep up (no kernel drops to hide behind): wait until most of the burst is answered.
    const target = s.counters.received + BURST * 0.9
    for (let spin = 0; spin < 50 && s.counters.received < target; spin++) await new Promise(resolve => setTimeout(resolve, 1))
  }
  // TCP: connections sending garbage, some cut in the middle of a frame.
  for (let k = 0; k < 50; k++) {
    const socket = net.connect(s.port, '127.0.0.1')
    socket.on('error', () => undefined)
    await new Promise(resolve => socket.once('connect', resolve))
    const junk = Buffer.concat(Array.from({ length: 20 }, () => {
      const p = packetAt()
      return Buffer.concat([Buffer.from([p.length >> 8, p.length & 0xff]), p])
    }))
    socket.write(rand(2) ? junk : junk.subarray(0, rand(junk.length)))
    if (rand(2)) socket.destroy()
    else socket.end()
  }
  await new Promise(resolve => setTimeout(resolve, 200))
  const c = s.counters
  t.comment(`${TOTAL} datagrams in ${Date.now() - started} ms; ${JSON.stringify(c)}; ${replies} replies`)
  t.ok(c.received >= TOTAL * 0.95, `the server saw ${c.received}`)
  t.ok(c.formerr > 1000 && c.dropped > 100, 'malformed ones counted')
  t.equal(c.received, c.answered + c.dropped, 'every datagram answered or counted as dropped')

  // Still right.
  t.same(rows(decode((await udpAsk(s.port, query('kubernetes.default.svc.cluster.local')))!)).map(r => r[2]), ['10.96.0.1'])
  t.equal(decode((await tcpAsk(s.port, [query('big.default.svc.cluster.local')]))[0]!).answers!.length, 60)
  t.equal(decode((await udpAsk(s.port, query('nope.default.svc.cluster.local')))!).rcode, 'NXDOMAIN')

  const heap1 = await s.heapUsed()
  const grown = (a: number, b: number): number => b - a
  t.comment(`heap after GC: main ${(heap0.main / 1e6).toFixed(1)} -> ${(heap1.main / 1e6).toFixed(1)} MB, UDP threads ${heap0.udpThreads.map(h => (h / 1e6).toFixed(1))} -> ${heap1.udpThreads.map(h => (h / 1e6).toFixed(1))} MB`)
  t.ok(grown(heap0.main, heap1.main) < 20e6, 'main thread heap did not grow without bound')
  heap1.udpThreads.forEach((h, i) => t.ok(grown(heap0.udpThreads[i]!, h) < 10e6, `UDP thread ${i} heap did not grow without bound`))
})
