import t from 'tap'
import { TsoSegmenter } from '../../../dataplane/overlay/vxlan/tso-segment.ts'
import type { TsoDropReason } from '../../../dataplane/overlay/vxlan/tso-segment.ts'
import { VirtioNetHeader } from '../../../dataplane/overlay/vxlan/virtio-net-header.ts'
import { refIpHeaderOk, refL4Ok } from './fixtures/reference.ts'
import {
  arpFrame,
  icmpFrame,
  ipv6TcpFrame,
  parseTcp,
  patternPayload,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_URG,
  tcpFrame,
  tsOption,
  tsoFrame,
  udpFrame,
} from './fixtures/frames.ts'
import type { TcpSpec, TsoInput } from './fixtures/frames.ts'

function vnetOf(v: TsoInput['vnet']): VirtioNetHeader {
  return Object.assign(new VirtioNetHeader(), v)
}

interface Emitted {
  buf: Buffer
  offset: number
  length: number
  copy: Buffer
}

function run(seg: TsoSegmenter, input: TsoInput, before = 0, after = 0): { result: number | TsoDropReason; out: Emitted[]; buf: Buffer } {
  const buf = Buffer.concat([Buffer.alloc(before, 0x77), input.frame, Buffer.alloc(after, 0x77)])
  const out: Emitted[] = []
  const result = seg.segment(vnetOf(input.vnet), buf, before, input.frame.length, (b, o, l) => {
    out.push({ buf: b, offset: o, length: l, copy: Buffer.from(b.subarray(o, o + l)) })
  })
  return { result, out, buf }
}

// Checks every segment against the original frame field by field; returns
// the problems found (empty when all is well).
function checkSegments(input: TsoInput, mss: number, out: Emitted[], headroom: number): string[] {
  const problems: string[] = []
  const p = (cond: boolean, what: string): void => {
    if (!cond) problems.push(what)
  }
  const orig = parseTcp(input.frame)
  const payload = orig.payload
  const count = payload.length === 0 ? 1 : Math.ceil(payload.length / mss)
  p(out.length === count, `count ${out.length} != ${count}`)
  const headers = 14 + orig.ihl + orig.doff
  const stride = headroom + headers + Math.min(mss, payload.length)
  const reassembled: Buffer[] = []
  out.forEach((e, i) => {
    const s = parseTcp(e.copy)
    const size = Math.min(mss, payload.length - i * mss)
    const at = `segment ${i}`
    p(e.length === headers + size, `${at}: length ${e.length}`)
    p(e.offset === out[0]!.offset + i * stride, `${at}: offset ${e.offset} breaks the stride ${stride}`)
    p(e.offset >= headroom, `${at}: no headroom`)
    p(JSON.stringify([s.dstMac, s.srcMac, s.ethType]) === JSON.stringify([orig.dstMac, orig.srcMac, orig.ethType]), `${at}: Ethernet`)
    p(s.ihl === orig.ihl && s.tos === orig.tos && s.fragField === orig.fragField && s.ttl === orig.ttl, `${at}: IP fields`)
    p(s.protocol === 6 && JSON.stringify([s.src, s.dst, s.ipOptions]) === JSON.stringify([orig.src, orig.dst, orig.ipOptions]), `${at}: IP addresses/options`)
    p(s.ipTotal === orig.ihl + orig.doff + size, `${at}: IP total length ${s.ipTotal}`)
    p(s.id === ((orig.id + i) & 0xffff), `${at}: IP id ${s.id}`)
    p(refIpHeaderOk(e.copy), `${at}: IP header checksum`)
    p(s.srcPort === orig.srcPort && s.dstPort === orig.dstPort, `${at}: ports`)
    p(s.seq === (orig.seq + i * mss) % 2 ** 32, `${at}: seq ${s.seq}`)
    p(s.ack === orig.ack && s.doff === orig.doff && s.window === orig.window && s.urgent === orig.urgent, `${at}: TCP fields`)
    p(JSON.stringify(s.tcpOptions) === JSON.stringify(orig.tcpOptions), `${at}: TCP options`)
    let flags = orig.flags
    if (i !== count - 1) flags &= ~(TCP_FIN | TCP_PSH)
    if (i !== 0) flags &= ~TCP_CWR
    p(s.flags === flags, `${at}: flags ${s.flags.toString(16)} != ${flags.toString(16)}`)
    p(refL4Ok(e.copy), `${at}: TCP checksum`)
    p(s.payload.equals(payload.subarray(i * mss, i * mss + size)), `${at}: payload`)
    reassembled.push(s.payload)
    // Still intact after the later segments were written: no overlap.
    p(e.buf.subarray(e.offset, e.offset + e.length).equals(e.copy), `${at}: overwritten by a later segment`)
  })
  p(Buffer.concat(reassembled).equals(payload), 'payload does not reassemble')
  // Scribbling over every headroom (as the VXLAN encoder will) leaves all segments intact.
  for (const e of out) e.buf.fill(0xab, e.offset - headroom, e.offset)
  for (const [i, e] of out.entries()) {
    p(e.buf.subarray(e.offset, e.offset + e.length).equals(e.copy), `segment ${i}: headroom overlaps a segment`)
  }
  return problems
}

interface Case {
  name: string
  payload: number
  mss: number
  spec?: TcpSpec
  ecn?: boolean
  headroom?: number
  before?: number
  after?: number
}

const ts = tsOption(123456)
const cases: Case[] = [
  { name: 'largest frame with timestamps, 1448 MSS', payload: 65535 - 20 - 32, mss: 1448, spec: { tcpOptions: ts, flags: TCP_ACK | TCP_PSH } },
  { name: 'exactly divisible: 44 x 1448', payload: 44 * 1448, mss: 1448, spec: { tcpOptions: ts } },
  { name: 'not divisible: 44 x 1448 + 1', payload: 44 * 1448 + 1, mss: 1448, spec: { tcpOptions: ts } },
  { name: 'payload below MSS: one segment', payload: 100, mss: 1448 },
  { name: 'payload equal to MSS: one segment', payload: 1448, mss: 1448 },
  { name: 'MSS + 1: two segments, last of 1 byte', payload: 1449, mss: 1448 },
  { name: 'no payload: one header-only segment', payload: 0, mss: 1448, spec: { flags: TCP_ACK | TCP_FIN } },
  { name: 'MSS 1', payload: 64, mss: 1, spec: { flags: TCP_ACK | TCP_PSH | TCP_FIN } },
  { name: 'odd MSS, odd payload', payload: 9999, mss: 1447 },
  { name: 'MSS larger than any payload', payload: 40000, mss: 65535 },
  { name: 'IP options (4 bytes)', payload: 5000, mss: 1400, spec: { ipOptions: [1, 1, 1, 0] } },
  { name: 'IP options (40 bytes, IHL 15)', payload: 5000, mss: 1400, spec: { ipOptions: new Array<number>(40).fill(1) } },
  { name: 'IP and TCP options at their maximum', payload: 7000, mss: 1000, spec: { ipOptions: new Array<number>(40).fill(1), tcpOptions: new Array<number>(40).fill(1) } },
  { name: 'FIN and PSH only on the last segment', payload: 4000, mss: 1000, spec: { flags: TCP_ACK | TCP_PSH | TCP_FIN } },
  { name: 'CWR only on the first segment (gso ECN)', payload: 4000, mss: 1000, ecn: true, spec: { flags: TCP_ACK | TCP_CWR | TCP_ECE } },
  { name: 'ECE and URG kept on every segment', payload: 3000, mss: 1000, spec: { flags: TCP_ACK | TCP_ECE | TCP_URG, urgent: 5 } },
  { name: 'IP id wraps', payload: 6000, mss: 1000, spec: { id: 0xfffe } },
  { name: 'sequence number wraps', payload: 6000, mss: 1000, spec: { seq: 0xfffffc00 } },
  { name: 'DF clear, TOS and TTL kept', payload: 3000, mss: 1000, spec: { df: false, tos: 0xb8, ttl: 3 } },
  { name: 'no headroom', payload: 5000, mss: 1448, headroom: 0 },
  { name: 'odd headroom, frame at odd offset', payload: 5001, mss: 1447, headroom: 13, before: 3, after: 5 },
  { name: 'large headroom (outer Ethernet/IP/UDP too)', payload: 5000, mss: 1448, headroom: 50, before: 10 },
  { name: 'trailing bytes after the IP packet are ignored', payload: 3000, mss: 1000, spec: { trailer: 7 } },
]

t.test('segmentation', async t => {
  for (const c of cases) {
    const headroom = c.headroom ?? 8
    const seg = new TsoSegmenter({ headroom, initialArenaBytes: 0 })
    const input = tsoFrame({ ...c.spec, payload: patternPayload(c.payload, c.payload) }, c.mss, c.ecn)
    const { result, out } = run(seg, input, c.before ?? 10, c.after ?? 0)
    const count = c.payload === 0 ? 1 : Math.ceil(c.payload / c.mss)
    t.equal(result, count, `${c.name}: ${count} segments`)
    t.same(checkSegments(input, c.mss, out, headroom), [], `${c.name}: every segment right`)
  }
})

t.test('the segmenter can be reused; the arena grows and is kept', async t => {
  const seg = new TsoSegmenter({ headroom: 8, initialArenaBytes: 16 })
  const small = tsoFrame({ payload: patternPayload(3000) }, 1000)
  const big = tsoFrame({ payload: patternPayload(60000) }, 1448)
  for (const input of [small, big, small, big]) {
    const { out } = run(seg, input)
    t.same(checkSegments(input, input.vnet.gsoSize, out, 8), [])
  }
  t.ok(seg.arena.length >= 60000, 'arena grew')
  const arena = seg.arena
  run(seg, small)
  t.equal(seg.arena, arena, 'arena kept')
})

t.test('a sink that edits a segment in place does not disturb the others', async t => {
  const seg = new TsoSegmenter({ headroom: 8 })
  const input = tsoFrame({ payload: patternPayload(5000) }, 1000)
  const copies: Buffer[] = []
  seg.segment(vnetOf(input.vnet), input.frame, 0, input.frame.length, (b, o, l) => {
    copies.push(Buffer.from(b.subarray(o, o + l)))
    b.fill(0xee, o, o + 12) // rewrite both MACs of this segment
    b.fill(0xdd, o - 8, o) // and its headroom
  })
  t.equal(copies.length, 5)
  t.ok(copies.every(c => c.subarray(0, 12).equals(input.frame.subarray(0, 12))), 'every segment has the original MACs')
  t.ok(copies.every(c => refIpHeaderOk(c) && refL4Ok(c)), 'and valid checksums')
})

t.test('non-GSO frames are finished in place and emitted as they are', async t => {
  const seg = new TsoSegmenter({ headroom: 8 })
  const cases: { name: string; frame: Buffer; flags: number; csumStart: number; csumOffset: number; l4: boolean }[] = [
    { name: 'TCP with partial checksum', frame: tcpFrame({ payload: patternPayload(333), checksum: 'pseudo' }), flags: 1, csumStart: 34, csumOffset: 16, l4: true },
    { name: 'TCP with IP options', frame: tcpFrame({ ipOptions: [1, 1, 1, 0], payload: patternPayload(20), checksum: 'pseudo' }), flags: 1, csumStart: 38, csumOffset: 16, l4: true },
    { name: 'UDP with partial checksum', frame: udpFrame({ payload: patternPayload(1001), checksum: 'pseudo' }), flags: 1, csumStart: 34, csumOffset: 6, l4: true },
    { name: 'ICMP, no flags', frame: icmpFrame({ payload: [1, 2, 3] }), flags: 0, csumStart: 0, csumOffset: 0, l4: false },
    { name: 'ARP, no flags', frame: arpFrame(), flags: 0, csumStart: 0, csumOffset: 0, l4: false },
    { name: 'IPv6, data valid only', frame: ipv6TcpFrame(), flags: 2, csumStart: 0, csumOffset: 0, l4: false },
  ]
  for (const c of cases) {
    const input: TsoInput = { frame: c.frame, vnet: { flags: c.flags, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: c.csumStart, csumOffset: c.csumOffset } }
    const original = Buffer.from(c.frame)
    const { result, out, buf } = run(seg, input, 10, 4)
    t.equal(result, 1, `${c.name}: one frame`)
    t.equal(out[0]?.buf, buf, `${c.name}: the input buffer itself`)
    t.equal(out[0]?.offset, 10, `${c.name}: same offset`)
    t.equal(out[0]?.length, c.frame.length, `${c.name}: same length`)
    if (c.l4) t.ok(refL4Ok(out[0]!.copy), `${c.name}: checksum completed`)
    else t.ok(out[0]!.copy.equals(original), `${c.name}: unchanged`)
  }
})

t.test('every drop reason, and nothing emitted', async t => {
  const good = (): TsoInput => tsoFrame({ payload: patternPayload(3000) }, 1000)
  const mutate = (f: (i: TsoInput) => void): TsoInput => {
    const i = good()
    f(i)
    return i
  }
  const cases: { name: string; input: TsoInput; reason: TsoDropReason; maxSegments?: number; range?: [number, number] }[] = [
    { name: 'UDP GSO (UFO)', input: mutate(i => (i.vnet.gsoType = 3)), reason: 'unsupported-gso' },
    { name: 'TCPV6', input: mutate(i => (i.vnet.gsoType = 4)), reason: 'unsupported-gso' },
    { name: 'USO (5)', input: mutate(i => (i.vnet.gsoType = 5)), reason: 'unsupported-gso' },
    { name: 'ECN bit alone', input: mutate(i => (i.vnet.gsoType = 0x80)), reason: 'unsupported-gso' },
    { name: 'frame shorter than the headers', input: mutate(i => (i.frame = i.frame.subarray(0, 53))), reason: 'too-short' },
    { name: 'range past the buffer', input: good(), reason: 'too-short', range: [0, 100000] },
    { name: 'negative offset', input: good(), reason: 'too-short', range: [-1, 100] },
    { name: 'fractional length', input: good(), reason: 'too-short', range: [0, 100.5] },
    { name: 'ARP', input: { frame: Buffer.concat([arpFrame(), Buffer.alloc(40)]), vnet: good().vnet }, reason: 'not-ipv4' },
    { name: 'IPv6', input: { frame: ipv6TcpFrame(), vnet: good().vnet }, reason: 'not-ipv4' },
    { name: 'IP version 6 in an IPv4 frame', input: mutate(i => (i.frame[14] = 0x65)), reason: 'bad-ip-header' },
    { name: 'IHL 4', input: mutate(i => (i.frame[14] = 0x44)), reason: 'bad-ip-header' },
    { name: 'total length past the frame', input: mutate(i => i.frame.writeUInt16BE(i.frame.length - 13, 16)), reason: 'bad-ip-header' },
    { name: 'total length below IP + TCP headers', input: mutate(i => i.frame.writeUInt16BE(39, 16)), reason: 'bad-ip-header' },
    { name: 'more fragments', input: mutate(i => (i.frame[20] = 0x20)), reason: 'bad-ip-header' },
    { name: 'fragment offset', input: mutate(i => (i.frame[21] = 0x01)), reason: 'bad-ip-header' },
    { name: 'UDP', input: { frame: udpFrame({ payload: patternPayload(3000) }), vnet: good().vnet }, reason: 'not-tcp' },
    { name: 'ICMP', input: { frame: icmpFrame({ payload: patternPayload(3000) }), vnet: good().vnet }, reason: 'not-tcp' },
    { name: 'TCP data offset 4', input: mutate(i => (i.frame[46] = 0x40)), reason: 'bad-tcp-header' },
    { name: 'TCP data offset past the packet', input: mutate(i => { i.frame[46] = 0xf0; i.frame.writeUInt16BE(60, 16) }), reason: 'bad-tcp-header' },
    { name: 'gso_size 0', input: mutate(i => (i.vnet.gsoSize = 0)), reason: 'bad-gso-size' },
    { name: 'more segments than allowed', input: good(), reason: 'too-many-segments', maxSegments: 2 },
    { name: 'gso_size 1 on 64 KiB, default limit', input: tsoFrame({ payload: patternPayload(60000) }, 1), reason: 'too-many-segments' },
    {
      name: 'NEEDS_CSUM offset past the frame',
      input: { frame: tcpFrame({ checksum: 'pseudo' }), vnet: { flags: 1, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 60, csumOffset: 16 } },
      reason: 'bad-csum-offset',
    },
  ]
  for (const c of cases) {
    const seg = new TsoSegmenter({ headroom: 8, ...(c.maxSegments === undefined ? {} : { maxSegments: c.maxSegments }) })
    let emitted = 0
    const [off, len] = c.range ?? [0, c.input.frame.length]
    const r = seg.segment(vnetOf(c.input.vnet), c.input.frame, off, len, () => emitted++)
    t.equal(r, c.reason, c.name)
    t.equal(emitted, 0, `${c.name}: nothing emitted`)
  }
})

t.test('options are validated', async t => {
  t.throws(() => new TsoSegmenter({ headroom: -1 }), RangeError)
  t.throws(() => new TsoSegmenter({ headroom: 1.5 }), RangeError)
  t.throws(() => new TsoSegmenter({ headroom: 8, maxSegments: 0 }), RangeError)
  t.equal(new TsoSegmenter({ headroom: 8 }).maxSegments, 2048)
})
