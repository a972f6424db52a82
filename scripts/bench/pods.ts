// Benchmark: time to create and delete 100 pods on a 2-node cluster, through
// the same code `kubewire run`/`delete` use (one batch of 100), with and
// without a process in each pod; and, as the peer, the naive way (one `ip`
// process per step, pod after pod) on 20 pods, extrapolated per pod.
// Usage: npx tsx scripts/bench/pods.ts [--pods 100]
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { clusterDown, clusterUp } from '../../control/cluster/lifecycle.ts'
import { deletePods, runPods } from '../../control/cluster/pods.ts'
import { loadState } from '../../control/cluster/cluster-state.ts'

const { values } = parseArgs({ options: { pods: { type: 'string', default: '100' }, naive: { type: 'string', default: '20' } } })
const podCount = Number(values.pods)
const naiveCount = Number(values.naive)
const home = mkdtempSync(join(tmpdir(), 'kw-bench-'))
process.env.KUBEWIRE_HOME = home
const cluster = `bench${process.pid % 1000}`

const ms = (start: number) => performance.now() - start
const fmt = (n: number) => n.toFixed(0).padStart(6)

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const start = performance.now()
  await fn()
  return ms(start)
}

function ip(...args: string[]): void {
  execFileSync('ip', args)
}

async function main(): Promise<void> {
  const up = await timed(() => clusterUp({ name: cluster, nodes: 2, backend: 'host-gw' }))
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)

  const sandboxes = names('sandbox', podCount)
  const createSandbox = await timed(() => runPods(cluster, sandboxes.map(name => ({ name }))))
  const deleteSandbox = await timed(() => deletePods(cluster, sandboxes, { graceMs: 5_000 }))

  const withProcess = names('proc', podCount)
  const createProc = await timed(() => runPods(cluster, withProcess.map(name => ({ name, command: ['sleep', 'infinity'] }))))
  const deleteProc = await timed(() => deletePods(cluster, withProcess, { graceMs: 5_000 }))

  // The peer: one `ip` process per step, one pod after another.
  const state = loadState(cluster)
  const node = state.nodes[0]!
  const naive = names('naive', naiveCount)
  const naiveCreate = await timed(async () => {
    naive.forEach((name, i) => {
      const ns = `kw-${cluster}-pod-naive.${name}`
      const veth = `vn${i}`
      ip('netns', 'add', ns)
      ip('-n', node.netns, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      ip('-n', node.netns, 'link', 'set', veth, 'master', 'cni0', 'up')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      ip('-n', ns, 'addr', 'add', `10.244.1.${100 + i}/24`, 'dev', 'eth0')
      ip('-n', ns, 'link', 'set', 'eth0', 'up')
      ip('-n', ns, 'route', 'add', 'default', 'via', node.podGateway)
    })
  })
  const naiveDelete = await timed(async () => {
    naive.forEach((name, i) => {
      ip('-n', node.netns, 'link', 'del', `vn${i}`)
      ip('netns', 'del', `kw-${cluster}-pod-naive.${name}`)
    })
  })
  const down = await timed(() => clusterDown(cluster))

  const perPod = (total: number, n: number) => (total / n).toFixed(2).padStart(6)
  console.log(`kubewire pod benchmark: ${podCount} pods on 2 nodes (host-gw), ${new Date().toISOString()}`)
  console.log(`                                  total ms   per pod ms`)
  console.log(`create ${podCount} sandbox pods (batched)   ${fmt(createSandbox)}       ${perPod(createSandbox, podCount)}`)
  console.log(`delete ${podCount} sandbox pods (batched)   ${fmt(deleteSandbox)}       ${perPod(deleteSandbox, podCount)}`)
  console.log(`create ${podCount} pods running a process   ${fmt(createProc)}       ${perPod(createProc, podCount)}`)
  console.log(`delete ${podCount} pods running a process   ${fmt(deleteProc)}       ${perPod(deleteProc, podCount)}`)
  console.log(`peer: naive create, ${naiveCount} pods          ${fmt(naiveCreate)}       ${perPod(naiveCreate, naiveCount)}`)
  console.log(`peer: naive delete, ${naiveCount} pods          ${fmt(naiveDelete)}       ${perPod(naiveDelete, naiveCount)}`)
  const ratio = naiveCreate / naiveCount / (createSandbox / podCount)
  console.log(`batched create is ${ratio.toFixed(1)}x faster per pod than one ip process per step`)
  console.log(`cluster up ${up.toFixed(0)} ms, down ${down.toFixed(0)} ms`)
  console.log(`target: ${podCount} pods created in under 3000 ms: ${createProc < 3000 ? 'met' : 'NOT met'} (${createProc.toFixed(0)} ms with processes)`)
}

try {
  await main()
} finally {
  await clusterDown(cluster).catch(() => {})
  rmSync(home, { recursive: true, force: true })
}
