import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { harness, pod, rejectsStatus } from './helpers.ts'

t.test('list: items, list kind and resourceVersion; one namespace or all', async t => {
  const { client, store, handler } = await harness(t)
  await client.create<KubeObject>(RESOURCES.namespaces, undefined, { metadata: { name: 'other' } })
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('a', {}, { app: 'web', tier: 'front' }))
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('b', { nodeName: 'node-1' }, { app: 'web' }))
  await client.create<KubeObject>(RESOURCES.pods, 'other', pod('c', { nodeName: 'node-1' }, { app: 'db' }))
  const list = await client.list(RESOURCES.pods, 'default')
  t.equal(list.kind, 'PodList')
  t.equal(list.apiVersion, 'v1')
  t.equal(list.metadata.resourceVersion, String(await store.revision()))
  t.same(list.items.map(p => p.metadata.name), ['a', 'b'])
  t.same((await client.list(RESOURCES.pods, undefined)).items.map(p => p.metadata.name), ['a', 'b', 'c'])
  const deployments = await client.list(RESOURCES.deployments, undefined)
  t.equal(deployments.kind, 'DeploymentList')
  t.equal(deployments.apiVersion, 'apps/v1')
  const res = await handler.handle({ verb: 'list', ref: RESOURCES.nodes, namespace: 'default' })
  t.equal(res.status, 404, 'cluster-scoped kinds have no namespace')
})

t.test('label and field selectors', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('a', {}, { app: 'web', tier: 'front' }))
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('b', { nodeName: 'node-1' }, { app: 'web' }))
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('c', { nodeName: 'node-2' }, { app: 'db' }))
  const names = async (options: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> =>
    (await client.list(RESOURCES.pods, 'default', options)).items.map(p => p.metadata.name ?? '')
  t.same(await names({ labelSelector: 'app=web' }), ['a', 'b'])
  t.same(await names({ labelSelector: 'app in (web,db),!tier' }), ['b', 'c'])
  t.same(await names({ fieldSelector: 'spec.nodeName=node-1' }), ['b'])
  t.same(await names({ fieldSelector: 'spec.nodeName=' }), ['a'], 'unscheduled pods')
  t.same(await names({ fieldSelector: 'metadata.name!=a,status.phase=Pending', labelSelector: 'app=web' }), ['b'])
  await rejectsStatus(t, client.list(RESOURCES.pods, 'default', { fieldSelector: 'spec.image=x' }), 400, 'field label not supported: spec.image', 'BadRequest')
  await rejectsStatus(t, client.list(RESOURCES.pods, 'default', { labelSelector: 'app in (web' }), 400, /^unable to parse requirement|found '', expected/)
})
