// The prepared answers of a zone, kept up to date source by source.
//
// Why: the hot path must find a ready answer with one Map lookup (wire.ts),
// and a change to one Service among 10 000 must cost only that Service's
// names. So records arrive per source (a Service, a pod, a namespace, the zone
// apex: zone.ts), a name node remembers which source gave it which records,
// and setSource() re-encodes exactly the names whose records changed, plus
// the empty non-terminals that appear or vanish with them.
//
// A name exists (NODATA rather than NXDOMAIN for other types) when it has
// records, when a source marks it (a namespace's `<ns>.svc.<zone>`), or when a
// name below it exists; this last is a count of existing descendants kept on
// each ancestor inside the zone. Names outside the zone (the in-addr.arpa
// PTRs) have no ancestors here.
//
// Everything in setSource() and flush() runs synchronously: between two
// queries the table is either all old or all new for a change.

import { apexRecords, type DnsRecord, normalizeName, soaRecord, type SourceRecords } from './zone.ts'
import { prepareAnswer, prepareAuthority, prepareNegative, RECORD_TYPES } from './prepare.ts'
import { type Authority, nameToKey, type Prepared, RCODE_NOERROR, RCODE_NXDOMAIN, TYPE_ANY, TYPE_CNAME } from './wire.ts'

/** The answer `entry` has for `qtype` (its CNAME or NODATA when it has none). */
export function answerFor(entry: NameEntry, qtype: number): Prepared {
  const types = entry.types
  for (let i = 0; i < types.length; i++) if (types[i] === qtype) return entry.answers[i]!
  return entry.fallback
}

/** What the hot path finds for a name. */
export interface NameEntry {
  /** The query types answered (few: a short array beats a Map here), and their answers. */
  types: number[]
  answers: Prepared[]
  /** For any other type: the CNAME, or NODATA. */
  fallback: Prepared
  /** Whose SOA goes with negative answers: the cluster zone's or in-addr.arpa's. */
  reverse: boolean
}

export const NODATA: Prepared = prepareNegative(RCODE_NOERROR)
export const NXDOMAIN: Prepared = prepareNegative(RCODE_NXDOMAIN)

/**
 * A name and what each source gave it. Nearly every name has one source, so
 * that one sits in two fields and only further ones in a Map (a Map per name
 * was a fifth of the heap).
 */
class NameNode {
  source: string | undefined = undefined
  records: DnsRecord[] | undefined = undefined
  more: Map<string, DnsRecord[]> | undefined = undefined
  /** How many sources mark this name as existing without records. */
  markers = 0
  /** How many names below this one exist by themselves. */
  descendants = 0
  /** Whether it counted itself into its ancestors' `descendants`. */
  counted = false

  constructor(readonly name: string) {}

  get hasRecords(): boolean {
    return this.source !== undefined || (this.more !== undefined && this.more.size > 0)
  }

  set(source: string, records: DnsRecord[]): void {
    if (this.source === undefined || this.source === source) {
      this.source = source
      this.records = records
    } else {
      (this.more ??= new Map()).set(source, records)
    }
  }

  /** Whether `source` had records here. */
  delete(source: string): boolean {
    if (this.source === source) {
      this.source = undefined
      this.records = undefined
      const next = this.more?.entries().next()
      if (next && !next.done) {
        this.more!.delete(next.value[0])
        this.source = next.value[0]
        this.records = next.value[1]
      }
      return true
    }
    return this.more?.delete(source) ?? false
  }

  /** Every record, the first source's first. */
  all(): DnsRecord[] {
    if (!this.more || this.more.size === 0) return this.records ?? []
    const out = [...(this.records ?? [])]
    for (const list of this.more.values()) out.push(...list)
    return out
  }

  get unused(): boolean {
    return !this.hasRecords && this.markers === 0 && this.descendants === 0
  }
}


export const REVERSE_ZONE = 'in-addr.arpa'
/** The source key of the zone's own records; other sources must not use it. */
export const APEX_SOURCE = 'zone'

export class AnswerTable {
  /** Wire key (see wire.ts) -> prepared answers. The hot path reads this. */
  readonly entries = new Map<string, NameEntry>()
  readonly zone: string
  readonly ttl: number
  /** The zone's name as a lookup key, its label count, and the key of `pod.<zone>`. */
  readonly zoneKey: string
  readonly zoneLabels: number
  readonly podZoneKey: string
  authority!: Authority
  reverseAuthority!: Authority
  private serial: number
  private readonly nameserverIP: string | undefined
  private readonly nodes = new Map<string, NameNode>()
  private readonly sources = new Map<string, SourceRecords>()
  private readonly dirty = new Set<string>()

  /** A table holding the zone's apex records (SOA, NS, dns-version) and nothing else yet. */
  constructor(zone: string, ttl: number, nameserverIP?: string) {
    this.zone = normalizeName(zone)
    this.ttl = ttl
    this.zoneKey = nameToKey(this.zone)
    this.zoneLabels = this.zone === '' ? 0 : this.zone.split('.').length
    this.podZoneKey = nameToKey(`pod.${this.zone}`)
    this.nameserverIP = nameserverIP
    this.serial = 0
    this.setSerial(Math.floor(Date.now() / 1000))
    this.flush()
  }

  // A new SOA serial: the authority records and the apex source change with it.
  private setSerial(serial: number): void {
    this.serial = serial
    this.authority = prepareAuthority(soaRecord(this.zone, serial, this.ttl, this.zone), this.ttl)
    this.reverseAuthority = prepareAuthority(soaRecord(REVERSE_ZONE, serial, this.ttl, this.zone), this.ttl)
    this.setSource(APEX_SOURCE, apexRecords({ domain: this.zone, ttl: this.ttl, serial, nameserverIP: this.nameserverIP }))
  }

  get sourceCount(): number { return this.sources.size }

  /** Replace what `key` contributes (undefined: remove the source). Call flush() after a batch. */
  setSource(key: string, next: SourceRecords | undefined): void {
    const prev = this.sources.get(key)
    if (prev) {
      for (const r of prev.records) this.detach(r.name, key)
      for (const n of prev.names) this.unmark(n)
    }
    if (next) {
      this.sources.set(key, next)
      const byName = new Map<string, DnsRecord[]>()
      for (const r of next.records) {
        const list = byName.get(r.name)
        if (list) list.push(r)
        else byName.set(r.name, [r])
      }
      for (const [name, records] of byName) this.attach(name, key, records)
      for (const n of next.names) this.mark(n)
    } else {
      this.sources.delete(key)
    }
  }

  /** Names waiting for flush(). */
  get pending(): number { return this.dirty.size }

  /**
   * Re-encode the names that changed; returns how many. With `deadline` (a
   * performance.now() value) it stops once that has passed and leaves the
   * rest pending, so a large build can yield to the event loop between slices.
   */
  flush(deadline = Infinity): number {
    if (this.dirty.size === 0) return 0
    // The serial is the time of the last change, in seconds (as CoreDNS has it).
    const serial = Math.floor(Date.now() / 1000)
    if (serial > this.serial) this.setSerial(serial)
    let count = 0
    for (const name of this.dirty) {
      this.encode(name)
      this.dirty.delete(name)
      if ((++count & 63) === 0 && performance.now() > deadline) break
    }
    return count
  }

  /** The records of a name (all sources), for tests and tools. */
  records(name: string): DnsRecord[] {
    const node = this.nodes.get(normalizeName(name))
    return node ? node.all() : []
  }

  private node(name: string): NameNode {
    let n = this.nodes.get(name)
    if (!n) {
      n = new NameNode(name)
      this.nodes.set(name, n)
    }
    return n
  }

  private attach(name: string, source: string, records: DnsRecord[]): void {
    const n = this.node(name)
    n.set(source, records)
    this.changed(n)
  }

  private detach(name: string, source: string): void {
    const n = this.nodes.get(name)
    if (!n || !n.delete(source)) return
    this.changed(n)
  }

  private mark(name: string): void {
    const n = this.node(name)
    n.markers++
    this.changed(n)
  }

  private unmark(name: string): void {
    const n = this.nodes.get(name)
    if (!n || n.markers === 0) return
    n.markers--
    this.changed(n)
  }

  private inZone(name: string): boolean {
    return name.endsWith(`.${this.zone}`)
  }

  // A node's records or markers changed: keep the ancestors' counts right.
  private changed(n: NameNode): void {
    this.dirty.add(n.name)
    const self = n.hasRecords || n.markers > 0
    if (self === n.counted || !this.inZone(n.name)) return
    n.counted = self
    let name = n.name
    while (name !== this.zone) {
      name = name.slice(name.indexOf('.') + 1)
      const a = this.node(name)
      const before = a.descendants > 0
      a.descendants += self ? 1 : -1
      if ((a.descendants > 0) !== before) this.dirty.add(name)
    }
  }

  private encode(name: string): void {
    const key = nameToKey(name)
    const n = this.nodes.get(name)
    if (!n || n.unused) {
      this.entries.delete(key)
      if (n) this.nodes.delete(name)
      return
    }
    const all = n.all()
    const byType = new Map<number, DnsRecord[]>()
    for (const r of all) {
      const t = RECORD_TYPES[r.type]
      const list = byType.get(t)
      if (list) list.push(r)
      else byType.set(t, [r])
    }
    // Arrays of their exact length (push would leave room to grow in each of 40 000 entries).
    const count = byType.size + (all.length > 0 ? 1 : 0)
    const entry: NameEntry = {
      types: new Array<number>(count), answers: new Array<Prepared>(count), fallback: NODATA,
      reverse: !this.inZone(name) && name !== this.zone,
    }
    let i = 0
    for (const [t, records] of byType) {
      const p = prepareAnswer(name, records, this.additional(records), this.ttl)
      entry.types[i] = t
      entry.answers[i++] = p
      if (t === TYPE_CNAME) entry.fallback = p
    }
    if (all.length > 0) {
      // ANY: every record, no additional section (one type without additional records: the same answer).
      const only = i === 1 && entry.answers[0]!.arcount === 0 ? entry.answers[0]! : undefined
      entry.types[i] = TYPE_ANY
      entry.answers[i] = only ?? prepareAnswer(name, all, [], this.ttl)
    }
    this.entries.set(key, entry)
  }

  // The A records of the names SRV and NS records point to, when we have them.
  private additional(records: DnsRecord[]): DnsRecord[] {
    const out: DnsRecord[] = []
    const seen = new Set<string>()
    for (const r of records) {
      if (r.type !== 'SRV' && r.type !== 'NS') continue
      if (seen.has(r.target)) continue
      seen.add(r.target)
      const target = this.nodes.get(r.target)
      if (!target) continue
      for (const a of target.all()) if (a.type === 'A') out.push(a)
    }
    return out
  }
}
