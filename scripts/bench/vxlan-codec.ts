// Micro-benchmark of the pure packet logic of the user-space VXLAN data path:
// ns per operation for the pieces that run per frame or per burst.
//
//   npx tsx scripts/bench/vxlan-codec.ts
//
// Each figure is the median of several timed runs after a warm-up. No
// sockets, no TAP: buffers in memory only.

import { internetChecksum, writeIpv4HeaderChecksum, writeTransportChecksum } from '../../dataplane/overlay/vxlan/checksum.ts'
import { ETHERTYPE_IPV4, parseMac, writeEthernetHeader } from '../../dataplane/overlay/vxlan/ethernet.ts'
import { TcpCoalescer } from '../../dataplane/overlay/vxlan/tcp-coalesce.ts'
import { TsoSegmenter } from '../../dataplane/overlay/vxlan/tso-segment.ts'
import { decodeVirtioNetHeader, VirtioNetHeader, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4 } from '../../dataplane/overlay/vxlan/virtio-net-header.ts'
import { decodeVxlanHeader, encodeVxlanHeader, VxlanDecodeResult } from '../../dataplane/overlay/vxlan/vxlan-header.ts'

const MSS = 1448
const TS_OPTION = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2] // NOP NOP timestamps

let sink = 0

function bench(name: string, iterations: number, fn: () => number, perUnit?: { count: number; unit: string }): void {
  for (let i = 0; i < Math.min(iterations, 20000); i++) sink += fn()
  const runs: number[] = []
  for (let run = 0; run < 7; run++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) sink += fn()
    runs.push(Number(process.hrtime.bigint() - t0) / iterations)
  }
  runs.sort((a, b) => a - b)
  const ns = runs[3]!
  const extra = perUnit ? `  (${(ns / perUnit.count).toFixed(1)} ns per ${perUnit.unit})` : ''
  console.log(`${name.padEnd(52)} ${ns.toFixed(1).padStart(10)} ns/op${extra}`)
}

// One Ethernet + IPv4 + TCP (timestamps) frame with `payload` bytes, at
// `offset` of a fresh buffer; the TCP checksum is complete unless `partial`.
function tcpFrame(payload: number, seq: number, id: number, partial: boolean): Buffer {
  const doff = 20 + TS_OPTION.length
  const ipTotal = 20 + doff + payload
  const f = Buffer.alloc(14 + ipTotal)
  writeEthernetHeader(f, 0, parseMac('02:00:00:00:00:0b'), parseMac('02:00:00:00:00:0a'), ETHERTYPE_IPV4)
  f[14] = 0x45
  f.writeUInt16BE(ipTotal, 16)
  f.writeUInt16BE(id, 18)
  f.writeUInt16BE(0x4000, 20)
  f[22] = 64
  f[23] = 6
  f.set([10, 244, 1, 2, 10, 244, 2, 3], 26)
  writeIpv4HeaderChecksum(f, 14)
  const t = 34
  f.writeUInt16BE(40000, t)
  f.writeUInt16BE(5201, t + 2)
  f.writeUInt32BE(seq >>> 0, t + 4)
  f.writeUInt32BE(2000, t + 8)
  f[t + 12] = (doff / 4) << 4
  f[t + 13] = 0x10
  f.writeUInt16BE(502, t + 14)
  f.set(TS_OPTION, t + 20)
  for (let i = 0; i < payload; i++) f[t + doff + i] = (i * 31 + seq) & 0xff
  writeTransportChecksum(f, 14)
  if (partial) {
    // What the TAP hands over with TSO: the pseudo-header sum only.
    let s = 0x0af4 + 0x0102 + 0x0af4 + 0x0203 + 6 + (ipTotal - 20)
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
    f.writeUInt16BE(s, t + 16)
  }
  return f
}

console.log(`node ${process.version}, ${process.arch}`)

// Checksum of 1430 bytes, aligned and not.
{
  const buf = Buffer.alloc(4096)
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 7) & 0xff
  bench('internet checksum, 1430 bytes, 4-byte aligned', 2_000_000, () => internetChecksum(buf, 0, 1430))
  bench('internet checksum, 1430 bytes, start at +1', 2_000_000, () => internetChecksum(buf, 1, 1430))
  bench('internet checksum, 1430 bytes, start at +2', 2_000_000, () => internetChecksum(buf, 2, 1430))
}

// VXLAN header encode / decode.
{
  const buf = Buffer.alloc(2048)
  const out = new VxlanDecodeResult()
  let vni = 0
  bench('VXLAN header encode', 10_000_000, () => encodeVxlanHeader(buf, 0, (vni = (vni + 1) & 0xffffff)))
  encodeVxlanHeader(buf, 0, 4242)
  bench('VXLAN header decode + validate', 10_000_000, () => {
    const r = decodeVxlanHeader(buf, 0, 1458, 4242, out)
    return typeof r === 'string' ? 0 : r.innerOffset
  })
  const vnet = new VirtioNetHeader()
  bench('virtio_net_hdr decode', 10_000_000, () => {
    const r = decodeVirtioNetHeader(buf, 0, 1500, vnet)
    return typeof r === 'string' ? 0 : r.gsoSize
  })
}

// Splitting a 64 KiB TSO frame (46 segments of 1448 with timestamps).
const tsoPayload = 65535 - 20 - 32
const tso = tcpFrame(tsoPayload, 1_000_000, 77, true)
const tsoVnet = Object.assign(new VirtioNetHeader(), {
  flags: VNET_F_NEEDS_CSUM,
  gsoType: VNET_GSO_TCPV4,
  hdrLen: 66,
  gsoSize: MSS,
  csumStart: 34,
  csumOffset: 16,
})
{
  const seg = new TsoSegmenter({ headroom: 8 })
  const segments = Math.ceil(tsoPayload / MSS)
  const noop = (): void => {}
  bench(`TSO split, 64 KiB frame -> ${segments} segments`, 20_000, () => seg.segment(tsoVnet, tso, 0, tso.length, noop) as number, {
    count: segments,
    unit: 'segment',
  })
}

// Coalescing 44 MSS segments into one GSO frame.
{
  const segs: Buffer[] = []
  for (let i = 0; i < 44; i++) segs.push(tcpFrame(MSS, 1_000_000 + i * MSS, 100 + i, false))
  const noop = (): void => {}
  for (const verifyChecksums of [true, false]) {
    const c = new TcpCoalescer({ verifyChecksums })
    bench(`coalesce 44 segments -> 1 frame (verify ${verifyChecksums ? 'on' : 'off'})`, 20_000, () => {
      for (const s of segs) c.add(s, 0, s.length)
      return c.flush(noop)
    }, { count: 44, unit: 'segment' })
  }
}

if (sink === 0.5) console.log(sink)
