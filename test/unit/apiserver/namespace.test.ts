import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { deployment, harness, pod, rejectsStatus, watchLog } from './helpers.ts'

t.test('deleting a namespace deletes everything in it, then the namespace', async t => {
  const { client, handler } = await harness(t)
  await client.create<KubeObject>(RESOURCES.namespaces, undefined, { metadata: { name: 'team' } })
  await client.create<KubeObject>(RESOURCES.pods, 'team', pod('p'))
  await client.create<KubeObject>(RESOURCES.configmaps, 'team', { metadata: { name: 'c' } })
  await client.create<KubeObject>(RESOURCES.deployments, 'team', deployment('d'))
  await client.create<KubeObject>(RESOURCES.services, 'team', { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } })
  await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'keep' } })
  const nsLog = await watchLog(t, client, RESOURCES.namespaces, undefined)
  const answer = await client.delete(RESOURCES.namespaces, undefined, 'team')
  t.equal(answer.kind, 'Namespace')
  t.equal((answer.status as { phase: string }).phase, 'Terminating')
  t.ok(answer.metadata.deletionTimestamp)
  await nsLog.until(e => e.some(x => x.type === 'DELETED'))
  await handler.idle()
  await rejectsStatus(t, client.get(RESOURCES.namespaces, undefined, 'team'), 404, 'namespaces "team" not found')
  for (const ref of [RESOURCES.pods, RESOURCES.configmaps, RESOURCES.deployments, RESOURCES.services]) {
    t.same((await client.list(ref, 'team')).items, [], `no ${ref.resource} left`)
  }
  t.equal((await client.list(RESOURCES.configmaps, 'default')).items.length, 1, 'other namespaces untouched')
})

t.test('a bound pod keeps its namespace Terminating until the node agent deletes it', async t => {
  const { client, handler } = await harness(t)
  await client.create<KubeObject>(RESOURCES.namespaces, undefined, { metadata: { name: 'team' } })
  await client.create<KubeObject>(RESOURCES.pods, 'team', pod('p', { nodeName: 'node-1' }))
  await client.delete(RESOURCES.namespaces, undefined, 'team')
  const podLog = await watchLog(t, client, RESOURCES.pods, 'team', { resourceVersion: '0' })
  await podLog.until(e => e.some(x => x.type === 'MODIFIED' || (x.type === 'ADDED' && x.object.metadata.deletionTimestamp !== undefined)))
  await handler.idle()
  const ns = await client.get(RESOURCES.namespaces, undefined, 'team')
  t.equal((ns.status as { phase: string }).phase, 'Terminating')
  const p = await client.get(RESOURCES.pods, 'team', 'p')
  t.equal(p.metadata.deletionGracePeriodSeconds, 30)
  await rejectsStatus(
    t,
    client.create<KubeObject>(RESOURCES.configmaps, 'team', { metadata: { name: 'late' } }),
    403,
    'configmaps "late" is forbidden: unable to create new content in namespace team because it is being terminated',
    'Forbidden',
  )
  const nsLog = await watchLog(t, client, RESOURCES.namespaces, undefined)
  await client.delete(RESOURCES.pods, 'team', 'p', { gracePeriodSeconds: 0 })
  await nsLog.until(e => e.some(x => x.type === 'DELETED' && x.object.metadata.name === 'team'))
  await rejectsStatus(t, client.get(RESOURCES.namespaces, undefined, 'team'), 404, 'namespaces "team" not found')
})

t.test('default, kube-system and kube-public may not be deleted', async t => {
  const { client } = await harness(t)
  for (const name of ['default', 'kube-system', 'kube-public']) {
    await rejectsStatus(t, client.delete(RESOURCES.namespaces, undefined, name), 403, `namespaces "${name}" is forbidden: this namespace may not be deleted`)
  }
})

t.test('spec.finalizers cannot be changed by an update', async t => {
  const { client } = await harness(t)
  const ns = await client.create<KubeObject>(RESOURCES.namespaces, undefined, { metadata: { name: 'x' }, spec: { finalizers: [] } })
  t.same(ns.spec, { finalizers: ['kubernetes'] })
  const patched = await client.patch(RESOURCES.namespaces, undefined, 'x', { spec: { finalizers: [] } })
  t.same(patched.spec, { finalizers: ['kubernetes'] })
})

t.test('terminating namespaces are finished after a restart', async t => {
  const { client, store, handler } = await harness(t)
  await client.create<KubeObject>(RESOURCES.namespaces, undefined, { metadata: { name: 'team' } })
  await client.create<KubeObject>(RESOURCES.pods, 'team', pod('p', { nodeName: 'n' }))
  await client.delete(RESOURCES.namespaces, undefined, 'team')
  await handler.idle()
  await handler.close()
  const { ApiHandler } = await import('../../../control/apiserver/api-handler.ts')
  const { LocalClient } = await import('../../../control/client/local-client.ts')
  const second = await ApiHandler.start(store)
  t.teardown(() => second.close())
  const again = new LocalClient(second)
  const log = await watchLog(t, again, RESOURCES.namespaces, undefined)
  await again.delete(RESOURCES.pods, 'team', 'p', { gracePeriodSeconds: 0 })
  await log.until(e => e.some(x => x.type === 'DELETED'))
  t.pass('the new handler removed the namespace')
})
