import t from 'tap'
import { localCounters, snapshotCounters } from '../../../dataplane/overlay/vxlan/counters.ts'
import { type DatagramSink, EncapPath } from '../../../dataplane/overlay/vxlan/encap-path.ts'
import { partialChecksum } from '../../../dataplane/overlay/vxlan/decap-path.ts'
import { ipv4ToU32 } from '../../../dataplane/overlay/vxlan/mmsg.ts'
import { PeerTable } from '../../../dataplane/overlay/vxlan/peer-table.ts'
import { TsoSegmenter } from '../../../dataplane/overlay/vxlan/tso-segment.ts'
import { encodeVirtioNetHeader, VirtioNetHeader } from '../../../dataplane/overlay/vxlan/virtio-net-header.ts'
import { refIpHeaderOk, refL4Ok } from './fixtures/reference.ts'
import { arpFrame, icmpFrame, MAC_A, patternPayload, tcpFrame, tsOption, tsoFrame, udpFrame } from './fixtures/frames.ts'

const NODE2 = { mac: '02:00:00:00:00:0b', underlayIP: '198.18.0.12' } // MAC_B: the fixtures' default destination
const NODE3 = { mac: '0e:00:00:00:00:03', underlayIP: '198.18.0.13' }
const VXLAN_VNI1 = [0x08, 0, 0, 0, 0, 0, 1, 0]

interface Message {
  ip: number
  gsoSize: number
  datagrams: number
  bytes: Buffer
}

/** Records messages; the bytes are read at flush(), when the real sink would send them. */
class RecordingSink implements DatagramSink {
  messages: Message[] = []
  flushes = 0
  #open: { ip: number; gsoSize: number; datagrams: number; parts: [Buffer, number, number][]; expected: number }[] = []
  begin(ip: number, gsoSize: number, datagrams: number, parts: number): void {
    this.#open.push({ ip, gsoSize, datagrams, parts: [], expected: parts })
  }
  part(buf: Buffer, offset: number, length: number): void {
    const m = this.#open.at(-1)
    if (!m) throw new Error('part() before begin()')
    m.parts.push([buf, offset, length])
    if (m.parts.length > m.expected) throw new Error('more parts than announced')
  }
  flush(): void {
    this.flushes++
    for (const m of this.#open) {
      this.messages.push({ ip: m.ip, gsoSize: m.gsoSize, datagrams: m.datagrams, bytes: Buffer.concat(m.parts.map(([b, o, l]) => b.subarray(o, o + l))) })
    }
    this.#open = []
  }
  /** Every datagram of every message, as the kernel would cut them. */
  datagrams(): { ip: number; bytes: Buffer }[] {
    return this.messages.flatMap(m => {
      if (m.gsoSize === 0) return [{ ip: m.ip, bytes: m.bytes }]
      const out: { ip: number; bytes: Buffer }[] = []
      for (let at = 0; at < m.bytes.length; at += m.gsoSize) out.push({ ip: m.ip, bytes: m.bytes.subarray(at, at + m.gsoSize) })
      return out
    })
  }
}

function setup(options: { udpGso?: boolean; vnetHdr?: boolean; peers?: (typeof NODE2 & { partialChecksums?: boolean })[] } = {}) {
  const counters = localCounters()
  const sink = new RecordingSink()
  const path = new EncapPath({ vni: 1, vnetHdr: options.vnetHdr ?? true, udpGso: options.udpGso ?? true, counters, sink })
  path.peers = PeerTable.from(options.peers ?? [NODE2, NODE3])
  return { path, sink, stats: () => snapshotCounters(counters) }
}

type Vnet = Pick<VirtioNetHeader, 'flags' | 'gsoType' | 'hdrLen' | 'gsoSize' | 'csumStart' | 'csumOffset'>

/** What a read from the TAP returns: the vnet header, then the frame, at `offset` of a larger buffer. */
function tapRead(frame: Buffer, vnet: Partial<Vnet> = {}, offset = 0): { buf: Buffer; offset: number; length: number } {
  const buf = Buffer.alloc(offset + 10 + frame.length + 16, 0xee)
  encodeVirtioNetHeader(Object.assign(new VirtioNetHeader(), vnet), buf, offset)
  frame.copy(buf, offset + 10)
  return { buf, offset, length: 10 + frame.length }
}

function send(path: EncapPath, sink: RecordingSink, read: { buf: Buffer; offset: number; length: number }): boolean {
  const retained = path.frame(read.buf, read.offset, read.length)
  sink.flush()
  return retained
}

t.test('a plain frame goes to the peer owning its destination MAC, in place', async t => {
  const { path, sink, stats } = setup()
  const frame = icmpFrame({ payload: patternPayload(56) })
  const read = tapRead(frame, {}, 6)
  t.equal(path.frame(read.buf, read.offset, read.length), true, 'the read buffer is referenced until the flush')
  t.equal(sink.messages.length, 0, 'nothing is sent before the flush')
  sink.flush()
  t.equal(sink.messages.length, 1)
  const m = sink.messages[0]!
  t.equal(m.ip, ipv4ToU32('198.18.0.12'))
  t.equal(m.gsoSize, 0)
  t.same([...m.bytes.subarray(0, 8)], VXLAN_VNI1, 'RFC 7348 header: I flag, VNI 1')
  t.same(m.bytes.subarray(8), frame, 'inner frame unchanged')
  const s = stats()
  t.match(s.tx, { frames: 1, bytes: frame.length, floods: 0, gsoFrames: 0 }) // datagrams and sends are the sink's to count
})

t.test('broadcast (ARP) and unknown MACs are flooded to every peer', async t => {
  const { path, sink, stats } = setup()
  send(path, sink, tapRead(arpFrame()))
  send(path, sink, tapRead(udpFrame({ dstMac: [0x0e, 9, 9, 9, 9, 9] })))
  t.same(sink.messages.map(m => m.ip), [ipv4ToU32('198.18.0.12'), ipv4ToU32('198.18.0.13'), ipv4ToU32('198.18.0.12'), ipv4ToU32('198.18.0.13')])
  t.same(sink.messages[0]!.bytes, sink.messages[1]!.bytes, 'the same datagram to each')
  t.same(sink.messages[1]!.bytes.subarray(8), arpFrame())
  t.match(stats().tx, { frames: 2, floods: 2 })
})

t.test('drops: no peers, short reads, odd offloads', async t => {
  const empty = setup({ peers: [] })
  t.equal(send(empty.path, empty.sink, tapRead(icmpFrame())), false)
  t.equal(empty.stats().drops.tx['no-peers'], 1)

  const { path, sink, stats } = setup()
  t.equal(path.frame(Buffer.alloc(9), 0, 9), false)
  t.equal(path.frame(Buffer.alloc(23), 0, 23), false, 'vnet header but no Ethernet header')
  t.equal(path.frame(Buffer.alloc(40), 20, 30), false, 'range past the buffer')
  send(path, sink, tapRead(tcpFrame(), { gsoType: 3, gsoSize: 1000 }))
  send(path, sink, tapRead(udpFrame(), { flags: 1, csumStart: 34, csumOffset: 500 }))
  send(path, sink, tapRead(tcpFrame(), { flags: 1, gsoType: 1, gsoSize: 0, csumStart: 34, csumOffset: 16 }))
  t.equal(sink.messages.length, 0)
  t.match(stats().drops.tx, { 'tap-too-short': 3, 'unsupported-gso': 1, 'bad-csum-offset': 1, 'bad-gso-size': 1 })
})

t.test('a partial checksum (NEEDS_CSUM) is completed before sending', async t => {
  const { path, sink } = setup()
  const frame = udpFrame({ payload: patternPayload(300), checksum: 'pseudo' })
  send(path, sink, tapRead(frame, { flags: 1, csumStart: 34, csumOffset: 6 }))
  const inner = sink.messages[0]!.bytes.subarray(8)
  t.ok(refL4Ok(inner), 'UDP checksum is right')
  t.same(inner.subarray(0, 40), frame.subarray(0, 40), 'headers otherwise unchanged')
})

t.test('without a vnet header the 10 bytes in front are only headroom', async t => {
  const { path, sink } = setup({ vnetHdr: false })
  const frame = icmpFrame()
  const read = tapRead(frame, { flags: 1, gsoType: 1, gsoSize: 5, csumStart: 99, csumOffset: 99 })
  send(path, sink, read)
  t.same(sink.messages[0]!.bytes.subarray(8), frame, 'garbage in the header slot is ignored')
})

t.test('a TSO frame leaves as MTU-sized VXLAN datagrams in one or two UDP GSO sends', async t => {
  const { path, sink, stats } = setup()
  const mss = 1398
  const payload = patternPayload(64000)
  const { frame, vnet } = tsoFrame({ payload, seq: 77, tcpOptions: tsOption(5), flags: 0x18 }, mss)
  t.equal(path.frame(tapRead(frame, vnet).buf, 0, 10 + frame.length), false, 'the read buffer is free again on return')
  t.equal(sink.flushes, 1, 'sent before returning: the segmenter reuses its arena')
  const count = Math.ceil(payload.length / mss)
  const datagrams = sink.datagrams()
  t.equal(datagrams.length, count)
  t.same(sink.messages.map(m => m.datagrams), [44, count - 44])
  t.same(sink.messages.map(m => m.gsoSize), [8 + 66 + mss, 8 + 66 + mss], 'segment size = one full datagram')
  t.ok(datagrams.every(d => d.bytes.length + 28 <= 1500), 'each fits a 1500-byte underlay')

  // The same segments the copying segmenter makes, each behind a VXLAN header.
  const reference: Buffer[] = []
  new TsoSegmenter({ headroom: 0 }).segment(Object.assign(new VirtioNetHeader(), vnet), frame, 0, frame.length, (b, o, l) => {
    reference.push(Buffer.from(b.subarray(o, o + l)))
  })
  t.equal(reference.length, count)
  datagrams.forEach((d, i) => {
    if (!d.bytes.subarray(0, 8).equals(Buffer.from(VXLAN_VNI1)) || !d.bytes.subarray(8).equals(reference[i]!)) {
      t.fail(`datagram ${i} differs`)
    }
  })
  const inner = datagrams.map(d => d.bytes.subarray(8))
  t.ok(inner.every(f => refIpHeaderOk(f) && refL4Ok(f)), 'every segment has correct IP and TCP checksums')
  t.same(Buffer.concat(inner.map(f => f.subarray(66))), payload, 'payload in order')
  t.match(stats().tx, { frames: 1, gsoFrames: 1, bytes: frame.length })
})

t.test('without UDP GSO every datagram is its own message', async t => {
  const { path, sink } = setup({ udpGso: false })
  const { frame, vnet } = tsoFrame({ payload: patternPayload(5000) }, 1448)
  send(path, sink, tapRead(frame, vnet))
  t.equal(sink.messages.length, 4)
  t.ok(sink.messages.every(m => m.gsoSize === 0 && m.datagrams === 1))
})

t.test('a TSO frame to an unknown MAC is flooded, segment runs per peer', async t => {
  const { path, sink } = setup()
  const { frame, vnet } = tsoFrame({ payload: patternPayload(3000), dstMac: [...MAC_A] }, 1000)
  send(path, sink, tapRead(frame, vnet))
  t.same(sink.messages.map(m => [m.ip, m.datagrams, m.gsoSize]), [
    [ipv4ToU32('198.18.0.12'), 3, 8 + 54 + 1000],
    [ipv4ToU32('198.18.0.13'), 3, 8 + 54 + 1000],
  ])
  t.same(sink.messages[0]!.bytes, sink.messages[1]!.bytes)
})

t.test('a TSO frame with a payload of one MSS or less is one plain datagram', async t => {
  const { path, sink } = setup()
  const { frame, vnet } = tsoFrame({ payload: patternPayload(500) }, 1448)
  send(path, sink, tapRead(frame, vnet))
  t.same(sink.messages.map(m => [m.datagrams, m.gsoSize, m.bytes.length]), [[1, 0, 8 + 54 + 500]])
  t.ok(refL4Ok(sink.messages[0]!.bytes.subarray(8)))
})

t.test('toward a peer that takes them, checksums stay partial', async t => {
  const { path, sink } = setup({ peers: [{ ...NODE2, partialChecksums: true }, NODE3] })
  const udp = udpFrame({ payload: patternPayload(300), checksum: 'pseudo' })
  send(path, sink, tapRead(udp, { flags: 1, csumStart: 34, csumOffset: 6 }))
  t.same(sink.messages[0]!.bytes.subarray(8), udp, 'the pseudo-header sum is left in place')

  const mss = 1398
  const { frame, vnet } = tsoFrame({ payload: patternPayload(20000), tcpOptions: tsOption(5) }, mss)
  send(path, sink, tapRead(frame, vnet))
  const inner = sink.datagrams().slice(1).map(d => d.bytes.subarray(8))
  t.equal(inner.length, Math.ceil(20000 / mss))
  t.ok(inner.every(f => refIpHeaderOk(f)), 'IP header checksums are complete')
  t.ok(inner.every(f => !refL4Ok(f)), 'TCP checksums are partial')
  t.ok(inner.every(f => partialChecksum(f, 0, f.length, new VirtioNetHeader())), 'and the receiver recognises them as such')

  // Flooded to a mix of peers: complete.
  send(path, sink, tapRead(udpFrame({ payload: patternPayload(10), checksum: 'pseudo', dstMac: [0x0e, 9, 9, 9, 9, 9] }), { flags: 1, csumStart: 34, csumOffset: 6 }))
  const flooded = sink.messages.slice(-2).map(m => m.bytes.subarray(8))
  t.ok(flooded.every(f => refL4Ok(f)), 'a frame flooded to a mix of peers has a full checksum')
})
