// Ethernet II header offsets, EtherTypes and MAC addresses for the inner
// frames the VXLAN data path carries.
//
// Why: the encapsulator picks the remote VTEP by the inner destination MAC
// (flannel programs one FDB entry per remote node), and it does that for every
// frame. So MACs live as 6 raw bytes, are compared in place against a frame,
// and can be turned into a number key for a Map without allocating. Text forms
// only appear at the edges (configuration, logs), where a bad string throws a
// MacError with code 'EBADMAC'.

export const ETH_HEADER_LEN = 14
export const ETH_DST_OFFSET = 0
export const ETH_SRC_OFFSET = 6
export const ETH_TYPE_OFFSET = 12
export const MAC_LEN = 6

export const ETHERTYPE_IPV4 = 0x0800
export const ETHERTYPE_ARP = 0x0806
export const ETHERTYPE_VLAN = 0x8100
export const ETHERTYPE_IPV6 = 0x86dd

/** Thrown for a MAC address string or buffer that is not 6 bytes. */
export class MacError extends Error {
  readonly code = 'EBADMAC' as const
  constructor(message: string) {
    super(message)
    this.name = 'MacError'
  }
}

const MAC_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i

/** Parses "aa:bb:cc:dd:ee:ff" (either case) into 6 bytes; throws MacError. */
export function parseMac(text: string): Buffer {
  if (typeof text !== 'string' || !MAC_RE.test(text)) {
    throw new MacError(`not a MAC address (want six hex pairs separated by ':'): ${JSON.stringify(text)}`)
  }
  return Buffer.from(text.replaceAll(':', ''), 'hex')
}

/** Formats the 6 bytes at `offset` as lower-case "aa:bb:cc:dd:ee:ff". */
export function formatMac(buf: Uint8Array, offset = 0): string {
  if (!Number.isInteger(offset) || offset < 0 || offset + MAC_LEN > buf.length) {
    throw new MacError(`no MAC address at ${offset} in ${buf.length} bytes`)
  }
  let s = ''
  for (let i = 0; i < MAC_LEN; i++) {
    const b = buf[offset + i]!
    s += (i === 0 ? '' : ':') + (b < 16 ? '0' : '') + b.toString(16)
  }
  return s
}

/** True if the 6 bytes at `offset` in `buf` equal `mac` (6 bytes at `macOffset`). */
export function macEquals(buf: Uint8Array, offset: number, mac: Uint8Array, macOffset = 0): boolean {
  if (offset < 0 || offset + MAC_LEN > buf.length || macOffset < 0 || macOffset + MAC_LEN > mac.length) {
    return false
  }
  for (let i = 0; i < MAC_LEN; i++) {
    if (buf[offset + i] !== mac[macOffset + i]) return false
  }
  return true
}

/** True if the destination MAC of the frame at `frameOffset` is `mac`. */
export function dstMacEquals(frame: Uint8Array, frameOffset: number, mac: Uint8Array): boolean {
  return macEquals(frame, frameOffset + ETH_DST_OFFSET, mac)
}

/** True if the source MAC of the frame at `frameOffset` is `mac`. */
export function srcMacEquals(frame: Uint8Array, frameOffset: number, mac: Uint8Array): boolean {
  return macEquals(frame, frameOffset + ETH_SRC_OFFSET, mac)
}

/**
 * The 6 bytes at `offset` as one number below 2^48, a Map key (for example
 * MAC → VTEP) that costs no allocation. Returns -1 if they are out of range.
 */
export function macKey(buf: Uint8Array, offset: number): number {
  if (offset < 0 || offset + MAC_LEN > buf.length) return -1
  return (
    ((buf[offset]! << 8) | buf[offset + 1]!) * 0x100000000 +
    (((buf[offset + 2]! << 24) | (buf[offset + 3]! << 16) | (buf[offset + 4]! << 8) | buf[offset + 5]!) >>> 0)
  )
}

/** True for ff:ff:ff:ff:ff:ff at `offset`. */
export function isBroadcastMac(buf: Uint8Array, offset: number): boolean {
  if (offset < 0 || offset + MAC_LEN > buf.length) return false
  for (let i = 0; i < MAC_LEN; i++) if (buf[offset + i] !== 0xff) return false
  return true
}

/** True if the group bit is set (multicast, broadcast included), which means flood. */
export function isMulticastMac(buf: Uint8Array, offset: number): boolean {
  return offset >= 0 && offset < buf.length && (buf[offset]! & 1) === 1
}

/** The EtherType of the frame at `frameOffset`, or -1 if it has no full header. */
export function etherType(frame: Uint8Array, frameOffset: number): number {
  if (frameOffset < 0 || frameOffset + ETH_HEADER_LEN > frame.length) return -1
  return (frame[frameOffset + ETH_TYPE_OFFSET]! << 8) | frame[frameOffset + ETH_TYPE_OFFSET + 1]!
}

/**
 * Writes a 14-byte header at `offset` and returns the offset of the payload.
 * Throws MacError if a MAC is not 6 bytes; a RangeError if there is no room.
 */
export function writeEthernetHeader(
  buf: Uint8Array,
  offset: number,
  dst: Uint8Array,
  src: Uint8Array,
  type: number,
): number {
  if (dst.length !== MAC_LEN || src.length !== MAC_LEN) {
    throw new MacError(`MAC addresses must be ${MAC_LEN} bytes, got ${dst.length} and ${src.length}`)
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + ETH_HEADER_LEN > buf.length) {
    throw new RangeError(`no room for an Ethernet header at ${offset} in ${buf.length} bytes`)
  }
  buf.set(dst, offset + ETH_DST_OFFSET)
  buf.set(src, offset + ETH_SRC_OFFSET)
  buf[offset + ETH_TYPE_OFFSET] = (type >>> 8) & 0xff
  buf[offset + ETH_TYPE_OFFSET + 1] = type & 0xff
  return offset + ETH_HEADER_LEN
}
