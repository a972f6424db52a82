// Benchmark: pod startup latency on a real cluster. A Deployment of 100
// replicas on 3 nodes; a watch notes when each pod is first seen (created by
// the ReplicaSet controller) and when its Ready condition turns True; prints
// p50/p99/max of create -> Ready and the time until all 100 are Ready.
// Target (issue 3): p99 under 1 s.
// Usage: npx tsx scripts/bench/pod-startup.ts [--replicas 100] [--nodes 3]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { RESOURCES, type KubeObject } from '../../control/client/api-client.ts'
import { HttpClient } from '../../control/client/http-client.ts'
import { clusterFiles } from '../../control/cluster/cluster-files.ts'
import { clusterDown, clusterUp } from '../../control/cluster/lifecycle.ts'

const { values } = parseArgs({ options: { replicas: { type: 'string', default: '100' }, nodes: { type: 'string', default: '3' } } })
const replicas = Number(values.replicas)
const home = mkdtempSync(join(tmpdir(), 'kw-bench-'))
process.env.KUBEWIRE_HOME = home
const cluster = `start${process.pid % 1000}`

interface Pod extends KubeObject {
  spec?: { nodeName?: string }
  status?: { conditions?: { type: string; status: string }[] }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN

async function main(): Promise<void> {
  const upStart = performance.now()
  await clusterUp({ name: cluster, nodes: Number(values.nodes), backend: 'host-gw', addons: [] })
  const upMs = performance.now() - upStart
  const client = await HttpClient.fromKubeconfig(clusterFiles(cluster).kubeconfig)
  const seen = new Map<string, number>()
  const readyAt = new Map<string, number>()
  const boundAt = new Map<string, number>()
  let allReady: () => void = () => {}
  const done = new Promise<void>(r => (allReady = r))
  const watch = await client.watch<Pod>(RESOURCES.pods, 'default', { labelSelector: 'app=bench' }, event => {
    const name = event.object.metadata.name as string
    const now = performance.now()
    if (!seen.has(name)) seen.set(name, now)
    if (event.object.spec?.nodeName && !boundAt.has(name)) boundAt.set(name, now)
    const ready = (event.object.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True')
    if (ready && !readyAt.has(name)) {
      readyAt.set(name, now)
      if (readyAt.size === replicas) allReady()
    }
  })
  const start = performance.now()
  await client.create(RESOURCES.deployments, 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'bench' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'bench' } },
      template: { metadata: { labels: { app: 'bench' } }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }] } },
    },
  })
  const timeout = setTimeout(() => allReady(), 120_000)
  await done
  clearTimeout(timeout)
  const total = performance.now() - start
  watch.stop()
  client.close()
  const latencies = [...readyAt].map(([name, at]) => at - (seen.get(name) ?? at)).sort((a, b) => a - b)
  console.log(`kubewire pod startup: Deployment of ${replicas} pods on ${values.nodes} nodes (host-gw), ${new Date().toISOString()}`)
  console.log(`pods Ready: ${readyAt.size}/${replicas}`)
  console.log(`create -> Ready per pod: p50 ${pct(latencies, 50).toFixed(0)} ms, p99 ${pct(latencies, 99).toFixed(0)} ms, max ${pct(latencies, 100).toFixed(0)} ms`)
  const toBound = [...boundAt].map(([name, at]) => at - (seen.get(name) ?? at)).sort((a, b) => a - b)
  const boundToReady = [...readyAt].map(([name, at]) => at - (boundAt.get(name) ?? at)).sort((a, b) => a - b)
  console.log(`  of which create -> bound: p50 ${pct(toBound, 50).toFixed(0)} ms, p99 ${pct(toBound, 99).toFixed(0)} ms; bound -> Ready: p50 ${pct(boundToReady, 50).toFixed(0)} ms, p99 ${pct(boundToReady, 99).toFixed(0)} ms`)
  console.log(`Deployment created -> all ${replicas} Ready: ${total.toFixed(0)} ms`)
  console.log(`cluster up: ${upMs.toFixed(0)} ms`)
  console.log(`target p99 < 1000 ms: ${pct(latencies, 99) < 1000 ? 'met' : 'NOT met'}`)
}

try {
  await main()
} finally {
  await clusterDown(cluster).catch(() => {})
  rmSync(home, { recursive: true, force: true })
}
