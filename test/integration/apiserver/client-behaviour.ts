// What every ApiClient transport must do the same way: CRUD on pods,
// deployments (with scale) and services, watch, and Status errors with the
// same code and message. Run over HTTPS (HttpClient) and in-process (LocalClient).

import { StatusError } from '../../../control/api/status-error.ts'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { ApiClient, KubeObject, WatchEvent } from '../../../control/client/api-client.ts'
import type { TapTest } from '../../unit/apiserver/helpers.ts'
import { deployment, pod } from '../../unit/apiserver/helpers.ts'

async function statusOf(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof StatusError) return err
    throw err
  }
  throw new Error('expected a StatusError')
}

export async function clientBehaviour(t: TapTest, client: ApiClient, namespace: string): Promise<void> {
  await client.create<KubeObject>(RESOURCES.namespaces, undefined, { metadata: { name: namespace } })
  const events: WatchEvent[] = []
  let wake: () => void = () => {}
  const watch = await client.watch(RESOURCES.pods, namespace, { labelSelector: 'app=web' }, event => {
    events.push(event)
    wake()
  })
  t.teardown(() => watch.stop())

  const created = await client.create<KubeObject>(RESOURCES.pods, namespace, pod('web', {}, { app: 'web' }))
  t.equal(created.metadata.namespace, namespace)
  created.metadata.labels = { ...created.metadata.labels, mutable: 'yes' }
  t.pass('results are the caller\'s to change')
  const patched = await client.patch(RESOURCES.pods, namespace, 'web', { metadata: { labels: { tier: 'a' } } })
  const json = await client.patch(RESOURCES.pods, namespace, 'web', [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }], 'json')
  t.same(json.metadata.annotations, { a: 'b' })
  const replaced = await client.update<KubeObject>(RESOURCES.pods, namespace, { ...json, metadata: { ...json.metadata, labels: { app: 'web', tier: 'b' } } })
  t.equal(replaced.metadata.labels?.tier, 'b')
  const conflict = await statusOf(client.update(RESOURCES.pods, namespace, patched))
  t.equal(conflict.code, 'Conflict')
  t.equal(conflict.statusCode, 409)
  t.equal(conflict.message, 'Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again')
  const status = await client.patch(RESOURCES.pods, namespace, 'web', { status: { phase: 'Running' } }, 'merge', 'status')
  t.equal((status.status as { phase: string }).phase, 'Running')
  await client.create<KubeObject>(RESOURCES.pods, namespace, { metadata: { name: 'web' }, target: { kind: 'Node', name: 'node-1' } }, 'binding')
  const bound = await client.get(RESOURCES.pods, namespace, 'web')
  t.equal((bound.spec as { nodeName: string }).nodeName, 'node-1')
  const graceful = await client.delete(RESOURCES.pods, namespace, 'web')
  t.ok(graceful.metadata.deletionTimestamp, 'a bound pod is marked, not removed')
  await client.delete(RESOURCES.pods, namespace, 'web', { gracePeriodSeconds: 0 })
  const notFound = await statusOf(client.get(RESOURCES.pods, namespace, 'web'))
  t.equal(notFound.code, 'NotFound')
  t.equal(notFound.message, 'pods "web" not found')
  while (!events.some(e => e.type === 'DELETED')) await new Promise<void>(resolve => { wake = resolve })
  t.same(
    events.map(e => `${e.type} ${e.object.metadata.labels?.tier ?? '-'}`),
    ['ADDED -', 'MODIFIED a', 'MODIFIED a', 'MODIFIED b', 'MODIFIED b', 'MODIFIED b', 'MODIFIED b', 'MODIFIED b', 'DELETED b'],
  )
  t.ok(Object.isFrozen(events[0]?.object), 'watch event objects are frozen')

  await client.create<KubeObject>(RESOURCES.deployments, namespace, deployment('web', 2))
  const scale = await client.get(RESOURCES.deployments, namespace, 'web', 'scale')
  t.equal((scale.spec as { replicas: number }).replicas, 2)
  await client.update<KubeObject>(RESOURCES.deployments, namespace, { ...scale, spec: { replicas: 3 } }, 'scale')
  const scaled = await client.patch(RESOURCES.deployments, namespace, 'web', { spec: { replicas: 5 } }, 'merge', 'scale')
  t.equal((scaled.spec as { replicas: number }).replicas, 5)
  const invalid = await statusOf(client.patch(RESOURCES.deployments, namespace, 'web', { spec: { replicas: -1 } }))
  t.equal(invalid.statusCode, 422)
  t.equal(invalid.message, 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0')
  const gone = await client.delete(RESOURCES.deployments, namespace, 'web')
  t.equal(gone.kind, 'Status')

  const svc = await client.create<KubeObject>(RESOURCES.services, namespace, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
  t.match((svc.spec as { clusterIP: string }).clusterIP, /^10\./)
  const list = await client.list(RESOURCES.services, namespace)
  t.same(list.items.map(s => s.metadata.name), ['web'])
  await client.delete(RESOURCES.services, namespace, 'web')

  const ns = await client.delete(RESOURCES.namespaces, undefined, namespace)
  t.equal((ns.status as { phase: string }).phase, 'Terminating')
}
