// The cluster zone as the server holds it: the desired state (Services, pods,
// namespaces) and the AnswerTable prepared from it, updated by difference.
//
// Why by difference: the glue that watches the API hands over the whole zone
// (setZone) or one Service at a time; either way only the sources that really
// changed are rebuilt, so one Service change in a zone of 10 000 costs a
// comparison per Service and the encoding of that Service's few names.
// A change of the zone's settings (domain, TTL, pod mode, nameserver) or a
// change touching more than INCREMENTAL_LIMIT sources (the first load) builds
// a new table instead, in slices of SLICE_MS that let queries through between
// them, and swaps it in whole when it is complete; until then queries see the
// previous zone. Updates are applied one after another in call order.

import { AnswerTable } from './answer-table.ts'
import {
  DEFAULT_DOMAIN, DEFAULT_TTL, type DnsPod, type DnsService, namespaceNames, normalizeName, podRecords,
  serviceRecords, type SourceRecords, type ZoneSpec,
} from './zone.ts'

export const INCREMENTAL_LIMIT = 500
const SLICE_MS = 4

export interface ZoneSettings {
  domain: string
  ttl: number
  podRecords: 'insecure' | 'verified'
  nameserverIP: string | undefined
}

export interface ZoneUpdate {
  /** Sources (Services, pods, namespaces) that changed. */
  changedSources: number
  /** Names re-encoded. */
  names: number
  /** Whether a whole new table was built and swapped in. */
  rebuilt: boolean
  /** Time from the call to the new answers being served, in milliseconds. */
  ms: number
}

/** A zone change as a message (the UDP threads keep their own copy of the zone). */
export type ZoneOp =
  | { op: 'setZone'; spec: ZoneSpec }
  | { op: 'patch'; diff: ZoneDiff }
  | { op: 'updateService'; service: DnsService }
  | { op: 'removeService'; namespace: string; name: string }

export function applyZoneOp(zone: ClusterZone, op: ZoneOp): Promise<ZoneUpdate> {
  switch (op.op) {
    case 'setZone': return zone.setZone(op.spec)
    case 'patch': return zone.applyPatch(op.diff)
    case 'updateService': return zone.updateService(op.service)
    case 'removeService': return zone.removeService(op.namespace, op.name)
  }
}

export function zoneSettings(spec: Pick<ZoneSpec, 'domain' | 'ttl' | 'podRecords' | 'nameserverIP'>): ZoneSettings {
  return {
    domain: normalizeName(spec.domain ?? DEFAULT_DOMAIN),
    ttl: spec.ttl ?? DEFAULT_TTL,
    podRecords: spec.podRecords ?? 'insecure',
    nameserverIP: spec.nameserverIP,
  }
}

function sameSettings(a: ZoneSettings, b: ZoneSettings): boolean {
  return a.domain === b.domain && a.ttl === b.ttl && a.podRecords === b.podRecords && a.nameserverIP === b.nameserverIP
}

/** Whether a stored Service (ours, normalized) gives the same records as `b` (field by field: no JSON). */
export function sameService(a: DnsService, b: DnsService): boolean {
  if (a.namespace !== b.namespace || a.name !== b.name || a.clusterIP !== b.clusterIP || a.type !== b.type ||
    a.externalName !== b.externalName) return false
  const pa = a.ports ?? NONE, pb = b.ports ?? NONE
  if (pa.length !== pb.length) return false
  for (let i = 0; i < pa.length; i++) {
    const x = pa[i]!, y = pb[i]!
    if (x.name !== y.name || x.port !== y.port || x.protocol !== y.protocol) return false
  }
  const ea = a.endpoints ?? NONE, eb = b.endpoints ?? NONE
  if (ea.length !== eb.length) return false
  for (let i = 0; i < ea.length; i++) {
    const x = ea[i]!, y = eb[i]!
    if (x.ip !== y.ip || x.hostname !== y.hostname || (x.ready ?? true) !== (y.ready ?? true)) return false
  }
  return true
}

const NONE: never[] = []

// Our own copy, of one shape (monomorphic property access in sameService);
// the caller may change its objects in place and hand them over again.
function storedService(s: DnsService): DnsService {
  return {
    namespace: s.namespace, name: s.name, clusterIP: s.clusterIP, type: s.type, externalName: s.externalName,
    ports: s.ports?.map(p => ({ name: p.name, port: p.port, protocol: p.protocol })),
    endpoints: s.endpoints?.map(e => ({ ip: e.ip, hostname: e.hostname, ready: e.ready })),
  }
}

// Sources are keyed by the names as given: Kubernetes names are lowercase already.
const serviceKey = (s: { namespace: string; name: string }): string => `svc/${s.namespace}/${s.name}`
const podKey = (p: DnsPod): string => `pod/${p.namespace}/${p.ip}`

/** What setZone must change: found in one pass of comparisons, applied only if small. */
export interface ZoneDiff {
  put: DnsService[]
  removed: DnsService[]
  podsPut: DnsPod[]
  podsRemoved: DnsPod[]
  namespaces: string[]
  size: number
}

interface Stored<T> {
  value: T
  /** The diff pass that last saw it in a spec. */
  seen: number
}

/** Namespace -> name -> entry: two lookups with the caller's strings are cheaper than building a key per item. */
class TwoLevel<T> {
  private readonly outer = new Map<string, Map<string, Stored<T>>>()
  size = 0

  get(a: string, b: string): Stored<T> | undefined {
    return this.outer.get(a)?.get(b)
  }

  set(a: string, b: string, v: Stored<T>): void {
    let inner = this.outer.get(a)
    if (!inner) this.outer.set(a, inner = new Map())
    if (!inner.has(b)) this.size++
    inner.set(b, v)
  }

  delete(a: string, b: string): void {
    const inner = this.outer.get(a)
    if (!inner?.delete(b)) return
    this.size--
    if (inner.size === 0) this.outer.delete(a)
  }

  /** Entries not seen by diff pass `pass`. */
  unseen(pass: number): T[] {
    const out: T[] = []
    for (const inner of this.outer.values()) for (const st of inner.values()) if (st.seen !== pass) out.push(st.value)
    return out
  }
}

/** The desired state and its table. Not used concurrently: ClusterZone serializes. */
class ZoneState {
  readonly table: AnswerTable
  private readonly services = new TwoLevel<DnsService>()
  private readonly pods = new TwoLevel<DnsPod>()
  /** Namespace -> how many reasons it exists (listed, Services, pods). */
  private readonly namespaceUse = new Map<string, number>()
  private readonly listed = new Set<string>()
  private pass = 0
  changed = 0

  constructor(readonly settings: ZoneSettings) {
    this.table = new AnswerTable(settings.domain, settings.ttl, settings.nameserverIP)
  }

  private source(key: string, records: SourceRecords | undefined): void {
    this.table.setSource(key, records)
    this.changed++
  }

  private useNamespace(ns: string, delta: number): void {
    const n = ns.toLowerCase()
    const before = this.namespaceUse.get(n) ?? 0
    const after = before + delta
    if (after > 0) this.namespaceUse.set(n, after)
    else this.namespaceUse.delete(n)
    if (before === 0 && after > 0) this.source(`ns/${n}`, { records: [], names: namespaceNames(n, this.settings.domain) })
    if (before > 0 && after === 0) this.source(`ns/${n}`, undefined)
  }

  namespaceExists(ns: string): boolean {
    return this.namespaceUse.has(ns.toLowerCase())
  }

  putService(svc: DnsService): void {
    const prev = this.services.get(svc.namespace, svc.name)
    if (prev && sameService(prev.value, svc)) return
    this.services.set(svc.namespace, svc.name, { value: storedService(svc), seen: this.pass })
    if (!prev) this.useNamespace(svc.namespace, 1)
    this.source(serviceKey(svc), { records: serviceRecords(svc, this.settings.domain), names: [] })
  }

  deleteService(namespace: string, name: string): void {
    if (!this.services.get(namespace, name)) return
    this.services.delete(namespace, name)
    this.source(serviceKey({ namespace, name }), undefined)
    this.useNamespace(namespace, -1)
  }

  private putPod(pod: DnsPod): void {
    if (this.pods.get(pod.namespace, pod.ip)) return
    this.pods.set(pod.namespace, pod.ip, { value: { namespace: pod.namespace, ip: pod.ip }, seen: this.pass })
    this.useNamespace(pod.namespace, 1)
    this.source(podKey(pod), { records: podRecords(pod, this.settings.domain), names: [] })
  }

  private deletePod(pod: DnsPod): void {
    if (!this.pods.get(pod.namespace, pod.ip)) return
    this.pods.delete(pod.namespace, pod.ip)
    this.source(podKey(pod), undefined)
    this.useNamespace(pod.namespace, -1)
  }

  private setListedNamespaces(namespaces: string[]): void {
    const next = new Set(namespaces.map(n => n.toLowerCase()))
    for (const n of this.listed) if (!next.has(n)) { this.listed.delete(n); this.useNamespace(n, -1) }
    for (const n of next) if (!this.listed.has(n)) { this.listed.add(n); this.useNamespace(n, 1) }
  }

  /** What differs between this state and `spec` (comparisons only, no encoding). */
  diff(spec: ZoneSpec): ZoneDiff {
    const pass = ++this.pass
    const put: DnsService[] = []
    for (const s of spec.services) {
      const prev = this.services.get(s.namespace, s.name)
      if (prev) {
        prev.seen = pass
        if (sameService(prev.value, s)) continue
      }
      put.push(s)
    }
    const podsPut: DnsPod[] = []
    for (const p of spec.pods ?? []) {
      const prev = this.pods.get(p.namespace, p.ip)
      if (prev) prev.seen = pass
      else podsPut.push(p)
    }
    const removed = this.services.unseen(pass)
    const podsRemoved = this.pods.unseen(pass)
    const namespaces = spec.namespaces ?? []
    return { put, removed, podsPut, podsRemoved, namespaces, size: put.length + removed.length + podsPut.length + podsRemoved.length }
  }

  apply(d: ZoneDiff): void {
    for (const s of d.removed) this.deleteService(s.namespace, s.name)
    for (const s of d.put) this.putService(s)
    for (const p of d.podsRemoved) this.deletePod(p)
    for (const p of d.podsPut) this.putPod(p)
    this.setListedNamespaces(d.namespaces)
  }
}

/**
 * Answers and state of the cluster zone; the hot path reads `table`.
 * `mirror`, when given, is told every change as it is applied, in order, as
 * the cheapest op that repeats it (a setZone becomes the patch it came to);
 * the change resolves only when the promise it returns does (the server's UDP
 * threads keep their own copy of the zone this way).
 */
export class ClusterZone {
  private state: ZoneState
  private queue: Promise<unknown> = Promise.resolve()
  /** Bumped by every setZone; a queued full build that a later setZone replaces is skipped. */
  private generation = 0

  constructor(
    spec: Pick<ZoneSpec, 'domain' | 'ttl' | 'podRecords' | 'nameserverIP'> = {},
    private readonly mirror?: (op: ZoneOp) => Promise<void>,
  ) {
    this.state = new ZoneState(zoneSettings(spec))
  }

  get table(): AnswerTable { return this.state.table }
  get settings(): ZoneSettings { return this.state.settings }

  namespaceExists(ns: string): boolean {
    return this.state.namespaceExists(ns)
  }

  /** Make the zone `spec`. Resolves when the new answers are being served. */
  setZone(spec: ZoneSpec): Promise<ZoneUpdate> {
    const generation = ++this.generation
    const t0 = performance.now()
    return this.enqueue(async () => {
      const settings = zoneSettings(spec)
      if (sameSettings(settings, this.state.settings)) {
        const diff = this.state.diff(spec)
        if (diff.size <= INCREMENTAL_LIMIT) return this.incremental(t0, { op: 'patch', diff }, s => s.apply(diff))
      }
      if (generation !== this.generation) return { update: { changedSources: 0, names: 0, rebuilt: false, ms: performance.now() - t0 }, t0 }
      const mirrored = this.mirror?.({ op: 'setZone', spec })
      const next = new ZoneState(settings)
      next.apply(next.diff(spec))
      let names = 0
      while (next.table.pending > 0) {
        names += next.table.flush(performance.now() + SLICE_MS)
        if (next.table.pending > 0) await new Promise(resolve => setImmediate(resolve))
      }
      this.state = next
      return { update: { changedSources: next.changed, names, rebuilt: true, ms: performance.now() - t0 }, mirrored, t0 }
    })
  }

  /** Add or replace one Service. */
  updateService(service: DnsService): Promise<ZoneUpdate> {
    const t0 = performance.now()
    return this.enqueue(async () => this.incremental(t0, { op: 'updateService', service }, s => s.putService(service)))
  }

  removeService(namespace: string, name: string): Promise<ZoneUpdate> {
    const t0 = performance.now()
    return this.enqueue(async () => this.incremental(t0, { op: 'removeService', namespace, name }, s => s.deleteService(namespace, name)))
  }

  /** Apply what another zone's setZone came to (a mirrored patch). */
  applyPatch(diff: ZoneDiff): Promise<ZoneUpdate> {
    const t0 = performance.now()
    return this.enqueue(async () => this.incremental(t0, { op: 'patch', diff }, s => s.apply(diff)))
  }

  private incremental(t0: number, op: ZoneOp, change: (s: ZoneState) => void): Applied {
    const s = this.state
    s.changed = 0
    change(s)
    const names = s.table.flush()
    const mirrored = s.changed > 0 ? this.mirror?.(op) : undefined
    return { update: { changedSources: s.changed, names, rebuilt: false, ms: performance.now() - t0 }, mirrored, t0 }
  }

  private async enqueue(job: () => Promise<Applied> | Applied): Promise<ZoneUpdate> {
    const run = this.queue.then(job)
    this.queue = run.catch(() => undefined)
    const { update, mirrored, t0 } = await run
    if (mirrored) {
      await mirrored
      update.ms = performance.now() - t0
    }
    return update
  }
}

interface Applied {
  update: ZoneUpdate
  /** The mirror's promise for this change, if it was told. */
  mirrored?: Promise<void>
  /** When the change was asked for. */
  t0: number
}
