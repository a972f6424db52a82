// The proxy's side effects in one node's namespace (the agent runs there):
// one nf_tables transaction per sync, sent as one netlink batch from this
// process (so it must run in the node's network namespace, as the agent
// does). The first sync (and the one
// after any failure) replaces the whole table; after that only the Services
// whose input changed are rebuilt and only their differences are sent, so a
// change to one Service costs the same with 10 or 10 000 others (kube-proxy's
// partial sync). Also the conntrack clean-up kube-proxy does for UDP, where a
// flow has no end and would keep going to an endpoint that is gone.
import { isDeepStrictEqual } from 'node:util'
import { mapLimit, runner } from '../exec/run-command.ts'
import { sendBatch } from '../nftables/netlink-socket.ts'
import {
  baseRuleset, mapDeclarations, emptyRuleset, groupByService, mergeInto, serviceRules,
  type ProxyConfig, type ProxyServicePort, type ServiceRules,
} from './ruleset.ts'
import { SlotAllocator } from './slot-ranges.ts'
import { changeCommands, encodeCommands, fullCommands, renderScript, type NftCommand } from './transaction.ts'

/** Applies one transaction to the table, all or nothing. */
export type Applier = (table: string, commands: readonly NftCommand[]) => Promise<void>

/** The proxy's way: one netlink batch, from this process's network namespace. */
export const netlinkApplier: Applier = async (table, commands) => sendBatch(encodeCommands(table, commands))

/** nft's way, the same transaction as a script through `nft -f -` (the benchmark's peer). */
export const nftScriptApplier: Applier = async (table, commands) => {
  await runner()(['nft', '-f', '-'], { input: renderScript(table, commands) })
}

export interface SyncResult {
  full: boolean
  /** Services rebuilt (all of them on a full sync). */
  changed: number
  /** Commands in the transaction (0: nothing changed). */
  commands: number
  buildMs: number
  applyMs: number
}

interface Applied {
  ports: ProxyServicePort[]
  rules: ServiceRules
}

export class Proxier {
  private applied: Map<string, Applied> | undefined
  private readonly slots = new SlotAllocator()

  constructor(
    private readonly table: string,
    private readonly config: ProxyConfig,
    private readonly apply: Applier = netlinkApplier,
  ) {}

  async sync(ports: readonly ProxyServicePort[]): Promise<SyncResult> {
    const started = performance.now()
    const previous = this.applied
    const full = previous === undefined
    if (full) this.slots.reset()
    const next = new Map<string, Applied>()
    const before = emptyRuleset()
    const after = emptyRuleset()
    let changed = 0
    for (const [key, group] of groupByService(ports)) {
      const old = previous?.get(key)
      if (old && isDeepStrictEqual(old.ports, group)) {
        for (const slot of old.rules.slotKeys) this.slots.keep(slot)
        next.set(key, old)
        continue
      }
      const rules = serviceRules(this.config, group, this.slots)
      next.set(key, { ports: group, rules })
      changed++
      // The before/after parts only feed the change script; a full sync renders everything.
      if (full) continue
      if (old) mergeInto(before, old.rules)
      mergeInto(after, rules)
    }
    for (const [key, old] of previous ?? []) if (!next.has(key)) mergeInto(before, old.rules)
    this.slots.sweep()
    const commands = full
      ? fullCommands([baseRuleset(this.config), ...[...next.values()].map(a => a.rules)])
      : changeCommands(before, after, mapDeclarations())
    const built = performance.now()
    if (commands.length > 0) {
      try {
        await this.apply(this.table, commands)
      } catch (e) {
        // The kernel kept the old table; start from a clean slate next time.
        this.applied = undefined
        throw e
      }
    }
    this.applied = next
    await this.clearStaleUdp(previous ?? new Map(), next)
    return { full, changed, commands: commands.length, buildMs: built - started, applyMs: performance.now() - built }
  }

  /** Removes the table (the agent stopping for good; `down` removes the namespace anyway). */
  async delete(): Promise<void> {
    this.applied = undefined
    // Deleting a table that is not there fails, and that is fine: the aim is that it is gone.
    await this.apply(this.table, [{ op: 'replace-table' }, { op: 'delete-table' }])
  }

  private async clearStaleUdp(before: Map<string, Applied>, after: Map<string, Applied>): Promise<void> {
    const portsOf = (m: Map<string, Applied>) => new Map([...m.values()].flatMap(a => a.ports).filter(p => p.protocol === 'UDP').map(p => [`${p.namespace}/${p.name}/${p.portName}/${p.port}`, p]))
    const was = portsOf(before)
    const now = portsOf(after)
    const addresses = (p: ProxyServicePort) => [...(p.clusterIP ? [p.clusterIP] : []), ...p.loadBalancerIPs]
    const deletions: string[][] = []
    for (const [key, p] of now) {
      const old = was.get(key)
      if (!old) continue
      // Flows answered "unreachable" while there was no endpoint would stay stuck to that verdict.
      if (old.endpoints.length === 0 && p.endpoints.length > 0) {
        for (const ip of addresses(p)) deletions.push(['--orig-dst', ip, '--orig-port-dst', String(p.port)])
      }
      for (const e of old.endpoints) {
        if (p.endpoints.some(n => n.ip === e.ip && n.port === e.port)) continue
        for (const ip of addresses(p)) deletions.push(['--orig-dst', ip, '--dst-nat', e.ip])
      }
    }
    for (const [key, old] of was) {
      if (now.has(key)) continue
      for (const e of old.endpoints) for (const ip of addresses(old)) deletions.push(['--orig-dst', ip, '--dst-nat', e.ip])
    }
    // One process per filter (conntrack 1.4 takes one per call), a few at a time;
    // it exits 1 when nothing matched, which is fine.
    await mapLimit(deletions, 8, args => runner()(['conntrack', '-D', '-p', 'udp', ...args], { allowFailure: true }))
  }
}


