// nft scripts that move the proxy's table from one Ruleset to the next, each
// applied as one `nft -f` transaction (all or nothing). A full one replaces
// the table (start, or after a failure); a change touches only the elements
// and chains that differ, so a sync after one Service changed stays small
// however many Services there are, and affinity sets keep their clients.
import type { Ruleset } from './ruleset.ts'

/** The whole table from its parts (the base and every Service's rules), declared at once. */
export function renderFull(table: string, parts: readonly Ruleset[]): string {
  const out = [`table ip ${table}`, `delete table ip ${table}`, `table ip ${table} {`]
  for (const part of parts) {
    for (const [name, type] of part.mapTypes) {
      const kind = type.includes(' : ') ? 'map' : 'set'
      out.push(`  ${kind} ${name} {`, `    ${type}`)
      const elements = parts.map(p => p.elements.get(name)).filter((e): e is Map<string, string> => e !== undefined && e.size > 0)
      if (elements.length > 0) out.push(`    elements = { ${elements.map(elementList).join(', ')} }`)
      out.push('  }')
    }
  }
  for (const part of parts) for (const [name, decl] of part.dynamicSets) out.push(`  set ${name} { ${decl} }`)
  for (const part of parts) {
    for (const [name, rules] of part.chains) {
      out.push(`  chain ${name} {`)
      for (const rule of rules) out.push(`    ${rule}`)
      out.push('  }')
    }
  }
  out.push('}', '')
  return out.join('\n')
}

/** The script from `prev` (what the kernel has) to `next`; '' when nothing differs. */
export function renderChanges(table: string, prev: Ruleset, next: Ruleset): string {
  const removals: string[] = []
  const additions: string[] = []
  for (const name of new Set([...prev.elements.keys(), ...next.elements.keys()])) {
    const prevElements = prev.elements.get(name) ?? new Map<string, string>()
    const nextElements = next.elements.get(name) ?? new Map<string, string>()
    const gone = [...prevElements].filter(([k, v]) => nextElements.get(k) !== v).map(([k]) => k)
    if (gone.length > 0) removals.push(`delete element ip ${table} ${name} { ${gone.join(', ')} }`)
    const added = new Map([...nextElements].filter(([k, v]) => prevElements.get(k) !== v))
    if (added.size > 0) additions.push(`add element ip ${table} ${name} { ${elementList(added)} }`)
  }
  const sets: string[] = []
  for (const [name, decl] of next.dynamicSets) if (!prev.dynamicSets.has(name)) sets.push(`add set ip ${table} ${name} { ${decl} }`)
  const chains: string[] = []
  for (const [name, rules] of next.chains) {
    const before = prev.chains.get(name)
    if (before && sameRules(before, rules)) continue
    chains.push(before ? `flush chain ip ${table} ${name}` : `add chain ip ${table} ${name}`)
    for (const rule of rules) chains.push(`add rule ip ${table} ${name} ${rule}`)
  }
  // Chains that go: emptied first (they may jump to each other), then deleted.
  const goneChains = [...prev.chains.keys()].filter(name => !next.chains.has(name))
  const deletions = [
    ...goneChains.map(name => `flush chain ip ${table} ${name}`),
    ...goneChains.map(name => `delete chain ip ${table} ${name}`),
    ...[...prev.dynamicSets.keys()].filter(name => !next.dynamicSets.has(name)).map(name => `delete set ip ${table} ${name}`),
  ]
  const script = [...removals, ...sets, ...chains, ...additions, ...deletions]
  return script.length === 0 ? '' : script.join('\n') + '\n'
}

function elementList(elements: Map<string, string>): string {
  return [...elements].map(([k, v]) => (v === '' ? k : `${k} : ${v}`)).join(', ')
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((rule, i) => rule === b[i])
}
