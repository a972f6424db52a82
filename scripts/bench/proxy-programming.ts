// Network programming latency on a real 3-node cluster (part 3 of
// scripts/bench/proxy.ts): from an API write to every node's proxy having
// applied it. Each proxy publishes on its Node the newest resourceVersion it
// has applied (annotation kubewire.dev/proxy-synced-version), after its
// `nft -f` returned; a watch on Nodes sees when all of them reach the
// version of the write.
//   a) endpoint change: a selectorless Service's EndpointSlice written with
//      one more or one fewer endpoint (the proxy alone);
//   b) Service change: a Service created over running pods, until the
//      EndpointSlice the controller writes for it is applied everywhere
//      (controller + proxy).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ANNOTATION_PROXY_SYNCED } from '../../control/agent/proxy.ts'
import { RESOURCES, type KubeObject } from '../../control/client/api-client.ts'
import { HttpClient } from '../../control/client/http-client.ts'
import { clusterFiles } from '../../control/cluster/cluster-files.ts'
import { clusterDown, clusterUp } from '../../control/cluster/lifecycle.ts'

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN

export async function programmingLatency(samples: number, nodes = 3): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'kw-bench-'))
  const previousHome = process.env.KUBEWIRE_HOME
  process.env.KUBEWIRE_HOME = home
  const cluster = `prog${process.pid % 1000}`
  try {
    await clusterUp({ name: cluster, nodes, backend: 'host-gw', addons: [] })
    const client = await HttpClient.fromKubeconfig(clusterFiles(cluster).kubeconfig)
    const synced = new Map<string, number>()
    let waiting: { version: number; resolve: () => void } | undefined
    const check = () => {
      if (waiting && synced.size === nodes && [...synced.values()].every(v => v >= (waiting as { version: number }).version)) {
        const w = waiting
        waiting = undefined
        w.resolve()
      }
    }
    const watch = await client.watch(RESOURCES.nodes, undefined, { resourceVersion: '0' }, event => {
      synced.set(event.object.metadata.name as string, Number(event.object.metadata.annotations?.[ANNOTATION_PROXY_SYNCED] ?? 0))
      check()
    })
    const appliedEverywhere = (version: number) => new Promise<void>(resolve => {
      waiting = { version, resolve }
      check()
    })
    try {
      console.log(`# network programming latency (${nodes} nodes, ${samples} samples each)`)
      // a) the proxy alone: EndpointSlice writes.
      await client.create(RESOURCES.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { ports: [{ name: 'http', port: 80 }] } })
      let slice = await client.create(RESOURCES.endpointslices, 'default', {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
        metadata: { name: 'manual-1', labels: { 'kubernetes.io/service-name': 'manual' } },
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.1.200'], conditions: { ready: true } }],
      } as KubeObject)
      const endpointTimes: number[] = []
      for (let i = 0; i < samples; i++) {
        const endpoints = Array.from({ length: 1 + (i % 5) }, (_, j) => ({ addresses: [`10.244.${1 + (j % 3)}.${200 + j}`], conditions: { ready: true } }))
        const start = performance.now()
        slice = await client.update(RESOURCES.endpointslices, 'default', { ...slice, endpoints } as KubeObject)
        await appliedEverywhere(Number(slice.metadata.resourceVersion))
        endpointTimes.push(performance.now() - start)
      }
      report('endpoint change', endpointTimes)

      // b) Service creates over running pods: controller + proxy.
      await client.create(RESOURCES.deployments, 'default', {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'backend' },
        spec: { replicas: 3, selector: { matchLabels: { app: 'backend' } }, template: { metadata: { labels: { app: 'backend' } }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 8080 }] }] } } },
      })
      await waitFor(async () => (await client.list(RESOURCES.pods, 'default', { labelSelector: 'app=backend' })).items.filter(p => (p.status as { podIP?: string } | undefined)?.podIP).length === 3)
      const serviceTimes: number[] = []
      const rounds = Math.max(10, Math.floor(samples / 4))
      for (let i = 0; i < rounds; i++) {
        const name = `svc-${i}`
        const sliceVersion = new Promise<number>(resolve => {
          void client.watch(RESOURCES.endpointslices, 'default', { labelSelector: `kubernetes.io/service-name=${name}` }, event => {
            if (((event.object as { endpoints?: unknown[] }).endpoints ?? []).length === 3) resolve(Number(event.object.metadata.resourceVersion))
          }).then(h => sliceVersion.finally(() => h.stop()))
        })
        const start = performance.now()
        await client.create(RESOURCES.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: 'backend' }, ports: [{ port: 80, targetPort: 8080 }] } })
        await appliedEverywhere(await sliceVersion)
        serviceTimes.push(performance.now() - start)
      }
      report('service create', serviceTimes)
    } finally {
      watch.stop()
      client.close()
    }
  } finally {
    await clusterDown(cluster).catch(e => console.error(`down: ${(e as Error).message}`))
    if (previousHome === undefined) delete process.env.KUBEWIRE_HOME
    else process.env.KUBEWIRE_HOME = previousHome
    rmSync(home, { recursive: true, force: true })
  }
}

function report(what: string, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b)
  console.log(`${what.padEnd(16)} p50 ${pct(sorted, 50).toFixed(1)} ms  p99 ${pct(sorted, 99).toFixed(1)} ms  max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms  (target p99 < 250 ms)`)
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise(r => setTimeout(r, 100))
  }
}
