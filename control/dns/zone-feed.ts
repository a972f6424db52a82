// The cluster zone fed from the API: informers (list + watch) on Services,
// EndpointSlices, pods and namespaces keep the DNS server's zone in step.
//
// Handlers record, one loop writes (as the node agent's proxy does): a
// Service or EndpointSlice event marks that Service dirty; a pod event marks
// the pods dirty only when what DNS knows of the pod (namespace, address)
// changed; a namespace added or deleted does too. One sync at a time then
// turns what is dirty into the responder's structs (zone-objects.ts, kept per
// Service so nothing else is converted again) and hands them over:
// updateService / removeService for Services alone, setZone (which diffs the
// whole state and rebuilds only what differs) when pods or namespaces changed,
// and for the first load. Nothing is served before that first load: the
// caller starts listening, and reports ready, once start() has resolved — so
// no client ever gets a false NXDOMAIN from a zone still empty.
import type { ZoneUpdate } from '../../dataplane/dns/cluster-zone.ts'
import type { DnsPod, DnsService, ZoneSpec } from '../../dataplane/dns/zone.ts'
import { type Informer, type KubeObject, objectKey } from '../client/api-client.ts'
import { sliceServiceKey, type EndpointSlice, type Service } from '../controllers/service-objects.ts'
import { CoalescedSync } from '../agent/coalesced-sync.ts'
import { dnsPod, dnsService, samePod } from './zone-objects.ts'

/** Where the zone goes (a DnsServer). */
export interface ZoneSink {
  setZone(spec: ZoneSpec): Promise<ZoneUpdate>
  updateService(service: DnsService): Promise<ZoneUpdate>
  removeService(namespace: string, name: string): Promise<ZoneUpdate>
}

export interface ZoneInformers {
  services: Informer<Service>
  slices: Informer<EndpointSlice>
  pods: Informer
  namespaces: Informer
}

export type ZoneSettings = Pick<ZoneSpec, 'domain' | 'ttl' | 'podRecords' | 'nameserverIP'>

/** One sync's outcome, for the log line and the metrics. */
export interface ZoneSync {
  services: number
  removed: number
  whole: boolean
  changedSources: number
  /** From the first event of this sync until every thread serves it (ms). */
  latencyMs: number
  /** The responder's own time for the change (ms). */
  serverMs: number
}

export class ZoneFeed {
  /** Services to convert and hand over ("namespace/name"). */
  private readonly dirty = new Set<string>()
  private podsDirty = false
  /** The first unsynced event's time (performance.now()). */
  private firstEventAt: number | undefined
  /** What the sink has (or is being given), per Service. */
  private readonly current = new Map<string, DnsService>()
  /** Each Service's slices, by slice key. */
  private readonly slicesOf = new Map<string, Map<string, EndpointSlice>>()
  private started = false
  private loaded = false
  private markLoaded: (() => void) | undefined
  private readonly syncs: CoalescedSync

  constructor(
    private readonly informers: ZoneInformers,
    private readonly sink: ZoneSink,
    private readonly settings: ZoneSettings,
    private readonly log: (line: string) => void,
    private readonly onSync?: (sync: ZoneSync) => void,
  ) {
    this.syncs = new CoalescedSync(() => this.sync(), e => this.log(`zone sync failed: ${e.message}; retrying`))
  }

  /** Whether the first zone is being served. */
  get ready(): boolean {
    return this.loaded
  }

  /** Registers the handlers, waits for every informer's first list, and resolves once that zone is served. */
  async start(): Promise<void> {
    const { services, slices, pods, namespaces } = this.informers
    const service = (s: Service) => this.markService(objectKey(s))
    services.on('add', service)
    services.on('update', service)
    services.on('delete', service)
    slices.on('add', s => this.putSlice(s))
    slices.on('update', (s, old) => {
      if (sliceServiceKey(old) !== sliceServiceKey(s)) this.dropSlice(old)
      this.putSlice(s)
    })
    slices.on('delete', s => this.dropSlice(s))
    pods.on('add', p => { if (dnsPod(p)) this.markPods() })
    pods.on('update', (p, old) => { if (!samePod(dnsPod(p), dnsPod(old))) this.markPods() })
    pods.on('delete', p => { if (dnsPod(p)) this.markPods() })
    namespaces.on('add', () => this.markPods())
    namespaces.on('delete', () => this.markPods())
    await Promise.all([services.synced, slices.synced, pods.synced, namespaces.synced])
    const loaded = new Promise<void>(resolve => (this.markLoaded = resolve))
    this.started = true
    this.podsDirty = true
    this.syncs.request()
    await loaded
  }

  private markService(key: string): void {
    this.firstEventAt ??= performance.now()
    this.dirty.add(key)
    if (this.started) this.syncs.request()
  }

  private markPods(): void {
    this.firstEventAt ??= performance.now()
    this.podsDirty = true
    if (this.started) this.syncs.request()
  }

  private putSlice(slice: EndpointSlice): void {
    const key = sliceServiceKey(slice)
    if (key === undefined) return
    let slices = this.slicesOf.get(key)
    if (!slices) this.slicesOf.set(key, (slices = new Map()))
    slices.set(objectKey(slice), slice)
    this.markService(key)
  }

  private dropSlice(slice: EndpointSlice): void {
    const key = sliceServiceKey(slice)
    if (key === undefined) return
    const slices = this.slicesOf.get(key)
    slices?.delete(objectKey(slice))
    if (slices?.size === 0) this.slicesOf.delete(key)
    this.markService(key)
  }

  /** The zone as the sink should have it now (every Service as last converted). */
  private spec(): ZoneSpec {
    const pods: DnsPod[] = []
    for (const p of this.informers.pods.list()) {
      const pod = dnsPod(p)
      if (pod) pods.push(pod)
    }
    const namespaces = this.informers.namespaces.list().map((n: KubeObject) => n.metadata.name ?? '')
    return { ...this.settings, services: [...this.current.values()], pods, namespaces }
  }

  private async sync(): Promise<void> {
    const keys = [...this.dirty]
    const whole = this.podsDirty
    const since = this.firstEventAt ?? performance.now()
    this.dirty.clear()
    this.podsDirty = false
    this.firstEventAt = undefined
    const put: DnsService[] = []
    const removed: string[] = []
    for (const key of keys) {
      const service = this.informers.services.get(key)
      if (service) {
        const converted = dnsService(service, [...(this.slicesOf.get(key)?.values() ?? [])])
        this.current.set(key, converted)
        put.push(converted)
      } else if (this.current.delete(key)) {
        removed.push(key)
      }
    }
    let updates: ZoneUpdate[]
    try {
      if (whole) {
        updates = [await this.sink.setZone(this.spec())]
      } else {
        updates = await Promise.all([
          ...put.map(s => this.sink.updateService(s)),
          ...removed.map(key => {
            const [namespace = '', name = ''] = key.split('/')
            return this.sink.removeService(namespace, name)
          }),
        ])
      }
    } catch (e) {
      // Hand the same changes over again on the retry.
      for (const key of keys) this.dirty.add(key)
      if (whole) this.podsDirty = true
      this.firstEventAt ??= since
      throw e
    }
    const result: ZoneSync = {
      services: put.length,
      removed: removed.length,
      whole,
      changedSources: updates.reduce((n, u) => n + u.changedSources, 0),
      latencyMs: performance.now() - since,
      serverMs: Math.max(0, ...updates.map(u => u.ms)),
    }
    this.onSync?.(result)
    if (result.changedSources > 0 || !this.loaded) {
      this.log(
        `zone: ${whole ? `whole (${this.current.size} Services), ` : ''}${put.length} Service(s) updated, ${removed.length} removed, ` +
        `${result.changedSources} source(s) changed; served ${result.latencyMs.toFixed(1)} ms after the first event (responder ${result.serverMs.toFixed(1)} ms)`,
      )
    }
    if (!this.loaded) {
      this.loaded = true
      this.markLoaded?.()
    }
  }
}
