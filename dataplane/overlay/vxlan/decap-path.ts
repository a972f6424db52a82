// Underlay -> TAP: what happens to each datagram that reaches port 8472.
// Pure logic with the TAP behind an interface, so it is unit-tested with a
// recording sink; datapath-worker.ts feeds it real recvmmsg batches.
//
// Why it looks like this (shared/notes/vxlan-userspace.md): a write() into a
// TAP runs the node's whole receive path for that frame, and that per-frame
// cost is what limits a user-space encapsulator. So the socket has UDP GRO on
// (the kernel hands us up to 64 datagrams of one flow as one message, cut at
// a segment size it tells us), each datagram is validated, and the inner TCP
// segments of a batch are merged by the TcpCoalescer into one GSO frame per
// flow, written with one writev: vnet header and rebuilt headers, then each
// segment's payload where it was received (no copy in JavaScript). Everything
// else is written as it came. There are no timers: the batch is flushed when
// it has been read.
//
// Partial checksums: Linux senders on veth links (the kernel vxlan device of a
// vxlan-kernel peer) leave inner TCP/UDP checksums to an offload that never
// happens: the field holds only the pseudo-header sum. Kernel to kernel that
// is fine (the skb says CHECKSUM_PARTIAL), but the flag does not cross a UDP
// socket, so a frame we wrote as it came would fail the node's checksum check
// (SYN-ACKs from such a peer would vanish). Our own encapsulator leaves them
// partial toward us the same way, to save summing payloads (encap-path.ts). A
// frame whose checksum field is exactly its pseudo-header sum is therefore
// handed to the TAP as NEEDS_CSUM, which is what it was on the sender
// (without a vnet header, its checksum is completed here instead). Any other
// checksum is left for the kernel to verify.
//
// Verification: a merged frame goes to the TAP as CHECKSUM_PARTIAL, which the
// node's kernel does not verify, so the coalescer can check every segment
// first (verifyChecksums). It is off by default: every sender here is a
// peer's kernel or our encapsulator on veth links that do not corrupt, most
// segments arrive partial anyway (above), and the kernel itself trusts such
// locally made packets without a check; verifying would cost as much as the
// rest of the receive path's JavaScript together. Turn it on
// (--verify-checksums) for peers across a real wire: segments with partial
// checksums are then written one by one instead of merged.
//
// Peer GSO: a vxlan-kernel peer hands its TSO frames to the underlay
// unsegmented (veth passes GSO packets whole), so one datagram may carry an
// inner frame far larger than the MTU; it is written to the TAP as the GSO
// frame it is (#writeOversized), which also makes that direction cheap.
//
// Validation, each failure counted by reason: the sender must be a peer's
// underlay address (anyone on the LAN can reach port 8472), the message must
// not be truncated, and the VXLAN header must carry the I flag, our VNI and
// at least an Ethernet header (vxlan-header.ts). Nothing here throws on
// content; whatever the payload, the worst case is a frame the node's kernel
// drops.
import { completePartialChecksum, ipv4PseudoHeaderSum } from './checksum.ts'
import { RX, RX_DROP, type RxDrop } from './counters.ts'
import { ETH_HEADER_LEN, ETHERTYPE_IPV4 } from './ethernet.ts'
import { PeerTable } from './peer-table.ts'
import { TcpCoalescer } from './tcp-coalesce.ts'
import {
  encodeVirtioNetHeader, VirtioNetHeader, VNET_F_NEEDS_CSUM, VNET_GSO_ECN, VNET_GSO_TCPV4, VNET_HDR_LEN,
} from './virtio-net-header.ts'
import { decodeVxlanHeader, VxlanDecodeResult } from './vxlan-header.ts'

const MSG_TRUNC = 0x20

/** The TAP, as the decapsulator writes into it. */
export interface FrameSink {
  /** Write `length` bytes at `offset` of `buf` as one TAP write; false if the kernel refused it. */
  write(buf: Buffer, offset: number, length: number): boolean
  /**
   * Write `count` parts (part i: `lengths[i]` bytes at `offsets[i]` of
   * `bufs[i]`) as one frame, with one writev(); false if the kernel refused it.
   */
  writeParts(bufs: readonly Buffer[], offsets: Int32Array, lengths: Int32Array, count: number): boolean
}

/** Most parts of one writeParts() call (the kernel's UIO_MAXIOV is 1024). */
export const MAX_WRITE_PARTS = 1024

export interface DecapPathOptions {
  vni: number
  /** Writes into the TAP start with a virtio_net_hdr (IFF_VNET_HDR). */
  vnetHdr: boolean
  /** Merge TCP segments (needs vnetHdr). */
  coalesce: boolean
  /** Check each segment's IP and TCP checksums before merging it (default false, see the header comment). */
  verifyChecksums?: boolean
  /** MTU of the TAP (underlay MTU - 50); longer inner frames are a peer's unsegmented GSO. Default 1450. */
  innerMtu?: number
  counters: Float64Array
  tap: FrameSink
}

/**
 * The headroom message buffers need in front of the first datagram, so that a
 * vnet header fits in front of its inner frame: 10 - 8 (the VXLAN header).
 */
export const RECV_HEADROOM = VNET_HDR_LEN - 8

export class DecapPath {
  /** Replaced whole when the peer set changes. */
  peers: PeerTable = PeerTable.empty()
  readonly #vni: number
  readonly #vnetHdr: boolean
  readonly #c: Float64Array
  readonly #tap: FrameSink
  readonly #result = new VxlanDecodeResult()
  readonly #vnet = new VirtioNetHeader()
  readonly #gsoVnet = new VirtioNetHeader() // not #vnet: flush() below reuses that one
  readonly #innerMtu: number
  readonly #coalescer: TcpCoalescer | undefined
  // The parts of one merged frame: its headers, then each segment's payload.
  readonly #partBufs: Buffer[] = []
  readonly #partOffsets = new Int32Array(MAX_WRITE_PARTS)
  readonly #partLengths = new Int32Array(MAX_WRITE_PARTS)

  constructor(options: DecapPathOptions) {
    this.#vni = options.vni
    this.#vnetHdr = options.vnetHdr
    this.#c = options.counters
    this.#tap = options.tap
    this.#innerMtu = options.innerMtu ?? 1450
    this.#coalescer = options.coalesce && options.vnetHdr
      ? new TcpCoalescer({ headroom: VNET_HDR_LEN, verifyChecksums: options.verifyChecksums ?? false })
      : undefined
  }

  /**
   * One received message: `length` bytes at `offset` of `buf`, from underlay
   * address `sourceIp` (u32, -1 if not IPv4). With `groSize` > 0 it holds
   * datagrams of that many bytes back to back (the last may be shorter).
   * At least RECV_HEADROOM bytes in front of `offset` must be free. Inner
   * frames may be held until flush(); `buf` must stay untouched until then.
   */
  message(buf: Buffer, offset: number, length: number, sourceIp: number, groSize: number, flags: number): void {
    const c = this.#c
    c[RX.messages]! += 1
    if ((flags & MSG_TRUNC) !== 0) return this.#drop('truncated', 1)
    let segment = groSize > 0 ? groSize : length
    if (segment <= 0) return this.#drop('too-short', 1)
    // One datagram carrying a peer's unsegmented GSO frame may come with the
    // inner MSS as its "GRO" size: then it is not a run of datagrams.
    if (segment < length && innerIpEnd(buf, offset, length) > segment) segment = length
    if (!this.peers.isPeerAddress(sourceIp)) return this.#drop('unknown-source', Math.ceil(length / segment))
    const end = offset + length
    if (end > buf.length || offset < RECV_HEADROOM) return this.#drop('internal-error', 1)
    const result = this.#result
    for (let at = offset; at < end; at += segment) {
      const len = Math.min(segment, end - at)
      c[RX.datagrams]! += 1
      c[RX.bytes]! += len
      const r = decodeVxlanHeader(buf, at, len, this.#vni, result)
      if (typeof r === 'string') {
        this.#drop(r, 1)
        continue
      }
      c[RX.frames]! += 1
      if (r.innerLength > this.#innerMtu + ETH_HEADER_LEN) {
        if (this.#vnetHdr && this.#writeOversized(buf, r.innerOffset, r.innerLength)) continue
        c[RX.oversized]! += 1
      }
      if (this.#coalescer) {
        this.#coalescer.add(buf, r.innerOffset, r.innerLength)
      } else if (this.#vnetHdr) {
        const vnet = this.#vnet.reset()
        partialChecksum(buf, r.innerOffset, r.innerLength, vnet)
        encodeVirtioNetHeader(vnet, buf, r.innerOffset - VNET_HDR_LEN)
        this.#write(buf, r.innerOffset - VNET_HDR_LEN, r.innerLength + VNET_HDR_LEN, 1)
      } else {
        const vnet = this.#vnet.reset()
        if (partialChecksum(buf, r.innerOffset, r.innerLength, vnet)) {
          completePartialChecksum(buf, vnet.csumStart, vnet.csumOffset, r.innerOffset, r.innerOffset + r.innerLength)
        }
        this.#write(buf, r.innerOffset, r.innerLength, 1)
      }
    }
  }

  // A kernel peer's unsegmented TSO frame (see "Peer GSO" above): an inner
  // TCP frame larger than the MTU with a partial checksum is a GSO frame
  // already, so it goes to the TAP as one, with gso_size = what fits the MTU,
  // for the node's kernel to segment where needed. Anything else oversized is
  // written as it is (and dropped by the node as too big).
  #writeOversized(buf: Buffer, offset: number, length: number): boolean {
    const vnet = this.#gsoVnet.reset()
    if (!partialChecksum(buf, offset, length, vnet) || vnet.csumOffset !== 16) return false
    const ihl = vnet.csumStart - ETH_HEADER_LEN
    const tcp = offset + vnet.csumStart
    const doff = (buf[tcp + 12]! >>> 4) << 2
    const mss = this.#innerMtu - ihl - doff
    if (doff < 20 || mss <= 0) return false
    vnet.gsoType = VNET_GSO_TCPV4 | ((buf[tcp + 13]! & 0x80) !== 0 ? VNET_GSO_ECN : 0)
    vnet.gsoSize = mss
    vnet.hdrLen = ETH_HEADER_LEN + ihl + doff
    this.flush() // keep the order of what came before
    encodeVirtioNetHeader(vnet, buf, offset - VNET_HDR_LEN)
    if (!this.#tap.write(buf, offset - VNET_HDR_LEN, length + VNET_HDR_LEN)) {
      this.#drop('tap-write-error', 1)
      return true
    }
    const c = this.#c
    c[RX.tapWrites]! += 1
    c[RX.tapBytes]! += length
    c[RX.peerGso]! += 1
    return true
  }

  /** Writes what the batch left pending into the TAP; call after every receive batch. */
  flush(): void {
    const coalescer = this.#coalescer
    if (coalescer && coalescer.pending > 0) coalescer.flushGather(this.#emit)
  }

  // A coalescer output: its vnet header goes into the 10 bytes in front of it
  // (the coalescer's arena has that headroom; an unmerged frame has its own
  // VXLAN header and 2 bytes before that, already consumed by then). A merged
  // frame leaves as its headers plus the segments' payloads where they were
  // received: one writev, and the kernel's copy is the only one.
  readonly #emit = (buf: Buffer, offset: number, length: number, vnet: Readonly<VirtioNetHeader>, pieces: number): void => {
    const start = offset - VNET_HDR_LEN
    if (pieces === 0) {
      const own = this.#vnet.reset()
      partialChecksum(buf, offset, length, own)
      encodeVirtioNetHeader(own, buf, start)
      this.#write(buf, start, length + VNET_HDR_LEN, 1)
      return
    }
    encodeVirtioNetHeader(vnet, buf, start)
    const coalescer = this.#coalescer!
    const bufs = this.#partBufs
    const offsets = this.#partOffsets
    const lengths = this.#partLengths
    bufs[0] = buf
    offsets[0] = start
    lengths[0] = length + VNET_HDR_LEN
    let n = 1
    let bytes = length
    for (let p = coalescer.firstPiece(); p >= 0; p = coalescer.nextPiece(p)) {
      if (n === MAX_WRITE_PARTS) {
        // Tiny segments (a hostile or odd MSS): more pieces than one writev
        // takes. Copy them together instead; rare, so allocation is fine.
        this.#writeCopied(bufs, offsets, lengths, n, coalescer, p)
        return
      }
      bufs[n] = coalescer.pieceBuffer(p)
      offsets[n] = coalescer.pieceOffset(p)
      lengths[n] = coalescer.pieceLength(p)
      bytes += lengths[n]!
      n++
    }
    const c = this.#c
    if (!this.#tap.writeParts(bufs, offsets, lengths, n)) {
      this.#drop('tap-write-error', 1)
      return
    }
    c[RX.tapWrites]! += 1
    c[RX.tapBytes]! += bytes
    c[RX.coalesced]! += 1
  }

  #writeCopied(bufs: Buffer[], offsets: Int32Array, lengths: Int32Array, n: number, coalescer: TcpCoalescer, from: number): void {
    let total = 0
    for (let i = 0; i < n; i++) total += lengths[i]!
    for (let p = from; p >= 0; p = coalescer.nextPiece(p)) total += coalescer.pieceLength(p)
    const frame = Buffer.allocUnsafe(total)
    let at = 0
    for (let i = 0; i < n; i++) at += bufs[i]!.copy(frame, at, offsets[i]!, offsets[i]! + lengths[i]!)
    for (let p = from; p >= 0; p = coalescer.nextPiece(p)) {
      at += coalescer.pieceBuffer(p).copy(frame, at, coalescer.pieceOffset(p), coalescer.pieceOffset(p) + coalescer.pieceLength(p))
    }
    this.#write(frame, 0, total, 2)
  }

  #write(buf: Buffer, offset: number, length: number, segments: number): void {
    const c = this.#c
    if (!this.#tap.write(buf, offset, length)) {
      this.#drop('tap-write-error', 1)
      return
    }
    c[RX.tapWrites]! += 1
    c[RX.tapBytes]! += length - (this.#vnetHdr ? VNET_HDR_LEN : 0)
    if (segments > 1) c[RX.coalesced]! += 1
  }

  #drop(reason: RxDrop, count: number): void {
    this.#c[RX_DROP[reason]]! += count
  }
}

/**
 * True, and `vnet` set to NEEDS_CSUM at the checksum field, if the frame at
 * `offset` is an unfragmented IPv4 TCP or UDP packet whose checksum field
 * holds exactly its pseudo-header sum: a checksum the sender left partial.
 * Pure; reads at most the headers.
 */
export function partialChecksum(buf: Uint8Array, offset: number, length: number, vnet: VirtioNetHeader): boolean {
  if (length < ETH_HEADER_LEN + 20 || offset < 0 || offset + length > buf.length) return false
  if (((buf[offset + 12]! << 8) | buf[offset + 13]!) !== ETHERTYPE_IPV4) return false
  const ip = offset + ETH_HEADER_LEN
  const vihl = buf[ip]!
  const ihl = (vihl & 0x0f) << 2
  if (vihl >>> 4 !== 4 || ihl < 20) return false
  const total = (buf[ip + 2]! << 8) | buf[ip + 3]!
  if (ETH_HEADER_LEN + total > length || (((buf[ip + 6]! << 8) | buf[ip + 7]!) & 0x3fff) !== 0) return false
  const protocol = buf[ip + 9]!
  const field = protocol === 6 ? 16 : protocol === 17 ? 6 : -1
  if (field < 0 || total < ihl + field + 2) return false
  const at = ip + ihl + field
  const value = (buf[at]! << 8) | buf[at + 1]!
  if (value === 0 || value !== ipv4PseudoHeaderSum(buf, ip, protocol, total - ihl)) return false
  vnet.flags = VNET_F_NEEDS_CSUM
  vnet.csumStart = ETH_HEADER_LEN + ihl
  vnet.csumOffset = field
  return true
}

/**
 * Where the inner IPv4 packet of the VXLAN datagram at `offset` says it ends,
 * relative to `offset` (VXLAN + Ethernet + IP total length), or 0 if it is
 * not IPv4 or does not fit `length`.
 */
function innerIpEnd(buf: Uint8Array, offset: number, length: number): number {
  const eth = offset + 8
  if (length < 8 + ETH_HEADER_LEN + 20 || offset + length > buf.length) return 0
  if (((buf[eth + 12]! << 8) | buf[eth + 13]!) !== ETHERTYPE_IPV4) return 0
  const end = 8 + ETH_HEADER_LEN + ((buf[eth + 16]! << 8) | buf[eth + 17]!)
  return end <= length ? end : 0
}
