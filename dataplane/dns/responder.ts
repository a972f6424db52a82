// From query bytes to response bytes, without sockets: the hot path.
//
// A query is parsed by hand (wire.ts), its lowercased name looked up in the
// prepared table (answer-table.ts) and answered by copying; only names the
// table does not hold need more: a pod name `a-b-c-d.<ns>.pod.<zone>` is
// answered on the fly (`pods insecure`), another name in the zone is
// NXDOMAIN, a name outside it is for the server to forward or refuse.
// Nothing here throws on input: every malformed query ends as FORMERR (when
// a header parsed) or a drop, and is counted.

import type { ClusterZone } from './cluster-zone.ts'
import { type AnswerTable, answerFor, NODATA, NXDOMAIN } from './answer-table.ts'
import {
  CLASS_ANY, CLASS_IN, CLASSIC_UDP_SIZE, MAX_MESSAGE, PARSE_DROP, PARSE_NOTIMP, parseQuery, Query,
  RCODE_BADVERS, RCODE_FORMERR, RCODE_NOTIMP, RCODE_REFUSED, type ResponseLimits, TYPE_A, TYPE_ANY, TYPE_AXFR,
  TYPE_IXFR, TYPE_OPT, writeAddressAnswer, writeRcode, writeResponse,
} from './wire.ts'

/** What the server counts; read them any time (plain numbers, updated in place). */
export interface DnsCounters {
  /** Datagrams and TCP messages received. */
  received: number
  /** Responses sent (any rcode). */
  answered: number
  /** Answered FORMERR. */
  formerr: number
  /** Not answered at all: too short for a header, a response, or no room to answer. */
  dropped: number
  /** Answered REFUSED (outside the zone without forwarding, a class or transfer we do not serve). */
  refused: number
  /** UDP responses with TC set (the answer did not fit). */
  truncated: number
  /** Messages received over TCP. */
  tcp: number
  nxdomain: number
  notimp: number
  /** Sent to an upstream server. */
  forwarded: number
  /** Answered SERVFAIL (an upstream did not answer in time). */
  servfail: number
}

export function newCounters(): DnsCounters {
  return {
    received: 0, answered: 0, formerr: 0, dropped: 0, refused: 0, truncated: 0, tcp: 0, nxdomain: 0, notimp: 0,
    forwarded: 0, servfail: 0,
  }
}

/** The counters in a fixed order, for shared memory between threads. */
export const COUNTER_NAMES = Object.keys(newCounters()) as (keyof DnsCounters)[]

/** Copy `counters` into `shared` (COUNTER_NAMES order). */
export function publishCounters(counters: DnsCounters, shared: Float64Array): void {
  for (let i = 0; i < COUNTER_NAMES.length; i++) shared[i] = counters[COUNTER_NAMES[i]!]
}

/** Add what `shared` holds (COUNTER_NAMES order) to `into`. */
export function addCounters(into: DnsCounters, shared: Float64Array): void {
  for (let i = 0; i < COUNTER_NAMES.length; i++) into[COUNTER_NAMES[i]!] += shared[i]!
}

/** answer(): no response at all (counted as dropped). */
export const DROP = -1
/** answer(): the name is outside the zone; the server forwards it or answers refuse(). */
export const OUTSIDE = -2
/** The largest UDP payload we ever send or advertise. */
export const MAX_UDP_PAYLOAD = 4096

export interface ResponderOptions {
  /** Largest UDP response we send and advertise (default 1232, the DNS flag day 2020 value; 512..4096). */
  maxUdpPayload?: number
  /** Whether recursion is available (an upstream is configured): the RA bit. */
  recursion?: boolean
}

export class Responder {
  /** The last query parsed (valid until the next answer() call). */
  readonly query = new Query()
  private readonly udpLimits: ResponseLimits
  private readonly tcpLimits: ResponseLimits
  private readonly limits: ResponseLimits

  constructor(private readonly zone: ClusterZone, readonly counters: DnsCounters, options: ResponderOptions = {}) {
    const advertised = Math.max(CLASSIC_UDP_SIZE, Math.min(options.maxUdpPayload ?? 1232, MAX_UDP_PAYLOAD))
    const recursion = options.recursion ?? false
    this.udpLimits = { maxSize: CLASSIC_UDP_SIZE, advertisedSize: advertised, recursion }
    this.tcpLimits = { maxSize: MAX_MESSAGE, advertisedSize: advertised, recursion }
    this.limits = { maxSize: CLASSIC_UDP_SIZE, advertisedSize: advertised, recursion }
  }

  /**
   * Answer `msg` into `out` at `at` (room for 65535 bytes over TCP, for
   * MAX_UDP_PAYLOAD over UDP). Returns the offset past the response, DROP,
   * or OUTSIDE (this.query then holds the parsed query).
   */
  answer(msg: Buffer, tcp: boolean, out: Buffer, at: number): number {
    const c = this.counters
    const q = this.query
    const status = parseQuery(msg, q)
    const limits = this.limitsFor(q, tcp)
    if (status !== 0) {
      if (status === PARSE_DROP) {
        c.dropped++
        return DROP
      }
      if (status === PARSE_NOTIMP) {
        c.notimp++
        return writeRcode(msg, q, RCODE_NOTIMP, limits, out, at)
      }
      c.formerr++
      return writeRcode(msg, q, RCODE_FORMERR, limits, out, at)
    }
    if (q.edns && q.ednsVersion !== 0) return writeRcode(msg, q, RCODE_BADVERS, limits, out, at)
    if ((q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) || q.qtype === TYPE_AXFR || q.qtype === TYPE_IXFR) {
      c.refused++
      return writeRcode(msg, q, RCODE_REFUSED, limits, out, at)
    }
    if (q.qtype === TYPE_OPT) {
      c.formerr++
      return writeRcode(msg, q, RCODE_FORMERR, limits, out, at)
    }

    const table = this.zone.table
    const entry = table.entries.get(q.key)
    if (entry !== undefined) {
      const p = answerFor(entry, q.qtype)
      const end = writeResponse(msg, q, p, entry.reverse ? table.reverseAuthority : table.authority, limits, out, at)
      if (out[at + 2]! & 0x02) c.truncated++
      return end
    }
    if (!this.inZone(q, table)) return OUTSIDE
    const pod = this.zone.settings.podRecords === 'insecure' ? this.podAddress(q, table) : -1
    if (pod >= 0) {
      if (q.qtype === TYPE_A || q.qtype === TYPE_ANY) return writeAddressAnswer(msg, q, pod, table.ttl, limits, out, at)
      return writeResponse(msg, q, NODATA, table.authority, limits, out, at)
    }
    c.nxdomain++
    return writeResponse(msg, q, NXDOMAIN, table.authority, limits, out, at)
  }

  /** REFUSED, into `out` at `at`, for the query answer() just returned OUTSIDE for. */
  refuse(msg: Buffer, tcp: boolean, out: Buffer, at: number): number {
    this.counters.refused++
    return writeRcode(msg, this.query, RCODE_REFUSED, this.limitsFor(this.query, tcp), out, at)
  }

  private limitsFor(q: Query, tcp: boolean): ResponseLimits {
    if (tcp) return this.tcpLimits
    if (!q.edns) return this.udpLimits
    const l = this.limits
    l.maxSize = Math.min(q.udpSize, l.advertisedSize)
    return l
  }

  // Whether the question name is the zone or below it (at a label boundary).
  private inZone(q: Query, table: AnswerTable): boolean {
    const zl = table.zoneLabels
    if (q.labelCount < zl || !q.key.endsWith(table.zoneKey)) return false
    return zl === 0 || q.labelStarts[q.labelCount - zl] === q.nameLength - table.zoneKey.length
  }

  // `a-b-c-d.<ns>.pod.<zone>` for an existing namespace: the address a.b.c.d as a number, else -1.
  private podAddress(q: Query, table: AnswerTable): number {
    if (q.labelCount !== table.zoneLabels + 3) return -1
    const key = q.key
    const ns = q.labelStarts[1]!
    if (key.slice(q.labelStarts[2]) !== table.podZoneKey) return -1
    if (!table.entries.has(key.slice(ns))) return -1
    let address = 0
    let part = -1
    let digits = 0
    let parts = 0
    for (let i = 1; i < ns; i++) {
      const ch = key.charCodeAt(i)
      if (ch >= 48 && ch <= 57) {
        if (digits > 0 && part === 0) return -1 // leading zero
        part = (part < 0 ? 0 : part) * 10 + ch - 48
        if (part > 255 || ++digits > 3) return -1
      } else if (ch === 45 && digits > 0 && parts < 3) {
        address = address * 256 + part
        parts++
        part = -1
        digits = 0
      } else {
        return -1
      }
    }
    if (digits === 0 || parts !== 3) return -1
    return address * 256 + part
  }
}
