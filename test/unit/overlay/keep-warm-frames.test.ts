// The keep-warm frames (keep-warm-frames.ts) must look exactly like what the
// kernel hands the data path, or the rounds would warm a drop path instead of
// the one a ping or a request takes: checked against the reference sums.
import t from 'tap'
import { DecapPath, type FrameSink } from '../../../dataplane/overlay/vxlan/decap-path.ts'
import { EncapPath, type DatagramSink } from '../../../dataplane/overlay/vxlan/encap-path.ts'
import { localCounters, RX, TX, TX_DROPS, RX_DROPS, TX_DROP, RX_DROP } from '../../../dataplane/overlay/vxlan/counters.ts'
import { KEEP_WARM_PEER_MAC, keepWarmFrames } from '../../../dataplane/overlay/vxlan/keep-warm-frames.ts'
import { PeerTable } from '../../../dataplane/overlay/vxlan/peer-table.ts'
import { formatMac } from '../../../dataplane/overlay/vxlan/ethernet.ts'
import { VNET_F_NEEDS_CSUM, VNET_HDR_LEN } from '../../../dataplane/overlay/vxlan/virtio-net-header.ts'
import { bytesOf, refIpHeaderOk, refL4Ok, refPseudoHeader, refSum } from './fixtures/reference.ts'

const ICMP = 1
const TCP = 6

t.test('without a vnet header: plain frames with complete checksums', async t => {
  const frames = keepWarmFrames(false)
  t.equal(frames.length, 2)
  for (const f of frames) {
    t.same([...f.subarray(0, 6)], [...KEEP_WARM_PEER_MAC], 'addressed to the made-up peer')
    t.equal(f.readUInt16BE(12), 0x0800, 'IPv4')
    t.ok(refIpHeaderOk(f), 'IPv4 header checksum')
    t.equal(f.readUInt16BE(16), f.length - 14, 'IP total length matches the frame')
  }
  t.equal(frames[0]![23], ICMP)
  t.equal(frames[0]![34], 8, 'an echo request')
  t.equal(refSum(bytesOf(frames[0]!, 34, frames[0]!.length)), 0xffff, 'ICMP checksum')
  t.equal(frames[1]![23], TCP)
  t.equal(frames[1]![47], 0x18, 'PSH|ACK')
  t.ok(refL4Ok(frames[1]!), 'TCP checksum complete')
})

t.test('with a vnet header: the TCP checksum left partial, as the kernel leaves it', async t => {
  const [icmp, tcp] = keepWarmFrames(true)
  t.equal(icmp![0], 0, 'ICMP: no flags, the checksum is complete')
  const frame = tcp!.subarray(VNET_HDR_LEN)
  t.equal(tcp![0], VNET_F_NEEDS_CSUM, 'TCP: NEEDS_CSUM')
  t.equal(tcp!.readUInt16LE(6), 34, 'csum_start: the TCP header')
  t.equal(tcp!.readUInt16LE(8), 16, 'csum_offset: the TCP checksum field')
  const l4Length = frame.length - 34
  const pseudo = refSum(refPseudoHeader(frame, 14, TCP, l4Length))
  t.equal(frame.readUInt16BE(34 + 16), pseudo, 'the field holds the pseudo-header sum')
})

t.test('they go through encapsulation and decapsulation without a drop', async t => {
  const peers = PeerTable.from([{ mac: formatMac(KEEP_WARM_PEER_MAC), underlayIP: '127.0.0.1', partialChecksums: true }])
  const txCounters = localCounters()
  const datagrams: Buffer[] = []
  let parts: Buffer[] = []
  const sink: DatagramSink = {
    begin: () => { parts = [] },
    part: (buf, offset, length) => { parts.push(Buffer.from(buf.subarray(offset, offset + length))) },
    flush: () => { if (parts.length) datagrams.push(Buffer.concat(parts)); parts = [] },
  }
  const encap = new EncapPath({ vni: 1, vnetHdr: true, udpGso: true, counters: txCounters, sink })
  encap.peers = peers
  for (const f of keepWarmFrames(true)) {
    encap.frame(f, 0, f.length)
    sink.flush()
  }
  t.equal(txCounters[TX.frames], 2)
  t.same(TX_DROPS.filter(d => txCounters[TX_DROP[d]]! > 0), [], 'no encapsulation drops')
  t.equal(datagrams.length, 2, 'one datagram each')

  const rxCounters = localCounters()
  const written: number[] = []
  const tap: FrameSink = {
    write: (_buf, _offset, length) => { written.push(length); return true },
    writeParts: (_bufs, _offsets, lengths, count) => { written.push(lengths.subarray(0, count).reduce((a, b) => a + b, 0)); return true },
  }
  const decap = new DecapPath({ vni: 1, vnetHdr: true, coalesce: true, verifyChecksums: false, innerMtu: 1450, counters: rxCounters, tap })
  decap.peers = peers
  const loopback = 0x7f000001
  for (const d of datagrams) {
    const slot = Buffer.alloc(64 + d.length)
    d.copy(slot, 64)
    decap.message(slot, 64, d.length, loopback, 0, 0)
  }
  decap.flush()
  t.equal(rxCounters[RX.frames], 2, 'both accepted')
  t.same(RX_DROPS.filter(d => rxCounters[RX_DROP[d]]! > 0), [], 'no decapsulation drops')
  t.equal(written.length, 2, 'and written to the TAP')
})
