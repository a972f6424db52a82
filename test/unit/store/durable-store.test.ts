import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { DurableStore } from '../../../control/store/durable-store.ts'
import type { DurableStoreOptions } from '../../../control/store/durable-store.ts'
import { CorruptError } from '../../../control/store/store.ts'
import type { Store } from '../../../control/store/store.ts'
import { encodeRecord } from '../../../control/store/wal-record.ts'
import { collect, range, summary, tempDir } from './helpers.ts'
import type { TapTest } from './helpers.ts'
import { storeBehaviour } from './store-behaviour.ts'

// A small snapshotEvery so that the shared suite also rolls segments and
// writes snapshots while it runs.
storeBehaviour('durable', async (t, options = {}) => {
  const store = await DurableStore.open(tempDir(t), { snapshotEvery: 16, ...options })
  t.teardown(async () => await store.close())
  return store
})

/** Everything observable about the state. */
async function dump (store: Store): Promise<unknown> {
  const { items, revision } = await store.list('')
  return { revision, items }
}

/** A mix of creates, updates and deletes, some concurrent; ends with a delete. */
async function workload (store: Store, tag: string, n: number): Promise<void> {
  for (const i of range(1, n)) {
    const key = `/registry/pods/ns/${tag}-${i}`
    await store.create(key, { kind: 'Pod', metadata: { name: `${tag}-${i}`, labels: { i: String(i) } } })
    if (i % 3 === 0) await store.update(key, { kind: 'Pod', metadata: { name: `${tag}-${i}` }, status: { phase: 'Running' } })
  }
  await Promise.all(range(1, 20).map(async i => await store.create(`/registry/cm/${tag}/${i}`, { data: { i } })))
  await store.delete(`/registry/pods/ns/${tag}-1`)
}

async function open (t: TapTest, dir: string, options: DurableStoreOptions = {}): Promise<DurableStore> {
  const store = await DurableStore.open(dir, options)
  t.teardown(async () => await store.close())
  return store
}

function files (dir: string, pattern: RegExp): string[] {
  return readdirSync(dir).filter(name => pattern.test(name)).sort()
}

function newestSegment (dir: string): string {
  const name = files(dir, /^wal-\d+\.log$/).at(-1)
  if (name === undefined) throw new Error(`no segment in ${dir}`)
  return join(dir, name)
}

function flipByte (file: string, offset: number): void {
  const bytes = readFileSync(file)
  bytes[offset] = (bytes[offset] ?? 0) ^ 0xff
  writeFileSync(file, bytes)
}

t.test('durable: reopen after close keeps every object, resourceVersion and the revision', async t => {
  const dir = tempDir(t)
  const first = await DurableStore.open(dir, { snapshotEvery: 1000 })
  const all = await collect(first, '', { fromRevision: 1 })
  await workload(first, 'a', 30)
  const before = await dump(first)
  const revision = await first.revision()
  await all.waitFor(revision - 1)
  await first.close()

  const second = await open(t, dir)
  t.same(await dump(second), before, 'same items, resourceVersions and revision')
  t.equal(second.recovery.snapshotRevision, undefined, 'no snapshot yet: replayed from the start')
  t.equal(second.recovery.replayedRecords, revision - 1)
  const replayed = await collect(second, '', { fromRevision: 1 })
  t.same(summary(await replayed.waitFor(revision - 1)), summary(all.events), 'history rebuilt from the WAL, same events')
  const next = await second.create('/registry/after', { metadata: { name: 'after' } })
  t.equal(next.metadata.resourceVersion, String(revision + 1), 'revisions continue, none reused')
})

t.test('durable: snapshot + more writes + reopen', async t => {
  const dir = tempDir(t)
  const first = await DurableStore.open(dir, { snapshotEvery: 10 })
  await workload(first, 'a', 25)
  await first.close()
  t.ok(files(dir, /\.snap$/).length >= 1, 'snapshots written')

  const second = await DurableStore.open(dir, { snapshotEvery: 10 })
  t.ok(second.recovery.snapshotRevision !== undefined, 'recovered from a snapshot')
  await workload(second, 'b', 25)
  const before = await dump(second)
  await second.close()
  const snapshots = files(dir, /\.snap$/)
  t.equal(snapshots.length, 2, 'the two newest snapshots are kept')
  const oldest = Number(/\d+/.exec(snapshots[0] ?? '')?.[0])
  const segmentStarts = files(dir, /\.log$/).map(name => Number(/\d+/.exec(name)?.[0]))
  t.ok(segmentStarts.every((start, i) => (segmentStarts[i + 1] ?? Infinity) > oldest + 1),
    'segments wholly covered by the older snapshot were removed')
  t.equal(segmentStarts.filter(start => start <= oldest + 1).length, 1, 'the one holding the next revision is kept')

  const third = await open(t, dir, { snapshotEvery: 10 })
  t.same(await dump(third), before)
  const snapshotRevision = third.recovery.snapshotRevision ?? 0
  t.ok(third.recovery.replayedRecords < (before as { revision: number }).revision - 1, 'only the WAL after the snapshot replayed')
  await t.rejects(third.watch('', { fromRevision: snapshotRevision - 1 }, () => {}), { code: 'Gone' },
    'before the snapshot: Gone after a restart')
  const resumed = await collect(third, '', { fromRevision: snapshotRevision })
  await third.create('/registry/marker', { metadata: { name: 'marker' } })
  const events = await resumed.until(events => events.some(e => e.key === '/registry/marker'))
  t.same(events.map(e => e.revision), range(snapshotRevision + 1, await third.revision()), 'from the snapshot on: contiguous')
})

t.test('durable: a torn tail record is dropped and the store opens', async t => {
  const partial = (revision: number): Buffer => encodeRecord({
    revision, op: 'put', key: '/registry/torn', object: { metadata: { name: 'torn', resourceVersion: String(revision) } }
  })
  const tails: Array<[string, (revision: number) => Buffer]> = [
    ['half a header', r => partial(r).subarray(0, 3)],
    ['header, half the payload', r => partial(r).subarray(0, partial(r).length - 7)],
    ['zero-filled blocks', () => Buffer.alloc(4096)],
    ['whole frame, wrong checksum', r => { const b = partial(r); b[b.length - 2] = 0x20; return b }],
    ['torn frame then garbage', r => Buffer.concat([partial(r).subarray(0, 20), Buffer.from('not a frame at all')])]
  ]
  for (const [what, tail] of tails) {
    await t.test(what, async t => {
      const dir = tempDir(t)
      const first = await DurableStore.open(dir)
      await workload(first, 'x', 5)
      const before = await dump(first)
      const revision = await first.revision()
      await first.close()
      const segment = newestSegment(dir)
      const goodSize = statSync(segment).size
      appendFileSync(segment, tail(revision + 1))

      const second = await DurableStore.open(dir)
      t.same(await dump(second), before, 'state as before the torn write')
      t.match(second.recovery.truncated, { file: segment, offset: goodSize })
      t.equal(statSync(segment).size, goodSize, 'file cut back to the last whole record')
      const next = await second.create('/registry/next', { metadata: {} })
      t.equal(next.metadata.resourceVersion, String(revision + 1), 'appends continue at the cut')
      await second.close()

      const third = await open(t, dir)
      t.equal(third.recovery.truncated, undefined, 'clean the next time')
      t.equal(await third.revision(), revision + 1)
    })
  }
})

t.test('durable: a last record with a bad checksum is treated as torn', async t => {
  const dir = tempDir(t)
  const first = await DurableStore.open(dir)
  await first.create('/a', { metadata: {} })
  const b = await first.create('/b', { metadata: {} })
  await first.close()
  const segment = newestSegment(dir)
  flipByte(segment, statSync(segment).size - 3)
  const second = await open(t, dir)
  t.equal(await second.revision(), Number(b.metadata.resourceVersion) - 1)
  t.equal(await second.get('/b'), undefined)
  t.ok(await second.get('/a'))
})

t.test('durable: corruption in the middle is an error naming the file and offset', async t => {
  const dir = tempDir(t)
  const first = await DurableStore.open(dir)
  await workload(first, 'x', 5)
  await first.close()
  const segment = newestSegment(dir)
  flipByte(segment, 30) // inside the first record's payload; good records follow

  const err = await DurableStore.open(dir).catch((e: unknown) => e)
  t.ok(err instanceof CorruptError, 'CorruptError')
  t.match(err, { code: 'Corrupt', file: segment, offset: 0 })
  t.match((err as Error).message, `${segment} at offset 0`)
  t.match((err as Error).message, /valid record follows/)
  await t.rejects(DurableStore.open(dir), { code: 'Corrupt' }, 'lock released after a failed open')
})

t.test('durable: a damaged newest snapshot falls back to the previous one', async t => {
  const dir = tempDir(t)
  const first = await DurableStore.open(dir, { snapshotEvery: 5 })
  await workload(first, 'x', 12)
  const before = await dump(first)
  await first.close()
  const snapshots = files(dir, /\.snap$/)
  t.equal(snapshots.length, 2)
  flipByte(join(dir, snapshots[1] ?? ''), 20)

  const second = await DurableStore.open(dir, { snapshotEvery: 5 })
  t.same(await dump(second), before, 'same state from the older snapshot and more WAL')
  t.equal(second.recovery.skippedSnapshots.length, 1)
  t.equal(second.recovery.snapshotRevision, Number(/\d+/.exec(snapshots[0] ?? '')?.[0]))
  await second.close()

  // Without the WAL the fallback needs, refuse to open rather than lose data.
  const fallback = Number(/\d+/.exec(snapshots[0] ?? '')?.[0])
  const needed = files(dir, /\.log$/).filter(name => Number(/\d+/.exec(name)?.[0]) <= fallback + 1)
  t.equal(needed.length, 1)
  t.same(files(dir, /\.corrupt$/), [`${snapshots[1] ?? ''}.corrupt`], 'the damaged snapshot was renamed aside')
  unlinkSync(join(dir, needed[0] ?? ''))
  await t.rejects(DurableStore.open(dir), { code: 'Corrupt', message: /records are missing/ })
})

t.test('durable: corruption at the end of a sealed segment is an error, not a torn tail', async t => {
  const dir = tempDir(t)
  const first = await DurableStore.open(dir, { snapshotEvery: 5 })
  await workload(first, 'x', 12)
  await first.close()
  const snapshots = files(dir, /\.snap$/)
  const fallback = Number(/\d+/.exec(snapshots[0] ?? '')?.[0])
  flipByte(join(dir, snapshots[1] ?? ''), 20) // force recovery through the older segments
  const sealed = files(dir, /\.log$/).filter(name => Number(/\d+/.exec(name)?.[0]) <= fallback + 1)[0] ?? ''
  flipByte(join(dir, sealed), statSync(join(dir, sealed)).size - 3)
  await t.rejects(DurableStore.open(dir), { code: 'Corrupt', file: join(dir, sealed), message: /sealed segment/ })
})

t.test('durable: a snapshot interrupted by a crash is ignored and removed', async t => {
  const dir = tempDir(t)
  const first = await DurableStore.open(dir)
  await workload(first, 'x', 5)
  const before = await dump(first)
  await first.close()
  writeFileSync(join(dir, 'snap-0000000000000099.snap.tmp'), 'half a snapshot')
  const second = await open(t, dir)
  t.same(await dump(second), before)
  t.same(second.recovery.removedTemporary, ['snap-0000000000000099.snap.tmp'])
  t.same(files(dir, /\.tmp$/), [])
})

t.test('durable: snapshots under concurrent load keep every write', async t => {
  const dir = tempDir(t)
  const first = await DurableStore.open(dir, { snapshotEvery: 7 })
  const n = 500
  await Promise.all(range(1, n).map(async i => {
    const key = `/registry/load/${i % 50}/${i}`
    await first.create(key, { metadata: { name: String(i) } })
    if (i % 4 === 0) await first.update(key, { metadata: { name: String(i) }, status: { i } })
  }))
  const before = await dump(first)
  await first.close()
  t.ok(files(dir, /\.snap$/).length > 0)
  const second = await open(t, dir, { snapshotEvery: 7 })
  t.same(await dump(second), before)
})
