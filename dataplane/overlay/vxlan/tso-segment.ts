// Splits a TCPv4 GSO frame read from the TAP into MSS-sized Ethernet frames.
//
// Why: with TSO4 on the TAP, the kernel hands the encapsulator one frame of up
// to 64 KiB per burst instead of ~44, which is what makes the user-space data
// path affordable (shared/notes/vxlan-userspace.md). Each piece must still fit
// the underlay MTU once wrapped in VXLAN, so we cut it the way the kernel's
// tcp_gso_segment would: per segment fix the IP total length, IP id + i, the IP
// header checksum, TCP sequence + offset, FIN/PSH only on the last segment,
// CWR only on the first, and a full TCP checksum.
//
// Output layout: segments are written into one arena owned by the segmenter,
// each preceded by `headroom` free bytes, back to back at a fixed stride:
//
//   [headroom][segment 0][headroom][segment 1] ... [headroom][last segment]
//   stride = headroom + headers + min(gsoSize, payload); every segment but
//   the last is full
//
// The caller writes its VXLAN header (and anything else) into the headroom in
// place, so no segment is copied twice; and because the datagrams are
// contiguous and equal-sized except the last, the run from the first headroom
// to the end of the last segment can go to the socket as UDP GSO sends with
// segment size = stride (at most 64 segments and 65 507 bytes per send, so a
// 64 KiB frame takes two). Views are valid until the next call.
//
// The input frame must not live in the segmenter's own arena.
//
// A frame with gso_type NONE is not copied: a partial checksum is completed in
// place and the frame itself is emitted, so the headroom in front of it is
// whatever the caller's read buffer holds (the 10-byte vnet header it read in
// front of the frame is free once decoded, enough for a VXLAN header).
//
// segmentHeaders() does the same without copying payloads: each segment's
// rebuilt headers go into the arena (headroom in front, back to back at a
// stride of headroom + headers) and the sink is told where that segment's
// payload is in the input frame, so the caller can send headers and payload
// as a gather list (sendmmsg iovecs) and the kernel's copy is the only one.
// The TCP checksums are the same; they are summed over the input frame.
// With `partialChecksums` it leaves each segment's TCP checksum partial
// instead (the pseudo-header sum, not inverted, as Linux does for
// CHECKSUM_PARTIAL): for receivers that finish or skip it themselves, which
// saves summing the payload at all.
//
// Header lengths come from the packet, not from hdr_len/csum_start, because
// the kernel reports hdr_len as the skb's linear length, which may include
// payload. Malformed or unsupported input returns a reason; nothing throws.

import { foldSum, onesComplementSum, completePartialChecksum } from './checksum.ts'
import { ETH_HEADER_LEN, ETH_TYPE_OFFSET, ETHERTYPE_IPV4 } from './ethernet.ts'
import { VNET_F_NEEDS_CSUM, VNET_GSO_ECN, VNET_GSO_NONE, VNET_GSO_TCPV4 } from './virtio-net-header.ts'
import type { VirtioNetHeader } from './virtio-net-header.ts'

const IPPROTO_TCP = 6
const TCP_FIN = 0x01
const TCP_PSH = 0x08
const TCP_CWR = 0x80

/** Why a frame from the TAP cannot be sent. */
export type TsoDropReason =
  | 'unsupported-gso' // gso_type other than NONE or TCPV4 (with or without ECN)
  | 'too-short' // range outside the buffer, or shorter than Ethernet + IPv4 + TCP
  | 'not-ipv4' // GSO frame whose EtherType is not IPv4
  | 'bad-ip-header' // version, IHL, total length or fragment fields wrong
  | 'not-tcp' // GSO frame whose IP protocol is not TCP
  | 'bad-tcp-header' // TCP data offset below 5 or past the IP packet
  | 'bad-gso-size' // gso_size 0
  | 'too-many-segments' // more segments than maxSegments
  | 'bad-csum-offset' // non-GSO frame with NEEDS_CSUM offsets outside the frame

/** Receives each output frame: `length` bytes at `offset` of `buf`. */
export type SegmentSink = (buf: Buffer, offset: number, length: number) => void

/**
 * Receives each segment of segmentHeaders(): its headers are `headerLength`
 * bytes at `headerOffset` of `headers` (the arena), its payload
 * `payloadLength` bytes at `payloadOffset` of `payload` (the input frame).
 */
export type SegmentHeaderSink = (
  headers: Buffer,
  headerOffset: number,
  headerLength: number,
  payload: Buffer,
  payloadOffset: number,
  payloadLength: number,
) => void

export interface TsoSegmenterOptions {
  /** Free bytes left in front of every segment, e.g. VXLAN_HEADER_LEN. */
  headroom: number
  /**
   * Frames that would split into more segments are dropped. The default 2048
   * covers a 64 KiB frame down to an MSS of 32 while keeping a hostile
   * gso_size of 1 from growing the arena to megabytes.
   */
  maxSegments?: number
  /** Initial arena size; it grows as needed and is then kept. */
  initialArenaBytes?: number
}

export class TsoSegmenter {
  readonly headroom: number
  readonly maxSegments: number
  #arena: Buffer

  constructor(options: TsoSegmenterOptions) {
    const { headroom, maxSegments = 2048, initialArenaBytes = 128 * 1024 } = options
    if (!Number.isInteger(headroom) || headroom < 0 || headroom > 4096) {
      throw new RangeError(`headroom must be an integer in 0..4096, got ${headroom}`)
    }
    if (!Number.isInteger(maxSegments) || maxSegments < 1) {
      throw new RangeError(`maxSegments must be a positive integer, got ${maxSegments}`)
    }
    this.headroom = headroom
    this.maxSegments = maxSegments
    this.#arena = Buffer.allocUnsafe(Math.max(0, initialArenaBytes | 0))
  }

  /** The arena the last segments were written into (for a UDP GSO send). */
  get arena(): Buffer {
    return this.#arena
  }

  /**
   * Turns one frame read from the TAP (`length` bytes at `offset`, after its
   * decoded vnet header `vnet`) into frames ready to encapsulate, calling
   * `emit` for each in order. Returns how many frames were emitted, or why
   * the frame must be dropped (then nothing was emitted).
   */
  segment(
    vnet: Readonly<VirtioNetHeader>,
    frame: Buffer,
    offset: number,
    length: number,
    emit: SegmentSink,
  ): number | TsoDropReason {
    if (
      !(offset >= 0 && length >= 0 && offset + length <= frame.length) ||
      !Number.isInteger(offset) ||
      !Number.isInteger(length)
    ) {
      return 'too-short'
    }
    if (vnet.gsoType === VNET_GSO_NONE) {
      if ((vnet.flags & VNET_F_NEEDS_CSUM) !== 0 &&
          !completePartialChecksum(frame, vnet.csumStart, vnet.csumOffset, offset, offset + length)) {
        return 'bad-csum-offset'
      }
      emit(frame, offset, length)
      return 1
    }
    if ((vnet.gsoType & ~VNET_GSO_ECN) !== VNET_GSO_TCPV4) return 'unsupported-gso'
    return this.#splitTcp4(vnet.gsoSize, frame, offset, length, emit)
  }

  /**
   * Like segment(), but for a TSO frame only the segments' headers are
   * written (into the arena, at a stride of headroom + header length) and
   * each payload stays in `frame`: `emit` gets both places. A frame with
   * gso_type NONE is emitted whole as headers with an empty payload (its
   * partial checksum completed in place). `frame` must stay untouched while
   * the caller uses the payload ranges.
   */
  segmentHeaders(
    vnet: Readonly<VirtioNetHeader>,
    frame: Buffer,
    offset: number,
    length: number,
    emit: SegmentHeaderSink,
    partialChecksums = false,
  ): number | TsoDropReason {
    if (
      !(offset >= 0 && length >= 0 && offset + length <= frame.length) ||
      !Number.isInteger(offset) ||
      !Number.isInteger(length)
    ) {
      return 'too-short'
    }
    if (vnet.gsoType === VNET_GSO_NONE) {
      if ((vnet.flags & VNET_F_NEEDS_CSUM) !== 0 && !partialChecksums &&
          !completePartialChecksum(frame, vnet.csumStart, vnet.csumOffset, offset, offset + length)) {
        return 'bad-csum-offset'
      }
      emit(frame, offset, length, frame, offset + length, 0)
      return 1
    }
    if ((vnet.gsoType & ~VNET_GSO_ECN) !== VNET_GSO_TCPV4) return 'unsupported-gso'
    return this.#splitTcp4(vnet.gsoSize, frame, offset, length, undefined, emit, partialChecksums)
  }

  #splitTcp4(
    mss: number,
    frame: Buffer,
    offset: number,
    length: number,
    emit: SegmentSink | undefined,
    emitHeaders?: SegmentHeaderSink,
    partialChecksums = false,
  ): number | TsoDropReason {
    if (length < ETH_HEADER_LEN + 20 + 20) return 'too-short'
    if (((frame[offset + ETH_TYPE_OFFSET]! << 8) | frame[offset + ETH_TYPE_OFFSET + 1]!) !== ETHERTYPE_IPV4) {
      return 'not-ipv4'
    }
    const ip = offset + ETH_HEADER_LEN
    const vihl = frame[ip]!
    const ihl = (vihl & 0x0f) << 2
    const ipTotal = (frame[ip + 2]! << 8) | frame[ip + 3]!
    if (vihl >>> 4 !== 4 || ihl < 20 || ipTotal < ihl + 20 || ETH_HEADER_LEN + ipTotal > length) {
      return 'bad-ip-header'
    }
    // More-fragments or a fragment offset: not a whole TCP segment.
    if ((((frame[ip + 6]! << 8) | frame[ip + 7]!) & 0x3fff) !== 0) return 'bad-ip-header'
    if (frame[ip + 9] !== IPPROTO_TCP) return 'not-tcp'
    const tcp = ip + ihl
    const doff = (frame[tcp + 12]! >>> 4) << 2
    if (doff < 20 || ihl + doff > ipTotal) return 'bad-tcp-header'
    if (!(mss > 0)) return 'bad-gso-size'

    const headers = ETH_HEADER_LEN + ihl + doff
    const payload = ipTotal - ihl - doff
    const count = payload === 0 ? 1 : Math.ceil(payload / mss)
    if (count > this.maxSegments) return 'too-many-segments'
    const headroom = this.headroom
    const gather = emitHeaders !== undefined
    const stride = headroom + headers + (gather ? 0 : Math.min(mss, payload))
    this.#reserve(count * stride)
    const arena = this.#arena

    // Sums that are the same for every segment, computed once: the IP header
    // without total length (word at 2), id (4) and checksum (10); the TCP
    // header without sequence number (4, 6), flags (low byte of 12) and
    // checksum (16); the pseudo-header without its length.
    const id0 = (frame[ip + 4]! << 8) | frame[ip + 5]!
    const seq0 = ((frame[tcp + 4]! << 24) | (frame[tcp + 5]! << 16) | (frame[tcp + 6]! << 8) | frame[tcp + 7]!) >>> 0
    const flags0 = frame[tcp + 13]!
    let ipBase = 0
    for (let k = 0; k < ihl; k += 2) {
      if (k !== 2 && k !== 4 && k !== 10) ipBase += (frame[ip + k]! << 8) | frame[ip + k + 1]!
    }
    let tcpBase = 0
    for (let k = 0; k < doff; k += 2) {
      if (k === 12) tcpBase += frame[tcp + k]! << 8
      else if (k !== 4 && k !== 6 && k !== 16) tcpBase += (frame[tcp + k]! << 8) | frame[tcp + k + 1]!
    }
    const pseudoBase =
      ((frame[ip + 12]! << 8) | frame[ip + 13]!) +
      ((frame[ip + 14]! << 8) | frame[ip + 15]!) +
      ((frame[ip + 16]! << 8) | frame[ip + 17]!) +
      ((frame[ip + 18]! << 8) | frame[ip + 19]!) +
      IPPROTO_TCP

    // Headers are copied from the frame once, then within the arena, which
    // is cheaper for a few dozen bytes than another Buffer.copy. Copying from
    // segment 0 after it was patched is fine: every patched field is
    // rewritten for each segment. All segments are written before the first
    // emit, so a sink cannot disturb later segments, and the whole run is in
    // place from the first callback on.
    const payloadStart = offset + headers
    const firstStart = headroom
    frame.copy(arena, firstStart, offset, offset + headers)
    for (let i = 0; i < count; i++) {
      const start = headroom + i * stride
      if (i > 0) arena.copyWithin(start, firstStart, firstStart + headers)
      const from = i * mss
      const size = Math.min(mss, payload - from)
      if (!gather) frame.copy(arena, start + headers, payloadStart + from, payloadStart + from + size)

      const aip = start + ETH_HEADER_LEN
      const total = ihl + doff + size
      const id = (id0 + i) & 0xffff
      arena[aip + 2] = total >>> 8
      arena[aip + 3] = total & 0xff
      arena[aip + 4] = id >>> 8
      arena[aip + 5] = id & 0xff
      const ipCsum = ~foldSum(ipBase + total + id) & 0xffff
      arena[aip + 10] = ipCsum >>> 8
      arena[aip + 11] = ipCsum & 0xff

      const atcp = aip + ihl
      const seq = (seq0 + from) >>> 0
      let flags = flags0
      if (i !== count - 1) flags &= ~(TCP_FIN | TCP_PSH)
      if (i !== 0) flags &= ~TCP_CWR
      arena[atcp + 4] = seq >>> 24
      arena[atcp + 5] = (seq >>> 16) & 0xff
      arena[atcp + 6] = (seq >>> 8) & 0xff
      arena[atcp + 7] = seq & 0xff
      arena[atcp + 13] = flags
      // The payload starts doff (a multiple of 4) bytes into the TCP segment,
      // so its sum adds to the header's without byte swapping.
      const tcpCsum = partialChecksums
        ? foldSum(pseudoBase + doff + size)
        : ~foldSum(
          tcpBase + (seq >>> 16) + (seq & 0xffff) + flags + pseudoBase + doff + size +
            (gather ? onesComplementSum(frame, payloadStart + from, size) : onesComplementSum(arena, start + headers, size)),
        ) & 0xffff
      arena[atcp + 16] = tcpCsum >>> 8
      arena[atcp + 17] = tcpCsum & 0xff
    }
    if (emitHeaders) {
      for (let i = 0; i < count; i++) {
        emitHeaders(arena, headroom + i * stride, headers, frame, payloadStart + i * mss, Math.min(mss, payload - i * mss))
      }
    } else if (emit) {
      for (let i = 0; i < count; i++) {
        emit(arena, headroom + i * stride, headers + Math.min(mss, payload - i * mss))
      }
    }
    return count
  }

  #reserve(bytes: number): void {
    if (this.#arena.length < bytes) {
      this.#arena = Buffer.allocUnsafe(Math.max(bytes, this.#arena.length * 2, 4096))
    }
  }
}
