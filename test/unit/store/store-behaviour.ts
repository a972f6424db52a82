// The behaviour every Store must have, run against each implementation by
// memory-store.test.ts and durable-store.test.ts. Anything the API server or
// a controller may rely on belongs here, not in an implementation's tests.

import t from 'tap'
import {
  AlreadyExistsError, ConflictError, GoneError, NotFoundError, StoreError
} from '../../../control/store/store.ts'
import type { Store, StoreObject, WatchEvent } from '../../../control/store/store.ts'
import { collect, range, summary } from './helpers.ts'
import type { TapTest } from './helpers.ts'

/** Opens a fresh, empty store that is closed (and cleaned up) when the test ends. */
export type OpenStore = (t: TapTest, options?: { historySize?: number }) => Promise<Store>

const pod = (name: string, extra: Record<string, unknown> = {}): StoreObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'main', image: 'nginx' }] },
  ...extra
})

const key = (name: string): string => `/registry/pods/default/${name}`

export function storeBehaviour (name: string, open: OpenStore): void {
  t.test(`${name}: an empty store is at revision 1`, async t => {
    const store = await open(t)
    t.equal(await store.revision(), 1)
    t.equal(await store.get(key('nope')), undefined)
    t.same(await store.list('/'), { items: [], revision: 1 })
  })

  t.test(`${name}: create stamps resourceVersion and stores a private frozen copy`, async t => {
    const store = await open(t)
    const input = pod('web-1')
    const created = await store.create(key('web-1'), input)
    t.equal(created.metadata.resourceVersion, '2', 'first mutation is revision 2')
    t.equal(created.metadata.name, 'web-1')
    t.equal((input.metadata as Record<string, unknown>).resourceVersion, undefined, 'input left untouched')
    t.ok(Object.isFrozen(created) && Object.isFrozen(created.metadata) && Object.isFrozen(created.spec), 'deep-frozen')
    t.throws(() => { (created.metadata as Record<string, unknown>).name = 'x' }, TypeError, 'cannot be changed')
    ;(input.metadata as Record<string, unknown>).name = 'changed-after-create'
    const got = await store.get(key('web-1'))
    t.equal(got?.metadata.name, 'web-1', 'later changes to the input do not reach the store')
    t.same(got, created)
    t.equal(await store.revision(), 2)

    const noMeta = await store.create('/registry/configmaps/x', { data: { a: '1' } })
    t.same(noMeta, { data: { a: '1' }, metadata: { resourceVersion: '3' } }, 'metadata created when absent')
  })

  t.test(`${name}: create on a taken key is AlreadyExists and uses no revision`, async t => {
    const store = await open(t)
    await store.create(key('a'), pod('a'))
    const err = await store.create(key('a'), pod('a')).catch((e: unknown) => e)
    t.ok(err instanceof AlreadyExistsError, 'AlreadyExistsError')
    t.ok(err instanceof StoreError, 'is a StoreError')
    t.match(err, { code: 'AlreadyExists', key: key('a') })
    t.equal(await store.revision(), 2)
  })

  t.test(`${name}: update replaces, ignores the caller's resourceVersion, NotFound when absent`, async t => {
    const store = await open(t)
    await t.rejects(store.update(key('ghost'), pod('ghost')), { code: 'NotFound', key: key('ghost') })
    t.ok(await store.update(key('ghost'), pod('ghost')).catch((e: unknown) => e) instanceof NotFoundError)
    await store.create(key('a'), pod('a'))
    const updated = await store.update(key('a'), pod('a', { metadata: { name: 'a', resourceVersion: '999' }, status: { phase: 'Running' } }))
    t.equal(updated.metadata.resourceVersion, '3')
    t.same(updated.status, { phase: 'Running' })
    t.same(await store.get(key('a')), updated)
    t.equal(await store.revision(), 3)
  })

  t.test(`${name}: a stale expectedRevision is Conflict, a current one succeeds`, async t => {
    const store = await open(t)
    const v1 = await store.create(key('a'), pod('a'))
    const v2 = await store.update(key('a'), pod('a', { status: { phase: 'Pending' } }), { expectedRevision: Number(v1.metadata.resourceVersion) })
    t.equal(v2.metadata.resourceVersion, '3')

    const err = await store.update(key('a'), pod('a'), { expectedRevision: 2 }).catch((e: unknown) => e)
    t.ok(err instanceof ConflictError, 'ConflictError on update')
    t.match(err, { code: 'Conflict', key: key('a'), expectedRevision: 2, actualRevision: 3 })
    await t.rejects(store.delete(key('a'), { expectedRevision: 2 }), { code: 'Conflict' }, 'Conflict on delete')
    t.equal(await store.revision(), 3, 'failed preconditions use no revision')
    t.same(await store.get(key('a')), v2, 'object unchanged')

    const deleted = await store.delete(key('a'), { expectedRevision: 3 })
    t.equal(deleted.metadata.resourceVersion, '4')
  })

  t.test(`${name}: delete returns the last state stamped with the deletion revision`, async t => {
    const store = await open(t)
    await t.rejects(store.delete(key('ghost')), { code: 'NotFound', key: key('ghost') })
    await store.create(key('a'), pod('a', { status: { phase: 'Running' } }))
    await store.create(key('b'), pod('b'))
    const deleted = await store.delete(key('a'))
    t.equal(deleted.metadata.resourceVersion, '4')
    t.same(deleted.status, { phase: 'Running' }, 'last state')
    t.ok(Object.isFrozen(deleted))
    t.equal(await store.get(key('a')), undefined)
    t.equal(await store.revision(), 4)
    await t.rejects(store.delete(key('a')), { code: 'NotFound' }, 'second delete')
    const again = await store.create(key('a'), pod('a'))
    t.equal(again.metadata.resourceVersion, '5', 'key reusable; revisions never reused')
  })

  t.test(`${name}: bad input is InvalidArgument and uses no revision`, async t => {
    const store = await open(t)
    await store.create(key('a'), pod('a'))
    const cyclic: Record<string, unknown> = { metadata: {} }
    cyclic.self = cyclic
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['empty key', async () => await store.create('', pod('x'))],
      ['non-string key', async () => await store.get(42 as unknown as string)],
      ['array object', async () => await store.create(key('x'), [] as unknown as StoreObject)],
      ['null object', async () => await store.create(key('x'), null as unknown as StoreObject)],
      ['string object', async () => await store.update(key('a'), 'pod' as unknown as StoreObject)],
      ['array metadata', async () => await store.create(key('x'), { metadata: [] as unknown as StoreObject['metadata'] })],
      ['cyclic object', async () => await store.create(key('x'), cyclic)],
      ['BigInt field', async () => await store.create(key('x'), { n: 1n })],
      ['object over 16 MiB', async () => await store.create(key('x'), { data: 'x'.repeat(17 * 1024 * 1024) })],
      ['key over 4096 characters', async () => await store.create('/'.repeat(4097), {})],
      ['fractional expectedRevision', async () => await store.update(key('a'), pod('a'), { expectedRevision: 1.5 })],
      ['negative fromRevision', async () => await store.watch('/', { fromRevision: -1 }, () => {})],
      ['non-string prefix', async () => await store.list(undefined as unknown as string)]
    ]
    for (const [what, call] of bad) await t.rejects(call(), { code: 'InvalidArgument' }, what)
    t.equal(await store.revision(), 2)
  })

  t.test(`${name}: list is sorted by key, filtered by prefix, and carries the revision`, async t => {
    const store = await open(t)
    for (const n of ['web-3', 'web-1', 'db-0', 'web-2']) await store.create(key(n), pod(n))
    await store.create('/registry/services/default/web', { kind: 'Service', metadata: { name: 'web' } })
    await store.create('/registry/pods/kube-system/dns', pod('dns'))
    await store.delete(key('web-2'))
    const pods = await store.list('/registry/pods/default/')
    t.same(pods.items.map(p => p.metadata.name), ['db-0', 'web-1', 'web-3'])
    t.equal(pods.revision, 8)
    t.same(pods.items.map(p => p.metadata.resourceVersion), ['4', '3', '2'])
    const all = await store.list('')
    t.same(all.items.map(o => o.metadata.name), ['db-0', 'web-1', 'web-3', 'dns', 'web'], 'sorted by full key')
    t.same(await store.list('/registry/nothing/'), { items: [], revision: 8 })
  })

  t.test(`${name}: mutations are serialized, each seeing the previous one`, async t => {
    const store = await open(t)
    // Fired in one tick, none awaited before the next is issued.
    const results = await Promise.allSettled([
      store.create(key('a'), pod('a')),
      store.update(key('a'), pod('a', { status: { phase: 'Running' } }), { expectedRevision: 2 }),
      store.create(key('a'), pod('a')),
      store.delete(key('a'), { expectedRevision: 3 }),
      store.update(key('a'), pod('a')),
      store.create(key('a'), pod('a', { spec: { again: true } }))
    ])
    t.same(results.map(r => r.status === 'fulfilled' ? r.value.metadata.resourceVersion : (r.reason as StoreError).code),
      ['2', '3', 'AlreadyExists', '4', 'NotFound', '5'])
    t.same((await store.get(key('a')))?.spec, { again: true })
    t.equal(await store.revision(), 5)
  })

  t.test(`${name}: concurrent creates get unique, consecutive revisions in call order`, async t => {
    const store = await open(t)
    const start = await store.revision()
    const n = 300
    const created = await Promise.all(range(1, n).map(async i => await store.create(`/registry/c/${i}`, { metadata: { name: `c${i}` } })))
    t.same(created.map(o => Number(o.metadata.resourceVersion)), range(start + 1, start + n))
    t.equal(await store.revision(), start + n)
    t.equal((await store.list('/registry/c/')).items.length, n)
  })

  t.test(`${name}: watch from a revision replays exactly the missed events, then continues live`, async t => {
    const store = await open(t)
    await store.create(key('a'), pod('a'))
    const { revision: seen } = await store.list(key(''))
    // Missed while "disconnected": three under the prefix, one outside it.
    await store.create(key('b'), pod('b'))
    await store.update(key('a'), pod('a', { status: { phase: 'Running' } }))
    await store.create('/registry/services/default/s', { metadata: { name: 's' } })
    await store.delete(key('b'))

    const watch = await collect(store, key(''), { fromRevision: seen })
    t.same(summary(await watch.waitFor(3)), [
      `ADDED ${key('b')} 3 rv=3`,
      `MODIFIED ${key('a')} 4 rv=4`,
      `DELETED ${key('b')} 6 rv=6`
    ], 'replay')

    await store.create(key('c'), pod('c'))
    await store.update('/registry/services/default/s', { metadata: { name: 's' } })
    await store.delete(key('a'))
    t.same(summary(await watch.waitFor(5)).slice(3), [
      `ADDED ${key('c')} 7 rv=7`,
      `DELETED ${key('a')} 9 rv=9`
    ], 'live')
    t.equal(watch.events[4]?.object.status && (watch.events[4].object.status as { phase: string }).phase, 'Running',
      'DELETED carries the last state')

    await store.create(key('marker'), pod('marker'))
    await watch.waitFor(6)
    t.equal(watch.events.length, 6, 'no duplicates and nothing extra before the marker')
    watch.handle.stop()
  })

  t.test(`${name}: watches racing with writes see every revision once, in order`, async t => {
    const store = await open(t)
    const n = 200
    const writes = range(1, n).map(async i => await store.create(`/registry/r/${i}`, { metadata: { name: `r${i}` } }))
    // Started mid-stream from revision 1: replay and live overlap in time.
    const early = await collect(store, '/registry/r/', { fromRevision: 1 })
    const live = await collect(store, '/registry/r/')
    await Promise.all(writes)
    const last = await store.revision()
    const all = await early.waitFor(n)
    t.same(all.map(e => e.revision), range(2, n + 1), 'from revision 1: all, consecutive')
    await store.create('/registry/r/marker', { metadata: { name: 'marker' } })
    await live.until(events => events.some(e => e.key === '/registry/r/marker'))
    const revisions = live.events.map(e => e.revision)
    t.same(revisions, range(revisions[0] ?? 0, last + 1), 'live-only: consecutive from when it joined')
  })

  t.test(`${name}: watch from the list revision misses nothing`, async t => {
    const store = await open(t)
    await store.create(key('a'), pod('a'))
    const pending = store.create(key('b'), pod('b')) // in flight during the list
    const listed = await store.list(key(''))
    await pending
    const watch = await collect(store, key(''), { fromRevision: listed.revision })
    await store.create(key('c'), pod('c'))
    const events = await watch.until(events => events.some(e => e.key === key('c')))
    const names = [...listed.items, ...events.map(e => e.object)].map(o => o.metadata.name)
    t.same(names.sort(), ['a', 'b', 'c'], 'list + watch = everything, once')
  })

  t.test(`${name}: watch without fromRevision sees only what happens next`, async t => {
    const store = await open(t)
    await store.create(key('old'), pod('old'))
    const watch = await collect(store, '/')
    await store.create(key('new'), pod('new'))
    t.same(summary(await watch.waitFor(1)), [`ADDED ${key('new')} 3 rv=3`])
  })

  t.test(`${name}: watch from a revision not reached yet waits for it`, async t => {
    const store = await open(t)
    const watch = await collect(store, '/', { fromRevision: 3 })
    for (const n of ['a', 'b', 'c']) await store.create(key(n), pod(n))
    t.same((await watch.waitFor(1)).map(e => e.revision), [4])
  })

  t.test(`${name}: watch from a revision older than the history window is Gone`, async t => {
    const store = await open(t, { historySize: 5 })
    for (const i of range(1, 10)) await store.create(key(`p${i}`), pod(`p${i}`))
    t.equal(await store.revision(), 11)
    // Revisions 7..11 are kept: resuming from 6 or later works, from 5 or earlier does not.
    const err = await store.watch('/', { fromRevision: 5 }, () => {}).catch((e: unknown) => e)
    t.ok(err instanceof GoneError, 'GoneError')
    t.match(err, { code: 'Gone', requestedRevision: 5, oldestRevision: 6, message: /too old resource version: 5 \(6\)/ })
    await t.rejects(store.watch('/', { fromRevision: 0 }, () => {}), { code: 'Gone' })
    const watch = await collect(store, '/', { fromRevision: 6 })
    t.same((await watch.waitFor(5)).map(e => e.revision), [7, 8, 9, 10, 11], 'oldest resumable revision')
  })

  t.test(`${name}: stop() ends a watch, close() ends all, a throwing callback ends its own`, async t => {
    const store = await open(t)
    const stopped = await collect(store, '/')
    const thrower = await store.watch('/', {}, () => { throw new Error('boom') })
    const survivor = await collect(store, '/')
    await store.create(key('a'), pod('a'))
    await survivor.waitFor(1)
    t.match(await thrower.done, { reason: 'error', error: { message: 'boom' } })
    await stopped.waitFor(1)
    stopped.handle.stop()
    stopped.handle.stop()
    t.same(await stopped.handle.done, { reason: 'stopped' })
    await store.create(key('b'), pod('b'))
    await survivor.waitFor(2)
    t.equal(stopped.events.length, 1, 'nothing after stop')
    await store.close()
    t.same(await survivor.handle.done, { reason: 'closed' })
  })

  t.test(`${name}: a callback may write to the store`, async t => {
    const store = await open(t)
    const seen: WatchEvent[] = []
    let resolve!: () => void
    const finished = new Promise<void>(r => { resolve = r })
    await store.watch(key(''), {}, event => {
      seen.push(event)
      if (event.type === 'ADDED') void store.update(event.key, pod(event.object.metadata.name as string, { status: { seen: true } }))
      if (event.type === 'MODIFIED') resolve()
    })
    await store.create(key('a'), pod('a'))
    await finished
    t.same(seen.map(e => `${e.type} ${e.revision}`), ['ADDED 2', 'MODIFIED 3'])
  })

  t.test(`${name}: a closed store refuses everything with Closed`, async t => {
    const store = await open(t)
    const inFlight = store.create(key('a'), pod('a'))
    const closing = store.close()
    t.equal((await inFlight).metadata.resourceVersion, '2', 'accepted before close: completed')
    await closing
    await store.close() // idempotent
    const calls: Array<() => Promise<unknown>> = [
      async () => await store.get(key('a')),
      async () => await store.list('/'),
      async () => await store.create(key('b'), pod('b')),
      async () => await store.update(key('a'), pod('a')),
      async () => await store.delete(key('a')),
      async () => await store.watch('/', {}, () => {}),
      async () => await store.revision()
    ]
    for (const call of calls) await t.rejects(call(), { code: 'Closed' })
  })
}
