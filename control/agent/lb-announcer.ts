// The LoadBalancer announcer role of a node agent (MetalLB's layer-2
// speaker): watches Services, EndpointSlices and Nodes, elects for every
// LoadBalancer address the one node that announces it (dataplane/lb/election.ts:
// every agent computes the same answer on its own) and converges this node's
// eth0 to the addresses it won, one batch per sync. When the announcing node
// fails, its Node turns NotReady and the next node in the hash order takes
// the address over, with a gratuitous ARP so the host switches at once.
//
// Handlers only ask for a sync (coalesced); the sync compares the wanted
// addresses with the ones held and changes the kernel only when they differ.
// At start the held addresses are read from eth0 (a previous agent's, or a
// crashed one's), and after a failed sync they are read again. When this
// node turns Ready again it re-sends the gratuitous ARPs of what it kept
// (dataplane/lb/announce.ts says why). On stop everything this node
// announces is withdrawn.
import type { Informer, KubeObject } from '../client/api-client.ts'
import { wantsLoadBalancer } from '../controllers/service-lb.ts'
import { endpointReady, ipv4SlicesByService, type EndpointSlice, type Service, type SliceEndpoint } from '../controllers/service-objects.ts'
import { isNodeReady } from '../controllers/objects.ts'
import { announcedAddresses, changeAnnouncements, gratuitousArp, prepareAnnouncing } from '../../dataplane/lb/announce.ts'
import {
  type AddressRange, type AnnouncedService, type AnnouncerNode, type Election, announcementChanges, electAll, wonBy,
} from '../../dataplane/lb/election.ts'
import { CoalescedSync } from './coalesced-sync.ts'
import { ingressIPs } from './proxy-ports.ts'

export const LABEL_EXCLUDE_FROM_LB = 'node.kubernetes.io/exclude-from-external-load-balancers'

export class LoadBalancerAnnouncer {
  /** Address -> Service it is announced for ('' when found on eth0 at start). */
  private held = new Map<string, string>()
  /** The kernel may differ from `held` (start, or a failed sync): read it before the next change. */
  private stale = true
  /** Syncs wait for every cache's first list (a partial one would withdraw what is still wanted). */
  private started = false
  private stopped = false
  /** lastTransitionTime of this node's Ready=True condition at the last sync. */
  private readySince: string | undefined
  private current: Promise<void> = Promise.resolve()
  private readonly syncs = new CoalescedSync(() => (this.current = this.sync()), e => this.log(`lb: sync failed: ${e.message}; retrying`))

  constructor(
    private readonly services: Informer,
    private readonly slices: Informer,
    private readonly nodes: Informer,
    private readonly nodeName: string,
    private readonly pool: AddressRange,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const changed = () => {
      if (this.started && !this.stopped) this.syncs.request()
    }
    const on = (informer: Informer, view: (o: KubeObject) => string) => {
      informer.on('add', changed)
      informer.on('update', (now: KubeObject, old: KubeObject) => {
        if (view(now) !== view(old)) changed()
      })
      informer.on('delete', changed)
    }
    on(this.services, serviceView)
    on(this.slices, sliceView)
    // Heartbeats change only lastHeartbeatTime (and the overlay/proxy their annotations): ignored.
    on(this.nodes, nodeView)
    await prepareAnnouncing()
    await Promise.all([this.services.synced, this.slices.synced, this.nodes.synced])
    this.started = true
    changed()
  }

  /** Withdraws every address this node announces. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.current.catch(() => {})
    const held = this.stale ? await announcedAddresses(this.pool) : [...this.held.keys()]
    if (held.length === 0) return
    await changeAnnouncements([], held)
    for (const ip of held) this.log(`lb: withdrawing ${ip}${forService(this.held.get(ip))} (agent stopping)`)
    this.held.clear()
  }

  private async sync(): Promise<void> {
    if (this.stopped) return
    if (this.stale) {
      const found = await announcedAddresses(this.pool)
      this.held = new Map(found.map(ip => [ip, this.held.get(ip) ?? '']))
      this.stale = false
    }
    const elections = electAll(announcedServices(this.services.list(), this.slices.list()), announcerNodes(this.nodes.list()), this.pool)
    const desired = wonBy(elections, this.nodeName)
    for (const [ip, service] of desired) if (this.held.has(ip)) this.held.set(ip, service)
    const { add, remove } = announcementChanges(this.held.keys(), desired)
    // Turned Ready (again, or first seen by this agent): another node may have
    // answered for the addresses kept meanwhile; tell the host they are here.
    const since = readySince(this.nodes.get(this.nodeName))
    const refresh = since !== undefined && since !== this.readySince ? [...this.held.keys()].filter(ip => desired.has(ip)) : []
    if (add.size > 0 || remove.length > 0) {
      try {
        await changeAnnouncements([...add.keys()], remove)
      } catch (e) {
        this.stale = true
        throw e
      }
      for (const ip of remove) {
        this.log(`lb: withdrawing ${ip}${forService(this.held.get(ip))}: ${why(elections.get(ip))}`)
        this.held.delete(ip)
      }
      for (const [ip, service] of add) {
        this.log(`lb: announcing ${ip} for ${service}`)
        this.held.set(ip, service)
      }
    }
    for (const ip of refresh) this.log(`lb: announcing ${ip} for ${desired.get(ip)} again (node Ready since ${since})`)
    const garpFailures = await gratuitousArp([...add.keys(), ...refresh])
    this.readySince = since
    for (const e of garpFailures) this.log(`lb: gratuitous ARP failed: ${e.message}`)
  }
}

function forService(service: string | undefined): string {
  return service ? ` (was for ${service})` : ''
}

function why(election: Election | undefined): string {
  if (!election) return 'no Service of ours holds it'
  return election.node ? `${election.node} announces it now` : 'no eligible node (none Ready, or no ready endpoint)'
}

/** The LoadBalancer Services of our implementation, slim, with the nodes of their ready endpoints. */
export function announcedServices(services: readonly KubeObject[], slices: readonly KubeObject[]): AnnouncedService[] {
  const endpointNodes = new Map<string, string[]>()
  for (const [key, owned] of ipv4SlicesByService(slices as EndpointSlice[])) {
    endpointNodes.set(key, owned.flatMap(slice => (slice.endpoints ?? []).filter(endpointReady).map(e => e.nodeName ?? '')))
  }
  return services.filter(s => wantsLoadBalancer(s as Service)).map(s => {
    const service = s as Service
    const key = `${service.metadata.namespace ?? 'default'}/${service.metadata.name}`
    return {
      key,
      ips: ingressIPs(service),
      externalLocal: service.spec?.externalTrafficPolicy === 'Local',
      readyEndpointNodes: endpointNodes.get(key) ?? [],
    }
  })
}

interface NodeFields { spec?: { unschedulable?: boolean }; status?: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] } }

/** When the Node's Ready condition last turned True (undefined: not Ready). */
function readySince(node: KubeObject | undefined): string | undefined {
  const ready = ((node as NodeFields | undefined)?.status?.conditions ?? []).find(c => c.type === 'Ready' && c.status === 'True')
  return ready ? (ready.lastTransitionTime ?? '') : undefined
}

export function announcerNodes(nodes: readonly KubeObject[]): AnnouncerNode[] {
  return nodes.map(n => {
    const { spec } = n as NodeFields
    return {
      name: n.metadata.name ?? '',
      ready: isNodeReady(n),
      unschedulable: spec?.unschedulable === true,
      excluded: n.metadata.labels?.[LABEL_EXCLUDE_FROM_LB] !== undefined,
    }
  })
}

/** What of a Node the election reads, and when it turned Ready (not heartbeats, not annotations). */
function nodeView(node: KubeObject): string {
  return JSON.stringify([announcerNodes([node]), readySince(node)])
}

function serviceView(service: KubeObject): string {
  return JSON.stringify([service.spec, (service.status as Service['status'])?.loadBalancer, service.metadata.deletionTimestamp])
}

function sliceView(slice: KubeObject): string {
  return JSON.stringify([slice.metadata.labels, (slice as { addressType?: string }).addressType, (slice as EndpointSlice).endpoints?.map((e: SliceEndpoint) => [e.nodeName, e.conditions?.ready])])
}
