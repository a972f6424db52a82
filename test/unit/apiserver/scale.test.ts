import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { deployment, harness, rejectsStatus } from './helpers.ts'

t.test('the scale subresource reads and writes spec.replicas', async t => {
  const { client } = await harness(t)
  const d = await client.create<KubeObject>(RESOURCES.deployments, 'default', deployment('web', 2))
  await client.patch(RESOURCES.deployments, 'default', 'web', { status: { replicas: 2 } }, 'merge', 'status')
  const scale = await client.get(RESOURCES.deployments, 'default', 'web', 'scale')
  t.same(scale, {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: 'web', namespace: 'default', uid: d.metadata.uid, resourceVersion: scale.metadata.resourceVersion, creationTimestamp: d.metadata.creationTimestamp },
    spec: { replicas: 2 },
    status: { replicas: 2, selector: 'app=web' },
  })
  const updated = await client.update<KubeObject>(RESOURCES.deployments, 'default', { ...scale, spec: { replicas: 5 } }, 'scale')
  t.equal((updated.spec as { replicas: number }).replicas, 5)
  const after = await client.get(RESOURCES.deployments, 'default', 'web')
  t.equal((after.spec as { replicas: number }).replicas, 5)
  t.equal(after.metadata.generation, 2)
  await rejectsStatus(
    t,
    client.update<KubeObject>(RESOURCES.deployments, 'default', { ...scale, spec: { replicas: 1 } }, 'scale'),
    409,
    'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
  )
  await rejectsStatus(
    t,
    client.update<KubeObject>(RESOURCES.deployments, 'default', { kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: -1 } } as KubeObject, 'scale'),
    422,
    'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  )
  const patched = await client.patch(RESOURCES.deployments, 'default', 'web', { spec: { replicas: 0 } }, 'merge', 'scale')
  t.equal((patched.spec as { replicas: number }).replicas, 0)
  const json = await client.patch(RESOURCES.deployments, 'default', 'web', [{ op: 'replace', path: '/spec/replicas', value: 3 }], 'json', 'scale')
  t.equal((json.spec as { replicas: number }).replicas, 3)
})

t.test('replicasets scale too; other kinds have no scale', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.replicasets, 'default', { ...deployment('rs'), kind: 'ReplicaSet' })
  const scaled = await client.patch(RESOURCES.replicasets, 'default', 'rs', { spec: { replicas: 4 } }, 'merge', 'scale')
  t.equal((scaled.spec as { replicas: number }).replicas, 4)
  await rejectsStatus(t, client.get(RESOURCES.pods, 'default', 'x', 'scale'), 404, 'the server could not find the requested resource')
})
