import t from 'tap'
import { EventHistory } from '../../../control/store/event-history.ts'
import type { WatchEvent } from '../../../control/store/store.ts'

const event = (revision: number): WatchEvent => ({
  type: 'ADDED', key: `/k/${revision}`, revision, object: { metadata: { resourceVersion: String(revision) } }
})

t.test('a fresh history lost nothing; a full one drops the oldest and moves the compacted revision', async t => {
  const history = new EventHistory(3, 0)
  t.same(history.since(0), [])
  for (const r of [2, 3, 4]) history.push(event(r))
  t.same(history.since(0).map(e => e.revision), [2, 3, 4])
  t.same(history.since(3).map(e => e.revision), [4])
  t.same(history.since(9), [], 'future: nothing yet')
  history.push(event(5))
  t.equal(history.compactedRevision, 2)
  t.same(history.since(2).map(e => e.revision), [3, 4, 5])
  t.throws(() => history.since(1), { code: 'Gone', requestedRevision: 1, oldestRevision: 2 })
  t.throws(() => history.push(event(7)), /revision 7 after 5/)
  for (const r of [6, 7, 8, 9, 10]) history.push(event(r))
  t.same(history.since(7).map(e => e.revision), [8, 9, 10], 'wrapped around the ring')
})

t.test('a history of size zero replays nothing and is Gone for the past', async t => {
  const history = new EventHistory(0, 5)
  t.same(history.since(5), [])
  t.throws(() => history.since(4), { code: 'Gone' })
  history.push(event(6))
  t.throws(() => history.since(5), { code: 'Gone' })
  t.same(history.since(6), [])
})
