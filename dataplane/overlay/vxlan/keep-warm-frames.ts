// The frames the data path sends round a loop of its own to keep its code
// and memory warm between packets (datapath-worker.ts, KeepWarm). Pure:
// builds byte buffers.
//
// Why: on a virtual machine the CPU caches and TLB are cold again after a
// few milliseconds without work (measured here: a ping every 5 ms took
// 77 us, one every 10 ms 330 us, through the same path; the kernel's vxlan
// device went from 40 to 176 us). A user-space data path runs far more code
// per packet than the kernel's, so it pays more for it. While traffic is
// recent, the thread therefore runs these two frames through its own
// encapsulation and decapsulation, the way a ping and a request would: an
// ICMP echo and a small TCP segment with a partial checksum, as the kernel
// hands them over. Addresses are made up and the frames never reach a
// device: they go round a socket pair and the loopback of the node's
// namespace.
import { internetChecksum, ipv4PseudoHeaderSum, writeIpv4HeaderChecksum, writeTransportChecksum } from './checksum.ts'
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, writeEthernetHeader } from './ethernet.ts'
import { encodeVirtioNetHeader, VirtioNetHeader, VNET_F_NEEDS_CSUM, VNET_HDR_LEN } from './virtio-net-header.ts'

/** The made-up peer the frames are sent to (a locally administered MAC). */
export const KEEP_WARM_PEER_MAC = Buffer.from([0x02, 0x6b, 0x77, 0x00, 0x00, 0x01])
const KEEP_WARM_SOURCE_MAC = Buffer.from([0x02, 0x6b, 0x77, 0x00, 0x00, 0x02])
const SOURCE_IP = [10, 255, 0, 1]
const DEST_IP = [10, 255, 1, 1]
const IP_HEADER = 20
const TCP_HEADER = 20
const PROTO_ICMP = 1
const PROTO_TCP = 6
const TCP_PSH = 0x08
const TCP_ACK = 0x10

/**
 * One frame as a read from the TAP returns it: a virtio_net_hdr first when
 * `vnetHdr`, then the Ethernet frame. `l4` is the transport header and
 * payload; `csumOffset` (16 for TCP) names a checksum the kernel would leave
 * partial, the pseudo-header sum, with NEEDS_CSUM in the vnet header; without
 * a vnet header it is completed. 0: `l4` carries its own checksum.
 */
function ipv4Frame(vnetHdr: boolean, protocol: number, l4: Buffer, csumOffset: number): Buffer {
  const head = vnetHdr ? VNET_HDR_LEN : 0
  const frame = Buffer.alloc(head + ETH_HEADER_LEN + IP_HEADER + l4.length)
  const ip = writeEthernetHeader(frame, head, KEEP_WARM_PEER_MAC, KEEP_WARM_SOURCE_MAC, ETHERTYPE_IPV4)
  const totalLength = IP_HEADER + l4.length
  frame.set([0x45, 0, totalLength >>> 8, totalLength & 0xff, 0, 0, 0x40, 0, 64, protocol, 0, 0, ...SOURCE_IP, ...DEST_IP], ip)
  writeIpv4HeaderChecksum(frame, ip)
  const l4At = ip + IP_HEADER
  frame.set(l4, l4At)
  if (csumOffset > 0 && vnetHdr) frame.writeUInt16BE(ipv4PseudoHeaderSum(frame, ip, protocol, l4.length), l4At + csumOffset)
  else if (csumOffset > 0) writeTransportChecksum(frame, ip)
  if (vnetHdr) {
    const hdr = new VirtioNetHeader()
    if (csumOffset > 0) {
      hdr.flags = VNET_F_NEEDS_CSUM
      hdr.csumStart = ETH_HEADER_LEN + IP_HEADER
      hdr.csumOffset = csumOffset
    }
    encodeVirtioNetHeader(hdr, frame, 0)
  }
  return frame
}

function tcpSegment(seq: number, flags: number, payload: number): Buffer {
  const l4 = Buffer.alloc(TCP_HEADER + payload, 0x5a)
  l4.fill(0, 0, TCP_HEADER)
  l4.writeUInt16BE(40000, 0)
  l4.writeUInt16BE(5201, 2)
  l4.writeUInt32BE(seq >>> 0, 4)
  l4.writeUInt32BE(1, 8)
  l4[12] = (TCP_HEADER / 4) << 4
  l4[13] = flags
  l4.writeUInt16BE(65535, 14)
  return l4
}

function icmpEcho(): Buffer {
  const l4 = Buffer.alloc(64, 0x61)
  l4.fill(0, 0, 8)
  l4[0] = 8 // echo request
  l4.writeUInt16BE(0x6b77, 4)
  l4.writeUInt16BE(1, 6)
  l4.writeUInt16BE(internetChecksum(l4, 0, l4.length), 2)
  return l4
}

/** An ICMP echo request and a small TCP segment (PSH|ACK, partial checksum where a vnet header says so). */
export function keepWarmFrames(vnetHdr: boolean): Buffer[] {
  return [
    ipv4Frame(vnetHdr, PROTO_ICMP, icmpEcho(), 0),
    ipv4Frame(vnetHdr, PROTO_TCP, tcpSegment(1000, TCP_ACK | TCP_PSH, 200), 16),
  ]
}
