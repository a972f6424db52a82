// Store write throughput: sequential creates (one fsync each) versus 64
// concurrent writers (group commit shares fsyncs), on the durable store and,
// for reference, the memory store.
//
//   npx tsx scripts/bench/store.ts [dir]
//
// dir: where the durable store lives (default: a fresh directory under the
// OS temp dir, removed afterwards). Its file system decides the fsync cost.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DurableStore } from '../../control/store/durable-store.ts'
import { MemoryStore } from '../../control/store/memory-store.ts'
import type { Store } from '../../control/store/store.ts'

const pod = (name: string): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'bench', labels: { app: 'bench' } },
  spec: { containers: [{ name: 'main', image: 'nginx', ports: [{ containerPort: 80 }] }] }
})

/** Creates `count` objects with `writers` concurrent writers; returns writes per second. */
async function run (store: Store, label: string, count: number, writers: number): Promise<number> {
  let next = 0
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: writers }, async () => {
    while (next < count) {
      const i = next++
      await store.create(`/registry/pods/bench/${label}-${i}`, pod(`${label}-${i}`))
    }
  }))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return count / seconds
}

function report (store: string, mode: string, count: number, rate: number): void {
  console.log(`${store.padEnd(8)} ${mode.padEnd(14)} ${String(count).padStart(7)} creates  ${Math.round(rate).toLocaleString('en').padStart(9)} writes/s`)
}

const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'kubewire-bench-store-'))
const ownDir = process.argv[2] === undefined
try {
  console.log(`durable store in ${dir}`)
  const durable = await DurableStore.open(dir)
  await run(durable, 'warmup', 200, 64)
  report('durable', 'sequential', 1000, await run(durable, 'seq', 1000, 1))
  report('durable', '64 concurrent', 20000, await run(durable, 'conc', 20000, 64))
  await durable.close()

  const memory = new MemoryStore()
  await run(memory, 'warmup', 10000, 64)
  report('memory', 'sequential', 100000, await run(memory, 'seq', 100000, 1))
  report('memory', '64 concurrent', 100000, await run(memory, 'conc', 100000, 64))
  await memory.close()
} finally {
  if (ownDir) rmSync(dir, { recursive: true, force: true })
}
