// Benchmark: time to create and delete 100 pods on a 2-node cluster through
// the data plane the node agents use (batched sandboxes, one container
// process per pod), with and without a process in each pod; and, as the peer,
// the naive way (one `ip` process per step, pod after pod) on 20 pods.
// Usage: npx tsx scripts/bench/pods.ts [--pods 100]
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { clusterDown, clusterUp } from '../../control/cluster/lifecycle.ts'
import { loadState } from '../../control/cluster/cluster-state.ts'
import { IpamFile } from '../../dataplane/ipam/ipam-file.ts'
import { ClusterNames, podVeth } from '../../dataplane/names.ts'
import { createPodNetworks, deletePodNetworks, type PodNetworkSpec } from '../../dataplane/network/pod-network.ts'
import { BASE_PATH, startContainer, stopProcessesInNetns } from '../../dataplane/process/container.ts'

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

/** Pods spread over the nodes, addresses from each node's IPAM file, as agents do it. */
function plan(prefix: string, n: number): PodNetworkSpec[] {
  const state = loadState(cluster)
  const names = new ClusterNames(cluster)
  const ipams = state.nodes.map(node => IpamFile.load(join(home, `ipam-${node.name}.json`)))
  const specs = Array.from({ length: n }, (_, i) => {
    const node = state.nodes[i % state.nodes.length]!
    const name = `${prefix}-${i}`
    return {
      netns: names.podNetns('default', name), nodeNetns: node.netns, veth: podVeth('default', name),
      ip: ipams[i % state.nodes.length]!.allocate(node.podCIDR, `default/${name}`), prefixLength: 24, gateway: node.podGateway, mtu: 1500,
    }
  })
  ipams.forEach(ipam => ipam.save())
  return specs
}

async function startAll(specs: PodNetworkSpec[]): Promise<void> {
  await Promise.all(specs.map(s => startContainer({
    podNetns: s.netns, hostname: s.netns, argv: ['sleep', 'infinity'], env: { PATH: BASE_PATH }, mounts: [],
    logPath: join(home, `${s.netns}.log`), exitPath: join(home, `${s.netns}.exit`), mountTablePath: join(home, `${s.netns}.fstab`),
  })))
}

async function main(): Promise<void> {
  const up = await timed(() => clusterUp({ name: cluster, nodes: 2, backend: 'host-gw', addons: [] }))

  const sandboxes = plan('sandbox', podCount)
  const createSandbox = await timed(() => createPodNetworks(sandboxes))
  const deleteSandbox = await timed(() => deletePodNetworks(sandboxes))

  const withProcess = plan('proc', podCount)
  const createProc = await timed(async () => {
    await createPodNetworks(withProcess)
    await startAll(withProcess)
  })
  const deleteProc = await timed(async () => {
    await stopProcessesInNetns(withProcess.map(s => s.netns), 5_000)
    await deletePodNetworks(withProcess)
  })

  // The peer: one `ip` process per step, one pod after another.
  const state = loadState(cluster)
  const node = state.nodes[0]!
  const naive = Array.from({ length: naiveCount }, (_, i) => `naive-${i}`)
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
  console.log(`kubewire pod benchmark: ${podCount} pods on 2 nodes (host-gw, data plane only), ${new Date().toISOString()}`)
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
