import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { deployment, harness, pod, rejectsStatus } from './helpers.ts'

type Containers = { containers: Array<Record<string, unknown>> }

t.test('merge patch: null deletes, lists are replaced', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'c', labels: { a: '1', b: '2' } }, data: { x: '1', y: '2' } })
  const patched = await client.patch(RESOURCES.configmaps, 'default', 'c', { metadata: { labels: { a: null, c: '3' } }, data: { y: null } }, 'merge')
  t.same(patched.metadata.labels, { b: '2', c: '3' })
  t.same(patched.data, { x: '1' })
})

t.test('strategic merge patch merges keyed lists; treated as merge patch elsewhere', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.deployments, 'default', {
    ...deployment('web'),
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }] }, { name: 'b', image: 'b:1' }] },
      },
    },
  })
  const patched = await client.patch(
    RESOURCES.deployments,
    'default',
    'web',
    { spec: { template: { spec: { containers: [{ name: 'b', image: 'b:2' }, { name: 'c', image: 'c:1' }] } } } },
    'strategic',
  )
  const containers = ((patched.spec as { template: { spec: Containers } }).template.spec.containers)
  t.same(containers.map(c => `${c.name}=${c.image}`), ['a=a:1', 'b=b:2', 'c=c:1'])
  t.same(containers[0]?.env, [{ name: 'X', value: '1' }])
  const deleted = await client.patch(RESOURCES.deployments, 'default', 'web', { spec: { template: { spec: { containers: [{ name: 'c', $patch: 'delete' }] } } } }, 'strategic')
  t.same((deleted.spec as { template: { spec: Containers } }).template.spec.containers.map(c => c.name), ['a', 'b'])
  const ordered = await client.patch(
    RESOURCES.deployments,
    'default',
    'web',
    { spec: { template: { spec: { $setElementOrder: undefined, '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [{ name: 'a', image: 'a:3' }] } } } },
    'strategic',
  )
  t.same((ordered.spec as { template: { spec: Containers } }).template.spec.containers.map(c => `${c.name}=${c.image}`), ['b=b:2', 'a=a:3'])
})

t.test('JSON patch (RFC 6902)', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('p', {}, { app: 'x' }))
  const patched = await client.patch(
    RESOURCES.pods,
    'default',
    'p',
    [
      { op: 'test', path: '/metadata/labels/app', value: 'x' },
      { op: 'add', path: '/metadata/labels/tier', value: 'web' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.27' },
      { op: 'remove', path: '/metadata/labels/app' },
    ],
    'json',
  )
  t.same(patched.metadata.labels, { tier: 'web' })
  t.equal((patched.spec as Containers).containers[0]?.image, 'nginx:1.27')
  const err = await rejectsStatus(t, client.patch(RESOURCES.pods, 'default', 'p', [{ op: 'test', path: '/metadata/labels/tier', value: 'db' }], 'json'), 422, 'the server rejected our request due to an error in our request', 'Invalid')
  t.same(err?.status.details?.causes, [{ reason: 'UnexpectedServerResponse', message: 'testing value /metadata/labels/tier failed: test failed' }])
  await rejectsStatus(t, client.patch(RESOURCES.pods, 'default', 'p', [{ op: 'remove', path: '/metadata/nothing/here' }], 'json'), 422, 'the server rejected our request due to an error in our request')
  await rejectsStatus(t, client.patch(RESOURCES.pods, 'default', 'p', { not: 'a list' }, 'json'), 400, /cannot unmarshal/)
})

t.test('a patch that names a resourceVersion is conditional', async t => {
  const { client } = await harness(t)
  const created = await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'c' }, data: { a: '1' } })
  const ok = await client.patch(RESOURCES.configmaps, 'default', 'c', { metadata: { resourceVersion: created.metadata.resourceVersion }, data: { a: '2' } })
  t.same(ok.data, { a: '2' })
  await rejectsStatus(
    t,
    client.patch(RESOURCES.configmaps, 'default', 'c', { metadata: { resourceVersion: created.metadata.resourceVersion }, data: { a: '3' } }),
    409,
    'Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again',
  )
})

t.test('concurrent unconditional patches all apply (retried on conflicts)', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'c' }, data: {} })
  await Promise.all(Array.from({ length: 20 }, (_, i) => client.patch(RESOURCES.configmaps, 'default', 'c', { data: { [`k${i}`]: String(i) } })))
  const final = await client.get(RESOURCES.configmaps, 'default', 'c')
  t.equal(Object.keys(final.data as object).length, 20)
})

t.test('status patches change only status', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('p'))
  const patched = await client.patch(RESOURCES.pods, 'default', 'p', { metadata: { labels: { no: 'pe' } }, status: { phase: 'Running' } }, 'merge', 'status')
  t.equal((patched.status as { phase: string }).phase, 'Running')
  t.same(patched.metadata.labels, {})
  const main = await client.patch(RESOURCES.pods, 'default', 'p', { status: { phase: 'Failed' } })
  t.equal((main.status as { phase: string }).phase, 'Running')
})

t.test('unknown patch media types are 415', async t => {
  const { handler } = await harness(t)
  const res = await handler.handle({ verb: 'patch', ref: RESOURCES.pods, namespace: 'default', name: 'x', body: {}, contentType: 'application/apply-patch+yaml' })
  t.equal(res.status, 415)
  t.match(res.body, { reason: 'UnsupportedMediaType', message: /^the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/strategic-merge-patch\+json$/ })
  const missing = await handler.handle({ verb: 'patch', ref: RESOURCES.pods, namespace: 'default', name: 'x', body: {}, contentType: 'application/merge-patch+json; charset=utf-8' })
  t.equal(missing.status, 404, 'parameters after ; are ignored')
  t.equal((missing.body as KubeObject & { message: string }).message, 'pods "x" not found')
})
