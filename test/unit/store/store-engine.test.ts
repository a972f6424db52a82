// The engine against a scripted journal: group commit and fail-stop.
import t from 'tap'
import type { Journal } from '../../../control/store/journal.ts'
import { StoreEngine } from '../../../control/store/store-engine.ts'
import type { WalRecord } from '../../../control/store/wal-record.ts'
import { collect, range } from './helpers.ts'

/** A journal whose commits complete only when the test says so. */
function manualJournal (): Journal & { batches: WalRecord[][], finish(error?: Error): void } {
  const waiting: Array<{ resolve: () => void, reject: (e: Error) => void }> = []
  const batches: WalRecord[][] = []
  return {
    batches,
    async commit (records) {
      batches.push([...records])
      await new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }))
    },
    applied () {},
    async close () {},
    finish (error) {
      const next = waiting.shift()
      if (next === undefined) throw new Error('no commit in progress')
      if (error === undefined) next.resolve()
      else next.reject(error)
    }
  }
}

/** Lets queued microtasks (and the commit loop) run. */
const tick = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))

t.test('writers issued together share a commit; later ones share the next', async t => {
  const journal = manualJournal()
  const store = new StoreEngine(journal)
  const first = range(1, 64).map(async i => await store.create(`/a/${i}`, { metadata: {} }))
  await tick()
  t.same(journal.batches.map(b => b.length), [64], 'one batch for 64 concurrent creates')
  const second = range(1, 10).map(async i => await store.create(`/b/${i}`, { metadata: {} }))
  t.equal(await store.revision(), 1, 'nothing visible before it is durable')
  t.equal(await store.get('/a/1'), undefined)
  journal.finish()
  await Promise.all(first)
  t.equal(await store.revision(), 65)
  await tick()
  t.same(journal.batches.map(b => b.length), [64, 10], 'the next batch formed during the first commit')
  journal.finish()
  t.same((await Promise.all(second)).map(o => o.metadata.resourceVersion), range(66, 75).map(String))
  await store.close()
})

t.test('a failed commit fails its batch, the queue, and every later write; reads go on', async t => {
  const journal = manualJournal()
  const store = new StoreEngine(journal)
  const ok = store.create('/ok', { metadata: {} })
  await tick()
  journal.finish()
  await ok
  const watch = await collect(store, '/')
  const doomed = store.create('/doomed', { metadata: {} })
  await tick()
  const queued = store.create('/queued', { metadata: {} })
  journal.finish(new Error('EIO: disk on fire'))
  await t.rejects(doomed, { code: 'Unavailable', message: /EIO: disk on fire/ })
  await t.rejects(queued, { code: 'Unavailable' })
  await t.rejects(store.update('/ok', { metadata: {} }), { code: 'Unavailable' })
  t.equal(await store.revision(), 2, 'state is what was durable')
  t.ok(await store.get('/ok'))
  t.same(watch.events, [], 'watchers saw nothing of the failed batch')
  await store.close()
  t.same(await watch.handle.done, { reason: 'closed' })
})
