// TAP -> underlay: what happens to each frame the node's kernel sends into
// kwvx0. Pure logic with the socket behind an interface, so it is unit-tested
// with a recording sink; datapath-worker.ts feeds it real reads.
//
// Why it looks like this (shared/notes/vxlan-userspace.md): with TSO4 on the
// TAP the kernel hands us up to 64 KiB of one TCP flow as a single frame; the
// segmenter rebuilds each MSS-sized segment's headers (with 8 bytes of
// headroom, where the VXLAN header goes) and leaves the payload where it was
// read, and the run leaves as one or two UDP GSO sends whose iovecs alternate
// headers and payload: the kernel's copy into the socket is the only one, and
// every datagram but the last has the same size, as UDP GSO wants. Plain frames (ARP,
// ICMP, ACKs, anything under the MTU) are sent from the read buffer itself:
// the 10-byte vnet header in front of the frame is free once decoded, so the
// VXLAN header goes there and nothing is copied. A partial checksum
// (NEEDS_CSUM) is completed first, since the receiving kernel will check it.
//
// Checksums: toward Linux's vxlan device every inner checksum is complete
// (it cannot tell a partial one from a user-space sender). Toward our own
// encapsulator (its lease says so) they stay partial, as the kernel's device
// itself leaves them on veth: the receiver hands them to its TAP as
// NEEDS_CSUM (decap-path.ts), and summing every payload in JavaScript, the
// largest cost left on this side, is skipped.
//
// The destination is the peer owning the inner destination MAC (the FDB in
// peer-table.ts); group and unknown MACs are flooded to every peer.
import { completePartialChecksum } from './checksum.ts'
import { TX, TX_DROP, type TxDrop } from './counters.ts'
import { ETH_HEADER_LEN } from './ethernet.ts'
import { planGsoSends, segmentsPerSend } from './gso-batch.ts'
import { FLOOD, PeerTable } from './peer-table.ts'
import { TsoSegmenter } from './tso-segment.ts'
import {
  decodeVirtioNetHeader, VirtioNetHeader, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, VNET_HDR_LEN,
} from './virtio-net-header.ts'
import { encodeVxlanHeader, VXLAN_HEADER_LEN } from './vxlan-header.ts'

/** Where encapsulated datagrams go: batched, sent on flush(). */
export interface DatagramSink {
  /**
   * Queue a message for underlay address `ip` (u32) made of the next `parts`
   * part() calls, cut by the kernel into `gsoSize`-byte datagrams when
   * `gsoSize` > 0; `datagrams` is how many that makes.
   */
  begin(ip: number, gsoSize: number, datagrams: number, parts: number): void
  /** Appends `length` bytes at `offset` of `buf` to the message begun last; they must stay untouched until flush() returns. */
  part(buf: Buffer, offset: number, length: number): void
  /** Send everything queued. */
  flush(): void
}

/** Most segments one frame may be cut into (the segmenter's default). */
const MAX_SEGMENTS = 2048

export interface EncapPathOptions {
  vni: number
  /** Reads from the TAP start with a virtio_net_hdr (IFF_VNET_HDR). */
  vnetHdr: boolean
  /** The socket takes UDP_SEGMENT; otherwise every datagram is its own message. */
  udpGso: boolean
  counters: Float64Array
  sink: DatagramSink
}

export class EncapPath {
  /** Replaced whole when the peer set changes. */
  peers: PeerTable = PeerTable.empty()
  readonly #vni: number
  readonly #vnetHdr: boolean
  readonly #udpGso: boolean
  readonly #c: Float64Array
  readonly #sink: DatagramSink
  readonly #vnet = new VirtioNetHeader()
  readonly #segmenter = new TsoSegmenter({ headroom: VXLAN_HEADER_LEN, maxSegments: MAX_SEGMENTS })
  // Filled by #onSegment while a TSO frame is cut: per segment, its headers
  // (VXLAN header included) in the segmenter's arena and its payload in the frame.
  readonly #headerOffsets = new Int32Array(MAX_SEGMENTS)
  readonly #payloadOffsets = new Int32Array(MAX_SEGMENTS)
  readonly #payloadLengths = new Int32Array(MAX_SEGMENTS)
  #headerLength = 0
  #segCount = 0
  #frameBuf: Buffer | undefined
  #dest = 0

  constructor(options: EncapPathOptions) {
    this.#vni = options.vni
    this.#vnetHdr = options.vnetHdr
    this.#udpGso = options.udpGso
    this.#c = options.counters
    this.#sink = options.sink
  }

  /**
   * One read from the TAP: `length` bytes at `offset`. The first 10 bytes are
   * the vnet header (with vnetHdr off, they are free headroom the caller left
   * and the frame follows them). Returns true when queued datagrams point
   * into `buf`: the caller keeps that memory until the sink flushes.
   */
  frame(buf: Buffer, offset: number, length: number): boolean {
    const c = this.#c
    const vnet = this.#vnetHdr ? decodeVirtioNetHeader(buf, offset, length, this.#vnet) : this.#vnet.reset()
    const frame = offset + VNET_HDR_LEN
    const frameLength = length - VNET_HDR_LEN
    if (vnet === 'too-short' || frameLength < ETH_HEADER_LEN || frame + frameLength > buf.length) return this.#drop('tap-too-short')
    c[TX.frames]! += 1
    c[TX.bytes]! += frameLength
    const peers = this.peers
    if (peers.size === 0) return this.#drop('no-peers')
    const dest = peers.destination(buf, frame)
    if (dest === FLOOD) c[TX.floods]! += 1

    // A checksum the kernel left partial stays so toward peers that finish it
    // themselves (our own encapsulator), as Linux's vxlan device leaves it on veth.
    const partial = dest === FLOOD ? peers.allPartial : peers.partial[dest] === 1
    if (vnet.gsoType === VNET_GSO_NONE) {
      if ((vnet.flags & VNET_F_NEEDS_CSUM) !== 0 && !partial &&
          !completePartialChecksum(buf, vnet.csumStart, vnet.csumOffset, frame, frame + frameLength)) {
        return this.#drop('bad-csum-offset')
      }
      const start = frame - VXLAN_HEADER_LEN
      encodeVxlanHeader(buf, start, this.#vni)
      this.#send(buf, start, frameLength + VXLAN_HEADER_LEN, dest, 0, 1)
      return true
    }

    this.#segCount = 0
    const result = this.#segmenter.segmentHeaders(vnet, buf, frame, frameLength, this.#onSegment, partial)
    if (typeof result === 'string') return this.#drop(result)
    c[TX.gsoFrames]! += 1
    this.#dest = dest
    this.#frameBuf = buf
    const datagramSize = this.#headerLength + (this.#segCount > 1 ? this.#payloadLengths[0]! : 0)
    planGsoSends(this.#segCount, datagramSize, this.#udpGso && this.#segCount > 1, this.#sendSegments)
    this.#frameBuf = undefined
    // The segmenter reuses its arena for the next frame: send now.
    this.#sink.flush()
    return false
  }

  // Each segment's headers come with VXLAN_HEADER_LEN bytes of headroom: the VXLAN header goes there.
  readonly #onSegment = (arena: Buffer, offset: number, length: number, _payload: Buffer, payloadOffset: number, payloadLength: number): void => {
    const i = this.#segCount++
    encodeVxlanHeader(arena, offset - VXLAN_HEADER_LEN, this.#vni)
    this.#headerOffsets[i] = offset - VXLAN_HEADER_LEN
    this.#headerLength = length + VXLAN_HEADER_LEN
    this.#payloadOffsets[i] = payloadOffset
    this.#payloadLengths[i] = payloadLength
  }

  // One send: segments first .. first + count - 1, headers and payloads alternating.
  readonly #sendSegments = (first: number, count: number, gsoSize: number): void => {
    const arena = this.#segmenter.arena
    const frame = this.#frameBuf!
    const ips = this.peers.ips
    const flood = this.#dest === FLOOD
    for (let p = flood ? 0 : this.#dest; p < (flood ? ips.length : this.#dest + 1); p++) {
      this.#sink.begin(ips[p]!, gsoSize, count, count * 2)
      for (let i = first; i < first + count; i++) {
        this.#sink.part(arena, this.#headerOffsets[i]!, this.#headerLength)
        if (this.#payloadLengths[i]! > 0) this.#sink.part(frame, this.#payloadOffsets[i]!, this.#payloadLengths[i]!)
      }
    }
  }

  #send(buf: Buffer, offset: number, length: number, dest: number, gsoSize: number, datagrams: number): void {
    const ips = this.peers.ips
    if (dest === FLOOD) {
      for (let i = 0; i < ips.length; i++) {
        this.#sink.begin(ips[i]!, gsoSize, datagrams, 1)
        this.#sink.part(buf, offset, length)
      }
    } else {
      this.#sink.begin(ips[dest]!, gsoSize, datagrams, 1)
      this.#sink.part(buf, offset, length)
    }
  }

  #drop(reason: TxDrop): false {
    this.#c[TX_DROP[reason]]! += 1
    return false
  }
}
