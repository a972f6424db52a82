// Receive-side TCP coalescing (GRO in user space): merges consecutive
// segments of a flow from one receive batch into one GSO frame for the TAP.
//
// Why: a write() into a TAP runs the whole inner receive path for that frame,
// and that per-frame cost, not JavaScript, is what limits the data path. One
// 64 KiB frame written as TCPV4 GSO instead of 44 segments doubled throughput
// in the measurements of shared/notes/vxlan-userspace.md.
//
// What merges (the rules Linux's tcp_gro_receive uses, and wireguard-go's):
// IPv4 without options, not a fragment, TCP with a payload and flags exactly
// ACK or ACK|PSH; same MACs, addresses and ports; same TOS, TTL and DF; IP ids
// incrementing unless DF is set; same ACK number, data offset, window and
// options bytes; the sequence number continuing the previous segment; every
// segment but the last exactly the first one's payload size (the MSS); nothing
// after a PSH segment; at most 65535 bytes of IP total length. Checksums are
// verified before merging (optional), since the kernel will not check a
// frame we hand it as CHECKSUM_PARTIAL.
//
// Everything else passes through unchanged, and a frame of a flow that cannot
// join that flow's open merge (SYN, FIN, RST, URG, ECE, CWR, pure ACK, IP
// options, a gap ...) first closes it, so the flow's order is kept. Output
// order is the arrival order of each output frame's first segment, so frames
// of one flow, and non-TCP frames, leave in the order they came.
//
// Batches, no timers: add() every inner frame of one receive batch, then
// flush(). Input buffers must stay untouched until flush() returns. A merged
// frame is built at flush time into an arena owned by the coalescer, with
// `headroom` free bytes in front (default 10, room for the vnet header, so
// header and frame go to the TAP in one write); it stays valid until the next
// flush(). An unmerged frame is emitted as the caller's own view with a zeroed
// vnet header, so whether it has headroom is up to the caller's buffers.
// The vnet header object passed to the sink is reused; read it in the callback.
//
// flushGather() is flush() without the payload copies: a merged frame is
// given as its rebuilt headers (in the arena, with headroom) plus the payload
// pieces in the caller's buffers, walked with firstPiece()/nextPiece() during
// the callback, so the caller can hand them to writev() and let the kernel do
// the only copy (added for the TAP writes of the VXLAN data path; in Node 20 a
// Buffer.copy of one MSS costs ~200 ns, mostly for the view it allocates).

import { ipv4PseudoHeaderSum, onesComplementSum } from './checksum.ts'
import { ETH_HEADER_LEN, ETH_TYPE_OFFSET, ETHERTYPE_IPV4 } from './ethernet.ts'
import { VirtioNetHeader, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, VNET_HDR_LEN } from './virtio-net-header.ts'

const IPPROTO_TCP = 6
const TCP_PSH = 0x08
const TCP_ACK = 0x10
const IP_HEADER_LEN = 20 // merged frames never carry IP options
const MAX_IP_LENGTH = 0xffff
const TCP_CSUM_OFFSET = 16
const BUCKETS = 1024 // power of two

/** Receives each output frame and the vnet header to write in front of it. */
export type CoalescedSink = (buf: Buffer, offset: number, length: number, vnet: Readonly<VirtioNetHeader>) => void

/**
 * Receives each output frame of flushGather(): `length` bytes at `offset` of
 * `buf` are the whole frame when `pieces` is 0, else only its headers, and
 * the frame continues with `pieces` payload pieces (firstPiece()/nextPiece()).
 */
export type GatherSink = (buf: Buffer, offset: number, length: number, vnet: Readonly<VirtioNetHeader>, pieces: number) => void

export interface TcpCoalescerOptions {
  /** Free bytes in front of each merged frame (default VNET_HDR_LEN). */
  headroom?: number
  /**
   * Verify IP header and TCP checksums before merging (default true). A
   * segment that fails passes through for the kernel to drop. Turn off only
   * when something upstream already verified them.
   */
  verifyChecksums?: boolean
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0
}

function grow<T extends Int32Array | Uint32Array | Uint8Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size)
  b.set(a)
  return b
}

export class TcpCoalescer {
  readonly headroom: number
  readonly verifyChecksums: boolean

  #arena: Buffer = Buffer.allocUnsafe(64 * 1024)
  #vnet = new VirtioNetHeader()
  #gatherUnit = -1 // the unit flushGather() is emitting, for the piece accessors

  // Frames added since the last flush, by arrival index.
  #frames = 0
  #fBuf: (Buffer | undefined)[] = []
  #fOff = new Float64Array(64) // as given, even if not an integer
  #fLen = new Float64Array(64)
  #fPayOff = new Int32Array(64) // absolute offset of the TCP payload in fBuf
  #fPayLen = new Int32Array(64)
  #fNext = new Int32Array(64) // next frame of the same unit, -1 at the tail

  // Units: output frames, in the order of their first frame. A unit that can
  // still take segments is "open" and findable through the hash buckets.
  #units = 0
  #uHead = new Int32Array(64)
  #uTail = new Int32Array(64)
  #uCount = new Int32Array(64)
  #uOpen = new Uint8Array(64)
  #uPsh = new Uint8Array(64)
  #uIpLen = new Int32Array(64)
  #uMss = new Int32Array(64)
  #uLastPay = new Int32Array(64)
  #uNextSeq = new Uint32Array(64)
  #uNextId = new Int32Array(64)
  #uHash = new Int32Array(64) // -1: never in a bucket (pass-through)
  #uChain = new Int32Array(64) // next unit in the same bucket, -1 at the end
  #uSrc = new Uint32Array(64)
  #uDst = new Uint32Array(64)
  #uPorts = new Uint32Array(64)
  #buckets = new Int32Array(BUCKETS).fill(-1)

  constructor(options: TcpCoalescerOptions = {}) {
    const { headroom = VNET_HDR_LEN, verifyChecksums = true } = options
    if (!Number.isInteger(headroom) || headroom < 0 || headroom > 4096) {
      throw new RangeError(`headroom must be an integer in 0..4096, got ${headroom}`)
    }
    this.headroom = headroom
    this.verifyChecksums = verifyChecksums
  }

  /** Frames added and not flushed yet. */
  get pending(): number {
    return this.#frames
  }

  /**
   * Takes one inner Ethernet frame (`length` bytes at `offset` of `buf`) of
   * the current batch. Never throws for any content; a range outside `buf`
   * is passed through as given.
   */
  add(buf: Buffer, offset: number, length: number): void {
    const f = this.#addFrame(buf, offset, length)
    if (
      !(offset >= 0 && length >= ETH_HEADER_LEN + 20 && offset + length <= buf.length) ||
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      u16(buf, offset + ETH_TYPE_OFFSET) !== ETHERTYPE_IPV4
    ) {
      this.#passThrough(f)
      return
    }
    const ip = offset + ETH_HEADER_LEN
    const vihl = buf[ip]!
    const ihl = (vihl & 0x0f) << 2
    const ipTotal = u16(buf, ip + 2)
    if (vihl >>> 4 !== 4 || ihl < 20 || buf[ip + 9] !== IPPROTO_TCP) {
      this.#passThrough(f)
      return
    }
    if ((u16(buf, ip + 6) & 0x3fff) !== 0) {
      // A fragment: its flow is unknown without reassembly, so to keep every
      // flow's order, nothing merged so far may absorb later segments.
      this.#closeAll()
      this.#passThrough(f)
      return
    }
    // From here the whole TCP header is inside the frame.
    const tcp = ip + ihl
    if (ipTotal < ihl + 20 || ETH_HEADER_LEN + ipTotal > length) {
      this.#passThrough(f) // malformed or truncated; the kernel will drop it
      return
    }
    const doff = (buf[tcp + 12]! >>> 4) << 2
    if (doff < 20 || ihl + doff > ipTotal) {
      this.#passThrough(f)
      return
    }

    const src = u32(buf, ip + 12)
    const dst = u32(buf, ip + 16)
    const ports = u32(buf, tcp)
    const hash = flowHash(src, dst, ports)
    const open = this.#findOpen(hash, src, dst, ports, buf, offset)
    const flags = buf[tcp + 13]!
    const payLen = ipTotal - ihl - doff
    const candidate =
      ihl === IP_HEADER_LEN &&
      (flags === TCP_ACK || flags === (TCP_ACK | TCP_PSH)) &&
      payLen > 0 &&
      (!this.verifyChecksums || checksumsValid(buf, ip, ipTotal))
    if (!candidate) {
      if (open >= 0) this.#uOpen[open] = 0
      this.#passThrough(f)
      return
    }
    this.#fPayOff[f] = tcp + doff
    this.#fPayLen[f] = payLen
    if (open >= 0) {
      if (this.#canAppend(open, buf, ip, tcp, doff, payLen)) {
        this.#append(open, f, buf, ip, tcp, payLen)
        return
      }
      this.#uOpen[open] = 0
    }
    this.#openUnit(f, hash, src, dst, ports, buf, ip, tcp, payLen)
  }

  /**
   * Emits every frame of the batch in order and forgets the batch. Returns
   * how many frames were emitted. Do not call add() from inside `emit`.
   */
  flush(emit: CoalescedSink): number {
    const units = this.#units
    try {
      let need = 0
      for (let u = 0; u < units; u++) {
        if (this.#uCount[u]! > 1) need += this.headroom + ETH_HEADER_LEN + this.#uIpLen[u]!
      }
      if (this.#arena.length < need) this.#arena = Buffer.allocUnsafe(Math.max(need, this.#arena.length * 2))
      let pos = 0
      for (let u = 0; u < units; u++) {
        const head = this.#uHead[u]!
        if (this.#uCount[u] === 1) {
          emit(this.#fBuf[head]!, this.#fOff[head]!, this.#fLen[head]!, this.#vnet.reset())
        } else {
          pos = this.#emitMerged(u, pos, emit)
        }
      }
    } finally {
      this.#clear()
    }
    return units
  }

  /**
   * Like flush(), but merged frames are not copied together: the sink gets
   * each merged frame's headers (with headroom in front, in the arena) and
   * walks its payload pieces with firstPiece()/nextPiece() while it runs.
   * Unmerged frames are emitted as in flush(), with `pieces` 0.
   */
  flushGather(emit: GatherSink): number {
    const units = this.#units
    try {
      let need = 0
      for (let u = 0; u < units; u++) {
        if (this.#uCount[u]! > 1) need += this.headroom + this.#fPayOff[this.#uHead[u]!]! - this.#fOff[this.#uHead[u]!]!
      }
      if (this.#arena.length < need) this.#arena = Buffer.allocUnsafe(Math.max(need, this.#arena.length * 2))
      let pos = 0
      for (let u = 0; u < units; u++) {
        const head = this.#uHead[u]!
        if (this.#uCount[u] === 1) {
          emit(this.#fBuf[head]!, this.#fOff[head]!, this.#fLen[head]!, this.#vnet.reset(), 0)
        } else {
          pos = this.#emitMergedHeaders(u, pos, emit)
        }
      }
    } finally {
      this.#gatherUnit = -1
      this.#clear()
    }
    return units
  }

  /** During a flushGather() callback for a merged frame: its first payload piece. */
  firstPiece(): number {
    return this.#gatherUnit < 0 ? -1 : this.#uHead[this.#gatherUnit]!
  }

  /** The piece after `piece`, or -1 after the last one. */
  nextPiece(piece: number): number {
    return this.#fNext[piece] ?? -1
  }

  pieceBuffer(piece: number): Buffer {
    return this.#fBuf[piece]!
  }

  pieceOffset(piece: number): number {
    return this.#fPayOff[piece]!
  }

  pieceLength(piece: number): number {
    return this.#fPayLen[piece]!
  }

  // The headers of unit `u`'s merged frame at `pos` + headroom in the arena.
  #emitMergedHeaders(u: number, pos: number, emit: GatherSink): number {
    const arena = this.#arena
    const head = this.#uHead[u]!
    const hb = this.#fBuf[head]!
    const ho = this.#fOff[head]!
    const headers = this.#fPayOff[head]! - ho
    const start = pos + this.headroom
    hb.copy(arena, start, ho, ho + headers)
    this.#finishMergedHeaders(u, arena, start, headers)
    this.#gatherUnit = u
    emit(arena, start, headers, this.#vnet, this.#uCount[u]!)
    this.#gatherUnit = -1
    return start + headers
  }

  // IP total length and checksum, PSH, the TCP pseudo-header sum and the vnet
  // header of a merged frame whose headers are at `start` of `arena`.
  #finishMergedHeaders(u: number, arena: Buffer, start: number, headers: number): void {
    const ip = start + ETH_HEADER_LEN
    const tcp = ip + IP_HEADER_LEN
    const ipTotal = this.#uIpLen[u]!
    arena[ip + 2] = ipTotal >>> 8
    arena[ip + 3] = ipTotal & 0xff
    arena[ip + 10] = 0
    arena[ip + 11] = 0
    const ipCsum = ~onesComplementSum(arena, ip, IP_HEADER_LEN) & 0xffff
    arena[ip + 10] = ipCsum >>> 8
    arena[ip + 11] = ipCsum & 0xff
    if (this.#uPsh[u] === 1) arena[tcp + 13]! |= TCP_PSH
    // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, not inverted;
    // the kernel adds the segment and inverts.
    const pseudo = ipv4PseudoHeaderSum(arena, ip, IPPROTO_TCP, ipTotal - IP_HEADER_LEN)
    arena[tcp + TCP_CSUM_OFFSET] = pseudo >>> 8
    arena[tcp + TCP_CSUM_OFFSET + 1] = pseudo & 0xff
    const vnet = this.#vnet
    vnet.flags = VNET_F_NEEDS_CSUM
    vnet.gsoType = VNET_GSO_TCPV4
    vnet.hdrLen = headers
    vnet.gsoSize = this.#uMss[u]!
    vnet.csumStart = ETH_HEADER_LEN + IP_HEADER_LEN
    vnet.csumOffset = TCP_CSUM_OFFSET
  }

  // Builds the merged frame of unit `u` at `pos` + headroom in the arena.
  #emitMerged(u: number, pos: number, emit: CoalescedSink): number {
    const arena = this.#arena
    const head = this.#uHead[u]!
    const hb = this.#fBuf[head]!
    const ho = this.#fOff[head]!
    const headers = this.#fPayOff[head]! - ho
    const start = pos + this.headroom
    hb.copy(arena, start, ho, ho + headers)
    let p = start + headers
    for (let f = head; f >= 0; f = this.#fNext[f]!) {
      const po = this.#fPayOff[f]!
      this.#fBuf[f]!.copy(arena, p, po, po + this.#fPayLen[f]!)
      p += this.#fPayLen[f]!
    }
    this.#finishMergedHeaders(u, arena, start, headers)
    emit(arena, start, ETH_HEADER_LEN + this.#uIpLen[u]!, this.#vnet)
    return start + ETH_HEADER_LEN + this.#uIpLen[u]!
  }

  #canAppend(u: number, buf: Buffer, ip: number, tcp: number, doff: number, payLen: number): boolean {
    const mss = this.#uMss[u]!
    if (
      this.#uPsh[u] === 1 ||
      this.#uLastPay[u] !== mss ||
      payLen > mss ||
      this.#uIpLen[u]! + payLen > MAX_IP_LENGTH ||
      u32(buf, tcp + 4) !== this.#uNextSeq[u]
    ) {
      return false
    }
    const head = this.#uHead[u]!
    const hb = this.#fBuf[head]!
    const hip = this.#fOff[head]! + ETH_HEADER_LEN
    const htcp = hip + IP_HEADER_LEN
    // TOS; then flags byte without MF/offset bits (reserved, DF); then TTL.
    if (buf[ip + 1] !== hb[hip + 1] || (buf[ip + 6]! & 0xe0) !== (hb[hip + 6]! & 0xe0) || buf[ip + 8] !== hb[hip + 8]) {
      return false
    }
    // Without DF the ids must count up, or resegmenting would change them.
    if ((buf[ip + 6]! & 0x40) === 0 && u16(buf, ip + 4) !== this.#uNextId[u]) return false
    // ACK number (8..11); data offset, flags but PSH, window (12..15).
    if (u32(buf, tcp + 8) !== u32(hb, htcp + 8)) return false
    if (buf[tcp + 12] !== hb[htcp + 12] || (buf[tcp + 13]! & ~TCP_PSH) !== (hb[htcp + 13]! & ~TCP_PSH)) return false
    if (u16(buf, tcp + 14) !== u16(hb, htcp + 14)) return false
    for (let k = 20; k < doff; k++) {
      if (buf[tcp + k] !== hb[htcp + k]) return false
    }
    return true
  }

  #append(u: number, f: number, buf: Buffer, ip: number, tcp: number, payLen: number): void {
    this.#fNext[this.#uTail[u]!] = f
    this.#uTail[u] = f
    this.#uCount[u]!++
    this.#uIpLen[u]! += payLen
    this.#uLastPay[u] = payLen
    this.#uNextSeq[u] = (u32(buf, tcp + 4) + payLen) >>> 0
    this.#uNextId[u] = (u16(buf, ip + 4) + 1) & 0xffff
    this.#uPsh[u] = (buf[tcp + 13]! & TCP_PSH) !== 0 ? 1 : 0
  }

  #openUnit(
    f: number,
    hash: number,
    src: number,
    dst: number,
    ports: number,
    buf: Buffer,
    ip: number,
    tcp: number,
    payLen: number,
  ): void {
    const u = this.#newUnit(f)
    this.#uOpen[u] = 1
    this.#uIpLen[u] = u16(buf, ip + 2)
    this.#uMss[u] = payLen
    this.#uLastPay[u] = payLen
    this.#uNextSeq[u] = (u32(buf, tcp + 4) + payLen) >>> 0
    this.#uNextId[u] = (u16(buf, ip + 4) + 1) & 0xffff
    this.#uPsh[u] = (buf[tcp + 13]! & TCP_PSH) !== 0 ? 1 : 0
    this.#uSrc[u] = src
    this.#uDst[u] = dst
    this.#uPorts[u] = ports
    const b = hash & (BUCKETS - 1)
    this.#uHash[u] = hash
    this.#uChain[u] = this.#buckets[b]!
    this.#buckets[b] = u
  }

  // The flow's newest unit if it is still open, else -1. A flow's newest unit
  // is first in its bucket chain, so the walk stops at the first match.
  #findOpen(hash: number, src: number, dst: number, ports: number, buf: Buffer, offset: number): number {
    for (let u = this.#buckets[hash & (BUCKETS - 1)]!; u >= 0; u = this.#uChain[u]!) {
      if (this.#uHash[u] !== hash || this.#uSrc[u] !== src || this.#uDst[u] !== dst || this.#uPorts[u] !== ports) {
        continue
      }
      const head = this.#uHead[u]!
      const hb = this.#fBuf[head]!
      const ho = this.#fOff[head]!
      let sameMacs = true
      for (let k = 0; k < 12; k++) {
        if (buf[offset + k] !== hb[ho + k]) {
          sameMacs = false
          break
        }
      }
      if (sameMacs) return this.#uOpen[u] === 1 ? u : -1
    }
    return -1
  }

  #closeAll(): void {
    this.#uOpen.fill(0, 0, this.#units)
  }

  #passThrough(f: number): void {
    const u = this.#newUnit(f)
    this.#uOpen[u] = 0
    this.#uHash[u] = -1
  }

  #addFrame(buf: Buffer, offset: number, length: number): number {
    const f = this.#frames++
    if (f === this.#fOff.length) {
      const n = f * 2
      this.#fOff = grow(this.#fOff, n)
      this.#fLen = grow(this.#fLen, n)
      this.#fPayOff = grow(this.#fPayOff, n)
      this.#fPayLen = grow(this.#fPayLen, n)
      this.#fNext = grow(this.#fNext, n)
    }
    this.#fBuf[f] = buf
    this.#fOff[f] = offset
    this.#fLen[f] = length
    this.#fNext[f] = -1
    return f
  }

  #newUnit(f: number): number {
    const u = this.#units++
    if (u === this.#uHead.length) {
      const n = u * 2
      this.#uHead = grow(this.#uHead, n)
      this.#uTail = grow(this.#uTail, n)
      this.#uCount = grow(this.#uCount, n)
      this.#uOpen = grow(this.#uOpen, n)
      this.#uPsh = grow(this.#uPsh, n)
      this.#uIpLen = grow(this.#uIpLen, n)
      this.#uMss = grow(this.#uMss, n)
      this.#uLastPay = grow(this.#uLastPay, n)
      this.#uNextSeq = grow(this.#uNextSeq, n)
      this.#uNextId = grow(this.#uNextId, n)
      this.#uHash = grow(this.#uHash, n)
      this.#uChain = grow(this.#uChain, n)
      this.#uSrc = grow(this.#uSrc, n)
      this.#uDst = grow(this.#uDst, n)
      this.#uPorts = grow(this.#uPorts, n)
    }
    this.#uHead[u] = f
    this.#uTail[u] = f
    this.#uCount[u] = 1
    return u
  }

  #clear(): void {
    for (let u = 0; u < this.#units; u++) {
      const h = this.#uHash[u]!
      if (h !== -1) this.#buckets[h & (BUCKETS - 1)] = -1
    }
    // Do not pin the caller's buffers. (A loop: Array.prototype.fill is a
    // call into the runtime, measurable at one batch per ping.)
    const bufs = this.#fBuf
    for (let f = 0; f < this.#frames; f++) bufs[f] = undefined
    this.#frames = 0
    this.#units = 0
  }
}

function flowHash(src: number, dst: number, ports: number): number {
  let h = (src ^ Math.imul(dst, 0x9e3779b1) ^ Math.imul(ports, 0x85ebca6b)) | 0
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  h ^= h >>> 12
  return h & 0x7fffffff // never -1, the "not in a bucket" mark
}

// IP header (no options, 20 bytes) and TCP checksum of the packet at `ip`.
function checksumsValid(buf: Buffer, ip: number, ipTotal: number): boolean {
  if (onesComplementSum(buf, ip, IP_HEADER_LEN) !== 0xffff) return false
  const l4 = ipTotal - IP_HEADER_LEN
  return onesComplementSum(buf, ip + IP_HEADER_LEN, l4, ipv4PseudoHeaderSum(buf, ip, IPPROTO_TCP, l4)) === 0xffff
}
