import t from 'tap'
import {
  decodeVxlanHeader,
  encodeVxlanHeader,
  VXLAN_ANY_VNI,
  VXLAN_HEADER_LEN,
  VxlanDecodeResult,
  VxlanHeaderError,
} from '../../../dataplane/overlay/vxlan/vxlan-header.ts'
import type { VxlanDropReason } from '../../../dataplane/overlay/vxlan/vxlan-header.ts'

t.test('encode writes flags, VNI and zero reserved bytes', async t => {
  const cases: { vni: number; bytes: number[] }[] = [
    { vni: 0, bytes: [0x08, 0, 0, 0, 0, 0, 0, 0] },
    { vni: 1, bytes: [0x08, 0, 0, 0, 0, 0, 1, 0] },
    { vni: 4096, bytes: [0x08, 0, 0, 0, 0, 0x10, 0, 0] },
    { vni: 0xabcdef, bytes: [0x08, 0, 0, 0, 0xab, 0xcd, 0xef, 0] },
    { vni: 0xffffff, bytes: [0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0] },
  ]
  for (const c of cases) {
    const buf = Buffer.alloc(12, 0xee) // dirty, so zeroing is checked
    t.equal(encodeVxlanHeader(buf, 2, c.vni), 10, `vni ${c.vni}: returns the inner offset`)
    t.same([...buf.subarray(2, 10)], c.bytes, `vni ${c.vni}: bytes`)
    t.same([buf[0], buf[1], buf[10], buf[11]], [0xee, 0xee, 0xee, 0xee], `vni ${c.vni}: neighbours untouched`)
  }
})

t.test('encode refuses bad VNIs and missing room', async t => {
  const cases: { name: string; size: number; offset: number; vni: number; code: string }[] = [
    { name: 'negative VNI', size: 8, offset: 0, vni: -1, code: 'EBADVNI' },
    { name: 'VNI over 24 bits', size: 8, offset: 0, vni: 0x1000000, code: 'EBADVNI' },
    { name: 'fractional VNI', size: 8, offset: 0, vni: 1.5, code: 'EBADVNI' },
    { name: 'NaN VNI', size: 8, offset: 0, vni: NaN, code: 'EBADVNI' },
    { name: 'buffer too short', size: 7, offset: 0, vni: 1, code: 'ENOSPACE' },
    { name: 'offset too far', size: 16, offset: 9, vni: 1, code: 'ENOSPACE' },
    { name: 'negative offset', size: 16, offset: -1, vni: 1, code: 'ENOSPACE' },
  ]
  for (const c of cases) {
    t.throws(() => encodeVxlanHeader(Buffer.alloc(c.size), c.offset, c.vni), { code: c.code, name: 'VxlanHeaderError' }, c.name)
  }
  try {
    encodeVxlanHeader(Buffer.alloc(1), 0, 1)
  } catch (err) {
    t.ok(err instanceof VxlanHeaderError, 'is a VxlanHeaderError')
  }
})

function datagram(header: number[], innerLength = 14): Buffer {
  return Buffer.concat([Buffer.from(header), Buffer.alloc(innerLength, 0x5a)])
}

t.test('decode: accepted datagrams', async t => {
  const out = new VxlanDecodeResult()
  const cases: { name: string; buf: Buffer; offset: number; length?: number; expect: number; vni: number }[] = [
    { name: 'plain', buf: datagram([8, 0, 0, 0, 0, 0, 42, 0]), offset: 0, expect: 42, vni: 42 },
    { name: 'any VNI', buf: datagram([8, 0, 0, 0, 0xab, 0xcd, 0xef, 0]), offset: 0, expect: VXLAN_ANY_VNI, vni: 0xabcdef },
    { name: 'VNI 0', buf: datagram([8, 0, 0, 0, 0, 0, 0, 0]), offset: 0, expect: 0, vni: 0 },
    { name: 'reserved bits set are ignored', buf: datagram([0xff, 1, 2, 3, 0, 0, 7, 0xff]), offset: 0, expect: 7, vni: 7 },
    { name: 'inside a larger buffer', buf: Buffer.concat([Buffer.alloc(5), datagram([8, 0, 0, 0, 0, 1, 0, 0], 100), Buffer.alloc(9)]), offset: 5, length: 108, expect: 256, vni: 256 },
    { name: 'exactly 22 bytes', buf: datagram([8, 0, 0, 0, 0, 0, 1, 0], 14), offset: 0, expect: 1, vni: 1 },
  ]
  for (const c of cases) {
    const length = c.length ?? c.buf.length - c.offset
    const r = decodeVxlanHeader(c.buf, c.offset, length, c.expect, out)
    t.equal(r, out, `${c.name}: returns the result object`)
    t.equal(out.vni, c.vni, `${c.name}: vni`)
    t.equal(out.innerOffset, c.offset + VXLAN_HEADER_LEN, `${c.name}: inner offset`)
    t.equal(out.innerLength, length - VXLAN_HEADER_LEN, `${c.name}: inner length`)
  }
})

t.test('decode: every drop reason', async t => {
  const out = new VxlanDecodeResult()
  const good = datagram([8, 0, 0, 0, 0, 0, 42, 0])
  const cases: { name: string; buf: Buffer; offset: number; length: number; expect: number; reason: VxlanDropReason }[] = [
    { name: 'empty', buf: Buffer.alloc(0), offset: 0, length: 0, expect: 42, reason: 'too-short' },
    { name: 'header only', buf: good.subarray(0, 8), offset: 0, length: 8, expect: 42, reason: 'too-short' },
    { name: 'one byte short of an Ethernet header', buf: good, offset: 0, length: 21, expect: 42, reason: 'too-short' },
    { name: 'length past the buffer', buf: good, offset: 0, length: 23, expect: 42, reason: 'too-short' },
    { name: 'offset past the buffer', buf: good, offset: 30, length: 22, expect: 42, reason: 'too-short' },
    { name: 'negative offset', buf: good, offset: -1, length: 22, expect: 42, reason: 'too-short' },
    { name: 'fractional length', buf: good, offset: 0, length: 21.5, expect: 42, reason: 'too-short' },
    { name: 'NaN offset', buf: good, offset: NaN, length: 22, expect: 42, reason: 'too-short' },
    { name: 'flags zero', buf: datagram([0, 0, 0, 0, 0, 0, 42, 0]), offset: 0, length: 22, expect: 42, reason: 'no-i-flag' },
    { name: 'other flags but not I', buf: datagram([0xf7, 0, 0, 0, 0, 0, 42, 0]), offset: 0, length: 22, expect: 42, reason: 'no-i-flag' },
    { name: 'wrong VNI', buf: good, offset: 0, length: 22, expect: 43, reason: 'wrong-vni' },
    { name: 'VNI differs in the high byte', buf: datagram([8, 0, 0, 0, 1, 0, 42, 0]), offset: 0, length: 22, expect: 42, reason: 'wrong-vni' },
  ]
  for (const c of cases) {
    out.vni = -7
    t.equal(decodeVxlanHeader(c.buf, c.offset, c.length, c.expect, out), c.reason, c.name)
    t.equal(out.vni, -7, `${c.name}: result object untouched`)
  }
})

t.test('round trip over VNIs', async t => {
  const out = new VxlanDecodeResult()
  const buf = Buffer.alloc(64)
  let bad = 0
  for (let vni = 0; vni <= 0xffffff; vni += 0x1235) {
    encodeVxlanHeader(buf, 3, vni)
    const r = decodeVxlanHeader(buf, 3, 40, vni, out)
    if (r !== out || out.vni !== vni || out.innerOffset !== 11 || out.innerLength !== 32) bad++
  }
  t.equal(bad, 0, 'every VNI decodes to itself')
})
