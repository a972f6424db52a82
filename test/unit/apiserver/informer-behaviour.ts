// The informer behaviour both transports must show (run by the unit test with
// the in-process client and by the integration test over HTTPS).

import type { ApiClient, KubeObject } from '../../../control/client/api-client.ts'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { createInformer } from '../../../control/client/informer.ts'
import { GatedClient } from './gated-client.ts'
import type { TapTest } from './helpers.ts'

/** Applies handler calls to a model; it must end equal to the server's state. */
function model(informer: ReturnType<typeof createInformer>): { objects: Map<string, string>; log: string[] } {
  const objects = new Map<string, string>()
  const log: string[] = []
  informer.on('add', o => {
    log.push(`add ${o.metadata.name}`)
    objects.set(o.metadata.name ?? '', o.metadata.resourceVersion ?? '')
  })
  informer.on('update', (o, old) => {
    log.push(`update ${o.metadata.name}`)
    if (old.metadata.name !== o.metadata.name) throw new Error('update of another object')
    objects.set(o.metadata.name ?? '', o.metadata.resourceVersion ?? '')
  })
  informer.on('delete', o => {
    log.push(`delete ${o.metadata.name}`)
    objects.delete(o.metadata.name ?? '')
  })
  return { objects, log }
}

async function serverState(client: ApiClient, namespace: string): Promise<Map<string, string>> {
  const list = await client.list(RESOURCES.configmaps, namespace)
  return new Map(list.items.map(i => [i.metadata.name ?? '', i.metadata.resourceVersion ?? '']))
}

async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise(resolve => setTimeout(resolve, 5))
}

const same = (a: Map<string, string>, b: Map<string, string>): boolean => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)

/**
 * `client` must talk to a server whose watch window is small (a few events),
 * so that resuming after the cut below is answered with 410.
 */
export async function informerSurvivesExpiry(t: TapTest, client: ApiClient, namespace = 'default'): Promise<void> {
  const gated = new GatedClient(client)
  const informer = createInformer(gated, RESOURCES.configmaps, { namespace })
  t.teardown(() => informer.stop())
  const { objects, log } = model(informer)
  await informer.synced
  t.ok(informer.hasSynced())
  for (const name of ['a', 'b', 'c']) await client.create<KubeObject>(RESOURCES.configmaps, namespace, { metadata: { name } })
  await until(async () => same(objects, await serverState(client, namespace)))
  t.same(log, ['add a', 'add b', 'add c'])
  t.equal(informer.get(`${namespace}/a`)?.metadata.name, 'a')
  t.ok(Object.isFrozen(informer.get(`${namespace}/a`)), 'cached objects are frozen')

  gated.cut()
  const changes: Array<Promise<unknown>> = []
  await client.patch(RESOURCES.configmaps, namespace, 'a', { data: { v: '1' } })
  await client.delete(RESOURCES.configmaps, namespace, 'b')
  await client.create<KubeObject>(RESOURCES.configmaps, namespace, { metadata: { name: 'd' } })
  await client.create<KubeObject>(RESOURCES.configmaps, namespace, { metadata: { name: 'short-lived' } })
  await client.delete(RESOURCES.configmaps, namespace, 'short-lived')
  for (let i = 0; i < 10; i++) changes.push(client.patch(RESOURCES.configmaps, namespace, 'c', { data: { n: String(i) } }))
  await Promise.all(changes)
  const listsBefore = gated.lists
  gated.release()

  await until(async () => same(objects, await serverState(client, namespace)))
  t.ok(gated.errors.includes('410'), 'the resumed watch was told 410')
  t.ok(gated.lists > listsBefore, 'and the informer listed again')
  t.ok(informer.relists >= 1)
  const after = log.slice(3)
  t.ok(after.includes('update a') && after.includes('delete b') && after.includes('add d') && after.includes('update c'), `every change reached the handlers: ${after.join(', ')}`)
  t.notOk(after.some(entry => entry.endsWith('short-lived')), 'what came and went while cut is collapsed away')

  // and it keeps watching normally afterwards
  await client.create<KubeObject>(RESOURCES.configmaps, namespace, { metadata: { name: 'e' } })
  await until(() => objects.has('e'))
  t.same([...informer.list().map((o: KubeObject) => o.metadata.name)].sort(), ['a', 'c', 'd', 'e'])
  informer.stop()
  const calls = gated.watchCalls
  await client.create<KubeObject>(RESOURCES.configmaps, namespace, { metadata: { name: 'f' } })
  await new Promise(resolve => setTimeout(resolve, 50))
  t.notOk(objects.has('f'), 'stop() ends everything')
  t.equal(gated.watchCalls, calls)
}
