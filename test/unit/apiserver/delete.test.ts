import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { deployment, harness, pod, rejectsStatus, watchLog } from './helpers.ts'

let clock = new Date('2025-03-01T12:00:00Z')
const now = (): Date => clock

t.test('an unscheduled pod goes at once; the answer is the pod', async t => {
  const { client } = await harness(t)
  const log = await watchLog(t, client, RESOURCES.pods, 'default')
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('p'))
  const answer = await client.delete(RESOURCES.pods, 'default', 'p')
  t.equal(answer.kind, 'Pod')
  await rejectsStatus(t, client.get(RESOURCES.pods, 'default', 'p'), 404, 'pods "p" not found')
  await log.until(e => e.some(x => x.type === 'DELETED'))
  t.same(log.summary(), ['ADDED p', 'MODIFIED p', 'DELETED p'], 'like kube: marked with grace 0, then removed')
})

t.test('a pod bound to a node is deleted gracefully', async t => {
  clock = new Date('2025-03-01T12:00:00Z')
  const { client } = await harness(t, { now })
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('p', { nodeName: 'node-1', terminationGracePeriodSeconds: 45 }))
  const marked = await client.delete(RESOURCES.pods, 'default', 'p')
  t.equal(marked.metadata.deletionTimestamp, '2025-03-01T12:00:45Z')
  t.equal(marked.metadata.deletionGracePeriodSeconds, 45)
  t.equal(marked.metadata.generation, 2, 'graceful deletion bumps generation')
  const still = await client.get(RESOURCES.pods, 'default', 'p')
  t.equal(still.metadata.deletionTimestamp, '2025-03-01T12:00:45Z')

  clock = new Date('2025-03-01T12:00:05Z')
  const again = await client.delete(RESOURCES.pods, 'default', 'p')
  t.equal(again.metadata.resourceVersion, still.metadata.resourceVersion, 'a repeated delete changes nothing')
  const longer = await client.delete(RESOURCES.pods, 'default', 'p', { gracePeriodSeconds: 100 })
  t.equal(longer.metadata.deletionGracePeriodSeconds, 45, 'the period may only shrink')
  const shorter = await client.delete(RESOURCES.pods, 'default', 'p', { gracePeriodSeconds: 10 })
  t.equal(shorter.metadata.deletionGracePeriodSeconds, 10)
  t.equal(shorter.metadata.deletionTimestamp, '2025-03-01T12:00:10Z', 'counted from the first request')

  // The node agent, once the processes are gone:
  const gone = await client.delete(RESOURCES.pods, 'default', 'p', { gracePeriodSeconds: 0 })
  t.equal(gone.metadata.name, 'p')
  await rejectsStatus(t, client.get(RESOURCES.pods, 'default', 'p'), 404, 'pods "p" not found')
})

t.test('default grace period is 30 s; terminated pods go at once', async t => {
  clock = new Date('2025-03-01T12:00:00Z')
  const { client } = await harness(t, { now })
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('p', { nodeName: 'n' }))
  t.equal((await client.delete(RESOURCES.pods, 'default', 'p')).metadata.deletionGracePeriodSeconds, 30)
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('done', { nodeName: 'n' }))
  await client.patch(RESOURCES.pods, 'default', 'done', { status: { phase: 'Succeeded' } }, 'merge', 'status')
  await client.delete(RESOURCES.pods, 'default', 'done')
  await rejectsStatus(t, client.get(RESOURCES.pods, 'default', 'done'), 404, 'pods "done" not found')
})

t.test('finalizers hold an object until the last one goes', async t => {
  clock = new Date('2025-03-01T12:00:00Z')
  const { client } = await harness(t, { now })
  await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'c', finalizers: ['example.com/a', 'example.com/b'] } })
  const marked = await client.delete(RESOURCES.configmaps, 'default', 'c')
  t.equal(marked.kind, 'ConfigMap', 'while it exists the answer is the object')
  t.equal(marked.metadata.deletionTimestamp, '2025-03-01T12:00:00Z')
  t.equal(marked.metadata.deletionGracePeriodSeconds, 0)
  await rejectsStatus(
    t,
    client.patch(RESOURCES.configmaps, 'default', 'c', { metadata: { finalizers: ['example.com/a', 'example.com/b', 'example.com/new'] } }),
    422,
    'ConfigMap "c" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ["example.com/new"]',
  )
  const one = await client.patch(RESOURCES.configmaps, 'default', 'c', { metadata: { finalizers: ['example.com/b'] } })
  t.same(one.metadata.finalizers, ['example.com/b'])
  const log = await watchLog(t, client, RESOURCES.configmaps, 'default')
  await client.patch(RESOURCES.configmaps, 'default', 'c', { metadata: { finalizers: null } })
  await rejectsStatus(t, client.get(RESOURCES.configmaps, 'default', 'c'), 404, 'configmaps "c" not found')
  await log.until(e => e.length >= 1)
  t.same(log.summary(), ['DELETED c'], 'removing the last finalizer deletes, without an intermediate MODIFIED')
})

t.test('propagationPolicy is recorded as Kubernetes records it', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.deployments, 'default', deployment('orphan'))
  const orphan = await client.delete(RESOURCES.deployments, 'default', 'orphan', { propagationPolicy: 'Orphan' })
  t.same(orphan.metadata.finalizers, ['orphan'])
  t.ok(orphan.metadata.deletionTimestamp)
  t.equal(orphan.metadata.generation, 2)
  await client.create<KubeObject>(RESOURCES.deployments, 'default', deployment('fg'))
  const fg = await client.delete(RESOURCES.deployments, 'default', 'fg', { propagationPolicy: 'Foreground' })
  t.same(fg.metadata.finalizers, ['foregroundDeletion'])
  await client.create<KubeObject>(RESOURCES.deployments, 'default', deployment('bg'))
  const bg = await client.delete(RESOURCES.deployments, 'default', 'bg', { propagationPolicy: 'Background' })
  t.same(bg, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'bg', group: 'apps', kind: 'deployments', uid: bg.details && (bg.details as { uid: string }).uid } })
  await rejectsStatus(t, client.delete(RESOURCES.deployments, 'default', 'x', { propagationPolicy: 'Sideways' as 'Orphan' }), 422, 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan"')
})

t.test('preconditions', async t => {
  const { client } = await harness(t)
  const d = await client.create<KubeObject>(RESOURCES.deployments, 'default', deployment('web'))
  await rejectsStatus(
    t,
    client.delete(RESOURCES.deployments, 'default', 'web', { preconditions: { uid: 'other' } }),
    409,
    `Operation cannot be fulfilled on Deployment.apps "web": the UID in the precondition (other) does not match the UID in record (${d.metadata.uid}). The object might have been deleted and then recreated`,
  )
  await rejectsStatus(
    t,
    client.delete(RESOURCES.deployments, 'default', 'web', { preconditions: { resourceVersion: '1' } }),
    409,
    `Operation cannot be fulfilled on Deployment.apps "web": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (${d.metadata.resourceVersion}). The object might have been modified`,
  )
  const ok = await client.delete(RESOURCES.deployments, 'default', 'web', { preconditions: { uid: d.metadata.uid, resourceVersion: d.metadata.resourceVersion } })
  t.equal(ok.kind, 'Status')
  await rejectsStatus(t, client.delete(RESOURCES.deployments, 'default', 'web'), 404, 'deployments.apps "web" not found')
})

t.test('deletecollection deletes what the selectors select', async t => {
  const { handler, client } = await harness(t)
  for (const [name, app] of [['a', 'x'], ['b', 'x'], ['c', 'y']] as const) {
    await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name, labels: { app } } })
  }
  const res = await handler.handle({ verb: 'deletecollection', ref: RESOURCES.configmaps, namespace: 'default', query: { labelSelector: 'app=x' } })
  t.equal(res.status, 200)
  t.same((res.body as { items: KubeObject[] }).items.map(i => i.metadata.name), ['a', 'b'])
  t.same((await client.list(RESOURCES.configmaps, 'default')).items.map(i => i.metadata.name), ['c'])
})
