// Prints the counters of the user-space VXLAN encapsulators of a cluster
// (until the CLI has a command for it):
//
//   npx tsx scripts/vxlan-stats.ts [CLUSTER] [NODE...] [--json]
//
// CLUSTER defaults to $KUBEWIRE_CLUSTER; NODE defaults to every node whose
// encapsulator has a control socket under the cluster's run directory.
import { readdirSync } from 'node:fs'
import { defaultRunDir, readVxlanStats, type VxlanStats } from '../dataplane/overlay/vxlan.ts'

const args = process.argv.slice(2)
const json = args.includes('--json')
const [cluster = process.env.KUBEWIRE_CLUSTER, ...nodeArgs] = args.filter(a => a !== '--json')
if (!cluster) {
  console.error('usage: npx tsx scripts/vxlan-stats.ts CLUSTER [NODE...] [--json]')
  process.exit(2)
}
const runDir = defaultRunDir(cluster)
let nodes = nodeArgs
if (nodes.length === 0) {
  try {
    nodes = readdirSync(`${runDir}/vxlan`).filter(f => f.endsWith('.sock')).map(f => f.slice(0, -5)).sort()
  } catch {
    nodes = []
  }
}
if (nodes.length === 0) {
  console.error(`no VXLAN encapsulator found under ${runDir}/vxlan`)
  process.exit(1)
}

const all: VxlanStats[] = []
let failed = false
for (const node of nodes) {
  try {
    all.push(await readVxlanStats(runDir, node))
  } catch (e) {
    failed = true
    console.error(`${node}: ${(e as Error).message}`)
  }
}
if (json) {
  console.log(JSON.stringify(all, null, 2))
} else {
  for (const s of all) {
    const on = Object.entries(s.offloads).filter(([, v]) => v).map(([k]) => k).join(',') || 'none'
    console.log(`${s.node} (pid ${s.pid}, since ${s.startedAt}) ${s.local}:${s.port} vni ${s.vni}, ${s.peers.length} peers, offloads ${on}`)
    console.log(`  tx  ${fmt(s.tx)}`)
    console.log(`  rx  ${fmt(s.rx)}`)
    const drops = [...Object.entries(s.drops.tx).map(([k, v]) => [`tx.${k}`, v] as const), ...Object.entries(s.drops.rx).map(([k, v]) => [`rx.${k}`, v] as const)]
      .filter(([, v]) => v > 0)
    console.log(`  drops ${drops.length ? drops.map(([k, v]) => `${k}=${v}`).join(' ') : 'none'}`)
  }
}
process.exitCode = failed ? 1 : 0

function fmt(counters: Record<string, number>): string {
  return Object.entries(counters).map(([k, v]) => `${k}=${v}`).join(' ')
}
