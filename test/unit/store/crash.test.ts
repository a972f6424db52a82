// Real crashes: a child process writes concurrently and is SIGKILLed at
// random moments, triggered by its own output (the Nth acknowledged write),
// never by a timer. After each kill the directory is reopened here and every
// acknowledged write must be there with the revision that was acknowledged,
// and the revisions must be contiguous. Each run starts from what the
// previous crash left, so recovery, tail truncation, snapshots and stale-lock
// takeover are exercised repeatedly.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomInt } from 'node:crypto'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { DurableStore } from '../../../control/store/durable-store.ts'
import { collect, range, tempDir } from './helpers.ts'

const writer = fileURLToPath(new URL('./crash-writer.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const RUNS = 8

interface Ledger {
  /** Acknowledged creates: key → revision. */
  put: Map<string, number>
  /** Deletes that were issued (maybe not acknowledged). */
  deleteRequested: Set<string>
  /** Acknowledged deletes: key → revision. */
  deleted: Map<string, number>
  revisions: number[]
}

interface RunResult { acks: number, signal: NodeJS.Signals | null, code: number | null, stderr: string }

/** Runs the writer until it has acknowledged `killAfter` writes, then SIGKILLs it. */
async function runUntilKilled (dir: string, tag: string, killAfter: number, ledger: Ledger): Promise<RunResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, tag], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  let acks = 0
  let ready = false
  const kill = (): void => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') }
  const lines = createInterface({ input: child.stdout })
  lines.on('line', line => {
    const [word, key = '', revision = ''] = line.split(' ')
    if (word === 'ready') ready = true
    else if (word === 'put') { ledger.put.set(key, Number(revision)); ledger.revisions.push(Number(revision)); acks++ }
    else if (word === 'delreq') ledger.deleteRequested.add(key)
    else if (word === 'del') { ledger.deleted.set(key, Number(revision)); ledger.revisions.push(Number(revision)); acks++ }
    if (ready && acks >= killAfter) kill()
  })
  const [code, signal] = await once(child, 'close') as [number | null, NodeJS.Signals | null]
  return { acks, signal, code, stderr }
}

t.test('every acknowledged write survives SIGKILL at random moments', async t => {
  const dir = tempDir(t, 'crash')
  const ledger: Ledger = { put: new Map(), deleteRequested: new Set(), deleted: new Map(), revisions: [] }
  let truncations = 0
  let snapshotsSeen = 0

  for (const run of range(1, RUNS)) {
    // Run 1 is killed right after opening; the rest after 1..300 acknowledged writes.
    const killAfter = run === 1 ? 0 : randomInt(1, 301)
    const result = await runUntilKilled(dir, `r${run}`, killAfter, ledger)
    t.equal(result.signal, 'SIGKILL', `run ${run}: killed after ${result.acks} acks (asked ${killAfter})`)
    if (result.signal !== 'SIGKILL') {
      t.comment(result.stderr)
      return
    }

    const store = await DurableStore.open(dir)
    try {
      if (store.recovery.truncated !== undefined) truncations++
      if (store.recovery.snapshotRevision !== undefined) snapshotsSeen++
      const revision = await store.revision()
      const maxAcked = Math.max(1, ...ledger.revisions)
      t.ok(revision >= maxAcked, `run ${run}: revision ${revision} >= last acknowledged ${maxAcked}`)

      const problems: string[] = []
      for (const [key, created] of ledger.put) {
        const object = await store.get(key)
        if (ledger.deleted.has(key)) {
          if (object !== undefined) problems.push(`${key}: acknowledged delete, still present`)
        } else if (ledger.deleteRequested.has(key)) {
          if (object !== undefined && object.metadata.resourceVersion !== String(created)) problems.push(`${key}: rv ${object.metadata.resourceVersion} != ${created}`)
        } else if (object === undefined) {
          problems.push(`${key}: acknowledged at ${created}, missing`)
        } else if (object.metadata.resourceVersion !== String(created)) {
          problems.push(`${key}: acknowledged at ${created}, has ${object.metadata.resourceVersion}`)
        }
      }
      t.same(problems, [], `run ${run}: all ${ledger.put.size} acknowledged creates and ${ledger.deleted.size} deletes as acknowledged`)

      // Contiguity: replay everything since the snapshot recovery used.
      const from = store.recovery.snapshotRevision ?? 1
      const events = revision > from ? await (await collect(store, '', { fromRevision: from })).waitFor(revision - from) : []
      t.same(events.map(e => e.revision), range(from + 1, revision), `run ${run}: revisions ${from + 1}..${revision} contiguous`)
      const mismatched = events.filter(e =>
        (ledger.put.get(e.key) === e.revision && e.type !== 'ADDED') ||
        (ledger.deleted.get(e.key) === e.revision && e.type !== 'DELETED'))
      t.same(mismatched, [], `run ${run}: replayed events agree with the acknowledgements`)
    } finally {
      await store.close()
    }
  }
  t.equal(new Set(ledger.revisions).size, ledger.revisions.length, 'no revision acknowledged twice')
  t.comment(`${ledger.revisions.length} acknowledged writes; ${truncations} recoveries cut a torn tail; ${snapshotsSeen} started from a snapshot`)
})
