// StatefulSet and PersistentVolumeClaim validation through the API handler:
// defaults, Kubernetes' field paths and texts, and which spec fields an
// update may change.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { harness, rejectsStatus } from './helpers.ts'

const sts = (spec: Record<string, unknown> = {}, name = 'web'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name },
  spec: {
    serviceName: 'web',
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'main', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
    },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    ...spec,
  },
})

const invalid = (detail: string): string => `StatefulSet.apps "web" is invalid: ${detail}`

t.test('defaults as apps/v1 has them', async t => {
  const { client } = await harness(t)
  const created = await client.create<KubeObject>(RESOURCES.statefulsets, 'default', sts())
  t.match(created.spec, {
    podManagementPolicy: 'OrderedReady',
    revisionHistoryLimit: 10,
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    template: { spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } },
    volumeClaimTemplates: [{ spec: { volumeMode: 'Filesystem' } }],
  })
  t.same(created.status, { replicas: 0, availableReplicas: 0 })
  t.equal(created.metadata.generation, 1)
  const onDelete = await client.create<KubeObject>(RESOURCES.statefulsets, 'default', sts({ updateStrategy: { type: 'OnDelete' } }, 'od'))
  t.same((onDelete.spec as { updateStrategy: unknown }).updateStrategy, { type: 'OnDelete' }, 'no rollingUpdate for OnDelete')
})

t.test('create is validated with Kubernetes paths and texts', async t => {
  const { client } = await harness(t)
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['bad policy', { podManagementPolicy: 'Random' }, `spec.podManagementPolicy: Invalid value: "Random": must be 'OrderedReady' or 'Parallel'`],
    ['bad strategy', { updateStrategy: { type: 'Sometimes' } }, `spec.updateStrategy: Invalid value: {"type":"Sometimes"}: must be 'RollingUpdate' or 'OnDelete'`],
    ['rollingUpdate with OnDelete', { updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }, `spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: only allowed for updateStrategy 'RollingUpdate'`],
    ['negative partition', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }, 'spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0'],
    ['negative replicas', { replicas: -1 }, 'spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
    ['retention', { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep', whenScaled: 'Retain' } }, 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"'],
    ['service name', { serviceName: 'Web_Svc' }, /^StatefulSet.apps "web" is invalid: spec.serviceName: Invalid value: "Web_Svc": a DNS-1035 label must consist of/ as unknown as string],
    ['selector mismatch', { selector: { matchLabels: { app: 'db' } } }, 'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`'],
    ['empty selector', { selector: {} }, 'spec.selector: Invalid value: {}: empty selector is invalid for statefulset'],
    ['restart policy', { template: { metadata: { labels: { app: 'web' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'nginx' }] } } }, 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ['claim without name', { volumeClaimTemplates: [{ metadata: {}, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] }, '[spec.template.spec.containers[0].volumeMounts[0].name: Not found: "data", spec.volumeClaimTemplates[0].metadata.name: Required value: name or generateName is required]'],
    ['claim without storage', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] }, 'spec.volumeClaimTemplates[0].spec.resources[storage]: Required value'],
    ['claim without access modes', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Gi' } } } }] }, 'spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is required'],
    ['zero storage', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '0' } } } }] }, 'spec.volumeClaimTemplates[0].spec.resources[storage]: Invalid value: "0": must be greater than zero'],
    ['mount of no volume or claim', { volumeClaimTemplates: [] }, 'spec.template.spec.containers[0].volumeMounts[0].name: Not found: "data"'],
  ]
  for (const [what, spec, message] of cases) {
    await rejectsStatus(t, client.create(RESOURCES.statefulsets, 'default', sts(spec)), 422,
      typeof message === 'string' ? invalid(message) : message, 'Invalid')
    t.comment(what)
  }
  await rejectsStatus(t, client.create(RESOURCES.statefulsets, 'default', sts({}, 'web.v1')), 422, /^StatefulSet.apps "web.v1" is invalid: metadata.name: Invalid value: "web.v1": a lowercase RFC 1123 label/)
})

t.test('an update may change only replicas, ordinals, template, updateStrategy, retention and minReadySeconds', async t => {
  const { client } = await harness(t)
  await client.create(RESOURCES.statefulsets, 'default', sts())
  const changed = await client.patch<KubeObject>(RESOURCES.statefulsets, 'default', 'web', {
    spec: {
      replicas: 5,
      minReadySeconds: 3,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
      template: { metadata: { labels: { app: 'web', v: '2' } } },
    },
  })
  t.equal(changed.metadata.generation, 2)
  const forbidden = invalid("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
  await rejectsStatus(t, client.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { serviceName: 'other' } }), 422, forbidden)
  await rejectsStatus(t, client.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { podManagementPolicy: 'Parallel' } }), 422, forbidden)
  await rejectsStatus(t, client.patch(RESOURCES.statefulsets, 'default', 'web', {
    spec: { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } }] },
  }), 422, forbidden)
  await rejectsStatus(t, client.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { selector: { matchLabels: { app: 'web', v: '2' } } } }), 422, forbidden)
  const after = await client.get<KubeObject>(RESOURCES.statefulsets, 'default', 'web')
  t.equal((after.spec as { serviceName: string }).serviceName, 'web', 'nothing half-applied')
  const scaled = await client.patch<KubeObject>(RESOURCES.statefulsets, 'default', 'web', { spec: { replicas: 1 } }, 'merge', 'scale')
  t.match(scaled, { kind: 'Scale', spec: { replicas: 1 } })
})

t.test('PersistentVolumeClaims: validation, Pending and protected on create, spec immutable but for requests', async t => {
  const { client } = await harness(t)
  const claim = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec })
  await rejectsStatus(t, client.create(RESOURCES.persistentvolumeclaims, 'default', claim({ accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '1Gi' } } })), 422,
    'PersistentVolumeClaim "data" is invalid: spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"')
  const created = await client.create<KubeObject>(RESOURCES.persistentvolumeclaims, 'default', claim({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }))
  t.same(created.status, { phase: 'Pending' })
  t.same(created.metadata.finalizers, ['kubernetes.io/pvc-protection'], 'protected while in use')
  t.equal((created.spec as { volumeMode: string }).volumeMode, 'Filesystem')
  await client.patch(RESOURCES.persistentvolumeclaims, 'default', 'data', { spec: { resources: { requests: { storage: '2Gi' } } } })
  await rejectsStatus(t, client.patch(RESOURCES.persistentvolumeclaims, 'default', 'data', { spec: { accessModes: ['ReadWriteMany'] } }), 422,
    'PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')
  await client.patch(RESOURCES.persistentvolumeclaims, 'default', 'data', { spec: { volumeName: 'pv-1' } })
  t.pass('binding fills an empty volumeName once')
  await rejectsStatus(t, client.patch(RESOURCES.persistentvolumeclaims, 'default', 'data', { spec: { volumeName: 'pv-2' } }), 422,
    'PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')
  await rejectsStatus(t, client.create(RESOURCES.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', image: 'nginx' }], volumes: [{ name: 'v', persistentVolumeClaim: {} }] },
  }), 422, 'Pod "p" is invalid: spec.volumes[0].persistentVolumeClaim.claimName: Required value')
})
