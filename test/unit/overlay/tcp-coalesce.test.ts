import t from 'tap'
import { TcpCoalescer } from '../../../dataplane/overlay/vxlan/tcp-coalesce.ts'
import type { TcpCoalescerOptions } from '../../../dataplane/overlay/vxlan/tcp-coalesce.ts'
import { TsoSegmenter } from '../../../dataplane/overlay/vxlan/tso-segment.ts'
import { encodeVirtioNetHeader, VirtioNetHeader } from '../../../dataplane/overlay/vxlan/virtio-net-header.ts'
import { refChecksum, refComplete, refIpHeaderOk, refL4Ok, refPseudoHeader, refSum, rng, randomInt } from './fixtures/reference.ts'
import {
  arpFrame,
  icmpFrame,
  ipv6TcpFrame,
  MAC_A,
  parseTcp,
  patternPayload,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  tcpFrame,
  tsOption,
  tsoFrame,
  udpFrame,
} from './fixtures/frames.ts'
import type { TcpSpec } from './fixtures/frames.ts'

type Vnet = Pick<VirtioNetHeader, 'flags' | 'gsoType' | 'hdrLen' | 'gsoSize' | 'csumStart' | 'csumOffset'>
const ZERO_VNET: Vnet = { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 }

interface Out {
  frame: Buffer
  vnet: Vnet
  buf: Buffer
  offset: number
}

function coalesce(frames: Buffer[], options?: TcpCoalescerOptions, c = new TcpCoalescer(options)): Out[] {
  for (const f of frames) c.add(f, 0, f.length)
  const out: Out[] = []
  const n = c.flush((buf, offset, length, vnet) => {
    out.push({ frame: Buffer.from(buf.subarray(offset, offset + length)), vnet: { ...vnet }, buf, offset })
  })
  if (n !== out.length) throw new Error('flush count differs from emitted frames')
  return out
}

interface FlowOpts {
  sizes: number[]
  seq?: number
  id?: number
  spec?: TcpSpec
  /** Per-segment overrides, by index. */
  over?: Record<number, TcpSpec>
}

// Segments of one flow with contiguous sequence numbers and counting IP ids.
function flow(o: FlowOpts): Buffer[] {
  let seq = o.seq ?? 1000
  let id = o.id ?? 100
  return o.sizes.map((n, i) => {
    const f = tcpFrame({ seq, id, payload: patternPayload(n, seq), ...o.spec, ...o.over?.[i] })
    seq = (seq + n) >>> 0
    id = (id + 1) & 0xffff
    return f
  })
}

const M = 1448
const B = { srcPort: 40001 } // a second flow

// Checks the output against the expected grouping of input frames; returns problems.
function checkGroups(inputs: Buffer[], out: Out[], groups: number[][], headroom = 10): string[] {
  const problems: string[] = []
  const p = (cond: boolean, what: string): void => {
    if (!cond) problems.push(what)
  }
  p(out.length === groups.length, `${out.length} frames out, want ${groups.length}`)
  groups.forEach((g, k) => {
    const o = out[k]
    if (!o) return
    const at = `output ${k} (inputs ${g.join(',')})`
    if (g.length === 1) {
      p(o.frame.equals(inputs[g[0]!]!), `${at}: not the unchanged input`)
      p(JSON.stringify(o.vnet) === JSON.stringify(ZERO_VNET), `${at}: vnet not zero`)
      return
    }
    const parts = g.map(i => parseTcp(inputs[i]!))
    const head = parts[0]!
    const m = parseTcp(o.frame)
    const payload = Buffer.concat(parts.map(x => x.payload))
    p(o.offset >= headroom, `${at}: no headroom`)
    p(m.payload.equals(payload), `${at}: payload is not the concatenation`)
    p(m.ipTotal === 20 + head.doff + payload.length && o.frame.length === 14 + m.ipTotal, `${at}: IP total length ${m.ipTotal}`)
    p(refIpHeaderOk(o.frame), `${at}: IP header checksum`)
    p(m.id === head.id && m.ttl === head.ttl && m.tos === head.tos && m.fragField === head.fragField, `${at}: IP fields`)
    p(m.seq === head.seq && m.ack === head.ack && m.window === head.window, `${at}: TCP fields`)
    p(JSON.stringify(m.tcpOptions) === JSON.stringify(head.tcpOptions), `${at}: TCP options`)
    p(m.flags === (head.flags | (parts.at(-1)!.flags & TCP_PSH)), `${at}: flags ${m.flags.toString(16)}`)
    const pseudo = refSum(refPseudoHeader(o.frame, 14, 6, m.ipTotal - 20))
    p(m.tcpChecksum === pseudo, `${at}: TCP checksum field ${m.tcpChecksum.toString(16)} is not the pseudo-header sum ${pseudo.toString(16)}`)
    p(refL4Ok(refComplete(o.frame, o.vnet.csumStart, o.vnet.csumOffset)), `${at}: checksum wrong once the kernel completes it`)
    const want: Vnet = { flags: 1, gsoType: 1, hdrLen: 34 + head.doff, gsoSize: head.payload.length, csumStart: 34, csumOffset: 16 }
    p(JSON.stringify(o.vnet) === JSON.stringify(want), `${at}: vnet ${JSON.stringify(o.vnet)}`)
  })
  return problems
}

// The last 8 bytes of a fragmented TCP packet: 42 bytes, no TCP header.
function tinyFragment(): Buffer {
  const f = Buffer.from(tcpFrame({ fragOffset: 185, df: false }).subarray(0, 42))
  f.writeUInt16BE(28, 16)
  f.writeUInt16BE(0, 24)
  f.writeUInt16BE(refChecksum(Array.from(f.subarray(14, 34))), 24)
  return f
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i)

interface Case {
  name: string
  frames: () => Buffer[]
  groups: number[][]
  options?: TcpCoalescerOptions
}

const fourFull = [M, M, M, M]
const cases: Case[] = [
  { name: 'contiguous full segments merge', frames: () => flow({ sizes: fourFull }), groups: [[0, 1, 2, 3]] },
  { name: 'a smaller last segment merges', frames: () => flow({ sizes: [M, M, 100] }), groups: [[0, 1, 2]] },
  { name: 'a smaller segment ends the merge', frames: () => flow({ sizes: [M, 100, M, M] }), groups: [[0, 1], [2, 3]] },
  { name: 'a larger segment after a small first does not merge', frames: () => flow({ sizes: [100, M] }), groups: [[0], [1]] },
  { name: 'a single segment passes unchanged', frames: () => flow({ sizes: [M] }), groups: [[0]] },
  { name: 'odd MSS and odd last segment', frames: () => flow({ sizes: [1447, 1447, 1447, 7] }), groups: [[0, 1, 2, 3]] },
  { name: 'MSS of 1 byte', frames: () => flow({ sizes: [1, 1, 1, 1, 1] }), groups: [[0, 1, 2, 3, 4]] },
  {
    name: 'a sequence gap splits',
    frames: () => [...flow({ sizes: [M, M] }), ...flow({ sizes: [M, M], seq: 1000 + 3 * M, id: 102 })],
    groups: [[0, 1], [2, 3]],
  },
  {
    name: 'a retransmission (sequence going back) splits',
    frames: () => [...flow({ sizes: [M, M] }), ...flow({ sizes: [M], seq: 1000, id: 102 })],
    groups: [[0, 1], [2]],
  },
  { name: 'a different ACK splits', frames: () => flow({ sizes: fourFull, over: { 2: { ack: 2001 }, 3: { ack: 2001 } } }), groups: [[0, 1], [2, 3]] },
  { name: 'a different window splits', frames: () => flow({ sizes: fourFull, over: { 2: { window: 600 }, 3: { window: 600 } } }), groups: [[0, 1], [2, 3]] },
  {
    name: 'identical TCP options merge',
    frames: () => flow({ sizes: fourFull, spec: { tcpOptions: tsOption(5) } }),
    groups: [[0, 1, 2, 3]],
  },
  {
    name: 'different TCP options split',
    frames: () => flow({ sizes: fourFull, spec: { tcpOptions: tsOption(5) }, over: { 2: { tcpOptions: tsOption(6) }, 3: { tcpOptions: tsOption(6) } } }),
    groups: [[0, 1], [2, 3]],
  },
  {
    name: 'options of a different length split',
    frames: () => flow({ sizes: [M, M, M], over: { 1: { tcpOptions: tsOption(5) } } }),
    groups: [[0], [1], [2]],
  },
  {
    name: 'interleaved flows merge separately, ordered by first segment',
    frames: () => {
      const a = flow({ sizes: [M, M, M] })
      const b = flow({ sizes: [M, M], spec: B })
      return [a[0]!, b[0]!, a[1]!, b[1]!, a[2]!]
    },
    groups: [[0, 2, 4], [1, 3]],
  },
  {
    name: 'different MACs are a different flow',
    frames: () => {
      const a = flow({ sizes: [M, M] })
      const b = flow({ sizes: [M, M], spec: { srcMac: [2, 0, 0, 0, 0, 0x0c] } })
      return [a[0]!, b[0]!, a[1]!, b[1]!]
    },
    groups: [[0, 2], [1, 3]],
  },
  {
    name: 'different addresses are a different flow',
    frames: () => {
      const a = flow({ sizes: [M, M] })
      const b = flow({ sizes: [M, M], spec: { dst: '10.244.2.4' } })
      return [a[0]!, b[0]!, a[1]!, b[1]!]
    },
    groups: [[0, 2], [1, 3]],
  },
  {
    name: 'a different MAC with the same addresses and ports breaks a merge',
    frames: () => flow({ sizes: [M, M, M], over: { 1: { dstMac: [2, 0, 0, 0, 0, 0x99] } } }),
    groups: [[0], [1], [2]],
  },
  {
    name: 'FIN passes through after flushing the flow',
    frames: () => flow({ sizes: [M, M, 10, M, M], over: { 2: { flags: TCP_ACK | TCP_FIN } } }),
    groups: [[0, 1], [2], [3, 4]],
  },
  {
    name: 'RST passes through after flushing the flow',
    frames: () => flow({ sizes: [M, M, 0, M, M], over: { 2: { flags: TCP_RST } } }),
    groups: [[0, 1], [2], [3, 4]],
  },
  {
    name: 'SYN (with data) passes through',
    frames: () => flow({ sizes: [M, M, M], over: { 0: { flags: TCP_SYN | TCP_ACK } } }),
    groups: [[0], [1, 2]],
  },
  {
    name: 'URG passes through',
    frames: () => flow({ sizes: [M, M, M, M], over: { 1: { flags: TCP_ACK | TCP_URG, urgent: 3 } } }),
    groups: [[0], [1], [2, 3]],
  },
  {
    name: 'ECE and CWR segments pass through',
    frames: () => flow({ sizes: [M, M, M, M, M], over: { 1: { flags: TCP_ACK | TCP_CWR }, 2: { flags: TCP_ACK | TCP_ECE } } }),
    groups: [[0], [1], [2], [3, 4]],
  },
  {
    name: 'PSH ends the merge and is its last segment',
    frames: () => flow({ sizes: fourFull, over: { 1: { flags: TCP_ACK | TCP_PSH } } }),
    groups: [[0, 1], [2, 3]],
  },
  {
    name: 'PSH on the first segment leaves it alone',
    frames: () => flow({ sizes: [M, M, M], over: { 0: { flags: TCP_ACK | TCP_PSH } } }),
    groups: [[0], [1, 2]],
  },
  {
    name: 'PSH on a smaller last segment',
    frames: () => flow({ sizes: [M, M, 5], over: { 2: { flags: TCP_ACK | TCP_PSH } } }),
    groups: [[0, 1, 2]],
  },
  {
    name: 'a pure ACK of the flow passes through and splits',
    frames: () => [...flow({ sizes: [M, M] }), tcpFrame({ seq: 1000 + 2 * M, id: 102 }), ...flow({ sizes: [M, M], seq: 1000 + 2 * M, id: 103 })],
    groups: [[0, 1], [2], [3, 4]],
  },
  {
    name: 'non-TCP frames pass through in order',
    frames: () => {
      const a = flow({ sizes: [M, M, M] })
      return [a[0]!, icmpFrame(), a[1]!, udpFrame({ payload: [1, 2, 3] }), arpFrame(), a[2]!, ipv6TcpFrame()]
    },
    groups: [[0, 2, 5], [1], [3], [4], [6]],
  },
  {
    name: 'a segment with IP options passes through and splits',
    frames: () => flow({ sizes: fourFull, over: { 2: { ipOptions: [1, 1, 1, 0] } } }),
    groups: [[0, 1], [2], [3]],
  },
  { name: 'a different TOS splits', frames: () => flow({ sizes: [M, M, M], over: { 2: { tos: 4 } } }), groups: [[0, 1], [2]] },
  { name: 'a different TTL splits', frames: () => flow({ sizes: [M, M, M], over: { 2: { ttl: 63 } } }), groups: [[0, 1], [2]] },
  { name: 'a different DF splits', frames: () => flow({ sizes: [M, M, M], over: { 2: { df: false } } }), groups: [[0, 1], [2]] },
  {
    name: 'without DF the IP ids must count up',
    frames: () => flow({ sizes: [M, M, M, M], spec: { df: false }, over: { 2: { id: 500 }, 3: { id: 501 } } }),
    groups: [[0, 1], [2, 3]],
  },
  {
    name: 'with DF the IP ids may be anything',
    frames: () => flow({ sizes: [M, M, M], over: { 1: { id: 7 }, 2: { id: 7 } } }),
    groups: [[0, 1, 2]],
  },
  { name: 'IP ids wrap', frames: () => flow({ sizes: [M, M, M], id: 0xffff, spec: { df: false } }), groups: [[0, 1, 2]] },
  { name: 'sequence numbers wrap', frames: () => flow({ sizes: [M, M, M], seq: 0xffffffff - M }), groups: [[0, 1, 2]] },
  {
    name: 'a bad TCP checksum passes through',
    frames: () => flow({ sizes: fourFull, over: { 2: { checksum: 'bad' } } }),
    groups: [[0, 1], [2], [3]],
  },
  {
    name: 'a bad IP checksum passes through',
    frames: () => flow({ sizes: fourFull, over: { 1: { badIpChecksum: true } } }),
    groups: [[0], [1], [2, 3]],
  },
  {
    name: 'checksums are trusted when verification is off',
    frames: () => flow({ sizes: [M, M], over: { 1: { checksum: 'bad' } } }),
    groups: [[0, 1]],
    options: { verifyChecksums: false },
  },
  {
    name: 'a fragment closes every open merge',
    frames: () => {
      const a = flow({ sizes: [M, M, M] })
      const b = flow({ sizes: [M, M], spec: B })
      return [a[0]!, b[0]!, tcpFrame({ mf: true, payload: [1, 2, 3, 4, 5, 6, 7, 8] }), a[1]!, b[1]!, a[2]!]
    },
    groups: [[0], [1], [2], [3, 5], [4]],
  },
  {
    name: 'a tiny non-first fragment closes every open merge too',
    frames: () => {
      const a = flow({ sizes: [M, M, M] })
      return [a[0]!, tinyFragment(), a[1]!, a[2]!]
    },
    groups: [[0], [1], [2, 3]],
  },
  {
    name: 'Ethernet padding after a small last segment is not payload',
    frames: () => flow({ sizes: [M, M, 1], over: { 2: { trailer: 5 } } }),
    groups: [[0, 1, 2]],
  },
  {
    name: 'the merged IP length is capped at 65535 (45 segments of 1448)',
    frames: () => flow({ sizes: new Array<number>(50).fill(M) }),
    groups: [range(0, 45), range(45, 50)],
  },
  {
    name: 'exactly 65535 bytes of IP length fits',
    frames: () => flow({ sizes: [...new Array<number>(45).fill(1455), 65535 - 40 - 45 * 1455] }),
    groups: [range(0, 46)],
  },
  {
    name: 'one byte over 65535 does not fit',
    frames: () => flow({ sizes: [...new Array<number>(45).fill(1455), 65535 - 40 - 45 * 1455 + 1] }),
    groups: [range(0, 45), [45]],
  },
]

t.test('coalescing rules', async t => {
  for (const c of cases) {
    const frames = c.frames()
    const out = coalesce(frames, c.options)
    t.same(checkGroups(frames, out, c.groups), [], c.name)
  }
})

t.test('frames at offsets inside larger buffers; headroom is usable', async t => {
  const frames = flow({ sizes: [M, M, M, 300] })
  const c = new TcpCoalescer({ headroom: 10 })
  const big = Buffer.alloc(20000)
  let at = 3
  const inputs: Buffer[] = []
  for (const f of frames) {
    f.copy(big, at)
    inputs.push(f)
    c.add(big, at, f.length)
    at += f.length + 7
  }
  c.add(icmpFrame(), 0, icmpFrame().length)
  inputs.push(icmpFrame())
  t.equal(c.pending, 5)
  const out: Out[] = []
  c.flush((buf, offset, length, vnet) => {
    out.push({ frame: Buffer.from(buf.subarray(offset, offset + length)), vnet: { ...vnet }, buf, offset })
  })
  t.same(checkGroups(inputs, out, [[0, 1, 2, 3], [4]]), [])
  // Writing the vnet header into the headroom leaves the frame intact.
  const merged = out[0]!
  encodeVirtioNetHeader(Object.assign(new VirtioNetHeader(), merged.vnet), merged.buf, merged.offset - 10)
  t.ok(merged.buf.subarray(merged.offset, merged.offset + merged.frame.length).equals(merged.frame), 'frame intact')
  t.equal(c.pending, 0, 'flushed')
})

t.test('merged frames stay valid and apart until the next flush', async t => {
  const a = flow({ sizes: [M, M, M] })
  const b = flow({ sizes: [M, M], spec: B })
  const c = new TcpCoalescer({ headroom: 10 })
  for (const f of [a[0]!, b[0]!, a[1]!, b[1]!, a[2]!]) c.add(f, 0, f.length)
  const views: { buf: Buffer; offset: number; length: number; copy: Buffer }[] = []
  c.flush((buf, offset, length) => views.push({ buf, offset, length, copy: Buffer.from(buf.subarray(offset, offset + length)) }))
  for (const v of views) v.buf.fill(0xcc, v.offset - 10, v.offset)
  t.ok(views.every(v => v.buf.subarray(v.offset, v.offset + v.length).equals(v.copy)), 'no overlap, headroom included')
})

t.test('no merging across batches; empty flush', async t => {
  const frames = flow({ sizes: fourFull })
  const c = new TcpCoalescer()
  t.same(checkGroups(frames.slice(0, 2), coalesce(frames.slice(0, 2), undefined, c), [[0, 1]]), [])
  t.same(checkGroups(frames.slice(2), coalesce(frames.slice(2), undefined, c), [[0, 1]]), [])
  t.equal(c.flush(() => t.fail('nothing to emit')), 0)
})

t.test('bad ranges pass through untouched', async t => {
  const c = new TcpCoalescer()
  const f = flow({ sizes: [M] })[0]!
  const seen: [number, number][] = []
  c.add(f, 0, f.length + 10)
  c.add(f, -5, 20)
  c.add(f, 0.5, 20)
  c.add(f, 0, 3)
  c.flush((_b, o, l) => seen.push([o, l]))
  t.same(seen, [[0, f.length + 10], [-5, 20], [0.5, 20], [0, 3]])
})

t.test('a throwing sink still resets the batch', async t => {
  const c = new TcpCoalescer()
  for (const f of flow({ sizes: fourFull })) c.add(f, 0, f.length)
  t.throws(() => c.flush(() => { throw new Error('boom') }), /boom/)
  t.equal(c.pending, 0)
  const again = flow({ sizes: [M, M], seq: 9999 })
  t.same(checkGroups(again, coalesce(again, undefined, c), [[0, 1]]), [])
})

t.test('options', async t => {
  t.throws(() => new TcpCoalescer({ headroom: -1 }), RangeError)
  t.equal(new TcpCoalescer().headroom, 10)
  t.equal(new TcpCoalescer().verifyChecksums, true)
})

t.test('segmenting then coalescing gives back the original TSO frame', async t => {
  const shapes: { name: string; payload: number; mss: number; spec?: TcpSpec }[] = [
    { name: '64 KiB, timestamps, PSH', payload: 65535 - 52, mss: 1448, spec: { tcpOptions: tsOption(77), flags: TCP_ACK | TCP_PSH } },
    { name: 'exactly 44 x 1448', payload: 44 * 1448, mss: 1448, spec: { tcpOptions: tsOption(1) } },
    { name: 'odd MSS, odd payload', payload: 30001, mss: 1399 },
    { name: 'two segments', payload: 1461, mss: 1460 },
    { name: 'DF clear, ids wrap', payload: 20000, mss: 1000, spec: { df: false, id: 0xfffa } },
    { name: 'sequence wraps', payload: 20000, mss: 1000, spec: { seq: 0xffffff00 } },
  ]
  for (const s of shapes) {
    const input = tsoFrame({ ...s.spec, payload: patternPayload(s.payload, 3) }, s.mss)
    const seg = new TsoSegmenter({ headroom: 8 })
    const segments: Buffer[] = []
    seg.segment(Object.assign(new VirtioNetHeader(), input.vnet), input.frame, 0, input.frame.length, (b, o, l) => {
      segments.push(Buffer.from(b.subarray(o, o + l)))
    })
    const out = coalesce(segments)
    t.equal(out.length, 1, `${s.name}: one frame back`)
    t.ok(out[0]?.frame.equals(input.frame), `${s.name}: byte for byte the TSO frame`)
    t.same(out[0]?.vnet, input.vnet, `${s.name}: the same vnet header`)
  }
})

// Coalesce a random batch, then split every merged frame again with the
// segmenter: each flow must come back frame for frame, in order, and the
// non-TCP frames too.
t.test('random batches: coalescing then segmenting is the identity, order kept', async t => {
  const r = rng(2024)
  let failures = 0
  let merged = 0
  for (let round = 0; round < 300; round++) {
    const flows = [0, 1, 2].map(k => ({ port: 41000 + k, seq: randomInt(r, 2 ** 32), id: randomInt(r, 65536), mss: [M, 1000, 537][k]! }))
    const inputs: Buffer[] = []
    const flowOf: number[] = []
    const n = 1 + randomInt(r, 60)
    for (let i = 0; i < n; i++) {
      const k = randomInt(r, 4)
      if (k === 3) {
        inputs.push([icmpFrame({ seq: i }), udpFrame({ payload: [i] }), arpFrame()][randomInt(r, 3)]!)
        flowOf.push(-1)
        continue
      }
      const f = flows[k]!
      const roll = randomInt(r, 20)
      let size = roll === 0 ? 0 : roll === 1 ? 1 + randomInt(r, f.mss) : f.mss
      let flags = TCP_ACK
      if (roll === 2) flags |= TCP_PSH
      if (roll === 3) flags |= TCP_FIN
      if (roll === 4) f.seq = (f.seq + f.mss) >>> 0 // a gap
      if (roll === 5) size = 2 * f.mss // a larger one
      inputs.push(tcpFrame({ srcPort: f.port, seq: f.seq, id: f.id, flags, payload: patternPayload(size, f.seq), df: false }))
      flowOf.push(k)
      f.seq = (f.seq + size) >>> 0
      f.id = (f.id + 1) & 0xffff
    }
    const out = coalesce(inputs)
    const seg = new TsoSegmenter({ headroom: 0 })
    const back: Buffer[] = []
    for (const o of out) {
      if (o.vnet.gsoType === 0) {
        back.push(o.frame)
        continue
      }
      merged++
      seg.segment(Object.assign(new VirtioNetHeader(), o.vnet), o.frame, 0, o.frame.length, (b, off, l) => {
        back.push(Buffer.from(b.subarray(off, off + l)))
      })
    }
    const key = (f: Buffer): number => (f.readUInt16BE(12) === 0x0800 && f[23] === 6 ? f.readUInt16BE(34) : -1)
    for (const k of [-1, 0, 1, 2]) {
      const want = inputs.filter((_, i) => flowOf[i] === k)
      const got = back.filter(f => (k === -1 ? key(f) === -1 : key(f) === 41000 + k))
      if (want.length !== got.length || want.some((w, i) => !w.equals(got[i]!))) {
        failures++
        if (failures < 3) t.fail(`round ${round} flow ${k}: frames differ`)
      }
    }
  }
  t.equal(failures, 0, '300 random batches come back intact and in order')
  t.ok(merged > 300, `merging actually happened (${merged} merged frames)`)
})

t.test('flows that share a hash bucket stay apart', async t => {
  // Same addresses and ports (so the same hash), different destination MAC.
  const a = flow({ sizes: [M, M, M] })
  const b = flow({ sizes: [M, M, M], spec: { dstMac: [...MAC_A.slice(0, 5), 0x99] } })
  const inputs = [a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!]
  t.same(checkGroups(inputs, coalesce(inputs), [[0, 2, 4], [1, 3, 5]]), [])
})
