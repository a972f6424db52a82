// The overlay role of a node agent: a watch on all Nodes turns their leases
// into one converging backend.sync() (a full resync and an incremental change
// are the same call), coalesced so a burst of changes costs one sync. After
// each sync it publishes which peers it has programmed, which is how `up`
// knows the overlay is complete and how a join shows up on every node.
import { RESOURCES, type ApiClient, type Informer, type KubeObject } from '../client/api-client.ts'
import type { Backend, BackendNode } from '../../dataplane/overlay/backend.ts'
import { ANNOTATION_OVERLAY_PEERS, leaseFromNode } from './overlay-leases.ts'

export class OverlayAgent {
  private syncing = false
  private pending = false
  private published = ''

  constructor(
    private readonly client: ApiClient,
    private readonly nodes: Informer,
    private readonly backend: Backend,
    private readonly self: BackendNode,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const changed = () => this.request()
    this.nodes.on('add', changed)
    this.nodes.on('update', (now: KubeObject, old: KubeObject) => {
      // Heartbeats change only status: ignore them.
      if (JSON.stringify(now.metadata.annotations) !== JSON.stringify(old.metadata.annotations) || JSON.stringify(now.spec) !== JSON.stringify(old.spec)) changed()
    })
    this.nodes.on('delete', changed)
    await this.nodes.synced
    this.request()
  }

  private request(): void {
    if (this.syncing) {
      this.pending = true
      return
    }
    void this.sync()
  }

  private async sync(): Promise<void> {
    this.syncing = true
    try {
      do {
        this.pending = false
        const peers = this.nodes.list().flatMap(n => {
          const lease = leaseFromNode(n)
          return lease && lease.node !== this.self.name ? [lease] : []
        })
        try {
          await this.backend.sync(this.self, peers)
          const names = peers.map(p => p.node).sort().join(',')
          if (names !== this.published) {
            await this.client.patch(RESOURCES.nodes, undefined, this.self.name, { metadata: { annotations: { [ANNOTATION_OVERLAY_PEERS]: names } } })
            this.published = names
            this.log(`overlay synced with ${peers.length} peers: ${names || '(none)'}`)
          }
        } catch (e) {
          this.log(`overlay sync failed: ${(e as Error).message}; retrying`)
          this.pending = true
          await new Promise(r => setTimeout(r, 1000))
        }
      } while (this.pending)
    } finally {
      this.syncing = false
    }
  }
}
