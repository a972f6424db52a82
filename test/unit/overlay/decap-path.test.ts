import t from 'tap'
import { localCounters, snapshotCounters } from '../../../dataplane/overlay/vxlan/counters.ts'
import { DecapPath, type FrameSink, MAX_WRITE_PARTS, partialChecksum, RECV_HEADROOM } from '../../../dataplane/overlay/vxlan/decap-path.ts'
import { type DatagramSink, EncapPath } from '../../../dataplane/overlay/vxlan/encap-path.ts'
import { ipv4ToU32 } from '../../../dataplane/overlay/vxlan/mmsg.ts'
import { PeerTable } from '../../../dataplane/overlay/vxlan/peer-table.ts'
import { TcpCoalescer } from '../../../dataplane/overlay/vxlan/tcp-coalesce.ts'
import { decodeVirtioNetHeader, encodeVirtioNetHeader, VirtioNetHeader } from '../../../dataplane/overlay/vxlan/virtio-net-header.ts'
import { icmpFrame, patternPayload, tcpFrame, tsOption, tsoFrame, udpFrame } from './fixtures/frames.ts'
import { randomBytes, randomInt, refL4Ok, rng } from './fixtures/reference.ts'

const PEER = ipv4ToU32('198.18.0.12')
const STRANGER = ipv4ToU32('198.18.0.1')
const MSG_TRUNC = 0x20

interface Written {
  vnet: VirtioNetHeader | undefined
  frame: Buffer
  parts: number
}

class RecordingTap implements FrameSink {
  writes: Written[] = []
  fail = false
  constructor(private readonly vnetHdr = true) {}
  #record(bytes: Buffer, parts: number): boolean {
    if (this.fail) return false
    if (!this.vnetHdr) {
      this.writes.push({ vnet: undefined, frame: Buffer.from(bytes), parts })
      return true
    }
    const vnet = decodeVirtioNetHeader(bytes, 0, bytes.length, new VirtioNetHeader())
    if (vnet === 'too-short') throw new Error('write without a vnet header')
    this.writes.push({ vnet, frame: Buffer.from(bytes.subarray(10)), parts })
    return true
  }
  write(buf: Buffer, offset: number, length: number): boolean {
    return this.#record(buf.subarray(offset, offset + length), 1)
  }
  writeParts(bufs: readonly Buffer[], offsets: Int32Array, lengths: Int32Array, count: number): boolean {
    if (count > MAX_WRITE_PARTS) throw new Error('too many parts for one writev')
    const parts = Array.from({ length: count }, (_, i) => bufs[i]!.subarray(offsets[i]!, offsets[i]! + lengths[i]!))
    return this.#record(Buffer.concat(parts), count)
  }
}

function setup(options: { vnetHdr?: boolean; coalesce?: boolean; verifyChecksums?: boolean } = {}) {
  const counters = localCounters()
  const tap = new RecordingTap(options.vnetHdr ?? true)
  const path = new DecapPath({ vni: 1, vnetHdr: options.vnetHdr ?? true, coalesce: options.coalesce ?? true, counters, tap, verifyChecksums: options.verifyChecksums ?? false })
  path.peers = PeerTable.from([{ mac: '0e:00:00:00:00:02', underlayIP: '198.18.0.12' }])
  return { path, tap, stats: () => snapshotCounters(counters) }
}

const vxlan = (frame: Buffer, vni = 1, flags = 0x08) => Buffer.concat([Buffer.from([flags, 0, 0, 0, vni >> 16, (vni >> 8) & 0xff, vni & 0xff, 0]), frame])

/** A received message: datagrams back to back after the receive headroom, as recvmmsg leaves them. */
function message(datagrams: Buffer[]): { buf: Buffer; offset: number; length: number } {
  const body = Buffer.concat(datagrams)
  const buf = Buffer.alloc(RECV_HEADROOM + body.length + 7, 0xcc)
  body.copy(buf, RECV_HEADROOM)
  return { buf, offset: RECV_HEADROOM, length: body.length }
}

/** Datagrams of different sizes, each its own message, in one receive batch. */
function receiveEach(path: DecapPath, datagrams: Buffer[]): void {
  for (const d of datagrams) {
    const m = message([d])
    path.message(m.buf, m.offset, m.length, PEER, 0, 0)
  }
  path.flush()
}

function receive(path: DecapPath, datagrams: Buffer[], source = PEER, groSize = 0, flags = 0): void {
  const m = message(datagrams)
  path.message(m.buf, m.offset, m.length, source, groSize, flags)
  path.flush()
}

t.test('a datagram from a peer is written into the TAP with an empty vnet header', async t => {
  const { path, tap, stats } = setup()
  const frame = icmpFrame({ payload: patternPayload(56) })
  receive(path, [vxlan(frame)])
  t.equal(tap.writes.length, 1)
  t.same(tap.writes[0]!.frame, frame)
  t.same({ ...tap.writes[0]!.vnet }, { ...new VirtioNetHeader() })
  t.match(stats().rx, { messages: 1, datagrams: 1, bytes: frame.length + 8, frames: 1, tapWrites: 1, tapBytes: frame.length, coalesced: 0 })
})

t.test('validation: every reason counted, nothing written', async t => {
  const { path, tap, stats } = setup()
  const frame = udpFrame()
  receive(path, [vxlan(frame)], STRANGER)
  receive(path, [vxlan(frame), vxlan(frame)], STRANGER, frame.length + 8)
  receive(path, [vxlan(frame)], -1)
  receive(path, [Buffer.alloc(21, 8)])
  receive(path, [Buffer.alloc(0)])
  receive(path, [vxlan(frame, 1, 0x00)])
  receive(path, [vxlan(frame, 1, 0xf7)], PEER)
  receive(path, [vxlan(frame, 2)])
  receive(path, [vxlan(frame, 0x10001)])
  receive(path, [vxlan(frame)], PEER, 0, MSG_TRUNC)
  t.equal(tap.writes.length, 0)
  t.match(stats().drops.rx, { 'unknown-source': 4, 'too-short': 2, 'no-i-flag': 2, 'wrong-vni': 2, truncated: 1 })
  t.equal(stats().rx.frames, 0)
})

t.test('reserved bits are ignored on receipt, as RFC 7348 asks', async t => {
  const { path, tap } = setup()
  const d = vxlan(icmpFrame())
  d[0] = 0xff
  d[1] = d[2] = d[3] = d[7] = 0xff
  receive(path, [d])
  t.equal(tap.writes.length, 1)
})

t.test('a GRO message is cut at its segment size; a bad datagram inside drops only itself', async t => {
  const { path, tap, stats } = setup()
  const a = vxlan(icmpFrame({ seq: 1, payload: patternPayload(100) }))
  const bad = Buffer.from(a)
  bad[0] = 0
  const c = vxlan(icmpFrame({ seq: 3, payload: patternPayload(60) })) // the last may be shorter
  receive(path, [a, bad, c], PEER, a.length)
  t.same(tap.writes.map(w => w.frame), [a.subarray(8), c.subarray(8)])
  t.match(stats().rx, { messages: 1, datagrams: 3, frames: 2 })
  t.equal(stats().drops.rx['no-i-flag'], 1)
})

// Datagrams as our own encapsulator sends them, for the round trip.
function encapsulated(frame: Buffer, vnet: Partial<VirtioNetHeader>): { datagrams: Buffer[]; gsoSize: number } {
  const datagrams: Buffer[] = []
  let gsoSize = 0
  const parts: Buffer[] = []
  const sink: DatagramSink = {
    begin: (_ip, g) => {
      gsoSize = Math.max(gsoSize, g)
    },
    part: (b, o, l) => void parts.push(Buffer.from(b.subarray(o, o + l))),
    flush: () => {},
  }
  const path = new EncapPath({ vni: 1, vnetHdr: true, udpGso: true, counters: localCounters(), sink })
  path.peers = PeerTable.from([{ mac: '02:00:00:00:00:0b', underlayIP: '198.18.0.12' }])
  const read = Buffer.alloc(10 + frame.length)
  encodeVirtioNetHeader(Object.assign(new VirtioNetHeader(), vnet), read, 0)
  frame.copy(read, 10)
  path.frame(read, 0, read.length)
  const all = Buffer.concat(parts)
  for (let at = 0; at < all.length; at += gsoSize || all.length) datagrams.push(all.subarray(at, at + (gsoSize || all.length)))
  return { datagrams, gsoSize }
}

t.test('round trip: a TSO frame, encapsulated, comes back as one GSO frame for the TAP', async t => {
  const { path, tap, stats } = setup()
  const payload = patternPayload(60000, 3)
  const tso = tsoFrame({ payload, seq: 1_000_000, id: 7, tcpOptions: tsOption(9), flags: 0x18 }, 1386)
  const { datagrams, gsoSize } = encapsulated(tso.frame, tso.vnet)
  t.equal(datagrams.length, Math.ceil(60000 / 1386))
  // Two messages, as UDP GRO would deliver the two GSO sends.
  const m1 = message(datagrams.slice(0, 44))
  const m2 = message(datagrams.slice(44))
  path.message(m1.buf, m1.offset, m1.length, PEER, gsoSize, 0)
  path.message(m2.buf, m2.offset, m2.length, PEER, gsoSize, 0)
  path.flush()
  t.equal(tap.writes.length, 1, 'one TAP write for the whole burst')
  const w = tap.writes[0]!
  t.equal(w.parts, 1 + datagrams.length, 'headers plus one part per segment: nothing copied in JavaScript')
  t.match({ ...w.vnet }, { flags: 1, gsoType: 1, gsoSize: 1386, csumStart: 34, csumOffset: 16, hdrLen: 66 })
  t.same(w.frame.subarray(66), payload, 'payload in order')
  t.same(w.frame.subarray(0, 16), tso.frame.subarray(0, 16), 'Ethernet and start of IP as sent')
  t.equal(w.frame.readUInt16BE(16), 20 + 32 + 60000, 'IP total length of the merged frame')
  t.equal(w.frame[14 + 20 + 13], 0x18, 'PSH kept on the merged frame')
  t.match(stats().rx, { messages: 2, datagrams: datagrams.length, frames: datagrams.length, tapWrites: 1, coalesced: 1 })
})

t.test('gather output is byte for byte what the copying coalescer makes', async t => {
  const r = rng(42)
  for (let round = 0; round < 30; round++) {
    const { path, tap } = setup({ verifyChecksums: round % 2 === 0 })
    const reference = new TcpCoalescer({ verifyChecksums: round % 2 === 0 })
    const frames: Buffer[] = []
    // Interleaved flows, some plain frames, some odd ones.
    const seqs = [1000, 5000, 9000]
    for (let i = 0; i < 40; i++) {
      const kind = randomInt(r, 10)
      if (kind < 7) {
        const flow = randomInt(r, 3)
        const size = randomInt(r, 4) === 0 ? 1 + randomInt(r, 1000) : 1000
        frames.push(tcpFrame({ srcPort: 40000 + flow, seq: seqs[flow]!, payload: randomBytes(r, size), flags: randomInt(r, 6) === 0 ? 0x18 : 0x10 }))
        seqs[flow]! += size
      } else if (kind < 9) {
        frames.push(icmpFrame({ seq: i }))
      } else {
        frames.push(randomBytes(r, 14 + randomInt(r, 100)))
      }
    }
    receiveEach(path, frames.map(f => vxlan(f)))
    const expected: Buffer[] = []
    for (const f of frames) reference.add(f, 0, f.length)
    reference.flush((b, o, l, v) => {
      const out = Buffer.alloc(10 + l)
      encodeVirtioNetHeader(v, out, 0)
      b.copy(out, 10, o, o + l)
      expected.push(out)
    })
    const got = tap.writes.map(w => {
      const out = Buffer.alloc(10 + w.frame.length)
      encodeVirtioNetHeader(w.vnet!, out, 0)
      w.frame.copy(out, 10)
      return out
    })
    if (got.length !== expected.length || got.some((g, i) => !g.equals(expected[i]!))) {
      const i = got.findIndex((g, k) => !expected[k] || !g.equals(expected[k]!))
      t.fail(`round ${round}: gather output differs (${got.length} vs ${expected.length} writes; first at ${i}: ${got[i]?.toString('hex').slice(0, 200)} vs ${expected[i]?.toString('hex').slice(0, 200)})`)
    }
  }
  t.pass('30 random batches')
})

t.test('more pieces than one writev takes: copied together instead', async t => {
  const { path, tap } = setup()
  const n = MAX_WRITE_PARTS + 100
  const frames = Array.from({ length: n }, (_, i) => tcpFrame({ seq: 1 + i, payload: [i & 0xff] }))
  receive(path, frames.map(f => vxlan(f)), PEER, frames[0]!.length + 8)
  // At most 65535 bytes of IP per merged frame: 1 payload byte per segment fits them all.
  t.equal(tap.writes.length, 1)
  t.equal(tap.writes[0]!.parts, 1, 'one contiguous write')
  t.same([...tap.writes[0]!.frame.subarray(54)], Array.from({ length: n }, (_, i) => i & 0xff))
})

t.test('without coalescing, or without a vnet header, frames go one by one', async t => {
  const seg = (i: number) => tcpFrame({ seq: 1000 + i * 100, payload: patternPayload(100, i) })
  const plain = setup({ coalesce: false })
  receive(plain.path, [0, 1, 2].map(i => vxlan(seg(i))), PEER, seg(0).length + 8)
  t.equal(plain.tap.writes.length, 3)
  t.ok(plain.tap.writes.every(w => w.vnet?.gsoType === 0))
  t.same(plain.tap.writes[1]!.frame, seg(1))

  const bare = setup({ vnetHdr: false })
  receive(bare.path, [0, 1].map(i => vxlan(seg(i))), PEER, seg(0).length + 8)
  t.same(bare.tap.writes.map(w => w.frame), [seg(0), seg(1)])
  t.equal(bare.tap.writes[0]!.vnet, undefined)
})

t.test('a refused TAP write is counted', async t => {
  const { path, tap, stats } = setup()
  tap.fail = true
  receive(path, [vxlan(icmpFrame())])
  receive(path, [0, 1].map(i => vxlan(tcpFrame({ seq: 1000 + i * 100, payload: patternPayload(100) }))), PEER, 162)
  t.equal(stats().drops.rx['tap-write-error'], 2)
  t.equal(stats().rx.tapWrites, 0)
})

t.test('partial checksums from kernel peers become NEEDS_CSUM (or are completed)', async t => {
  const { path, tap } = setup()
  const synAck = tcpFrame({ flags: 0x12, tcpOptions: tsOption(1), checksum: 'pseudo' })
  const udp = udpFrame({ payload: patternPayload(40), checksum: 'pseudo' })
  const full = tcpFrame({ flags: 0x12, tcpOptions: tsOption(1) })
  const bad = tcpFrame({ flags: 0x12, checksum: 'bad' })
  receiveEach(path, [vxlan(synAck), vxlan(udp), vxlan(full), vxlan(bad)])
  t.match({ ...tap.writes[0]!.vnet }, { flags: 1, gsoType: 0, csumStart: 34, csumOffset: 16 }, 'TCP')
  t.match({ ...tap.writes[1]!.vnet }, { flags: 1, gsoType: 0, csumStart: 34, csumOffset: 6 }, 'UDP')
  t.same({ ...tap.writes[2]!.vnet }, { ...new VirtioNetHeader() }, 'a full checksum is left for the kernel to check')
  t.same({ ...tap.writes[3]!.vnet }, { ...new VirtioNetHeader() }, 'so is a wrong one')
  t.same(tap.writes[0]!.frame, synAck, 'frame unchanged')

  const bare = setup({ vnetHdr: false })
  receiveEach(bare.path, [vxlan(synAck)])
  t.ok(refL4Ok(bare.tap.writes[0]!.frame), 'without a vnet header the checksum is completed')

  const one = setup({ coalesce: false })
  receiveEach(one.path, [vxlan(udp)])
  t.match({ ...one.tap.writes[0]!.vnet }, { flags: 1, csumOffset: 6 }, 'also without coalescing')
})

t.test('partialChecksum() looks only at IPv4 TCP/UDP that fit', async t => {
  const v = new VirtioNetHeader()
  t.ok(partialChecksum(tcpFrame({ checksum: 'pseudo' }), 0, 54, v))
  t.notOk(partialChecksum(tcpFrame({ checksum: 'pseudo' }), 0, 53, v.reset()), 'cut short')
  t.notOk(partialChecksum(tcpFrame({ checksum: 'pseudo', mf: true }), 0, 54, v.reset()), 'a fragment')
  t.notOk(partialChecksum(udpFrame({ checksum: 'zero' }), 0, 42, v.reset()), 'UDP without checksum')
  t.notOk(partialChecksum(icmpFrame(), 0, 42, v.reset()), 'ICMP')
  t.notOk(partialChecksum(Buffer.alloc(10), 0, 10, v.reset()))
  t.equal(v.flags, 0)
})

t.test('a kernel peer\'s unsegmented TSO frame goes to the TAP as one GSO frame', async t => {
  const { path, tap, stats } = setup()
  const before = icmpFrame({ seq: 1 })
  const big = tcpFrame({ payload: patternPayload(10000), tcpOptions: tsOption(2), flags: 0x18, checksum: 'pseudo' })
  const after = icmpFrame({ seq: 2 })
  receiveEach(path, [vxlan(before), vxlan(big), vxlan(after)])
  t.same(tap.writes.map(w => w.frame.length), [before.length, big.length, after.length], 'in order, the big one whole')
  t.match({ ...tap.writes[1]!.vnet }, { flags: 1, gsoType: 1, gsoSize: 1450 - 20 - 32, hdrLen: 66, csumStart: 34, csumOffset: 16 })
  t.equal(stats().rx.peerGso, 1)

  // The kernel may report the inner MSS as a GRO size for such a datagram: still one datagram.
  receive(path, [vxlan(big)], PEER, 1398)
  t.equal(tap.writes.length, 4)
  t.equal(tap.writes[3]!.frame.length, big.length)

  // With CWR set it is an ECN burst.
  const cwr = tcpFrame({ payload: patternPayload(5000), flags: 0x90, checksum: 'pseudo' })
  receive(path, [vxlan(cwr)])
  t.equal(tap.writes[4]!.vnet!.gsoType, 0x81)

  // Oversized with a full checksum (not a GSO frame): written as it is, counted.
  const other = tcpFrame({ payload: patternPayload(3000) })
  receive(path, [vxlan(other)])
  t.equal(tap.writes[5]!.vnet!.gsoType, 0)
  t.equal(stats().rx.oversized, 1)
})

t.test('round trip with partial checksums: merged as usual, stragglers marked NEEDS_CSUM', async t => {
  const { path, tap } = setup()
  const frames = [0, 1, 2].map(i => tcpFrame({ seq: 1000 + i * 500, payload: patternPayload(500, i), checksum: 'pseudo' }))
  const lone = tcpFrame({ srcPort: 41000, payload: patternPayload(100), checksum: 'pseudo' })
  receive(path, frames.map(f => vxlan(f)), PEER, frames[0]!.length + 8)
  receiveEach(path, [vxlan(lone)])
  t.equal(tap.writes.length, 2)
  t.match({ ...tap.writes[0]!.vnet }, { flags: 1, gsoType: 1, gsoSize: 500 }, 'merged')
  t.match({ ...tap.writes[1]!.vnet }, { flags: 1, gsoType: 0, csumStart: 34, csumOffset: 16 }, 'alone')
})
