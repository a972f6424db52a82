// Internet checksum (RFC 1071) for the user-space VXLAN data path.
//
// Why: with TAP offloads on, the kernel hands us frames whose TCP/UDP checksum
// field holds only the pseudo-header sum (VIRTIO_NET_HDR_F_NEEDS_CSUM), and it
// ignores DATA_VALID on frames we write back, so every frame we emit must carry
// a correct checksum. Once the kernel segments and coalesces for us, checksums
// are the largest JavaScript cost left, so the sum runs 4 bytes at a time
// through a Uint32Array laid over the buffer's ArrayBuffer.
//
// How the fast path stays correct for any start address: the bytes before the
// first 4-byte boundary and after the last one are summed one by one with
// their weight in the big-endian 16-bit word they belong to. The aligned middle
// is summed as native 32-bit words and folded to 16 bits; by the byte-order
// independence of the ones' complement sum (RFC 1071 §2(B)) that result only
// has to be byte-swapped when the native word order disagrees with the word
// order the checksum uses at that position (little-endian host and an even
// number of head bytes, or big-endian host and an odd number).
//
// Sums are "ones' complement sums folded to 16 bits, not inverted" unless a
// function says it returns a checksum (the inverted value stored on the wire).

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1

// Below this length the byte loop beats setting up the word loop.
const WORD_PATH_MIN = 32
// Fold the word accumulator at least this often so a double never loses bits
// (2^20 words of < 2^32 each stay far below 2^53).
const WORDS_PER_CHUNK = 1 << 20

// Creating a Uint32Array view costs ~50 ns, a fifth of a 1430-byte sum, so the
// views of the two most recently used ArrayBuffers are kept. A data path sums
// mostly inside one or two arenas, so this hits nearly always.
let cachedBuffer0: ArrayBufferLike | undefined
let cachedWords0: Uint32Array<ArrayBufferLike> = new Uint32Array(0)
let cachedBuffer1: ArrayBufferLike | undefined
let cachedWords1: Uint32Array<ArrayBufferLike> = new Uint32Array(0)

function wordsOf(ab: ArrayBufferLike, endWord: number): Uint32Array | undefined {
  if (ab === cachedBuffer0 && endWord <= cachedWords0.length) return cachedWords0
  if (ab === cachedBuffer1 && endWord <= cachedWords1.length) {
    const w = cachedWords1
    cachedBuffer1 = cachedBuffer0
    cachedWords1 = cachedWords0
    cachedBuffer0 = ab
    cachedWords0 = w
    return w
  }
  const n = ab.byteLength >>> 2
  if (n < endWord) return undefined
  cachedBuffer1 = cachedBuffer0
  cachedWords1 = cachedWords0
  cachedBuffer0 = ab
  cachedWords0 = new Uint32Array(ab, 0, n)
  return cachedWords0
}

/**
 * Folds a non-negative integer below 2^53 to a 16-bit ones' complement sum
 * (end-around carry): 0 only for 0, otherwise 1..0xffff.
 */
export function foldSum(x: number): number {
  return x === 0 ? 0 : ((x - 1) % 0xffff) + 1
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8)
}

/**
 * Ones' complement sum of `length` bytes at `offset`, read as big-endian
 * 16-bit words starting at `offset` (an odd length is padded with a zero
 * byte), plus `initial` (any non-negative integer below 2^40, e.g. a
 * pseudo-header sum). Returns the sum folded to 16 bits, not inverted.
 * The caller guarantees the range lies inside `buf`.
 */
export function onesComplementSum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let acc = initial
  let i = offset
  const end = offset + length
  if (length >= WORD_PATH_MIN) {
    const head = (4 - ((buf.byteOffset + offset) & 3)) & 3
    const firstWord = (buf.byteOffset + offset + head) >>> 2
    const wordCount = (length - head) >>> 2
    const words = wordsOf(buf.buffer, firstWord + wordCount)
    if (words !== undefined) {
      if (head === 1) {
        acc += buf[i]! << 8
      } else if (head === 2) {
        acc += (buf[i]! << 8) | buf[i + 1]!
      } else if (head === 3) {
        acc += ((buf[i]! << 8) | buf[i + 1]!) + (buf[i + 2]! << 8)
      }
      i += head
      let mid = 0
      let k = firstWord
      const kEnd = firstWord + wordCount
      while (k < kEnd) {
        const chunkEnd = kEnd - k > WORDS_PER_CHUNK ? k + WORDS_PER_CHUNK : kEnd
        for (; k + 4 <= chunkEnd; k += 4) {
          mid += words[k]! + words[k + 1]! + words[k + 2]! + words[k + 3]!
        }
        for (; k < chunkEnd; k++) mid += words[k]!
        mid = foldSum(mid)
      }
      // Native words read little-endian sum byte-swapped words when the
      // aligned part starts on an even byte of the checksummed data.
      if (LITTLE_ENDIAN === ((head & 1) === 0)) mid = swap16(mid)
      acc += mid
      i += wordCount << 2
    }
    // No view (a detached or oddly sized buffer): the byte loop below does it
    // all, starting again at `offset` because `i` was not moved.
  }
  // Byte loop for short data, the tail, or the fallback. A byte at an even
  // distance from `offset` is the high half of its word.
  if (((i - offset) & 1) === 1 && i < end) {
    acc += buf[i]!
    i++
  }
  for (; i + 1 < end; i += 2) acc += (buf[i]! << 8) | buf[i + 1]!
  if (i < end) acc += buf[i]! << 8
  return foldSum(acc)
}

/** RFC 1071 checksum of the range: the inverted sum, as stored on the wire. */
export function internetChecksum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  return ~onesComplementSum(buf, offset, length, initial) & 0xffff
}

/**
 * Sum of the IPv4 pseudo-header (source and destination address read from the
 * IPv4 header at `ipOffset`, zero, `protocol`, `l4Length`), folded, not
 * inverted. The caller guarantees 20 header bytes are in range.
 */
export function ipv4PseudoHeaderSum(buf: Uint8Array, ipOffset: number, protocol: number, l4Length: number): number {
  const a = ipOffset + 12
  return foldSum(
    ((buf[a]! << 8) | buf[a + 1]!) +
      ((buf[a + 2]! << 8) | buf[a + 3]!) +
      ((buf[a + 4]! << 8) | buf[a + 5]!) +
      ((buf[a + 6]! << 8) | buf[a + 7]!) +
      protocol +
      l4Length,
  )
}

/**
 * Finishes a checksum the kernel left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM):
 * the field at `csumStart + csumOffset` holds the pseudo-header sum; the
 * checksum over `csumStart` up to the end of the frame, that field included,
 * is stored there. `csumStart` is relative to the frame start `frameOffset`
 * inside `frame`; the frame ends at `frameEnd`. A result of 0 is stored as
 * 0xffff like Linux does (0 means "no checksum" for UDP; both are zero for
 * TCP). Returns false, changing nothing, when the offsets do not fit.
 */
export function completePartialChecksum(
  frame: Uint8Array,
  csumStart: number,
  csumOffset: number,
  frameOffset = 0,
  frameEnd = frame.length,
): boolean {
  const start = frameOffset + csumStart
  const field = start + csumOffset
  if (
    !Number.isInteger(field) ||
    !Number.isInteger(frameEnd) ||
    frameOffset < 0 ||
    csumStart < 0 ||
    csumOffset < 0 ||
    field + 2 > frameEnd ||
    frameEnd > frame.length
  ) {
    return false
  }
  const csum = ~onesComplementSum(frame, start, frameEnd - start) & 0xffff || 0xffff
  frame[field] = csum >>> 8
  frame[field + 1] = csum & 0xff
  return true
}

function ipv4HeaderLength(buf: Uint8Array, ipOffset: number): number {
  if (!Number.isInteger(ipOffset) || ipOffset < 0 || ipOffset + 20 > buf.length) return 0
  const ihl = (buf[ipOffset]! & 0x0f) << 2
  return ihl < 20 || ipOffset + ihl > buf.length ? 0 : ihl
}

/**
 * Computes and stores the IPv4 header checksum of the header at `ipOffset`
 * (its length from IHL). Returns false, changing nothing, if the header is
 * malformed or does not fit in `buf`.
 */
export function writeIpv4HeaderChecksum(buf: Uint8Array, ipOffset: number): boolean {
  const ihl = ipv4HeaderLength(buf, ipOffset)
  if (ihl === 0) return false
  buf[ipOffset + 10] = 0
  buf[ipOffset + 11] = 0
  const csum = internetChecksum(buf, ipOffset, ihl)
  buf[ipOffset + 10] = csum >>> 8
  buf[ipOffset + 11] = csum & 0xff
  return true
}

/** True if the IPv4 header at `ipOffset` fits in `buf` and its checksum is right. */
export function verifyIpv4HeaderChecksum(buf: Uint8Array, ipOffset: number): boolean {
  const ihl = ipv4HeaderLength(buf, ipOffset)
  return ihl !== 0 && onesComplementSum(buf, ipOffset, ihl) === 0xffff
}

// Where the checksum sits inside the transport header, by IP protocol.
function transportChecksumOffset(protocol: number): number {
  return protocol === 6 ? 16 : protocol === 17 ? 6 : -1
}

// Offset of the transport header and its length (from the IPv4 total length),
// or -1 when the packet is not TCP/UDP or does not fit.
function transportRange(buf: Uint8Array, ipOffset: number): number {
  const ihl = ipv4HeaderLength(buf, ipOffset)
  if (ihl === 0) return -1
  const total = (buf[ipOffset + 2]! << 8) | buf[ipOffset + 3]!
  const field = transportChecksumOffset(buf[ipOffset + 9]!)
  if (field < 0 || total < ihl + field + 2 || ipOffset + total > buf.length) return -1
  return total - ihl
}

/**
 * Computes and stores the full TCP or UDP checksum of the IPv4 packet at
 * `ipOffset` (length from the IPv4 total length; UDP's 0 stored as 0xffff).
 * Returns false, changing nothing, for other protocols or a packet that does
 * not fit in `buf`.
 */
export function writeTransportChecksum(buf: Uint8Array, ipOffset: number): boolean {
  const l4Length = transportRange(buf, ipOffset)
  if (l4Length < 0) return false
  const protocol = buf[ipOffset + 9]!
  const l4 = ipOffset + ((buf[ipOffset]! & 0x0f) << 2)
  const field = l4 + transportChecksumOffset(protocol)
  buf[field] = 0
  buf[field + 1] = 0
  let csum = internetChecksum(buf, l4, l4Length, ipv4PseudoHeaderSum(buf, ipOffset, protocol, l4Length))
  if (csum === 0 && protocol === 17) csum = 0xffff
  buf[field] = csum >>> 8
  buf[field + 1] = csum & 0xff
  return true
}

/**
 * True if the IPv4 packet at `ipOffset` is TCP or UDP, fits in `buf` and its
 * transport checksum is right (a UDP checksum of 0, meaning none, counts as
 * right).
 */
export function verifyTransportChecksum(buf: Uint8Array, ipOffset: number): boolean {
  const l4Length = transportRange(buf, ipOffset)
  if (l4Length < 0) return false
  const protocol = buf[ipOffset + 9]!
  const l4 = ipOffset + ((buf[ipOffset]! & 0x0f) << 2)
  if (protocol === 17 && buf[l4 + 6] === 0 && buf[l4 + 7] === 0) return true
  return onesComplementSum(buf, l4, l4Length, ipv4PseudoHeaderSum(buf, ipOffset, protocol, l4Length)) === 0xffff
}
