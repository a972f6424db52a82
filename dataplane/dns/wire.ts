// The DNS hot path's wire format, by hand: parse a query (header, one
// question, an OPT record) and write a response by copying the query's
// header and question and appending bytes prepared when the zone changed.
//
// Why not dns-packet here: decoding every query into objects and encoding
// every answer costs more than the socket itself (a dns-packet server reached
// 0.57x dnsmasq's rate). Here a query costs one label walk, one latin1 string
// (the lookup key, lowercased) and one Map lookup; a response costs one
// allocation and two or three copies. dns-packet stays for the rare paths and
// for the tests.
//
// Offsets are absolute from the start of the message. The question name sits
// at offset 12, so a prepared answer whose owner is the question name starts
// with the pointer 0xC00C: it stays right whatever case the client used, and
// the client sees its own spelling echoed. All other compression pointers in
// prepared bytes point into the question or into the prepared bytes
// themselves; that holds because a key's question always has the same length.

export const TYPE_A = 1
export const TYPE_NS = 2
export const TYPE_CNAME = 5
export const TYPE_SOA = 6
export const TYPE_PTR = 12
export const TYPE_TXT = 16
export const TYPE_AAAA = 28
export const TYPE_SRV = 33
export const TYPE_OPT = 41
export const TYPE_IXFR = 251
export const TYPE_AXFR = 252
export const TYPE_ANY = 255
export const CLASS_IN = 1
export const CLASS_ANY = 255

export const RCODE_NOERROR = 0
export const RCODE_FORMERR = 1
export const RCODE_SERVFAIL = 2
export const RCODE_NXDOMAIN = 3
export const RCODE_NOTIMP = 4
export const RCODE_REFUSED = 5
/** Extended rcode 16 (upper bits in OPT): the client's EDNS version is not ours (0). */
export const RCODE_BADVERS = 16

export const HEADER_SIZE = 12
export const OPT_SIZE = 11
/** The UDP payload a client without EDNS accepts. */
export const CLASSIC_UDP_SIZE = 512
export const MAX_MESSAGE = 65535
/** The longest response without records: header, the longest question (255-byte name), OPT. */
export const RCODE_RESPONSE_MAX = HEADER_SIZE + 255 + 4 + 11

const MAX_LABELS = 128

/** Outcome of parseQuery. */
export const PARSE_OK = 0
/** Not worth an answer: shorter than a header, or a response (QR set). */
export const PARSE_DROP = 1
/** A header, but the rest is broken: answer FORMERR. */
export const PARSE_FORMERR = 2
/** An opcode other than QUERY: answer NOTIMP. */
export const PARSE_NOTIMP = 3

/** The parsed query, one object reused for every message (the hot path allocates only the key). */
export class Query {
  /** Flags byte 2 of the query (QR opcode AA TC RD). */
  flags2 = 0
  /** Flags byte 3 of the query (RA Z AD CD rcode). */
  flags3 = 0
  /** Offset just past the question (qname, qtype, qclass); 12 when there is none. */
  questionEnd = HEADER_SIZE
  qtype = 0
  qclass = 0
  /** The question name in wire form, lowercased, as a latin1 string. */
  key = ''
  /** Wire length of the question name (with the root label). */
  nameLength = 0
  labelCount = 0
  /** Offset (from 12) of each label of the question name. */
  readonly labelStarts = new Int32Array(MAX_LABELS)
  edns = false
  ednsVersion = 0
  /** The client's advertised UDP payload size (512 without EDNS). */
  udpSize = CLASSIC_UDP_SIZE
}

/**
 * Parse `msg` into `q`. PARSE_OK means exactly one question (qdcount 1), a
 * well-formed name without compression pointers, and the other sections
 * walkable with at most one OPT record (in the additional section).
 */
export function parseQuery(msg: Buffer, q: Query): number {
  const length = msg.length
  q.questionEnd = HEADER_SIZE
  q.edns = false
  q.ednsVersion = 0
  q.udpSize = CLASSIC_UDP_SIZE
  q.key = ''
  if (length < HEADER_SIZE) return PARSE_DROP
  const f2 = msg[2]!
  q.flags2 = f2
  q.flags3 = msg[3]!
  if (f2 & 0x80) return PARSE_DROP
  if ((f2 & 0x78) !== 0) return PARSE_NOTIMP
  if (msg[4] !== 0 || msg[5] !== 1) return PARSE_FORMERR

  let off = HEADER_SIZE
  let labels = 0
  for (;;) {
    if (off >= length) return PARSE_FORMERR
    const len = msg[off]!
    if (len === 0) break
    if (len > 63 || labels === MAX_LABELS) return PARSE_FORMERR // pointers (0xC0) and extended labels included
    q.labelStarts[labels++] = off - HEADER_SIZE
    off += len + 1
  }
  off++
  const nameLength = off - HEADER_SIZE
  if (nameLength > 255 || off + 4 > length) return PARSE_FORMERR
  q.nameLength = nameLength
  q.labelCount = labels
  q.key = msg.toString('latin1', HEADER_SIZE, off).toLowerCase()
  q.qtype = (msg[off]! << 8) | msg[off + 1]!
  q.qclass = (msg[off + 2]! << 8) | msg[off + 3]!
  off += 4
  q.questionEnd = off

  const other = ((msg[6]! << 8) | msg[7]!) + ((msg[8]! << 8) | msg[9]!)
  const additional = (msg[10]! << 8) | msg[11]!
  if (other === 0 && additional === 0) return PARSE_OK
  // Fast path: the one OPT record resolvers send, right after the question.
  if (other === 0 && additional === 1 && off + OPT_SIZE <= length && msg[off] === 0 && msg[off + 1] === 0 && msg[off + 2] === TYPE_OPT) {
    const rdlength = (msg[off + 9]! << 8) | msg[off + 10]!
    if (off + OPT_SIZE + rdlength !== length) return PARSE_FORMERR
    readOpt(msg, off + 1, q)
    return PARSE_OK
  }
  const total = other + additional
  for (let i = 0; i < total; i++) {
    const start = off
    off = skipName(msg, off)
    if (off < 0 || off + 10 > length) return PARSE_FORMERR
    const type = (msg[off]! << 8) | msg[off + 1]!
    const rdlength = (msg[off + 8]! << 8) | msg[off + 9]!
    if (off + 10 + rdlength > length) return PARSE_FORMERR
    if (type === TYPE_OPT) {
      if (i < other || q.edns || msg[start] !== 0) return PARSE_FORMERR
      readOpt(msg, off, q)
    }
    off += 10 + rdlength
  }
  return PARSE_OK
}

// `at` points at the OPT record's type field.
function readOpt(msg: Buffer, at: number, q: Query): void {
  q.edns = true
  const size = (msg[at + 2]! << 8) | msg[at + 3]!
  q.udpSize = size < CLASSIC_UDP_SIZE ? CLASSIC_UDP_SIZE : size
  q.ednsVersion = msg[at + 5]!
}

/** Offset past the (possibly compressed) name at `off`, or -1. */
function skipName(msg: Buffer, off: number): number {
  for (let n = 0; n < 128; n++) {
    if (off >= msg.length) return -1
    const len = msg[off]!
    if (len === 0) return off + 1
    if ((len & 0xc0) === 0xc0) return off + 2 <= msg.length ? off + 2 : -1
    if (len > 63) return -1
    off += len + 1
  }
  return -1
}

const keyScratch = Buffer.allocUnsafe(512)

/** A dotted name as the key the parser makes of it (wire form, lowercase, latin1; a flat string, as the parser's). */
export function nameToKey(name: string): string {
  const lower = name.toLowerCase()
  const b = lower.length + 2 <= keyScratch.length ? keyScratch : Buffer.allocUnsafe(lower.length + 2)
  let at = 0
  if (lower !== '') {
    for (const label of lower.split('.')) {
      b[at++] = label.length
      at += b.write(label, at, 'latin1')
    }
  }
  b[at++] = 0
  return b.toString('latin1', 0, at)
}

/**
 * The answer for one name and type, prepared when the zone changed: the
 * answer records then the additional records, encoded for a question of that
 * name (see the file comment on compression).
 */
export interface Prepared {
  rcode: number
  /** Answer bytes, then additional bytes. */
  body: Buffer
  answerBytes: number
  ancount: number
  arcount: number
  /** NODATA or NXDOMAIN: the zone's SOA goes in the authority section. */
  negative: boolean
}

/**
 * The SOA record of a zone, encoded with its owner (and, for names in the
 * zone, the tails of MNAME and RNAME) as pointers to where the zone's name
 * stands in the question: `patches` are the offsets in `template` where that
 * pointer goes.
 */
export interface Authority {
  /** How many labels the zone name has. */
  zoneLabels: number
  template: Buffer
  patches: number[]
}

export interface ResponseLimits {
  /** Largest response over this transport (UDP: from EDNS or 512; TCP: 65535). */
  maxSize: number
  /** Our own UDP payload size, advertised in the OPT record. */
  advertisedSize: number
  /** Recursion available (RA). */
  recursion: boolean
}

function writeHeader(out: Buffer, at: number, q: Query, aa: boolean, tc: boolean, rcode: number, recursion: boolean): void {
  out[at + 2] = 0x80 | (q.flags2 & 0x79) | (aa ? 0x04 : 0) | (tc ? 0x02 : 0)
  out[at + 3] = (recursion ? 0x80 : 0) | (q.flags3 & 0x10) | (rcode & 0x0f)
}

function writeCounts(out: Buffer, at: number, qd: number, an: number, ns: number, ar: number): void {
  out[at + 4] = qd >> 8; out[at + 5] = qd
  out[at + 6] = an >> 8; out[at + 7] = an
  out[at + 8] = ns >> 8; out[at + 9] = ns
  out[at + 10] = ar >> 8; out[at + 11] = ar
}

function writeOpt(out: Buffer, at: number, advertised: number, extendedRcode: number): number {
  out[at] = 0
  out[at + 1] = 0; out[at + 2] = TYPE_OPT
  out[at + 3] = advertised >> 8; out[at + 4] = advertised & 0xff
  out[at + 5] = extendedRcode; out[at + 6] = 0; out[at + 7] = 0; out[at + 8] = 0
  out[at + 9] = 0; out[at + 10] = 0
  return at + OPT_SIZE
}

// The SOA at `at`, its pointers aimed at the zone's name inside the question.
function writeSoa(out: Buffer, at: number, q: Query, soa: Authority): void {
  soa.template.copy(out, at)
  const pointer = 0xc000 | (HEADER_SIZE + q.labelStarts[q.labelCount - soa.zoneLabels]!)
  for (const p of soa.patches) {
    out[at + p] = pointer >> 8
    out[at + p + 1] = pointer & 0xff
  }
}

/**
 * The response to a parsed query from prepared bytes, written into `out` at
 * `at`; returns the offset past it. `out` must have room for
 * `limits.maxSize` bytes (no response is longer; a TC one is at most
 * RCODE_RESPONSE_MAX).
 * Over the size limit the additional records go first; if the answers alone
 * do not fit either, the response is the question with TC set (the client
 * retries over TCP). `soa` must be the zone of the question.
 */
export function writeResponse(msg: Buffer, q: Query, p: Prepared, soa: Authority, limits: ResponseLimits, out: Buffer, at: number): number {
  const qEnd = q.questionEnd
  const opt = q.edns ? OPT_SIZE : 0
  const soaBytes = p.negative ? soa.template.length : 0
  const limit = limits.maxSize
  let bodyBytes = p.body.length
  let arcount = p.arcount
  let ancount = p.ancount
  let tc = false
  if (qEnd + bodyBytes + soaBytes + opt > limit) {
    bodyBytes = p.answerBytes
    arcount = 0
    if (qEnd + bodyBytes + soaBytes + opt > limit) {
      bodyBytes = 0
      ancount = 0
      tc = true
    }
  }
  const soaCount = soaBytes > 0 && !tc ? 1 : 0
  msg.copy(out, at, 0, qEnd)
  writeHeader(out, at, q, true, tc, p.rcode, limits.recursion)
  writeCounts(out, at, 1, ancount, soaCount, arcount + (opt ? 1 : 0))
  let end = at + qEnd
  if (bodyBytes > 0) end += p.body.copy(out, end, 0, bodyBytes)
  if (soaCount) {
    writeSoa(out, end, q, soa)
    end += soaBytes
  }
  if (opt) end = writeOpt(out, end, limits.advertisedSize, 0)
  return end
}

/**
 * A response with no records into `out` at `at` (room: RCODE_RESPONSE_MAX): the
 * question echoed when it parsed, the rcode (extended ones through OPT), and
 * OPT when the query had one. Returns the offset past it.
 */
export function writeRcode(msg: Buffer, q: Query, rcode: number, limits: ResponseLimits, out: Buffer, at: number, authoritative = false): number {
  const qEnd = q.questionEnd
  msg.copy(out, at, 0, qEnd)
  writeHeader(out, at, q, authoritative, false, rcode & 0x0f, limits.recursion)
  writeCounts(out, at, qEnd > HEADER_SIZE ? 1 : 0, 0, 0, q.edns ? 1 : 0)
  return q.edns ? writeOpt(out, at + qEnd, limits.advertisedSize, rcode >> 4) : at + qEnd
}

/** One A record for the question's own name (pod names answered on the fly): 0xC00C A IN ttl 4 address. */
export function writeAddressAnswer(msg: Buffer, q: Query, address: number, ttl: number, limits: ResponseLimits, out: Buffer, at: number): number {
  const qEnd = q.questionEnd
  msg.copy(out, at, 0, qEnd)
  writeHeader(out, at, q, true, false, RCODE_NOERROR, limits.recursion)
  writeCounts(out, at, 1, 1, 0, q.edns ? 1 : 0)
  const r = at + qEnd
  out[r] = 0xc0; out[r + 1] = 0x0c
  out[r + 2] = 0; out[r + 3] = TYPE_A
  out[r + 4] = 0; out[r + 5] = CLASS_IN
  out.writeUInt32BE(ttl, r + 6)
  out[r + 10] = 0; out[r + 11] = 4
  out.writeUInt32BE(address >>> 0, r + 12)
  return q.edns ? writeOpt(out, r + 16, limits.advertisedSize, 0) : r + 16
}
