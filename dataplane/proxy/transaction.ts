// The commands that move the proxy's table from one Ruleset to the next, each
// list applied as one nf_tables transaction (all or nothing). A full one
// replaces the table (start, or after a failure); a change touches only the
// elements and chains that differ, so a sync after one Service changed stays
// small however many Services there are, and affinity sets keep their
// clients. The same commands render as an `nft -f` script (for reading and
// for the benchmark's peer) or encode as one netlink batch (what the proxy
// sends: dataplane/nftables/batch.ts).
import { NftBatch, type EncodedBatch } from '../nftables/batch.ts'
import type { Ruleset } from './ruleset.ts'

export type NftCommand =
  | { op: 'replace-table' }
  | { op: 'delete-table' }
  | { op: 'add-chain'; name: string; hook?: string }
  | { op: 'flush-chain'; name: string }
  | { op: 'delete-chain'; name: string }
  | { op: 'add-set'; name: string; decl: string }
  | { op: 'delete-set'; name: string }
  | { op: 'add-elements'; set: string; decl: string; elements: Iterable<[string, string]> }
  | { op: 'delete-elements'; set: string; decl: string; keys: Iterable<string> }
  | { op: 'add-rule'; chain: string; rule: string }

/** A base chain's first line is its hook declaration, not a rule. */
const isHook = (line: string | undefined): line is string => line !== undefined && line.startsWith('type ')

/** The whole table from its parts (the base and every Service's rules), declared at once. */
export function fullCommands(parts: readonly Ruleset[]): NftCommand[] {
  const out: NftCommand[] = [{ op: 'replace-table' }]
  for (const part of parts) {
    for (const [name, rules] of part.chains) out.push(isHook(rules[0]) ? { op: 'add-chain', name, hook: rules[0] } : { op: 'add-chain', name })
  }
  for (const part of parts) {
    for (const [name, decl] of part.mapTypes) {
      out.push({ op: 'add-set', name, decl })
      const sources = parts.map(p => p.elements.get(name)).filter((e): e is Map<string, string> => e !== undefined && e.size > 0)
      if (sources.length > 0) out.push({ op: 'add-elements', set: name, decl, elements: chained(sources) })
    }
  }
  for (const part of parts) for (const [name, decl] of part.dynamicSets) out.push({ op: 'add-set', name, decl })
  for (const part of parts) {
    for (const [chain, rules] of part.chains) for (const rule of rules) if (!isHook(rule)) out.push({ op: 'add-rule', chain, rule })
  }
  return out
}

/** The commands from `prev` (what the kernel has) to `next`; none when nothing differs. `declarations`: the maps' types. */
export function changeCommands(prev: Ruleset, next: Ruleset, declarations: ReadonlyMap<string, string>): NftCommand[] {
  const removals: NftCommand[] = []
  const additions: NftCommand[] = []
  for (const name of new Set([...prev.elements.keys(), ...next.elements.keys()])) {
    const decl = declarations.get(name)
    if (decl === undefined) throw new Error(`proxy ruleset: elements for "${name}", which is not a map of the table`)
    const prevElements = prev.elements.get(name) ?? new Map<string, string>()
    const nextElements = next.elements.get(name) ?? new Map<string, string>()
    const gone = [...prevElements].filter(([k, v]) => nextElements.get(k) !== v).map(([k]) => k)
    if (gone.length > 0) removals.push({ op: 'delete-elements', set: name, decl, keys: gone })
    const added = [...nextElements].filter(([k, v]) => prevElements.get(k) !== v)
    if (added.length > 0) additions.push({ op: 'add-elements', set: name, decl, elements: added })
  }
  const sets: NftCommand[] = []
  for (const [name, decl] of next.dynamicSets) if (!prev.dynamicSets.has(name)) sets.push({ op: 'add-set', name, decl })
  const chains: NftCommand[] = []
  for (const [name, rules] of next.chains) {
    const before = prev.chains.get(name)
    if (before && sameRules(before, rules)) continue
    chains.push(before ? { op: 'flush-chain', name } : isHook(rules[0]) ? { op: 'add-chain', name, hook: rules[0] } : { op: 'add-chain', name })
    for (const rule of rules) if (!isHook(rule)) chains.push({ op: 'add-rule', chain: name, rule })
  }
  // Chains that go: emptied first (they may jump to each other), then deleted.
  const goneChains = [...prev.chains.keys()].filter(name => !next.chains.has(name))
  const deletions: NftCommand[] = [
    ...goneChains.map((name): NftCommand => ({ op: 'flush-chain', name })),
    ...goneChains.map((name): NftCommand => ({ op: 'delete-chain', name })),
    ...[...prev.dynamicSets.keys()].filter(name => !next.dynamicSets.has(name)).map((name): NftCommand => ({ op: 'delete-set', name })),
  ]
  return [...removals, ...sets, ...chains, ...additions, ...deletions]
}

/** The commands as an `nft -f` script ('' for none). */
export function renderScript(table: string, commands: readonly NftCommand[]): string {
  const out: string[] = []
  const t = `ip ${table}`
  for (const c of commands) {
    switch (c.op) {
      case 'replace-table':
        out.push(`table ${t}`, `delete table ${t}`, `table ${t}`)
        break
      case 'delete-table':
        out.push(`delete table ${t}`)
        break
      case 'add-chain':
        out.push(c.hook ? `add chain ${t} ${c.name} { ${c.hook} }` : `add chain ${t} ${c.name}`)
        break
      case 'flush-chain':
        out.push(`flush chain ${t} ${c.name}`)
        break
      case 'delete-chain':
        out.push(`delete chain ${t} ${c.name}`)
        break
      case 'add-set':
        out.push(c.decl.endsWith(';') ? `add set ${t} ${c.name} { ${c.decl} }` : `add ${c.decl.includes(' : ') ? 'map' : 'set'} ${t} ${c.name} { ${c.decl}; }`)
        break
      case 'delete-set':
        out.push(`delete set ${t} ${c.name}`)
        break
      case 'add-elements':
        out.push(`add element ${t} ${c.set} { ${[...c.elements].map(([k, v]) => (v === '' ? k : `${k} : ${v}`)).join(', ')} }`)
        break
      case 'delete-elements':
        out.push(`delete element ${t} ${c.set} { ${[...c.keys].join(', ')} }`)
        break
      case 'add-rule':
        out.push(`add rule ${t} ${c.chain} ${c.rule}`)
        break
    }
  }
  return out.length === 0 ? '' : out.join('\n') + '\n'
}

/** The commands as one netlink batch. */
export function encodeCommands(table: string, commands: readonly NftCommand[]): EncodedBatch {
  const b = new NftBatch(table)
  for (const c of commands) {
    switch (c.op) {
      case 'replace-table':
        b.replaceTable()
        break
      case 'delete-table':
        b.deleteTable()
        break
      case 'add-chain':
        b.addChain(c.name, c.hook)
        break
      case 'flush-chain':
        b.flushChain(c.name)
        break
      case 'delete-chain':
        b.deleteChain(c.name)
        break
      case 'add-set':
        b.addSet(c.name, c.decl)
        break
      case 'delete-set':
        b.deleteSet(c.name)
        break
      case 'add-elements':
        b.addElements(c.set, c.decl, c.elements)
        break
      case 'delete-elements':
        b.deleteElements(c.set, c.decl, c.keys)
        break
      case 'add-rule':
        b.addRule(c.chain, c.rule)
        break
    }
  }
  return b.finish()
}

/** The maps' entries one after the other, as often as they are iterated. */
function chained(maps: readonly Map<string, string>[]): Iterable<[string, string]> {
  return {
    *[Symbol.iterator]() {
      for (const m of maps) yield* m
    },
  }
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((rule, i) => rule === b[i])
}
