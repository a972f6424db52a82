// Netlink messages written into one growing buffer (pure), for both families
// kubewire speaks: nf_tables batches (the proxy, nftables/batch.ts) and
// rtnetlink requests (the pod side of sandboxes, network/pod-side.ts). The
// layout is the kernel's: nlmsghdr (host order), the family's fixed header
// (nfgenmsg, ifinfomsg, ifaddrmsg, rtmsg: family-headers.ts), then
// attributes (u16 length, u16 type, the value padded to 4 bytes; a nested
// attribute holds attributes). All padding goes through align4. Integer
// attributes take the family's byte order: nf_tables wants network order
// (u32, u64), rtnetlink host order (u32Host).

export const NLM_F_REQUEST = 0x1
export const NLM_F_ACK = 0x4
export const NLM_F_REPLACE = 0x100
export const NLM_F_EXCL = 0x200
export const NLM_F_CREATE = 0x400
export const NLM_F_APPEND = 0x800
export const NLA_F_NESTED = 0x8000

export const NLMSG_ERROR = 2
export const NLMSG_HEADER_BYTES = 16

/** `bytes` rounded up to netlink's 4-byte alignment. */
export const align4 = (bytes: number): number => (bytes + 3) & ~3

export class NetlinkWriter {
  private buf: Buffer
  private offset = 0
  private messageStart = -1
  private nextSeq: number

  constructor(firstSeq = 1, initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes)
    this.nextSeq = firstSeq
  }

  get length(): number {
    return this.offset
  }

  /** Bytes written into the open message so far. */
  get messageLength(): number {
    return this.offset - this.messageStart
  }

  /** Opens a message with its family's fixed header; returns its sequence number. */
  begin(type: number, flags: number, familyHeader: Uint8Array): number {
    if (this.messageStart >= 0) throw new Error('netlink message still open')
    this.ensure(NLMSG_HEADER_BYTES + align4(familyHeader.length))
    const seq = this.nextSeq++
    const b = this.buf
    const o = this.offset
    this.messageStart = o
    b.writeUInt32LE(0, o)
    b.writeUInt16LE(type, o + 4)
    b.writeUInt16LE(flags, o + 6)
    b.writeUInt32LE(seq >>> 0, o + 8)
    b.writeUInt32LE(0, o + 12)
    this.offset = o + NLMSG_HEADER_BYTES
    // Family headers are a few bytes: copied by hand, which beats set() at this size.
    for (let i = 0; i < familyHeader.length; i++) b[this.offset + i] = familyHeader[i] as number
    this.pad(familyHeader.length)
    return seq
  }

  end(): void {
    this.buf.writeUInt32LE(this.offset - this.messageStart, this.messageStart)
    this.messageStart = -1
  }

  u8(type: number, value: number): void {
    this.header(type, 1)
    this.buf[this.offset] = value
    this.pad(1)
  }

  /** A 32-bit value in network byte order (negative numbers as two's complement). */
  u32(type: number, value: number): void {
    this.header(type, 4)
    const b = this.buf
    const o = this.offset
    b[o] = value >>> 24
    b[o + 1] = (value >>> 16) & 255
    b[o + 2] = (value >>> 8) & 255
    b[o + 3] = value & 255
    this.offset = o + 4
  }

  /** A 32-bit value in host byte order (little-endian: the only CPUs kubewire runs on). */
  u32Host(type: number, value: number): void {
    this.header(type, 4)
    this.buf.writeUInt32LE(value >>> 0, this.offset)
    this.offset += 4
  }

  u64(type: number, value: number): void {
    this.header(type, 8)
    this.buf.writeBigUInt64BE(BigInt(value), this.offset)
    this.offset += 8
  }

  /** A NUL-terminated string. */
  str(type: number, value: string): void {
    // Names are ASCII nearly always: copied by hand, which beats Buffer.write for short strings.
    let ascii = true
    for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 127) ascii = false
    const bytes = ascii ? value.length : Buffer.byteLength(value)
    this.header(type, bytes + 1)
    const b = this.buf
    const o = this.offset
    if (ascii) for (let i = 0; i < bytes; i++) b[o + i] = value.charCodeAt(i)
    else b.write(value, o)
    b[o + bytes] = 0
    this.pad(bytes + 1)
  }

  bytes(type: number, value: Uint8Array): void {
    this.header(type, value.length)
    this.buf.set(value, this.offset)
    this.pad(value.length)
  }

  /** Starts an attribute of `len` value bytes (padding zeroed); returns where in `buffer` to write them. */
  reserve(type: number, len: number): number {
    this.header(type, len)
    const at = this.offset
    const padded = align4(len)
    for (let i = at; i < at + padded; i++) this.buf[i] = 0
    this.offset += padded
    return at
  }

  /** The buffer being written (it changes when it grows: take it after reserve()). */
  get buffer(): Buffer {
    return this.buf
  }

  /**
   * Opens a nested attribute; close it with endNest(the returned offset). The
   * type carries NLA_F_NESTED unless `flag` says otherwise (rtnetlink's
   * per-family blocks inside IFLA_AF_SPEC go without it, as `ip` sends them).
   */
  nest(type: number, flag = NLA_F_NESTED): number {
    const start = this.offset
    this.header(type | flag, 0)
    return start
  }

  endNest(start: number): void {
    const len = this.offset - start
    this.buf[start] = len & 255
    this.buf[start + 1] = len >> 8
  }

  /** The messages written so far (a copy-free view). */
  finish(): Buffer {
    if (this.messageStart >= 0) throw new Error('netlink message still open')
    return this.buf.subarray(0, this.offset)
  }

  private header(type: number, valueBytes: number): void {
    this.ensure(4 + align4(valueBytes))
    const b = this.buf
    const o = this.offset
    const len = 4 + valueBytes
    b[o] = len & 255
    b[o + 1] = len >> 8
    b[o + 2] = type & 255
    b[o + 3] = type >> 8
    this.offset = o + 4
  }

  /** Moves past `valueBytes` just written, zeroing the bytes that align them. */
  private pad(valueBytes: number): void {
    const padded = align4(valueBytes)
    for (let i = this.offset + valueBytes; i < this.offset + padded; i++) this.buf[i] = 0
    this.offset += padded
  }

  private ensure(bytes: number): void {
    if (this.offset + bytes <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.offset + bytes) size *= 2
    const grown = Buffer.allocUnsafeSlow(size)
    this.buf.copy(grown, 0, 0, this.offset)
    this.buf = grown
  }
}

/** One attribute on its own, for a value composed outside a writer. */
export function attribute(type: number, value: Uint8Array): Buffer {
  const w = new NetlinkWriter(0, 4 + align4(value.length))
  w.bytes(type, value)
  return Buffer.from(w.finish())
}
