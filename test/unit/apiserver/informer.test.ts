import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { createInformer } from '../../../control/client/informer.ts'
import { harness, pod } from './helpers.ts'
import { informerSurvivesExpiry } from './informer-behaviour.ts'

t.test('an informer survives a 410 without missing a change (in-process)', async t => {
  const { client } = await harness(t, { watchCacheSize: 3 })
  await informerSurvivesExpiry(t, client)
})

t.test('selectors, late handlers, cluster-wide keys', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('web', { nodeName: 'node-1' }, { app: 'web' }))
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('db', { nodeName: 'node-2' }, { app: 'db' }))
  const informer = createInformer(client, RESOURCES.pods, { fieldSelector: 'spec.nodeName=node-1' })
  t.teardown(() => informer.stop())
  await informer.synced
  t.same(informer.list().map(p => p.metadata.name), ['web'])
  const late: string[] = []
  informer.on('add', p => late.push(p.metadata.name ?? ''))
  t.same(late, ['web'], 'a handler added after sync hears about the cache')
  const nodes = createInformer(client, RESOURCES.namespaces)
  t.teardown(() => nodes.stop())
  await nodes.synced
  t.ok(nodes.get('default'), 'cluster-scoped objects are keyed by name')
})
