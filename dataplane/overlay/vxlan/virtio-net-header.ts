// struct virtio_net_hdr: the 10 bytes in front of every frame read from or
// written to a TAP opened with IFF_VNET_HDR.
//
// Why: the vnet header is what lets the kernel hand us one 64 KiB TCP frame
// instead of 44 small ones (TSO4, gso_type TCPV4) and take one coalesced frame
// back, and it tells us when a checksum is only partial (NEEDS_CSUM). Those
// two things are the whole speed-up of the offload designs in
// shared/notes/vxlan-userspace.md.
//
// Layout (uapi/linux/virtio_net.h), little-endian as the TAP uses it on x86
// and arm64 hosts (a big-endian host would need TUNSETVNETLE):
//   0 flags u8, 1 gso_type u8, 2 hdr_len u16, 4 gso_size u16,
//   6 csum_start u16, 8 csum_offset u16
// csum_start counts from the start of the Ethernet frame. hdr_len as reported
// by the kernel may exceed the real header length (it is the linear part of
// the skb), so the segmenter derives header lengths from the packet instead.
//
// Decoding fills a caller-owned object and returns a reason instead of
// throwing, so the per-frame path allocates nothing.

export const VNET_HDR_LEN = 10

export const VNET_F_NEEDS_CSUM = 1
export const VNET_F_DATA_VALID = 2

export const VNET_GSO_NONE = 0
export const VNET_GSO_TCPV4 = 1
export const VNET_GSO_UDP = 3
export const VNET_GSO_TCPV6 = 4
/** Ored into gso_type: the TCP segments carry ECN (CWR on the first only). */
export const VNET_GSO_ECN = 0x80

export type VirtioNetHeaderDropReason = 'too-short'

export type VirtioNetHeaderErrorCode = 'ENOSPACE' | 'EBADFIELD'

/** Thrown by the encoder for a buffer without room or a field out of range. */
export class VirtioNetHeaderError extends Error {
  readonly code: VirtioNetHeaderErrorCode
  constructor(code: VirtioNetHeaderErrorCode, message: string) {
    super(message)
    this.name = 'VirtioNetHeaderError'
    this.code = code
  }
}

/** A decoded virtio_net_hdr; reuse one instance per reader. */
export class VirtioNetHeader {
  flags = 0
  gsoType = 0
  hdrLen = 0
  gsoSize = 0
  csumStart = 0
  csumOffset = 0

  /** Zeroes every field (a plain frame: no offload, no partial checksum). */
  reset(): this {
    this.flags = 0
    this.gsoType = 0
    this.hdrLen = 0
    this.gsoSize = 0
    this.csumStart = 0
    this.csumOffset = 0
    return this
  }
}

/**
 * Reads the header at `offset` (the frame follows at offset + 10) into `out`.
 * `length` is the number of bytes read from the TAP starting at `offset`.
 * Returns `out`, or 'too-short' when fewer than 10 bytes are there.
 */
export function decodeVirtioNetHeader(
  buf: Uint8Array,
  offset: number,
  length: number,
  out: VirtioNetHeader,
): VirtioNetHeader | VirtioNetHeaderDropReason {
  if (!(offset >= 0 && length >= VNET_HDR_LEN && offset + VNET_HDR_LEN <= buf.length) || !Number.isInteger(offset)) {
    return 'too-short'
  }
  out.flags = buf[offset]!
  out.gsoType = buf[offset + 1]!
  out.hdrLen = buf[offset + 2]! | (buf[offset + 3]! << 8)
  out.gsoSize = buf[offset + 4]! | (buf[offset + 5]! << 8)
  out.csumStart = buf[offset + 6]! | (buf[offset + 7]! << 8)
  out.csumOffset = buf[offset + 8]! | (buf[offset + 9]! << 8)
  return out
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new VirtioNetHeaderError('EBADFIELD', `virtio_net_hdr ${name} ${value} is not an integer in 0..${max}`)
  }
}

/**
 * Writes `hdr` as 10 bytes at `offset`. Throws VirtioNetHeaderError with code
 * 'ENOSPACE' if the buffer is too short, 'EBADFIELD' if a field does not fit
 * its width. Returns the offset just past the header.
 */
export function encodeVirtioNetHeader(hdr: Readonly<VirtioNetHeader>, buf: Uint8Array, offset: number): number {
  if (!Number.isInteger(offset) || offset < 0 || offset + VNET_HDR_LEN > buf.length) {
    throw new VirtioNetHeaderError('ENOSPACE', `no room for a virtio_net_hdr at ${offset} in ${buf.length} bytes`)
  }
  checkField('flags', hdr.flags, 0xff)
  checkField('gso_type', hdr.gsoType, 0xff)
  checkField('hdr_len', hdr.hdrLen, 0xffff)
  checkField('gso_size', hdr.gsoSize, 0xffff)
  checkField('csum_start', hdr.csumStart, 0xffff)
  checkField('csum_offset', hdr.csumOffset, 0xffff)
  buf[offset] = hdr.flags
  buf[offset + 1] = hdr.gsoType
  buf[offset + 2] = hdr.hdrLen & 0xff
  buf[offset + 3] = hdr.hdrLen >>> 8
  buf[offset + 4] = hdr.gsoSize & 0xff
  buf[offset + 5] = hdr.gsoSize >>> 8
  buf[offset + 6] = hdr.csumStart & 0xff
  buf[offset + 7] = hdr.csumStart >>> 8
  buf[offset + 8] = hdr.csumOffset & 0xff
  buf[offset + 9] = hdr.csumOffset >>> 8
  return offset + VNET_HDR_LEN
}
