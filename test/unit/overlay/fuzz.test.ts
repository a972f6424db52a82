// Random and mutated input into every decoder, the segmenter and the
// coalescer: nothing may throw, and what comes out must still be sound.

import t from 'tap'
import { completePartialChecksum, onesComplementSum, verifyIpv4HeaderChecksum, verifyTransportChecksum, writeIpv4HeaderChecksum, writeTransportChecksum } from '../../../dataplane/overlay/vxlan/checksum.ts'
import { dstMacEquals, etherType, isBroadcastMac, isMulticastMac, MacError, macKey, parseMac } from '../../../dataplane/overlay/vxlan/ethernet.ts'
import { TcpCoalescer } from '../../../dataplane/overlay/vxlan/tcp-coalesce.ts'
import { TsoSegmenter } from '../../../dataplane/overlay/vxlan/tso-segment.ts'
import { decodeVirtioNetHeader, VirtioNetHeader } from '../../../dataplane/overlay/vxlan/virtio-net-header.ts'
import { decodeVxlanHeader, VxlanDecodeResult } from '../../../dataplane/overlay/vxlan/vxlan-header.ts'
import { refComplete, refIpHeaderOk, refL4Ok, rng, randomBytes, randomInt } from './fixtures/reference.ts'
import { arpFrame, icmpFrame, patternPayload, TCP_ACK, TCP_PSH, tcpFrame, tsOption, tsoFrame, udpFrame } from './fixtures/frames.ts'

const r = rng(0xf022)

function randomBuffer(): Buffer {
  const n = randomInt(r, 10) === 0 ? randomInt(r, 3000) : randomInt(r, 120)
  return randomBytes(r, n)
}

function weirdNumber(max: number): number {
  switch (randomInt(r, 12)) {
    case 0: return -1
    case 1: return NaN
    case 2: return 0.5 + randomInt(r, max)
    case 3: return max + randomInt(r, 100)
    case 4: return Infinity
    default: return randomInt(r, max + 1)
  }
}

// A valid frame with a few bytes flipped (mostly in the headers), maybe cut.
function mutated(base: Buffer): Buffer {
  const b = Buffer.from(base)
  const flips = 1 + randomInt(r, 4)
  for (let i = 0; i < flips; i++) {
    const at = randomInt(r, 3) === 0 ? randomInt(r, b.length) : randomInt(r, Math.min(b.length, 80))
    b[at] = randomInt(r, 3) === 0 ? b[at]! ^ (1 << randomInt(r, 8)) : randomInt(r, 256)
  }
  return randomInt(r, 5) === 0 ? b.subarray(0, randomInt(r, b.length + 1)) : b
}

function baseFrames(): Buffer[] {
  return [
    tcpFrame({ payload: patternPayload(1448), tcpOptions: tsOption(1) }),
    tcpFrame({ payload: patternPayload(33), ipOptions: [1, 1, 1, 0], flags: TCP_ACK | TCP_PSH }),
    udpFrame({ payload: patternPayload(100) }),
    icmpFrame({ payload: [1, 2, 3] }),
    arpFrame(),
  ]
}

function randomVnet(): VirtioNetHeader {
  const v = new VirtioNetHeader()
  v.flags = [0, 1, 2, 3, randomInt(r, 256)][randomInt(r, 5)]!
  v.gsoType = [0, 1, 1, 1, 3, 4, 0x80, 0x81, randomInt(r, 256)][randomInt(r, 9)]!
  v.gsoSize = [0, 1, 7, 536, 1448, 65535, randomInt(r, 65536)][randomInt(r, 7)]!
  v.hdrLen = randomInt(r, 200)
  v.csumStart = [34, 38, randomInt(r, 100), 65535][randomInt(r, 4)]!
  v.csumOffset = [16, 6, randomInt(r, 30)][randomInt(r, 3)]!
  return v
}

t.test('header decoders never throw', async t => {
  const vx = new VxlanDecodeResult()
  const vn = new VirtioNetHeader()
  let thrown = 0
  const reasons = new Set<string>()
  for (let i = 0; i < 20000; i++) {
    const b = randomBuffer()
    try {
      const res = decodeVxlanHeader(b, weirdNumber(b.length), weirdNumber(b.length), randomInt(r, 3) === 0 ? -1 : randomInt(r, 4), vx)
      reasons.add(typeof res === 'string' ? res : 'ok')
      decodeVirtioNetHeader(b, weirdNumber(b.length), weirdNumber(b.length), vn)
      etherType(b, weirdNumber(b.length))
      dstMacEquals(b, weirdNumber(b.length), b)
      macKey(b, weirdNumber(b.length))
      isBroadcastMac(b, weirdNumber(b.length))
      isMulticastMac(b, weirdNumber(b.length))
    } catch {
      thrown++
    }
  }
  t.equal(thrown, 0, '20000 random buffers')
  t.same([...reasons].sort(), ['no-i-flag', 'ok', 'too-short', 'wrong-vni'], 'every outcome was reached')
})

t.test('checksum helpers never throw on random frames and ranges', async t => {
  let thrown = 0
  for (let i = 0; i < 20000; i++) {
    const b = i % 2 === 0 ? randomBuffer() : mutated(baseFrames()[randomInt(r, 5)]!)
    try {
      completePartialChecksum(b, weirdNumber(120), weirdNumber(40), weirdNumber(8), randomInt(r, 2) === 0 ? undefined : weirdNumber(b.length))
      verifyIpv4HeaderChecksum(b, weirdNumber(20))
      writeIpv4HeaderChecksum(b, weirdNumber(20))
      verifyTransportChecksum(b, weirdNumber(20))
      writeTransportChecksum(b, weirdNumber(20))
      onesComplementSum(b, 0, b.length)
    } catch {
      thrown++
    }
  }
  t.equal(thrown, 0, '20000 cases')
})

t.test('parseMac throws only MacError', async t => {
  const alphabet = '0123456789abcdefABCDEFxyz:-. '
  let other = 0
  let parsed = 0
  for (let i = 0; i < 20000; i++) {
    let s = ''
    const n = randomInt(r, 3) === 0 ? 17 : randomInt(r, 25)
    for (let k = 0; k < n; k++) s += k % 3 === 2 && randomInt(r, 4) !== 0 ? ':' : alphabet[randomInt(r, alphabet.length)]
    try {
      if (parseMac(s).length !== 6) other++
      parsed++
    } catch (err) {
      if (!(err instanceof MacError) || err.code !== 'EBADMAC') other++
    }
  }
  t.equal(other, 0, 'MacError or six bytes, nothing else')
  t.ok(parsed > 0, `some random strings were valid (${parsed})`)
})

t.test('segmenter: random and mutated input never throws; output always checks out', async t => {
  const seg = new TsoSegmenter({ headroom: 8, maxSegments: 4096 })
  let thrown = 0
  let bad = 0
  let segmented = 0
  const tso = [
    tsoFrame({ payload: patternPayload(20000), tcpOptions: tsOption(3) }, 1448),
    tsoFrame({ payload: patternPayload(3000), ipOptions: [1, 1, 1, 0] }, 1000),
  ]
  for (let i = 0; i < 6000; i++) {
    const pick = randomInt(r, 3)
    let frame: Buffer
    let vnet: VirtioNetHeader
    if (pick === 0) {
      frame = randomBuffer()
      vnet = randomVnet()
    } else {
      const base = tso[randomInt(r, tso.length)]!
      frame = mutated(base.frame)
      vnet = Object.assign(new VirtioNetHeader(), base.vnet)
      if (pick === 2) vnet = randomVnet()
    }
    try {
      const gso = vnet.gsoType !== 0
      const res = seg.segment(vnet, frame, 0, frame.length, (b, o, l) => {
        if (!gso) return
        // Whatever was split carries correct IP and TCP checksums.
        const s = b.subarray(o, o + l)
        if (!refIpHeaderOk(s) || !refL4Ok(s)) bad++
      })
      if (typeof res === 'number' && gso) segmented++
      seg.segment(vnet, frame, weirdNumber(frame.length), weirdNumber(frame.length), () => {})
    } catch {
      thrown++
    }
  }
  t.equal(thrown, 0, 'no exceptions over 6000 frames')
  t.equal(bad, 0, 'every emitted segment has valid checksums')
  t.ok(segmented > 100, `mutated frames were still segmented (${segmented})`)
})

t.test('coalescer: random and mutated batches never throw; every input is accounted for', async t => {
  const c = new TcpCoalescer()
  let thrown = 0
  let bad = 0
  let merged = 0
  for (let round = 0; round < 1500; round++) {
    const n = 1 + randomInt(r, 40)
    let seq = randomInt(r, 2 ** 32)
    let added = 0
    for (let i = 0; i < n; i++) {
      const roll = randomInt(r, 10)
      let f: Buffer
      if (roll < 5) {
        // A mostly healthy stream, so merging really happens.
        f = tcpFrame({ seq, payload: patternPayload(1000, seq), id: i })
        seq = (seq + 1000) >>> 0
        if (roll === 0) f = mutated(f)
      } else if (roll < 8) {
        f = mutated(baseFrames()[randomInt(r, 5)]!)
      } else {
        f = randomBuffer()
      }
      try {
        if (randomInt(r, 50) === 0) c.add(f, weirdNumber(f.length), weirdNumber(f.length))
        else c.add(f, 0, f.length)
        added++
      } catch {
        thrown++
      }
    }
    let accounted = 0
    try {
      c.flush((b, o, l, v) => {
        if (v.gsoType === 0) {
          accounted++
          return
        }
        merged++
        const frame = Buffer.from(b.subarray(o, o + l))
        const total = frame.readUInt16BE(16)
        const payload = total - 20 - ((frame[46]! >> 4) * 4)
        accounted += Math.ceil(payload / v.gsoSize)
        if (!refIpHeaderOk(frame) || !refL4Ok(refComplete(frame, v.csumStart, v.csumOffset))) bad++
      })
    } catch {
      thrown++
    }
    if (accounted !== added) bad++
  }
  t.equal(thrown, 0, 'no exceptions over 1500 batches')
  t.equal(bad, 0, 'merged frames check out and every input frame is in the output')
  t.ok(merged > 100, `merging happened (${merged})`)
})
