// The StatefulSet controller's pure decisions, as tables: identity, claims,
// retention owner references, one pass of OrderedReady / Parallel / rolling
// update, status, revisions; and the claim binder's decision.

import t from 'tap'
import type { ControllerRevision } from '../../../control/controllers/controller-history.ts'
import { newRevision } from '../../../control/controllers/controller-history.ts'
import type { Pod } from '../../../control/controllers/objects.ts'
import { boundClaimStatus } from '../../../control/controllers/persistent-volume-claim.ts'
import type { PersistentVolumeClaim, StatefulSet, StatefulSetSpec } from '../../../control/controllers/stateful-set.ts'
import {
  claimsForOrdinal,
  newStatefulSetPod,
  parentAndOrdinal,
  planRevisions,
  reconcileStatefulSet,
  retentionOwnerRefs,
  setControllerRef,
} from '../../../control/controllers/stateful-set.ts'
import { T0, at } from './fakes/builders.ts'

const set = (spec: StatefulSetSpec = {}, status: StatefulSet['status'] = {}): StatefulSet => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'web', namespace: 'default', uid: 'set-uid', generation: 1 },
  spec: {
    replicas: 3,
    serviceName: 'nginx',
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }], volumes: [{ name: 'data', emptyDir: {} }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    ...spec,
  },
  status,
})

const rev = (s: StatefulSet, n = 1): ControllerRevision => ({ ...newRevision(s, setControllerRef(s), { app: 'web' }, n), metadata: { ...newRevision(s, setControllerRef(s), { app: 'web' }, n).metadata, uid: `rev-${n}` } })

type PodState = 'pending' | 'running' | 'ready' | 'failed' | 'terminating'
/** Pod `ordinal` of `s` at `revision` in a state. */
const member = (s: StatefulSet, ordinal: number, state: PodState, revision: ControllerRevision): Pod => {
  const p = newStatefulSetPod(s, s.spec!.template!, ordinal, revision.metadata.name ?? '')
  p.metadata.uid = `pod-${ordinal}`
  p.status = { phase: state === 'pending' ? 'Pending' : state === 'failed' ? 'Failed' : 'Running' }
  if (state === 'ready' || state === 'terminating') p.status.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: at(0) }]
  if (state === 'terminating') p.metadata.deletionTimestamp = at(1)
  return p
}
const claimsOf = (s: StatefulSet, ordinals: number[]): PersistentVolumeClaim[] =>
  ordinals.flatMap(o => [...claimsForOrdinal(s, o).values()])

t.test('names and ordinals', async t => {
  const table: Array<[string, string, number]> = [['web-0', 'web', 0], ['web-12', 'web', 12], ['my-db-3', 'my-db', 3], ['web', '', -1], ['web-x', '', -1]]
  for (const [name, parent, ordinal] of table) t.same(parentAndOrdinal(name), { parent, ordinal }, name)
})

t.test('a pod as the set makes it: identity, labels, claims as volumes', async t => {
  const s = set()
  const p = newStatefulSetPod(s, s.spec!.template!, 2, 'web-abc')
  t.same(p.metadata.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-2', 'apps.kubernetes.io/pod-index': '2', 'controller-revision-hash': 'web-abc' })
  t.equal(p.metadata.name, 'web-2')
  t.equal(p.spec?.hostname, 'web-2')
  t.equal(p.spec?.subdomain, 'nginx')
  t.same(p.spec?.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-2' } }], 'the claim replaces the template volume of that name')
  t.same(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }])
  const c = claimsForOrdinal(s, 2).get('data')!
  t.same(c.metadata, { name: 'data-web-2', namespace: 'default', labels: { tier: 'db', app: 'web' } }, "template labels plus the selector's")
  t.same(c.spec, s.spec!.volumeClaimTemplates![0]!.spec)
  t.notOk(newStatefulSetPod(set({ serviceName: '' }), s.spec!.template!, 0, 'r').spec?.subdomain, 'no service, no subdomain')
})

t.test('retention policy owner references (updateClaimOwnerRefForSetAndPod)', async t => {
  const r = rev(set())
  const setRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid' }
  const podRef = (o: number) => ({ apiVersion: 'v1', kind: 'Pod', name: `web-${o}`, uid: `pod-${o}` })
  const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'x' }
  const table: Array<[string, 'Retain' | 'Delete', 'Retain' | 'Delete', number, object[]]> = [
    ['Retain/Retain in range', 'Retain', 'Retain', 1, [other]],
    ['Retain/Retain scaled down', 'Retain', 'Retain', 4, [other]],
    ['whenDeleted Delete in range', 'Delete', 'Retain', 1, [other, setRef]],
    ['whenDeleted Delete scaled down', 'Delete', 'Retain', 4, [other, setRef]],
    ['whenScaled Delete in range', 'Retain', 'Delete', 1, [other]],
    ['whenScaled Delete scaled down', 'Retain', 'Delete', 4, [other, podRef(4)]],
    ['both Delete in range', 'Delete', 'Delete', 1, [other, setRef]],
    ['both Delete scaled down', 'Delete', 'Delete', 4, [other, podRef(4)]],
  ]
  for (const [what, whenDeleted, whenScaled, ordinal, want] of table) {
    const s = set({ persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled } })
    const claim = { ...claimsForOrdinal(s, ordinal).get('data')! }
    claim.metadata = { ...claim.metadata, ownerReferences: [other, setRef, podRef(ordinal)] }
    t.same(retentionOwnerRefs(s, member(s, ordinal, 'ready', r), claim), want, what)
  }
})

t.test('one pass: what is created, deleted and waited for', async t => {
  type Case = {
    what: string
    spec?: StatefulSetSpec
    pods: Array<[number, PodState, 'old' | 'new']>
    create: string[]
    delete: string[]
  }
  const cases: Case[] = [
    { what: 'empty: web-0 only', pods: [], create: ['web-0'], delete: [] },
    { what: 'web-0 pending: wait', pods: [[0, 'pending', 'new']], create: [], delete: [] },
    { what: 'web-0 running, not ready: wait', pods: [[0, 'running', 'new']], create: [], delete: [] },
    { what: 'web-0 ready: web-1', pods: [[0, 'ready', 'new']], create: ['web-1'], delete: [] },
    { what: 'a gap is filled in order', pods: [[0, 'ready', 'new'], [2, 'ready', 'new']], create: ['web-1'], delete: [] },
    { what: 'failed: deleted first', pods: [[0, 'failed', 'new'], [1, 'ready', 'new']], create: [], delete: ['web-0'] },
    { what: 'terminating: wait for it to go', pods: [[0, 'terminating', 'new']], create: [], delete: [] },
    { what: 'scale down: highest first, one', pods: [[0, 'ready', 'new'], [1, 'ready', 'new'], [2, 'ready', 'new'], [3, 'ready', 'new'], [4, 'ready', 'new']], create: [], delete: ['web-4'] },
    { what: 'scale down waits for the terminating one', pods: [[0, 'ready', 'new'], [1, 'ready', 'new'], [2, 'ready', 'new'], [3, 'ready', 'new'], [4, 'terminating', 'new']], create: [], delete: [] },
    { what: 'scale down blocked by an unhealthy replica', pods: [[0, 'ready', 'new'], [1, 'pending', 'new'], [2, 'ready', 'new'], [3, 'ready', 'new']], create: [], delete: [] },
    { what: 'an unhealthy condemned pod is the first to go', pods: [[0, 'ready', 'new'], [1, 'ready', 'new'], [2, 'ready', 'new'], [3, 'pending', 'new']], create: [], delete: ['web-3'] },
    { what: 'Parallel: all missing at once', spec: { podManagementPolicy: 'Parallel' }, pods: [[1, 'pending', 'new']], create: ['web-0', 'web-2'], delete: [] },
    { what: 'Parallel: all condemned at once', spec: { podManagementPolicy: 'Parallel', replicas: 1 }, pods: [[0, 'pending', 'new'], [1, 'ready', 'new'], [2, 'pending', 'new']], create: [], delete: ['web-2', 'web-1'] },
    { what: 'rolling update: the highest old one', pods: [[0, 'ready', 'old'], [1, 'ready', 'old'], [2, 'ready', 'old']], create: [], delete: ['web-2'] },
    { what: 'rolling update: next once it is healthy', pods: [[0, 'ready', 'old'], [1, 'ready', 'old'], [2, 'ready', 'new']], create: [], delete: ['web-1'] },
    { what: 'rolling update: wait while the new one is not ready', spec: { podManagementPolicy: 'Parallel' }, pods: [[0, 'ready', 'old'], [1, 'ready', 'old'], [2, 'running', 'new']], create: [], delete: [] },
    { what: 'partition 2: only web-2', spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, pods: [[0, 'ready', 'old'], [1, 'ready', 'old'], [2, 'ready', 'new']], create: [], delete: [] },
    { what: 'OnDelete: nothing', spec: { updateStrategy: { type: 'OnDelete' } }, pods: [[0, 'ready', 'old'], [1, 'ready', 'old'], [2, 'ready', 'old']], create: [], delete: [] },
  ]
  for (const c of cases) {
    const oldSet = set({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:0' }] } } })
    const s = set({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, ...c.spec })
    const current = rev(oldSet, 1)
    const update = rev(s, 2)
    const pods = c.pods.map(([o, state, r]) => member(r === 'old' ? oldSet : s, o, state, r === 'old' ? current : update))
    const plan = reconcileStatefulSet({ set: s, pods, claims: claimsOf(s, c.pods.map(p => p[0])), currentRevision: current, updateRevision: update, now: T0 + 60_000 })
    t.same(plan.create.map(x => x.pod.metadata.name), c.create, `${c.what}: creates`)
    t.same(plan.delete.map(x => x.metadata.name), c.delete, `${c.what}: deletes`)
  }
})

t.test('claims: made with a new pod, and for a live pod that lost one', async t => {
  const s = set()
  const r = rev(s)
  const plan = reconcileStatefulSet({ set: s, pods: [member(s, 0, 'pending', r)], claims: [], currentRevision: r, updateRevision: r, now: T0 })
  t.same(plan.claimCreates.map(c => c.claim.metadata.name), ['data-web-0'], 'a live pod without its claim gets it back')
  const next = reconcileStatefulSet({ set: s, pods: [member(s, 0, 'ready', r)], claims: claimsOf(s, [0]), currentRevision: r, updateRevision: r, now: T0 })
  t.same(next.create.map(c => [c.pod.metadata.name, c.claims.map(x => x.metadata.name)]), [['web-1', ['data-web-1']]])
  const existing = reconcileStatefulSet({ set: s, pods: [member(s, 0, 'ready', r)], claims: claimsOf(s, [0, 1]), currentRevision: r, updateRevision: r, now: T0 })
  t.same(existing.create[0]?.claims, [], 'a claim that survived is reused')
})

t.test('pods below the partition are made at the current revision', async t => {
  const oldSet = set({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:0' }] } } })
  const s = set({ podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } })
  const current = rev(oldSet, 1)
  const update = rev(s, 2)
  const plan = reconcileStatefulSet({ set: s, pods: [], claims: [], currentRevision: current, updateRevision: update, now: T0 })
  t.same(plan.create.map(c => [c.pod.metadata.name, c.pod.spec?.containers?.[0]?.image, c.pod.metadata.labels?.['controller-revision-hash']]), [
    ['web-0', 'nginx:0', current.metadata.name],
    ['web-1', 'nginx:0', current.metadata.name],
    ['web-2', 'nginx:1', update.metadata.name],
  ])
})

t.test('status', async t => {
  const oldSet = set({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:0' }] } } })
  const s = set({ minReadySeconds: 30 }, { collisionCount: 2 })
  const current = rev(oldSet, 1)
  const update = rev(s, 2)
  const pods = [member(oldSet, 0, 'ready', current), member(s, 1, 'ready', update), member(s, 2, 'terminating', update)]
  const plan = reconcileStatefulSet({ set: s, pods, claims: claimsOf(s, [0, 1, 2]), currentRevision: current, updateRevision: update, now: T0 + 10_000 })
  t.same(plan.status, {
    observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 1, updatedReplicas: 1, availableReplicas: 0,
    currentRevision: current.metadata.name, updateRevision: update.metadata.name, collisionCount: 2,
  })
  t.equal(plan.requeueAfterMs, 20_000, 'back when they become available')
  const done = reconcileStatefulSet({ set: s, pods: [0, 1, 2].map(o => member(s, o, 'ready', update)), claims: claimsOf(s, [0, 1, 2]), currentRevision: current, updateRevision: update, now: T0 + 60_000 })
  t.match(done.status, { currentRevision: update.metadata.name, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 'a finished rolling update makes the update revision current')
  const deleting = { ...s, metadata: { ...s.metadata, deletionTimestamp: at(5) } }
  const quiet = reconcileStatefulSet({ set: deleting, pods: [], claims: [], currentRevision: update, updateRevision: update, now: T0 })
  t.same([quiet.create, quiet.delete], [[], []], 'a set being deleted only reports')
})

t.test('revisions: the same template reuses, another creates, an older one is renumbered', async t => {
  const v1 = set()
  const v2 = set({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } })
  const r1 = rev(v1, 1)
  const r2 = rev(v2, 2)
  t.equal(planRevisions(v1, []).create?.revision, 1, 'first: create revision 1')
  t.equal(planRevisions(v1, [r1]).update?.metadata.name, r1.metadata.name, 'unchanged: reuse')
  t.equal(planRevisions(v2, [r1]).create?.revision, 2, 'changed: create revision 2')
  t.same(planRevisions(v1, [r1, r2]).renumber && { name: planRevisions(v1, [r1, r2]).renumber!.revision.metadata.name, to: planRevisions(v1, [r1, r2]).renumber!.to }, { name: r1.metadata.name, to: 3 }, 'back to v1: renumber it')
  const withCurrent = { ...v2, status: { currentRevision: r1.metadata.name } }
  t.equal(planRevisions(withCurrent, [r1, r2]).current?.metadata.name, r1.metadata.name)
  t.not(planRevisions(v1, [], 1).create?.metadata.name, planRevisions(v1, [], 0).create?.metadata.name, 'a collision count changes the name')
})

t.test('the binder: Bound at once with the request as capacity', async t => {
  const claim: PersistentVolumeClaim = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Pending' } }
  const status = boundClaimStatus(claim)
  t.same(status, { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } })
  t.equal(boundClaimStatus({ ...claim, status }), undefined, 'nothing to write once bound')
  t.same(boundClaimStatus({ ...claim, spec: { ...claim.spec, resources: { requests: { storage: '2Gi' } } }, status })?.capacity, { storage: '2Gi' }, 'an expansion shows in the capacity')
})
