// The overlay role of a node agent: a watch on all Nodes turns their leases
// into one converging backend.sync() (a full resync and an incremental change
// are the same call), coalesced so a burst of changes costs one sync. After
// each sync it publishes which peers it has programmed, which is how `up`
// knows the overlay is complete and how a join shows up on every node.
import { RESOURCES, type ApiClient, type Informer, type KubeObject } from '../client/api-client.ts'
import type { Backend, BackendNode } from '../../dataplane/overlay/backend.ts'
import { ANNOTATION_OVERLAY_PEERS, leaseFromNode } from './overlay-leases.ts'
import { CoalescedSync } from './coalesced-sync.ts'
import { ANNOTATION_PROXY_SYNCED } from './proxy.ts'

export class OverlayAgent {
  private published = ''
  private readonly syncs = new CoalescedSync(() => this.sync(), e => this.log(`overlay sync failed: ${e.message}; retrying`))

  constructor(
    private readonly client: ApiClient,
    private readonly nodes: Informer,
    private readonly backend: Backend,
    private readonly self: BackendNode,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const changed = () => this.syncs.request()
    this.nodes.on('add', changed)
    this.nodes.on('update', (now: KubeObject, old: KubeObject) => {
      // Heartbeats change only status, proxies only their own annotation: ignore them.
      if (leaseView(now) !== leaseView(old)) changed()
    })
    this.nodes.on('delete', changed)
    await this.nodes.synced
    this.syncs.request()
  }

  private async sync(): Promise<void> {
    const peers = this.nodes.list().flatMap(n => {
      const lease = leaseFromNode(n)
      return lease && lease.node !== this.self.name ? [lease] : []
    })
    await this.backend.sync(this.self, peers)
    const names = peers.map(p => p.node).sort().join(',')
    if (names !== this.published) {
      await this.client.patch(RESOURCES.nodes, undefined, this.self.name, { metadata: { annotations: { [ANNOTATION_OVERLAY_PEERS]: names } } })
      this.published = names
      this.log(`overlay synced with ${peers.length} peers: ${names || '(none)'}`)
    }
  }
}

/** What of a Node the overlay depends on: its spec and annotations but the proxy's. */
function leaseView(node: KubeObject): string {
  const { [ANNOTATION_PROXY_SYNCED]: _proxy, ...annotations } = node.metadata.annotations ?? {}
  return JSON.stringify([annotations, node.spec])
}
