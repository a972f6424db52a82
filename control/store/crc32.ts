// CRC-32 (IEEE 802.3, the zlib/PNG/gzip polynomial), table-driven.
//
// Why our own: Node 20's zlib has no crc32 (it arrived in 22.2), and the WAL
// needs a checksum per record to tell a torn or corrupt tail from good data.
// Byte-at-a-time with a 256-entry table is fast enough: the fsync dominates.

const POLYNOMIAL = 0xedb88320 // reflected 0x04c11db7

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let bit = 0; bit < 8; bit++) c = (c & 1) !== 0 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32 of bytes[start, end); pass a previous result as `seed` to continue one. */
export function crc32 (bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  let c = ~seed >>> 0
  for (let i = start; i < end; i++) {
    // Both indexes are in range by construction; `!` only satisfies noUncheckedIndexedAccess.
    c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  }
  return ~c >>> 0
}
