import t from 'tap'
import { pods as podsDef } from '../../../control/apiserver/kinds/pod.ts'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject, WatchEvent } from '../../../control/client/api-client.ts'
import { harness, pod, rejectsStatus, watchLog } from './helpers.ts'

t.test('resourceVersion "0": ADDED for what exists, then what happens', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('a'))
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('b'))
  const log = await watchLog(t, client, RESOURCES.pods, 'default', { resourceVersion: '0' })
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('c'))
  await log.until(e => e.length >= 3)
  t.same(log.summary(), ['ADDED a', 'ADDED b', 'ADDED c'])
})

t.test('no resourceVersion: kube semantics in the handler (state first), "from now" in the client contract', async t => {
  const { client, handler } = await harness(t)
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('a'))
  const seen: string[] = []
  const raw = await handler.watch({ verb: 'watch', ref: RESOURCES.pods, namespace: 'default' }, e => seen.push(`${e.type} ${e.object.metadata.name}`))
  t.teardown(() => raw.stop())
  const log = await watchLog(t, client, RESOURCES.pods, 'default')
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('b'))
  await log.until(e => e.length >= 1)
  t.same(log.summary(), ['ADDED b'])
  t.same(seen, ['ADDED a', 'ADDED b'])
})

t.test('resuming from a resourceVersion replays exactly what followed', async t => {
  const { client } = await harness(t)
  const a = await client.create<KubeObject>(RESOURCES.pods, 'default', pod('a'))
  await client.patch(RESOURCES.pods, 'default', 'a', { metadata: { labels: { x: 'y' } } })
  await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'other-kind' } })
  await client.delete(RESOURCES.pods, 'default', 'a')
  const log = await watchLog(t, client, RESOURCES.pods, 'default', { resourceVersion: a.metadata.resourceVersion })
  await log.until(e => e.some(x => x.type === 'DELETED'))
  t.same(log.summary(), ['MODIFIED a', 'MODIFIED a', 'DELETED a'])
  const rvs = log.events.map(e => Number(e.object.metadata.resourceVersion))
  t.same([...rvs].sort((x, y) => x - y), rvs, 'in resourceVersion order')
  t.ok((rvs[0] ?? 0) > Number(a.metadata.resourceVersion))
})

t.test('too old: one ERROR event with a 410 Expired Status, then the watch ends', async t => {
  const { client } = await harness(t, { watchCacheSize: 3 })
  const first = await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'c0' } })
  for (let i = 1; i <= 5; i++) await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: `c${i}` } })
  const events: WatchEvent[] = []
  const handle = await client.watch(RESOURCES.configmaps, 'default', { resourceVersion: first.metadata.resourceVersion }, e => events.push(e))
  await handle.done
  t.equal(events.length, 1)
  const status = events[0]?.object as unknown as Record<string, unknown>
  t.equal(events[0]?.type, 'ERROR')
  t.match(status, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: /^too old resource version: \d+ \(\d+\)$/ })
})

t.test('filtered watches: objects that stop matching are DELETED, those that start matching ADDED', async t => {
  const { client } = await harness(t)
  const log = await watchLog(t, client, RESOURCES.pods, 'default', { labelSelector: 'app=web' })
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('p', {}, { app: 'db' }))
  await client.patch(RESOURCES.pods, 'default', 'p', { metadata: { labels: { app: 'web' } } })
  await client.patch(RESOURCES.pods, 'default', 'p', { metadata: { labels: { tier: 'x' } } })
  const stop = await client.patch(RESOURCES.pods, 'default', 'p', { metadata: { labels: { app: 'db' } } })
  await client.delete(RESOURCES.pods, 'default', 'p')
  await log.until(e => e.filter(x => x.type === 'DELETED').length >= 1)
  t.same(log.summary(), ['ADDED p', 'MODIFIED p', 'DELETED p'])
  const deleted = log.events[2]?.object as KubeObject
  t.same(deleted.metadata.labels, { app: 'web', tier: 'x' }, 'DELETED carries the last state that matched')
  t.equal(deleted.metadata.resourceVersion, stop.metadata.resourceVersion, '... stamped with the revision that ended the match')

  const fields = await watchLog(t, client, RESOURCES.pods, 'default', { fieldSelector: 'spec.nodeName=node-1' })
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('q'))
  await client.patch(RESOURCES.pods, 'default', 'q', { spec: { nodeName: 'node-1' } })
  await fields.until(e => e.length >= 1)
  t.same(fields.summary(), ['ADDED q'], 'the node agent sees its pod arrive when it is bound')
})

t.test('bookmarks carry the newest resourceVersion', async t => {
  const { client, store } = await harness(t, { bookmarkIntervalMs: 20 })
  const log = await watchLog(t, client, RESOURCES.pods, 'default', { allowWatchBookmarks: true })
  const created = await client.create<KubeObject>(RESOURCES.pods, 'default', pod('a'))
  await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'elsewhere' } })
  const revision = await store.revision()
  await log.until(e => e.some(x => x.type === 'BOOKMARK' && Number(x.object.metadata.resourceVersion) >= revision))
  const bookmark = log.events.find(x => x.type === 'BOOKMARK') as WatchEvent
  t.same(Object.keys(bookmark.object), ['kind', 'apiVersion', 'metadata'])
  t.same(bookmark.object.metadata, { resourceVersion: bookmark.object.metadata.resourceVersion })
  t.ok(Number(bookmark.object.metadata.resourceVersion) >= Number(created.metadata.resourceVersion))
  const rvs = log.events.map(e => Number(e.object.metadata.resourceVersion))
  t.same([...rvs].sort((x, y) => x - y), rvs, 'bookmarks never go back in time')
  const plain = await watchLog(t, client, RESOURCES.pods, 'default')
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('b'))
  await plain.until(e => e.length >= 1)
  await log.until(e => e.filter(x => x.type === 'BOOKMARK').length >= 3)
  t.notOk(plain.events.some(e => e.type === 'BOOKMARK'), 'no bookmarks unless asked')
})

t.test('timeoutSeconds ends the watch', async t => {
  const { client } = await harness(t)
  const started = Date.now()
  const handle = await client.watch(RESOURCES.pods, 'default', { timeoutSeconds: 1 }, () => {})
  await handle.done
  t.ok(Date.now() - started >= 900)
})

t.test('a watch on one object; stop() ends delivery', async t => {
  const { client, handler } = await harness(t)
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('a'))
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('b'))
  const seen: string[] = []
  const watch = await handler.watch({ verb: 'watch', ref: RESOURCES.pods, namespace: 'default', name: 'b', query: { resourceVersion: '0' } }, e => seen.push(`${e.type} ${e.object.metadata.name}`))
  await client.patch(RESOURCES.pods, 'default', 'a', { metadata: { labels: { x: '1' } } })
  await client.patch(RESOURCES.pods, 'default', 'b', { metadata: { labels: { x: '1' } } })
  while (seen.length < 2) await new Promise(resolve => setImmediate(resolve))
  watch.stop()
  t.equal(await watch.done, 'stopped')
  await client.patch(RESOURCES.pods, 'default', 'b', { metadata: { labels: { x: '2' } } })
  await new Promise(resolve => setImmediate(resolve))
  t.same(seen, ['ADDED b', 'MODIFIED b'])
})

t.test('fifty watchers share one cache and all see every event', async t => {
  const { client, handler } = await harness(t)
  const logs = await Promise.all(Array.from({ length: 50 }, () => watchLog(t, client, RESOURCES.pods, undefined)))
  t.equal(handler.watcherCount(podsDef), 51, '50 clients and the namespace lifecycle')
  for (let i = 0; i < 5; i++) await client.create<KubeObject>(RESOURCES.pods, 'default', pod(`p${i}`))
  await Promise.all(logs.map(log => log.until(e => e.length >= 5)))
  for (const log of logs) t.same(log.summary(), ['ADDED p0', 'ADDED p1', 'ADDED p2', 'ADDED p3', 'ADDED p4'])
  for (const log of logs) log.handle.stop()
  t.equal(handler.watcherCount(podsDef), 1)
})

t.test('bad watch requests are rejected before streaming', async t => {
  const { handler } = await harness(t)
  const cases: Array<[Record<string, string> | undefined, { group: string; version: string; resource: string }, number]> = [
    [{ fieldSelector: 'spec.nope=1' }, RESOURCES.pods, 400],
    [{ resourceVersion: 'abc' }, RESOURCES.pods, 400],
    [undefined, { group: 'x', version: 'v1', resource: 'y' }, 404],
  ]
  for (const [query, ref, code] of cases) {
    await rejectsStatus(t, handler.watch({ verb: 'watch', ref, query }, () => {}), code, /./)
  }
})
