// `kubectl api-resources [--namespaced=true|false] [--api-group=G] [-o wide|name]
// [--no-headers] [--sort-by=name|kind]`: NAME SHORTNAMES APIVERSION NAMESPACED
// KIND from the server's discovery (ctx.discovery), or from this build's
// registry when no discovery client was given. Groups keep discovery order,
// names are sorted within a group, as kubectl prints them.

import type { KubectlHandler } from './context.ts'
import { registryDiscovery } from './discovery.ts'
import type { ApiResourceInfo } from './discovery.ts'
import { KubectlError } from './errors.ts'
import { parseFlags } from './flags.ts'
import { renderRows } from './table-printer.ts'

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

export const apiResources: KubectlHandler = async (args, _command, io, ctx) => {
  const flags = parseFlags(args, {
    namespaced: { type: 'boolean' },
    'api-group': { type: 'string' },
    output: { type: 'string', short: 'o' },
    'no-headers': { type: 'boolean' },
    'sort-by': { type: 'string' },
    verbs: { type: 'strings' },
    cached: { type: 'boolean' },
  })
  if (flags.help) {
    io.out('Usage: kubewire api-resources [--namespaced=true|false] [--api-group=GROUP] [-o wide|name] [--no-headers] [--sort-by=name|kind]')
    return 0
  }
  const output = flags.string('output')
  if (output !== undefined && output !== 'wide' && output !== 'name') {
    throw new KubectlError('EUSAGE', `--output ${output} is not available`)
  }
  const discovery = ctx.discovery ?? registryDiscovery()
  let resources: ApiResourceInfo[] = await discovery.serverResources()
  if (flags.has('namespaced')) resources = resources.filter(r => r.namespaced === flags.boolean('namespaced'))
  if (flags.has('api-group')) resources = resources.filter(r => r.group === flags.string('api-group'))
  const verbs = flags.strings('verbs')
  if (verbs.length > 0) resources = resources.filter(r => verbs.every(v => r.verbs.includes(v)))
  const groupOrder = [...new Set(resources.map(r => r.group))]
  const sortBy = flags.string('sort-by')
  resources = [...resources].sort((a, b) => {
    if (sortBy === 'kind') return byText(a.kind, b.kind)
    if (sortBy === 'name') return byText(a.name, b.name)
    return groupOrder.indexOf(a.group) - groupOrder.indexOf(b.group) || byText(a.name, b.name)
  })
  if (output === 'name') {
    for (const r of resources) io.out(r.group === '' ? r.name : `${r.name}.${r.group}`)
    return 0
  }
  const wide = output === 'wide'
  const rows = resources.map(r => {
    const cells = [r.name, (r.shortNames ?? []).join(','), r.group === '' ? r.version : `${r.group}/${r.version}`, String(r.namespaced), r.kind]
    if (wide) cells.push(r.verbs.join(','), (r.categories ?? []).join(','))
    return cells
  })
  if (!flags.boolean('no-headers')) rows.unshift(['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(wide ? ['VERBS', 'CATEGORIES'] : [])])
  io.out(renderRows(rows))
  return 0
}
