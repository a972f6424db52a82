import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { deployment, harness, pod, rejectsStatus } from './helpers.ts'

const CONFLICT = 'the object has been modified; please apply your changes to the latest version and try again'

t.test('a stale resourceVersion is a Conflict with the Kubernetes message', async t => {
  const { client } = await harness(t)
  const first = await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'c' }, data: { a: '1' } })
  const second = await client.update<KubeObject>(RESOURCES.configmaps, 'default', { ...first, data: { a: '2' } })
  t.not(second.metadata.resourceVersion, first.metadata.resourceVersion)
  const err = await rejectsStatus(t, client.update<KubeObject>(RESOURCES.configmaps, 'default', { ...first, data: { a: '3' } }), 409, `Operation cannot be fulfilled on configmaps "c": ${CONFLICT}`, 'Conflict')
  t.same(err?.status.details, { name: 'c', kind: 'configmaps' })
  await client.create<KubeObject>(RESOURCES.deployments, 'default', deployment('web'))
  const d = await client.get(RESOURCES.deployments, 'default', 'web')
  await client.update<KubeObject>(RESOURCES.deployments, 'default', d)
  await client.patch(RESOURCES.deployments, 'default', 'web', { metadata: { labels: { x: 'y' } } })
  await rejectsStatus(t, client.update<KubeObject>(RESOURCES.deployments, 'default', d), 409, `Operation cannot be fulfilled on deployments.apps "web": ${CONFLICT}`)
})

t.test('an empty resourceVersion updates unconditionally', async t => {
  const { client } = await harness(t)
  const first = await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'c' }, data: { a: '1' } })
  await client.update<KubeObject>(RESOURCES.configmaps, 'default', { ...first, data: { a: '2' } })
  const { resourceVersion, ...meta } = first.metadata
  t.ok(resourceVersion)
  const third = await client.update<KubeObject>(RESOURCES.configmaps, 'default', { ...first, metadata: meta, data: { a: '3' } })
  t.same(third.data, { a: '3' })
  t.equal(third.metadata.uid, first.metadata.uid)
  t.equal(third.metadata.creationTimestamp, first.metadata.creationTimestamp)
})

t.test('update of something missing is NotFound; names must agree', async t => {
  const { client, handler } = await harness(t)
  await rejectsStatus(t, client.update<KubeObject>(RESOURCES.pods, 'default', pod('ghost')), 404, 'pods "ghost" not found')
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('a'))
  const res = await handler.handle({ verb: 'update', ref: RESOURCES.pods, namespace: 'default', name: 'a', body: pod('b') })
  t.equal(res.status, 400)
  t.equal((res.body as { message: string }).message, 'the name of the object (b) does not match the name on the URL (a)')
})

t.test('generation grows only when spec changes', async t => {
  const { client } = await harness(t)
  const d = await client.create<KubeObject>(RESOURCES.deployments, 'default', deployment('web'))
  t.equal(d.metadata.generation, 1)
  const labelled = await client.patch(RESOURCES.deployments, 'default', 'web', { metadata: { labels: { team: 'a' } } })
  t.equal(labelled.metadata.generation, 1, 'labels are not spec')
  const scaled = await client.patch(RESOURCES.deployments, 'default', 'web', { spec: { replicas: 5 } })
  t.equal(scaled.metadata.generation, 2)
  const status = await client.patch(RESOURCES.deployments, 'default', 'web', { status: { replicas: 5, observedGeneration: 2 } }, 'merge', 'status')
  t.equal(status.metadata.generation, 2, 'status is not spec')
  const annotated = await client.patch(RESOURCES.deployments, 'default', 'web', { metadata: { annotations: { note: 'x' } } })
  t.equal(annotated.metadata.generation, 3, 'deployment annotations count (they are copied to ReplicaSets)')
  const userGen = await client.update<KubeObject>(RESOURCES.deployments, 'default', { ...annotated, metadata: { ...annotated.metadata, generation: 99 } })
  t.equal(userGen.metadata.generation, 3, 'clients cannot set generation')
})

t.test('status is ignored on main-resource writes and only status is taken on /status writes', async t => {
  const { client } = await harness(t)
  const created = await client.create<KubeObject>(RESOURCES.pods, 'default', { ...pod('p'), status: { phase: 'Running' } })
  t.same(created.status, { phase: 'Pending', qosClass: 'BestEffort' }, 'status on create is the server\'s')
  const main = await client.update<KubeObject>(RESOURCES.pods, 'default', { ...created, metadata: { ...created.metadata, labels: { a: 'b' } }, status: { phase: 'Failed' } })
  t.equal((main.status as { phase: string }).phase, 'Pending')
  t.same(main.metadata.labels, { a: 'b' })
  const viaStatus = await client.update<KubeObject>(
    RESOURCES.pods,
    'default',
    { ...main, metadata: { ...main.metadata, labels: { changed: 'yes' } }, spec: { containers: [] }, status: { phase: 'Running', podIP: '10.244.1.2' } },
    'status',
  )
  t.same(viaStatus.status, { phase: 'Running', podIP: '10.244.1.2' })
  t.same(viaStatus.metadata.labels, { a: 'b' }, 'metadata untouched by /status')
  t.equal((viaStatus.spec as { containers: unknown[] }).containers.length, 1, 'spec untouched by /status')
  await rejectsStatus(t, client.update<KubeObject>(RESOURCES.pods, 'default', { ...main, status: { phase: 'x' } }, 'status'), 409, `Operation cannot be fulfilled on pods "p": ${CONFLICT}`)
  // kinds without a status subresource keep what the client writes
  const cm = await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'c' }, data: { a: 'b' } })
  t.same(cm.data, { a: 'b' })
  await rejectsStatus(t, client.get(RESOURCES.configmaps, 'default', 'c', 'status'), 404, 'the server could not find the requested resource')
})

t.test('a write that changes nothing keeps the resourceVersion', async t => {
  const { client, store } = await harness(t)
  const created = await client.create<KubeObject>(RESOURCES.pods, 'default', pod('p'))
  const before = await store.revision()
  const same = await client.update<KubeObject>(RESOURCES.pods, 'default', created)
  t.equal(same.metadata.resourceVersion, created.metadata.resourceVersion)
  const patched = await client.patch(RESOURCES.pods, 'default', 'p', { metadata: { labels: {} } })
  t.equal(patched.metadata.resourceVersion, created.metadata.resourceVersion)
  t.equal(await store.revision(), before)
})

t.test('immutable fields', async t => {
  const { client } = await harness(t)
  const p = await client.create<KubeObject>(RESOURCES.pods, 'default', pod('p'))
  await rejectsStatus(t, client.update<KubeObject>(RESOURCES.pods, 'default', { ...p, metadata: { ...p.metadata, uid: 'other' } }), 422, 'Pod "p" is invalid: metadata.uid: Invalid value: "other": field is immutable')
  await rejectsStatus(t, client.patch(RESOURCES.pods, 'default', 'p', { spec: { restartPolicy: 'Never' } }), 422, /^Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/)
  const image = await client.patch(RESOURCES.pods, 'default', 'p', { spec: { containers: [{ name: 'main', image: 'nginx:1.26' }] } }, 'strategic')
  t.equal((image.spec as { containers: Array<{ image: string }> }).containers[0]?.image, 'nginx:1.26')
  t.equal(image.metadata.generation, 2)
  const bound = await client.patch(RESOURCES.pods, 'default', 'p', { spec: { nodeName: 'node-1' } })
  t.equal((bound.spec as { nodeName: string }).nodeName, 'node-1', 'nodeName may be set once')
  await rejectsStatus(t, client.patch(RESOURCES.pods, 'default', 'p', { spec: { nodeName: 'node-2' } }), 422, /spec: Forbidden/)
  await client.create<KubeObject>(RESOURCES.deployments, 'default', deployment('web'))
  await rejectsStatus(
    t,
    client.patch(RESOURCES.deployments, 'default', 'web', { spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } } } } }),
    422,
    'Deployment.apps "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"x"}}: field is immutable',
  )
})

t.test('pods/binding sets nodeName and PodScheduled, once', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('p'))
  const status = await client.create<KubeObject>(RESOURCES.pods, 'default', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'node-1' } } as KubeObject, 'binding')
  t.same(status, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 })
  const bound = await client.get(RESOURCES.pods, 'default', 'p')
  t.equal((bound.spec as { nodeName: string }).nodeName, 'node-1')
  t.match((bound.status as { conditions: unknown[] }).conditions, [{ type: 'PodScheduled', status: 'True' }])
  await rejectsStatus(
    t,
    client.create<KubeObject>(RESOURCES.pods, 'default', { metadata: { name: 'p' }, target: { kind: 'Node', name: 'node-2' } } as KubeObject, 'binding'),
    409,
    'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "node-1"',
  )
})
