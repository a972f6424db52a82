// The 8-byte VXLAN header (RFC 7348 §5) in front of every inner Ethernet frame
// carried between nodes over UDP.
//
//   byte 0     flags: 0x08 (the I bit: the VNI is valid); others reserved
//   bytes 1-3  reserved, zero
//   bytes 4-6  VNI, 24 bits, big-endian
//   byte 7     reserved, zero
//
// Why: this is the per-packet edge between the underlay socket and the overlay,
// so it is written for the hot path: encoding writes in place into headroom
// the segmenter left in front of each frame, and decoding fills a reused
// result object and returns a drop reason instead of throwing, because a
// malformed datagram from the network is routine, not exceptional.
//
// On receive the reserved bits are ignored as RFC 7348 asks ("ignored on
// receipt"); Linux's vxlan device is stricter and drops unknown flags unless
// an extension is configured. Inner frames must at least hold an Ethernet
// header, or there is nothing to deliver.

export const VXLAN_HEADER_LEN = 8
export const VXLAN_FLAG_I = 0x08
export const VXLAN_MAX_VNI = 0xffffff
/** Pass as `expectedVni` to accept any VNI. */
export const VXLAN_ANY_VNI = -1
/** Linux's vxlan device and flannel default to 8472; IANA assigned 4789. */
export const VXLAN_PORT_LINUX = 8472
export const VXLAN_PORT_IANA = 4789

// 14-byte Ethernet header: the smallest inner frame worth delivering.
const MIN_INNER_LEN = 14

/** Why a received UDP payload is not delivered. */
export type VxlanDropReason = 'too-short' | 'no-i-flag' | 'wrong-vni'

export type VxlanHeaderErrorCode = 'EBADVNI' | 'ENOSPACE'

/** Thrown by the encoder only: for a bad VNI or a buffer without room. */
export class VxlanHeaderError extends Error {
  readonly code: VxlanHeaderErrorCode
  constructor(code: VxlanHeaderErrorCode, message: string) {
    super(message)
    this.name = 'VxlanHeaderError'
    this.code = code
  }
}

/** Where the inner frame of a decoded datagram is; reuse one per receiver. */
export class VxlanDecodeResult {
  vni = 0
  /** Offset of the inner Ethernet frame in the buffer passed to decode. */
  innerOffset = 0
  innerLength = 0
}

/**
 * Writes a VXLAN header for `vni` at `offset` (flags 0x08, reserved bytes
 * zeroed) and returns the offset just past it, where the inner frame goes.
 * Throws VxlanHeaderError 'EBADVNI' for a VNI outside 0..0xffffff and
 * 'ENOSPACE' when the 8 bytes do not fit.
 */
export function encodeVxlanHeader(buf: Uint8Array, offset: number, vni: number): number {
  if (!Number.isInteger(vni) || vni < 0 || vni > VXLAN_MAX_VNI) {
    throw new VxlanHeaderError('EBADVNI', `VXLAN VNI ${vni} is not an integer in 0..${VXLAN_MAX_VNI}`)
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + VXLAN_HEADER_LEN > buf.length) {
    throw new VxlanHeaderError('ENOSPACE', `no room for a VXLAN header at ${offset} in ${buf.length} bytes`)
  }
  buf[offset] = VXLAN_FLAG_I
  buf[offset + 1] = 0
  buf[offset + 2] = 0
  buf[offset + 3] = 0
  buf[offset + 4] = vni >>> 16
  buf[offset + 5] = (vni >>> 8) & 0xff
  buf[offset + 6] = vni & 0xff
  buf[offset + 7] = 0
  return offset + VXLAN_HEADER_LEN
}

/**
 * Validates the UDP payload of `length` bytes at `offset`. On success fills
 * and returns `out`; otherwise returns why to drop it, never throwing:
 * 'too-short' (under 8 + 14 bytes, or a range outside `buf`), 'no-i-flag',
 * 'wrong-vni' (unless `expectedVni` is VXLAN_ANY_VNI).
 */
export function decodeVxlanHeader(
  buf: Uint8Array,
  offset: number,
  length: number,
  expectedVni: number,
  out: VxlanDecodeResult,
): VxlanDecodeResult | VxlanDropReason {
  if (
    !(offset >= 0 && length >= VXLAN_HEADER_LEN + MIN_INNER_LEN && offset + length <= buf.length) ||
    !Number.isInteger(offset) ||
    !Number.isInteger(length)
  ) {
    return 'too-short'
  }
  if ((buf[offset]! & VXLAN_FLAG_I) === 0) return 'no-i-flag'
  const vni = (buf[offset + 4]! << 16) | (buf[offset + 5]! << 8) | buf[offset + 6]!
  if (expectedVni !== VXLAN_ANY_VNI && vni !== expectedVni) return 'wrong-vni'
  out.vni = vni
  out.innerOffset = offset + VXLAN_HEADER_LEN
  out.innerLength = length - VXLAN_HEADER_LEN
  return out
}
