// The proxy's side effects in one node's namespace (the agent runs there):
// one `nft -f -` per sync, replacing the table as one transaction (a full
// replace first and after any failure, only the differences otherwise), and
// the conntrack clean-up kube-proxy does for UDP, where a flow has no end and
// would keep going to an endpoint that is gone.
import { runner } from '../exec/run-command.ts'
import { buildRuleset, servicePortKey, type ProxyConfig, type ProxyServicePort, type Ruleset } from './ruleset.ts'
import { SlotAllocator } from './slot-ranges.ts'
import { layoutChanged, renderChanges, renderFull } from './transaction.ts'

export interface SyncResult {
  full: boolean
  /** Size of the nft script applied (0: nothing changed). */
  bytes: number
  buildMs: number
  applyMs: number
}

export class Proxier {
  private applied: Ruleset | undefined
  private appliedPorts = new Map<string, ProxyServicePort>()
  private readonly slots = new SlotAllocator()

  constructor(
    private readonly table: string,
    private readonly config: ProxyConfig,
  ) {}

  async sync(ports: readonly ProxyServicePort[]): Promise<SyncResult> {
    const started = performance.now()
    if (this.applied === undefined) this.slots.reset()
    const next = buildRuleset(this.config, ports, this.slots)
    this.slots.sweep()
    const previous = this.applied
    const full = previous === undefined || layoutChanged(previous, next)
    const script = full ? renderFull(this.table, next) : renderChanges(this.table, previous, next)
    const built = performance.now()
    if (script !== '') {
      try {
        await runner()(['nft', '-f', '-'], { input: script })
      } catch (e) {
        // The kernel kept the old table; start from a clean slate next time.
        this.applied = undefined
        throw e
      }
    }
    this.applied = next
    const nextPorts = new Map(ports.map(p => [servicePortKey(p), p]))
    await this.clearStaleUdp(this.appliedPorts, nextPorts)
    this.appliedPorts = nextPorts
    return { full, bytes: script.length, buildMs: built - started, applyMs: performance.now() - built }
  }

  /** Removes the table (the agent stopping for good; `down` removes the namespace anyway). */
  async delete(): Promise<void> {
    await runner()(['nft', 'delete', 'table', 'ip', this.table], { allowFailure: true })
    this.applied = undefined
  }

  private async clearStaleUdp(before: Map<string, ProxyServicePort>, after: Map<string, ProxyServicePort>): Promise<void> {
    const deletions: string[][] = []
    for (const [key, now] of after) {
      if (now.protocol !== 'UDP') continue
      const old = before.get(key)
      const addresses = [...(now.clusterIP ? [now.clusterIP] : []), ...now.loadBalancerIPs]
      // Flows answered "unreachable" while there was no endpoint would stay stuck to that verdict.
      if (old && old.endpoints.length === 0 && now.endpoints.length > 0) {
        for (const ip of addresses) deletions.push(['--orig-dst', ip, '--orig-port-dst', String(now.port)])
      }
      for (const e of old?.endpoints ?? []) {
        if (now.endpoints.some(n => n.ip === e.ip && n.port === e.port)) continue
        for (const ip of addresses) deletions.push(['--orig-dst', ip, '--dst-nat', e.ip])
      }
    }
    for (const [key, old] of before) {
      if (old.protocol !== 'UDP' || after.has(key)) continue
      for (const e of old.endpoints) for (const ip of [...(old.clusterIP ? [old.clusterIP] : []), ...old.loadBalancerIPs]) deletions.push(['--orig-dst', ip, '--dst-nat', e.ip])
    }
    // conntrack exits 1 when nothing matched: that is fine.
    await Promise.all(deletions.map(args => runner()(['conntrack', '-D', '-p', 'udp', ...args], { allowFailure: true })))
  }
}
