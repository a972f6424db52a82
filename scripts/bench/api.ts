// API server benchmark, over HTTPS on 127.0.0.1 with kubewire's HttpClient
// (keep-alive, TLS verified):
// 1. create throughput: N ConfigMaps with C concurrent requests;
// 2. watch fan-out: W watchers on pods; for each of P pod creates (one at a
//    time), the time from sending the create until every watcher has seen
//    its ADDED event; p50 / p99 / max.
//
//   npx tsx scripts/bench/api.ts [--store durable|memory] [--count 2000] [--concurrency 32] [--watchers 50] [--pods 300]

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createApiServer } from '../../control/apiserver/http/api-server.ts'
import { generateToken, writeKubeconfig } from '../../control/apiserver/tls/kubeconfig.ts'
import { RESOURCES } from '../../control/client/api-client.ts'
import type { KubeObject, WatchHandle } from '../../control/client/api-client.ts'
import { HttpClient } from '../../control/client/http-client.ts'
import { DurableStore } from '../../control/store/durable-store.ts'
import { MemoryStore } from '../../control/store/memory-store.ts'
import type { Store } from '../../control/store/store.ts'

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'durable' },
    count: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    watchers: { type: 'string', default: '50' },
    pods: { type: 'string', default: '300' },
  },
})
const count = Number(values.count)
const concurrency = Number(values.concurrency)
const watcherCount = Number(values.watchers)
const podCount = Number(values.pods)

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

const dir = mkdtempSync(join(tmpdir(), 'kubewire-bench-api-'))
let store: Store | undefined
let close: (() => Promise<void>) | undefined
try {
  store = values.store === 'memory' ? new MemoryStore() : await DurableStore.open(join(dir, 'store'))
  const token = generateToken()
  const server = await createApiServer({ store, listen: [{ host: '127.0.0.1', port: 0 }], tlsDir: join(dir, 'tls'), token })
  close = () => server.close()
  const kubeconfig = join(dir, 'kubeconfig')
  await writeKubeconfig(kubeconfig, { server: server.url, caCert: server.certificates.caCert, token })
  console.log(`kubewire API benchmark: ${values.store} store, HTTPS ${server.url}, node ${process.version}`)

  // 1. create throughput
  const writer = await HttpClient.fromKubeconfig(kubeconfig, { maxSockets: concurrency })
  await writer.create(RESOURCES.configmaps, 'default', { metadata: { name: 'warm-up' }, data: { a: 'b' } })
  let next = 0
  const started = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++
        await writer.create(RESOURCES.configmaps, 'default', {
          metadata: { name: `cm-${i}`, labels: { bench: 'api' } },
          data: { index: String(i), payload: 'x'.repeat(256) },
        })
      }
    }),
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  console.log(`create: ${count} ConfigMaps, concurrency ${concurrency}: ${(count / seconds).toFixed(0)} objects/s (${(seconds * 1000).toFixed(0)} ms)`)

  // 2. watch fan-out
  const watchClient = await HttpClient.fromKubeconfig(kubeconfig, { maxSockets: watcherCount + 4 })
  const seen = new Map<string, number>()
  let pending: { name: string; resolve: () => void } | undefined
  const handles: WatchHandle[] = []
  for (let i = 0; i < watcherCount; i++) {
    handles.push(
      await watchClient.watch(RESOURCES.pods, 'default', {}, event => {
        if (event.type !== 'ADDED') return
        const name = event.object.metadata.name ?? ''
        const n = (seen.get(name) ?? 0) + 1
        seen.set(name, n)
        if (n === watcherCount && pending?.name === name) pending.resolve()
      }),
    )
  }
  const latencies: number[] = []
  for (let i = 0; i < podCount; i++) {
    const name = `pod-${i}`
    const body: KubeObject = { metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }
    const allSeen = new Promise<void>(resolve => {
      pending = { name, resolve }
    })
    const t0 = process.hrtime.bigint()
    await Promise.all([writer.create(RESOURCES.pods, 'default', body), allSeen])
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  latencies.sort((a, b) => a - b)
  console.log(
    `watch fan-out: ${watcherCount} watchers, ${podCount} creates: create→all seen p50 ${percentile(latencies, 50).toFixed(2)} ms, ` +
      `p99 ${percentile(latencies, 99).toFixed(2)} ms, max ${(latencies[latencies.length - 1] ?? NaN).toFixed(2)} ms`,
  )
  for (const handle of handles) handle.stop()
  watchClient.close()
  writer.close()
} finally {
  await close?.()
  await store?.close()
  rmSync(dir, { recursive: true, force: true })
}
