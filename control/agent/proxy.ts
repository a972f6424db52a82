// The proxy role of a node agent (kube-proxy): watches Services and
// EndpointSlices and keeps this node's nftables table in step, one
// transaction per sync. Changes are coalesced: a burst of events while a sync
// runs costs one more sync, not one per event. After each sync it publishes
// on its Node the newest resourceVersion it has applied, which is how a
// kubelet about to stop a pod knows every node has stopped sending it traffic.
import { RESOURCES, type ApiClient, type Informer, type KubeObject } from '../client/api-client.ts'
import type { Proxier } from '../../dataplane/proxy/proxier.ts'
import { isNodeReady } from '../controllers/objects.ts'
import { endpointReady, type EndpointSlice, type SliceEndpoint } from '../controllers/service-objects.ts'
import { CoalescedSync } from './coalesced-sync.ts'
import { servicePorts } from './proxy-ports.ts'
import type { Pod } from './pod-spec.ts'

export const ANNOTATION_PROXY_SYNCED = 'kubewire.dev/proxy-synced-version'
/** Longest a terminating pod waits for the endpoints and every proxy before it is signalled anyway. */
const UNSERVED_TIMEOUT_MS = 10_000

export class ProxyAgent {
  private started = false
  private readonly syncs = new CoalescedSync(() => this.sync(), e => this.log(`proxy sync failed: ${e.message}; retrying`))
  private firstSync: (() => void) | undefined
  /** Newest resourceVersion seen in the Service and EndpointSlice caches. */
  private seen = 0
  private published = 0
  private readonly waiters = new Set<() => void>()

  constructor(
    private readonly client: ApiClient,
    private readonly services: Informer,
    private readonly slices: Informer,
    private readonly nodes: Informer,
    private readonly proxier: Proxier,
    private readonly nodeName: string,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    for (const informer of [this.services, this.slices]) {
      const changed = (o: KubeObject) => {
        this.saw(o)
        this.request()
      }
      informer.on('add', changed)
      informer.on('update', changed)
      informer.on('delete', changed)
    }
    const wake = () => this.wake()
    this.nodes.on('update', wake)
    this.nodes.on('delete', wake)
    await Promise.all([this.services.synced, this.slices.synced, this.nodes.synced])
    for (const o of [...this.services.list(), ...this.slices.list()]) this.saw(o)
    const synced = new Promise<void>(resolve => (this.firstSync = resolve))
    this.started = true
    this.request()
    await synced
  }

  /**
   * Resolves once no EndpointSlice lists the pod as ready and every Ready
   * node's proxy has applied the slices that say so (or after a time-out).
   */
  async unserved(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid
    const deadline = Date.now() + UNSERVED_TIMEOUT_MS
    const done = (): boolean => {
      const holding = this.slices.list().filter(s => endpointsOf(s).some(e => e.targetRef?.uid === uid))
      // (publishNotReadyAddresses keeps terminating pods ready on purpose: those are not waited for.)
      if (holding.some(s => endpointsOf(s).some(e => e.targetRef?.uid === uid && endpointReady(e) && e.conditions?.terminating !== true))) return false
      const needed = Math.max(0, ...holding.map(version))
      return this.readyNodes().every(n => Number(n.metadata.annotations?.[ANNOTATION_PROXY_SYNCED] ?? 0) >= needed)
    }
    while (!done()) {
      const left = deadline - Date.now()
      if (left <= 0) {
        this.log(`pod ${pod.metadata.namespace}/${pod.metadata.name}: endpoints or proxies not updated within ${UNSERVED_TIMEOUT_MS} ms; stopping it anyway`)
        return
      }
      await new Promise<void>(resolve => {
        const timer = setTimeout(finish, Math.min(left, 1000))
        function finish(): void {
          clearTimeout(timer)
          resolve()
        }
        this.waiters.add(finish)
      })
    }
  }

  private readyNodes(): KubeObject[] {
    return this.nodes.list().filter(isNodeReady)
  }

  private saw(o: KubeObject): void {
    this.seen = Math.max(this.seen, version(o))
    this.wake()
  }

  private wake(): void {
    const waiting = [...this.waiters]
    this.waiters.clear()
    for (const finish of waiting) finish()
  }

  private request(): void {
    if (this.started) this.syncs.request()
  }

  private async sync(): Promise<void> {
    const through = this.seen
    const ports = servicePorts(this.services.list(), this.slices.list(), this.nodeName)
    const result = await this.proxier.sync(ports)
    if (result.full) this.log(`proxy: full sync of ${ports.length} service ports (${result.commands} commands, build ${result.buildMs.toFixed(0)} ms, apply ${result.applyMs.toFixed(0)} ms)`)
    await this.publish(through)
    this.firstSync?.()
    this.firstSync = undefined
  }

  private async publish(through: number): Promise<void> {
    if (through <= this.published) return
    await this.client.patch(RESOURCES.nodes, undefined, this.nodeName, { metadata: { annotations: { [ANNOTATION_PROXY_SYNCED]: String(through) } } })
    this.published = through
  }
}

function endpointsOf(slice: KubeObject): SliceEndpoint[] {
  return (slice as EndpointSlice).endpoints ?? []
}

function version(o: KubeObject): number {
  return Number(o.metadata.resourceVersion ?? 0) || 0
}
