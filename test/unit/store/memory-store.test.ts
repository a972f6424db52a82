import t from 'tap'
import { MemoryStore } from '../../../control/store/memory-store.ts'
import { storeBehaviour } from './store-behaviour.ts'

storeBehaviour('memory', async (t, options = {}) => {
  const store = new MemoryStore(options)
  t.teardown(async () => await store.close())
  return store
})

t.test('memory: each store is independent', async t => {
  const a = new MemoryStore()
  const b = new MemoryStore()
  await a.create('/k', { metadata: {} })
  t.equal(await b.get('/k'), undefined)
  t.equal(await b.revision(), 1)
  await Promise.all([a.close(), b.close()])
})
