import t from 'tap'
import { WorkQueue, runWorker } from '../../../control/controllers/work-queue.ts'
import { Expectations } from '../../../control/controllers/expectations.ts'
import { silentLogger } from '../../../control/controllers/logger.ts'
import { conflict } from '../../../control/api/status-error.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { until } from './fakes/wait.ts'

t.test('a key is queued once, and never processed twice at a time', async t => {
  const q = new WorkQueue(new FakeClock())
  q.add('a')
  q.add('b')
  q.add('a')
  t.equal(q.len(), 2)
  const first = await q.get()
  t.equal(first, 'a')
  q.add('a') // changed while in flight
  t.equal(q.len(), 1, 'not handed out again while in flight')
  t.equal(await q.get(), 'b')
  q.done('b')
  q.done('a')
  t.equal(q.len(), 1, 'queued again once done')
  t.equal(await q.get(), 'a')
  q.done('a')
  t.ok(q.idle())
})

t.test('delays keep the earliest deadline; backoff doubles until forget', async t => {
  const clock = new FakeClock()
  const q = new WorkQueue(clock, { baseMs: 5, maxMs: 40 })
  q.addAfter('k', 100)
  q.addAfter('k', 50)
  q.addAfter('k', 80)
  clock.advance(49)
  t.equal(q.len(), 0)
  clock.advance(1)
  t.equal(q.len(), 1, 'fired at 50 ms')
  clock.advance(100)
  t.equal(q.len(), 1, 'the later ones were dropped')

  t.equal(await q.get(), 'k')
  q.done('k')

  const delays: number[] = []
  for (let i = 0; i < 6; i++) {
    const before = clock.now()
    q.addRateLimited('r')
    while (q.len() === 0) clock.advance(1)
    delays.push(clock.now() - before)
    t.equal(await q.get(), 'r')
    q.done('r')
  }
  t.same(delays, [5, 10, 20, 40, 40, 40])
  t.equal(q.numRequeues('r'), 6)
  q.forget('r')
  t.equal(q.numRequeues('r'), 0)
})

t.test('the worker: success forgets, errors back off, conflicts retry at once', async t => {
  const clock = new FakeClock()
  const q = new WorkQueue(clock)
  const seen: string[] = []
  let fail = 0
  let conflicts = 0
  const worker = runWorker(q, async key => {
    seen.push(key)
    if (key === 'conflict' && conflicts++ < 2) throw conflict('pods', 'x')
    if (key === 'error' && fail++ < 1) throw new Error('boom')
    if (key === 'later') return { requeueAfterMs: 1000 }
  }, silentLogger)
  q.add('conflict')
  await until(() => seen.filter(k => k === 'conflict').length === 3 && q.idle(), 'conflict retries')
  t.pass('two conflicts, retried without the clock moving')
  q.add('error')
  await until(() => seen.includes('error') && q.idle())
  t.equal(seen.filter(k => k === 'error').length, 1, 'an error waits for its backoff')
  clock.advance(5)
  await until(() => seen.filter(k => k === 'error').length === 2)
  t.equal(q.numRequeues('error'), 0, 'forgotten after success')
  q.add('later')
  await until(() => seen.includes('later') && q.idle())
  clock.advance(1000)
  await until(() => seen.filter(k => k === 'later').length === 2)
  q.shutDown()
  await worker
  t.equal(await q.get(), undefined)
})

t.test('expectations', async t => {
  const clock = new FakeClock()
  const e = new Expectations(clock, 1000)
  t.ok(e.satisfied('rs'), 'nothing recorded')
  e.expectCreations('rs', 2)
  t.notOk(e.satisfied('rs'))
  e.creationObserved('rs')
  t.notOk(e.satisfied('rs'))
  e.creationObserved('rs')
  t.ok(e.satisfied('rs'))
  e.expectDeletions('rs', ['ns/a', 'ns/b'])
  e.deletionObserved('rs', 'ns/zzz')
  t.same(e.pending('rs'), { add: 0, del: 2 }, 'an unexpected deletion does not count')
  e.deletionObserved('rs', 'ns/a')
  e.deletionObserved('rs', 'ns/a')
  t.same(e.pending('rs'), { add: 0, del: 1 }, 'each expected deletion counts once')
  clock.advance(1001)
  t.ok(e.satisfied('rs'), 'expired')
  e.delete('rs')
  t.equal(e.pending('rs'), undefined)
})
