// Child process for crash.test.ts: writes to a durable store concurrently and
// prints every acknowledged write the moment its promise resolves, until it
// is killed (or, as a bound, after MAX_OPS operations).
//
//   node --import tsx crash-writer.ts <dir> <tag>
//
// Lines: "ready <revision>", "put <key> <revision>", "delreq <key>",
// "del <key> <revision>", "done". stdout is a pipe, and writes to pipes are
// synchronous on Linux, so a printed line has left this process before the
// next statement runs.

import { randomInt } from 'node:crypto'
import { DurableStore } from '../../../control/store/durable-store.ts'

const [dir, tag] = process.argv.slice(2)
if (dir === undefined || tag === undefined) throw new Error('usage: crash-writer.ts <dir> <tag>')

const CONCURRENCY = 16
const MAX_OPS = 5000
const out = (line: string): void => { process.stdout.write(line + '\n') }

const store = await DurableStore.open(dir, { snapshotEvery: 40 })
out(`ready ${await store.revision()}`)

let issued = 0
const deletable: string[] = []

async function worker (): Promise<void> {
  while (issued < MAX_OPS) {
    const op = issued++
    const victim = op % 5 === 4 && deletable.length > 0 ? deletable.splice(randomInt(deletable.length), 1)[0] : undefined
    if (victim !== undefined) {
      out(`delreq ${victim}`)
      const last = await store.delete(victim)
      out(`del ${victim} ${last.metadata.resourceVersion}`)
      continue
    }
    const key = `/registry/crash/${tag}/${op}`
    // Varying sizes so that batches end anywhere within a page.
    const created = await store.create(key, { metadata: { name: `${tag}-${op}` }, data: { pad: 'x'.repeat(randomInt(3000)) } })
    out(`put ${key} ${created.metadata.resourceVersion}`)
    deletable.push(key)
  }
}

await Promise.all(Array.from({ length: CONCURRENCY }, worker))
await store.close()
out('done')
