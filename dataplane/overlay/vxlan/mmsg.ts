// The native structures sendmmsg(2) and recvmmsg(2) read: an array of
// `struct mmsghdr`, each pointing at its iovecs, a sockaddr_in and a control
// buffer, laid out in one block of memory that never moves.
//
// Why: batching is what amortizes the cost of crossing into the kernel, and
// with UDP GSO/GRO one message carries up to 64 datagrams; per batch we only
// rewrite a few fields in place (no allocation, no marshalling by the FFI).
// The layout code is pure: it writes into any Buffer given the address that
// Buffer has in memory, so it is unit-tested without a kernel.
//
// Layout (Linux LP64, little-endian; x86-64 and arm64):
//   struct msghdr  { void *name @0; u32 namelen @8; iovec *iov @16;
//                    size_t iovlen @24; void *control @32; size_t controllen @40;
//                    int flags @48 }                    56 bytes
//   struct mmsghdr { msghdr hdr @0; u32 msg_len @56 }   64 bytes
//   struct iovec   { void *base @0; size_t len @8 }     16 bytes
//   struct sockaddr_in { u16 family @0 (host order); u16 port @2 (BE);
//                        u32 addr @4 (BE); 8 zero bytes }   16 bytes
//   struct cmsghdr { size_t len @0; int level @8; int type @12; data @16 }
//
// Block: [mmsghdr x n][iovec x m][sockaddr_in x n][control x n]; a receive
// vector has one iovec per message (m = n), a send vector a pool of m iovecs
// handed out in order, so one message may gather several ranges (headers
// here, payload there) into one datagram or one UDP GSO run.

export const MMSGHDR_SIZE = 64
export const IOVEC_SIZE = 16
export const SOCKADDR_IN_SIZE = 16
export const CMSG_HEADER_SIZE = 16
/** CMSG_SPACE(sizeof(u16)): one UDP_SEGMENT control message. */
export const SEND_CONTROL_SIZE = 24
/** Room for the control messages a receive may carry (UDP_GRO is 24 bytes). */
export const RECV_CONTROL_SIZE = 64

const MSG_NAME = 0
const MSG_NAMELEN = 8
const MSG_IOV = 16
const MSG_IOVLEN = 24
const MSG_CONTROL = 32
const MSG_CONTROLLEN = 40
const MSG_FLAGS = 48
const MSG_LEN = 56

const AF_INET = 2
const SOL_UDP = 17
const UDP_SEGMENT = 103
const UDP_GRO = 104

const TWO_32 = 0x100000000

/** Native memory for a message block: a Buffer view and the address of its first byte. */
export interface NativeBlock {
  buf: Buffer
  address: number
}

/** Bytes a block of `capacity` messages with `controlSize`-byte control buffers and `iovCapacity` iovecs needs. */
export function messageBlockBytes(capacity: number, controlSize: number, iovCapacity = capacity): number {
  return capacity * (MMSGHDR_SIZE + SOCKADDR_IN_SIZE + controlSize) + iovCapacity * IOVEC_SIZE
}

/** "a.b.c.d" as an unsigned 32-bit number (the address in network order read big-endian). */
export function ipv4ToU32(text: string): number {
  const parts = text.split('.')
  if (parts.length !== 4) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`)
  let n = 0
  for (const p of parts) {
    const b = Number(p)
    if (!/^\d{1,3}$/.test(p) || b > 255) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`)
    n = n * 256 + b
  }
  return n
}

export function u32ToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`
}

class MessageBlock {
  readonly capacity: number
  readonly controlSize: number
  /** Address of mmsghdr 0: what sendmmsg/recvmmsg take. */
  readonly address: number
  protected readonly view: DataView
  protected readonly iovs: number
  protected readonly names: number
  protected readonly controls: number

  constructor(block: NativeBlock, capacity: number, controlSize: number, iovCapacity = capacity) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    if (!Number.isInteger(iovCapacity) || iovCapacity < capacity) throw new RangeError(`need at least one iovec per message, got ${iovCapacity}`)
    const need = messageBlockBytes(capacity, controlSize, iovCapacity)
    if (block.buf.length < need) throw new RangeError(`a block of ${capacity} messages needs ${need} bytes, got ${block.buf.length}`)
    if (block.address % 8 !== 0) throw new RangeError('message block must be 8-byte aligned')
    this.capacity = capacity
    this.controlSize = controlSize
    this.address = block.address
    this.view = new DataView(block.buf.buffer, block.buf.byteOffset, need)
    this.iovs = capacity * MMSGHDR_SIZE
    this.names = this.iovs + iovCapacity * IOVEC_SIZE
    this.controls = this.names + capacity * SOCKADDR_IN_SIZE
    for (let i = 0; i < capacity; i++) {
      const h = i * MMSGHDR_SIZE
      this.setPointer(h + MSG_NAME, block.address + this.names + i * SOCKADDR_IN_SIZE)
      this.view.setUint32(h + MSG_NAMELEN, SOCKADDR_IN_SIZE, true)
      this.setPointer(h + MSG_IOV, block.address + this.iovs + i * IOVEC_SIZE)
      this.setPointer(h + MSG_IOVLEN, 1)
      this.setPointer(h + MSG_CONTROL, block.address + this.controls + i * controlSize)
      this.setPointer(h + MSG_CONTROLLEN, 0)
      this.view.setUint16(this.names + i * SOCKADDR_IN_SIZE, AF_INET, true)
    }
  }

  /** Bytes the kernel reported for message `i` (msg_len). */
  messageLength(i: number): number {
    return this.view.getUint32(i * MMSGHDR_SIZE + MSG_LEN, true)
  }

  /** The address of mmsghdr `i` (to resume a partly sent batch). */
  messageAddress(i: number): number {
    return this.address + i * MMSGHDR_SIZE
  }

  protected setPointer(offset: number, value: number): void {
    this.view.setUint32(offset, value % TWO_32, true)
    this.view.setUint32(offset + 4, Math.floor(value / TWO_32), true)
  }

  protected getSize(offset: number): number {
    return this.view.getUint32(offset, true) + this.view.getUint32(offset + 4, true) * TWO_32
  }
}

/**
 * Messages for sendmmsg: each one or more buffer ranges (gathered) to one
 * IPv4 address, optionally as UDP GSO. Messages take iovecs from a pool in
 * order; reset() frees them all for the next batch.
 */
export class SendVector extends MessageBlock {
  readonly iovCapacity: number
  #iovUsed = 0
  #parts = 0 // iovecs of the message begun last

  constructor(block: NativeBlock, capacity: number, iovCapacity = capacity) {
    super(block, capacity, SEND_CONTROL_SIZE, iovCapacity)
    this.iovCapacity = iovCapacity
    for (let k = 0; k < iovCapacity; k++) this.view.setUint32(this.iovs + k * IOVEC_SIZE + 12, 0, true)
    for (let i = 0; i < capacity; i++) {
      const c = this.controls + i * SEND_CONTROL_SIZE
      this.setPointer(c, CMSG_HEADER_SIZE + 2) // CMSG_LEN(sizeof(u16))
      this.view.setInt32(c + 8, SOL_UDP, true)
      this.view.setInt32(c + 12, UDP_SEGMENT, true)
    }
  }

  static bytes(capacity: number, iovCapacity = capacity): number {
    return messageBlockBytes(capacity, SEND_CONTROL_SIZE, iovCapacity)
  }

  /** iovecs not yet taken in this batch. */
  get iovFree(): number {
    return this.iovCapacity - this.#iovUsed
  }

  /** A new batch: every iovec is free again. */
  reset(): void {
    this.#iovUsed = 0
  }

  /**
   * Message `i` sends `length` bytes at address `data` to `ip:port`. With
   * `gsoSize` > 0 the kernel cuts it into datagrams of that many bytes (the
   * last may be shorter): UDP_SEGMENT as a control message. Takes one iovec.
   */
  set(i: number, data: number, length: number, ip: number, port: number, gsoSize: number): void {
    this.begin(i, ip, port, gsoSize)
    this.addPart(i, data, length)
  }

  /** Starts message `i` with no data; addPart() appends ranges to it (the latest message only). */
  begin(i: number, ip: number, port: number, gsoSize: number): void {
    const v = this.view
    const name = this.names + i * SOCKADDR_IN_SIZE
    v.setUint16(name + 2, port, false)
    v.setUint32(name + 4, ip, false)
    const h = i * MMSGHDR_SIZE
    this.setPointer(h + MSG_IOV, this.address + this.iovs + this.#iovUsed * IOVEC_SIZE)
    this.setPointer(h + MSG_IOVLEN, 0)
    this.#parts = 0
    if (gsoSize > 0) {
      v.setUint16(this.controls + i * SEND_CONTROL_SIZE + CMSG_HEADER_SIZE, gsoSize, true)
      this.setPointer(h + MSG_CONTROLLEN, SEND_CONTROL_SIZE)
    } else {
      this.setPointer(h + MSG_CONTROLLEN, 0)
    }
    v.setInt32(h + MSG_FLAGS, 0, true)
  }

  /** Appends `length` bytes at address `data` to message `i` (the one begun last). Throws when the pool is empty. */
  addPart(i: number, data: number, length: number): void {
    if (this.#iovUsed === this.iovCapacity) throw new RangeError('no iovec left in this batch')
    const v = this.view
    const iov = this.iovs + this.#iovUsed++ * IOVEC_SIZE
    const high = Math.floor(data / TWO_32)
    v.setUint32(iov, data - high * TWO_32, true)
    v.setUint32(iov + 4, high, true)
    v.setUint32(iov + 8, length, true) // iov_len's high half stays 0 (lengths < 4 GiB)
    v.setUint32(i * MMSGHDR_SIZE + MSG_IOVLEN, ++this.#parts, true)
  }

  /** What message `i` holds: for tests and logs. */
  describe(i: number): { parts: { data: number; length: number }[]; length: number; ip: number; port: number; gsoSize: number } {
    const v = this.view
    const h = i * MMSGHDR_SIZE
    const first = (this.getSize(h + MSG_IOV) - this.address - this.iovs) / IOVEC_SIZE
    const parts: { data: number; length: number }[] = []
    for (let k = 0; k < this.getSize(h + MSG_IOVLEN); k++) {
      const iov = this.iovs + (first + k) * IOVEC_SIZE
      parts.push({ data: this.getSize(iov), length: this.getSize(iov + 8) })
    }
    const name = this.names + i * SOCKADDR_IN_SIZE
    const hasControl = this.getSize(h + MSG_CONTROLLEN) > 0
    return {
      parts,
      length: parts.reduce((a, p) => a + p.length, 0),
      ip: v.getUint32(name + 4, false),
      port: v.getUint16(name + 2, false),
      gsoSize: hasControl ? v.getUint16(this.controls + i * SEND_CONTROL_SIZE + CMSG_HEADER_SIZE, true) : 0,
    }
  }
}

/**
 * Messages for recvmmsg: message `i` receives into `slotSize` bytes at
 * `slotsAddress + i * slotStride`. After a call, read its length, source,
 * flags and the UDP GRO segment size.
 */
export class RecvVector extends MessageBlock {
  readonly slotStride: number

  constructor(block: NativeBlock, capacity: number, slotsAddress: number, slotStride: number, slotSize: number) {
    super(block, capacity, RECV_CONTROL_SIZE)
    if (slotSize > slotStride) throw new RangeError(`slot size ${slotSize} exceeds the stride ${slotStride}`)
    this.slotStride = slotStride
    for (let i = 0; i < capacity; i++) {
      const iov = this.iovs + i * IOVEC_SIZE
      this.setPointer(iov, slotsAddress + i * slotStride)
      this.setPointer(iov + 8, slotSize)
    }
    this.prepare(capacity)
  }

  static bytes(capacity: number): number {
    return messageBlockBytes(capacity, RECV_CONTROL_SIZE)
  }

  /** Resets the fields the kernel overwrote, for the first `count` messages. */
  prepare(count: number): void {
    const v = this.view
    for (let i = 0; i < count; i++) {
      const h = i * MMSGHDR_SIZE
      v.setUint32(h + MSG_NAMELEN, SOCKADDR_IN_SIZE, true)
      v.setUint32(h + MSG_CONTROLLEN, RECV_CONTROL_SIZE, true)
      v.setUint32(h + MSG_CONTROLLEN + 4, 0, true)
      v.setInt32(h + MSG_FLAGS, 0, true)
    }
  }

  /** msg_flags of message `i` (MSG_TRUNC: the datagram did not fit). */
  flags(i: number): number {
    return this.view.getInt32(i * MMSGHDR_SIZE + MSG_FLAGS, true)
  }

  /** Source IPv4 address as a u32, or -1 if the sender was not AF_INET. */
  sourceIp(i: number): number {
    const name = this.names + i * SOCKADDR_IN_SIZE
    if (this.view.getUint32(i * MMSGHDR_SIZE + MSG_NAMELEN, true) < 8) return -1
    if (this.view.getUint16(name, true) !== AF_INET) return -1
    return this.view.getUint32(name + 4, false)
  }

  sourcePort(i: number): number {
    return this.view.getUint16(this.names + i * SOCKADDR_IN_SIZE + 2, false)
  }

  /** The UDP GRO segment size the kernel attached to message `i`, or 0 if none. */
  groSize(i: number): number {
    const v = this.view
    const controlLen = Math.min(this.getSize(i * MMSGHDR_SIZE + MSG_CONTROLLEN), RECV_CONTROL_SIZE)
    const base = this.controls + i * RECV_CONTROL_SIZE
    let off = 0
    while (off + CMSG_HEADER_SIZE <= controlLen) {
      const len = this.getSize(base + off)
      if (len < CMSG_HEADER_SIZE || len > controlLen - off) break
      if (v.getInt32(base + off + 8, true) === SOL_UDP && v.getInt32(base + off + 12, true) === UDP_GRO && len >= CMSG_HEADER_SIZE + 4) {
        return v.getInt32(base + off + CMSG_HEADER_SIZE, true)
      }
      off += Math.ceil(len / 8) * 8 // CMSG_ALIGN
    }
    return 0
  }

  /** Test helper: what the kernel would write for message `i`. */
  simulate(i: number, length: number, ip: number, port: number, groSize: number, flags = 0): void {
    const v = this.view
    const h = i * MMSGHDR_SIZE
    v.setUint32(h + MSG_LEN, length, true)
    v.setInt32(h + MSG_FLAGS, flags, true)
    const name = this.names + i * SOCKADDR_IN_SIZE
    v.setUint16(name, AF_INET, true)
    v.setUint16(name + 2, port, false)
    v.setUint32(name + 4, ip, false)
    const base = this.controls + i * RECV_CONTROL_SIZE
    if (groSize > 0) {
      this.setPointer(base, CMSG_HEADER_SIZE + 4)
      v.setInt32(base + 8, SOL_UDP, true)
      v.setInt32(base + 12, UDP_GRO, true)
      v.setInt32(base + CMSG_HEADER_SIZE, groSize, true)
      this.setPointer(h + MSG_CONTROLLEN, 24)
    } else {
      this.setPointer(h + MSG_CONTROLLEN, 0)
    }
  }
}
