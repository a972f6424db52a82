// Pre-encoding: records into the bytes the hot path appends (wire.ts), done
// when the zone changes, never per query.
//
// Each answer is encoded as it will stand in a response to a question for its
// own name: the question name occupies offsets 12.. (its wire length is fixed
// for a name), so compression pointers to it, and to names earlier in the
// prepared bytes, are valid in every response for that name. The answer's
// owner is the question name itself: pointer 0xC00C.

import { type DnsRecord, type SoaRecord, parseIpv4 } from './zone.ts'
import {
  type Authority, CLASS_IN, HEADER_SIZE, MAX_MESSAGE, type Prepared, RCODE_NOERROR, TYPE_A, TYPE_CNAME,
  TYPE_NS, TYPE_PTR, TYPE_SOA, TYPE_SRV, TYPE_TXT,
} from './wire.ts'

export const RECORD_TYPES: Record<DnsRecord['type'], number> = {
  A: TYPE_A, NS: TYPE_NS, CNAME: TYPE_CNAME, SOA: TYPE_SOA, PTR: TYPE_PTR, TXT: TYPE_TXT, SRV: TYPE_SRV,
}

/** Bytes of `name` (dotted, no trailing dot) in wire form. */
export function wireLength(name: string): number {
  return name === '' ? 1 : name.length + 2
}

/** Room kept free in every prepared answer for the SOA and OPT records of the response. */
const RESERVE = 512
const POINTER_LIMIT = 0x3fff

// One scratch buffer for every writer (builds run one at a time); bytes() copies out.
let scratch = Buffer.allocUnsafe(65536)

/** Writes one message's records from a known offset on, compressing names. */
export class RecordWriter {
  private buf = scratch
  /** Absolute offset in the message the next byte goes to. */
  pos: number
  private readonly start: number
  private readonly question: string | undefined
  /** Suffix -> offset where it stands; made on the first name that is not the question's. */
  private names: Map<string, number> | undefined

  /** `questionName`: the name standing at offset 12 (the question), for compression. */
  constructor(questionName: string | undefined) {
    this.question = questionName
    this.start = this.pos = questionName === undefined ? HEADER_SIZE : HEADER_SIZE + wireLength(questionName) + 4
  }

  private ensure(n: number): void {
    const need = this.pos - this.start + n
    if (need <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2))
    this.buf.copy(bigger)
    this.buf = scratch = bigger
  }

  u8(v: number): void { this.ensure(1); this.buf[this.pos++ - this.start] = v & 0xff }
  u16(v: number): void { this.ensure(2); this.buf.writeUInt16BE(v & 0xffff, this.pos - this.start); this.pos += 2 }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32BE(v >>> 0, this.pos - this.start); this.pos += 4 }

  private dictionary(): Map<string, number> {
    if (this.names) return this.names
    const names = new Map<string, number>()
    const q = this.question
    if (q !== undefined && q !== '') {
      for (let i = 0; ; ) {
        names.set(i === 0 ? q : q.slice(i), HEADER_SIZE + i)
        const dot = q.indexOf('.', i)
        if (dot < 0) break
        i = dot + 1
      }
    }
    this.names = names
    return names
  }

  /** A name (lowercase, dotted), as a pointer to where it or its longest known suffix already stands. */
  name(name: string): void {
    if (name === this.question) return this.u16(0xc000 | HEADER_SIZE)
    const names = this.dictionary()
    let i = 0
    while (i < name.length) {
      const suffix = i === 0 ? name : name.slice(i)
      const at = names.get(suffix)
      if (at !== undefined) return this.u16(0xc000 | at)
      if (this.pos <= POINTER_LIMIT) names.set(suffix, this.pos)
      let dot = name.indexOf('.', i)
      if (dot < 0) dot = name.length
      const length = dot - i
      this.u8(length)
      this.ensure(length)
      this.buf.write(name.slice(i, dot), this.pos - this.start, 'latin1')
      this.pos += length
      i = dot + 1
    }
    this.u8(0)
  }

  /** Offset of a 16-bit placeholder, later set by patch(). */
  placeholder(): number {
    const at = this.pos
    this.u16(0)
    return at
  }

  patch(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at - this.start)
  }

  /** Bytes written so far. */
  get length(): number { return this.pos - this.start }

  bytes(): Buffer {
    const out = Buffer.allocUnsafe(this.pos - this.start)
    this.buf.copy(out, 0, 0, out.length)
    return out
  }
}

/** One record: owner, type, class IN, TTL, rdata. */
export function writeRecord(w: RecordWriter, r: DnsRecord, ttl: number): void {
  w.name(r.name)
  w.u16(RECORD_TYPES[r.type])
  w.u16(CLASS_IN)
  w.u32(ttl)
  const rdlength = w.placeholder()
  const begin = w.pos
  switch (r.type) {
    case 'A': {
      const [a, b, c, d] = parseIpv4(r.address)!
      w.u8(a); w.u8(b); w.u8(c); w.u8(d)
      break
    }
    case 'SRV':
      w.u16(r.priority); w.u16(r.weight); w.u16(r.port)
      w.name(r.target)
      break
    case 'PTR': case 'CNAME': case 'NS':
      w.name(r.target)
      break
    case 'TXT':
      w.u8(r.text.length)
      for (let i = 0; i < r.text.length; i++) w.u8(r.text.charCodeAt(i))
      break
    case 'SOA':
      w.name(r.mname); w.name(r.rname)
      w.u32(r.serial); w.u32(r.refresh); w.u32(r.retry); w.u32(r.expire); w.u32(r.minimum)
      break
  }
  w.patch(rdlength, w.pos - begin)
}

/**
 * The prepared answer to a question for `name`: `answers` in order, then the
 * `additional` records. Records that would push the message past 64 KiB are
 * left out (never more than a TCP response can carry).
 */
export function prepareAnswer(name: string, answers: DnsRecord[], additional: DnsRecord[], ttl: number): Prepared {
  const w = new RecordWriter(name)
  const cap = MAX_MESSAGE - RESERVE
  let ancount = 0
  for (const r of answers) {
    if (w.pos > cap) break
    writeRecord(w, r, ttl)
    ancount++
  }
  const answerBytes = w.length
  let arcount = 0
  for (const r of additional) {
    if (w.pos > cap) break
    writeRecord(w, r, ttl)
    arcount++
  }
  return { rcode: RCODE_NOERROR, body: w.bytes(), answerBytes, ancount, arcount, negative: false }
}

const EMPTY = Buffer.alloc(0)

/** NODATA (rcode 0) or NXDOMAIN (rcode 3): no answers, the zone's SOA in the authority section. */
export function prepareNegative(rcode: number): Prepared {
  return { rcode, body: EMPTY, answerBytes: 0, ancount: 0, arcount: 0, negative: true }
}

/**
 * The zone's SOA as the authority record of negative answers: owner, and the
 * tails of MNAME and RNAME inside the zone, point to where the zone's name
 * stands in the question (patched per response).
 */
export function prepareAuthority(soa: SoaRecord, ttl: number): Authority {
  const zone = soa.name
  const zoneLabels = zone === '' ? 0 : zone.split('.').length
  const parts: Buffer[] = []
  const patches: number[] = []
  let length = 0
  const push = (b: Buffer): void => { parts.push(b); length += b.length }
  const pointer = (): void => { patches.push(length); push(Buffer.from([0xc0, 0x00])) }
  const labels = (text: string): void => {
    if (text === '') return
    for (const l of text.split('.')) push(Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]))
  }
  const name = (n: string): void => {
    if (n === zone) return pointer()
    if (n.endsWith(`.${zone}`)) {
      labels(n.slice(0, -zone.length - 1))
      return pointer()
    }
    labels(n)
    push(Buffer.from([0]))
  }
  pointer()
  const fixed = Buffer.alloc(10)
  fixed.writeUInt16BE(TYPE_SOA, 0)
  fixed.writeUInt16BE(CLASS_IN, 2)
  fixed.writeUInt32BE(ttl, 4)
  push(fixed)
  const rdStart = length
  name(soa.mname)
  name(soa.rname)
  const tail = Buffer.alloc(20)
  tail.writeUInt32BE(soa.serial >>> 0, 0)
  tail.writeUInt32BE(soa.refresh, 4)
  tail.writeUInt32BE(soa.retry, 8)
  tail.writeUInt32BE(soa.expire, 12)
  tail.writeUInt32BE(soa.minimum, 16)
  push(tail)
  const template = Buffer.concat(parts)
  template.writeUInt16BE(length - rdStart, rdStart - 2)
  return { zoneLabels, template, patches }
}
