import t from 'tap'
import {
  calculateReplicaSetStatus,
  podFromTemplate,
  reconcileReplicaSet,
} from '../../../control/controllers/replicaset.ts'
import { rankPodsForDeletion } from '../../../control/controllers/pod-util.ts'
import { claimObjects } from '../../../control/controllers/controller-ref.ts'
import { labelSelectorFromObject } from '../../../control/api/label-selector.ts'
import type { Pod } from '../../../control/controllers/objects.ts'
import { T0, pod, replicaSet } from './fakes/builders.ts'

const rs3 = replicaSet({ replicas: 3 })
const owned = (name: string, extra: Partial<Parameters<typeof pod>[0]> = {}): Pod => pod({ name, owner: rs3, nodeName: 'n1', ...extra })

t.test('replica math: creates and deletes to match spec.replicas', async t => {
  const cases: Array<{ name: string; replicas: number; pods: Pod[]; satisfied?: boolean; deleting?: boolean; burst?: number; create: number; del: number }> = [
    { name: 'nothing yet', replicas: 3, pods: [], create: 3, del: 0 },
    { name: 'exact', replicas: 3, pods: [owned('a'), owned('b'), owned('c')], create: 0, del: 0 },
    { name: 'one short', replicas: 3, pods: [owned('a'), owned('b')], create: 1, del: 0 },
    { name: 'two too many', replicas: 1, pods: [owned('a'), owned('b'), owned('c')], create: 0, del: 2 },
    { name: 'scale to zero', replicas: 0, pods: [owned('a'), owned('b')], create: 0, del: 2 },
    {
      name: 'terminating pods are not replicas',
      replicas: 3,
      pods: [owned('a'), owned('b', { deleting: true }), owned('c', { deleting: true })],
      create: 2,
      del: 0,
    },
    {
      name: 'terminal pods are not replicas',
      replicas: 2,
      pods: [owned('a', { phase: 'Succeeded' }), owned('b', { phase: 'Failed' }), owned('c')],
      create: 1,
      del: 0,
    },
    { name: 'expectations pending: wait', replicas: 3, pods: [], satisfied: false, create: 0, del: 0 },
    { name: 'being deleted: no scaling', replicas: 3, pods: [], deleting: true, create: 0, del: 0 },
    { name: 'burst limit', replicas: 10, pods: [], burst: 4, create: 4, del: 0 },
    {
      name: 'pods of other controllers do not count',
      replicas: 2,
      pods: [pod({ name: 'x', owner: replicaSet({ name: 'other', uid: 'uid-other' }) }), owned('a')],
      create: 1,
      del: 0,
    },
  ]
  for (const c of cases) {
    const rs = replicaSet({ replicas: c.replicas, deleting: c.deleting })
    const plan = reconcileReplicaSet({
      replicaSet: rs,
      pods: c.pods,
      now: T0,
      expectationsSatisfied: c.satisfied ?? true,
      burstReplicas: c.burst,
    })
    t.equal(plan.create.length, c.create, `${c.name}: creates`)
    t.equal(plan.delete.length, c.del, `${c.name}: deletes`)
  }
})

t.test('pods come from the template with generateName and a controller reference', async t => {
  const rs = replicaSet({ name: 'web-5d78f9b8c4', template: { metadata: { labels: { app: 'web', 'pod-template-hash': '5d78f9b8c4' }, annotations: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } })
  const p = podFromTemplate(rs)
  t.same(p.metadata, {
    generateName: 'web-5d78f9b8c4-',
    namespace: 'default',
    labels: { app: 'web', 'pod-template-hash': '5d78f9b8c4' },
    annotations: { a: '1' },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d78f9b8c4', uid: 'uid-web-5d78f9b8c4', controller: true, blockOwnerDeletion: true },
    ],
  })
  t.equal(p.metadata.name, undefined)
  t.same(p.spec, { containers: [{ name: 'c', image: 'nginx' }] })
  p.spec!.containers![0]!.image = 'changed'
  t.equal(rs.spec?.template?.spec?.containers?.[0]?.image, 'nginx', 'the template is copied, not shared')
})

t.test('claim: adopt matching orphans, release owned pods that stopped matching', async t => {
  const rs = replicaSet()
  const other = replicaSet({ name: 'other', uid: 'uid-other' })
  const pods = [
    pod({ name: 'mine', owner: rs }),
    pod({ name: 'orphan' }),
    pod({ name: 'orphan-other-labels', labels: { app: 'db' } }),
    pod({ name: 'mine-relabelled', owner: rs, labels: { app: 'db' } }),
    pod({ name: 'theirs', owner: other }),
    pod({ name: 'orphan-deleting', deleting: true }),
    pod({ name: 'orphan-other-ns', namespace: 'kube-system' }),
  ]
  const sel = labelSelectorFromObject(rs.spec?.selector)
  const c = claimObjects(rs, sel, pods)
  t.same(c.owned.map(p => p.metadata.name), ['mine', 'orphan'])
  t.same(c.adopt.map(p => p.metadata.name), ['orphan'])
  t.same(c.release.map(p => p.metadata.name), ['mine-relabelled'])

  const dying = claimObjects(replicaSet({ deleting: true }), sel, pods)
  t.same(dying.adopt, [], 'a ReplicaSet being deleted adopts nothing')
  t.same(dying.release, [], 'and releases nothing')
  t.same(dying.owned.map(p => p.metadata.name), ['mine'])

  const plan = reconcileReplicaSet({ replicaSet: replicaSet({ replicas: 2 }), pods, now: T0, expectationsSatisfied: true })
  t.equal(plan.create.length, 0, 'the adopted orphan counts as a replica')
  t.same(plan.adopt.map(p => p.metadata.name), ['orphan'])
})

t.test('deletion ranking', async t => {
  const rank = (pods: Pod[], related?: Pod[]): string[] => rankPodsForDeletion(pods, related).map(p => p.metadata.name ?? '')
  t.same(rank([pod({ name: 'bound', nodeName: 'n1' }), pod({ name: 'unbound' })]), ['unbound', 'bound'], 'unscheduled first')
  t.same(
    rank([
      pod({ name: 'running', nodeName: 'n1', phase: 'Running' }),
      pod({ name: 'unknown', nodeName: 'n1', phase: 'Unknown' }),
      pod({ name: 'pending', nodeName: 'n1', phase: 'Pending' }),
    ]),
    ['pending', 'unknown', 'running'],
    'Pending < Unknown < Running',
  )
  t.same(
    rank([pod({ name: 'ready', nodeName: 'n1', ready: true }), pod({ name: 'unready', nodeName: 'n1', ready: false })]),
    ['unready', 'ready'],
    'not ready first',
  )
  t.same(
    rank([
      pod({ name: 'costly', nodeName: 'n1', ready: true, deletionCost: 100 }),
      pod({ name: 'cheap', nodeName: 'n1', ready: true, deletionCost: -5 }),
    ]),
    ['cheap', 'costly'],
    'lower pod-deletion-cost first',
  )
  const crowded = [
    pod({ name: 'a1', nodeName: 'a', ready: true }),
    pod({ name: 'b1', nodeName: 'b', ready: true }),
    pod({ name: 'b2', nodeName: 'b', ready: true }),
  ]
  t.same(rank(crowded).slice(0, 1).map(n => n.slice(0, 1)), ['b'], 'pods on a crowded node first')
  t.same(
    rank([
      pod({ name: 'old-ready', nodeName: 'n1', ready: true, readySince: 10 }),
      pod({ name: 'new-ready', nodeName: 'n2', ready: true, readySince: 50 }),
    ]),
    ['new-ready', 'old-ready'],
    'ready for a shorter time first',
  )
  t.same(
    rank([
      pod({ name: 'calm', nodeName: 'n1', ready: true, restarts: 0 }),
      pod({ name: 'flappy', nodeName: 'n2', ready: true, restarts: 7 }),
    ]),
    ['flappy', 'calm'],
    'more restarts first',
  )
  t.same(
    rank([
      pod({ name: 'older', nodeName: 'n1', created: 10 }),
      pod({ name: 'newest', nodeName: 'n2', created: 30 }),
      pod({ name: 'newer', nodeName: 'n3', created: 20 }),
    ]),
    ['newest', 'newer', 'older'],
    'most recently created first',
  )
  t.same(
    rank([pod({ name: 'b', nodeName: 'n1' }), pod({ name: 'a', nodeName: 'n2' })]),
    ['a', 'b'],
    'then by name',
  )
  t.same(
    rank(
      [pod({ name: 'x', nodeName: 'n1', ready: true }), pod({ name: 'y', nodeName: 'n2', ready: true })],
      [pod({ name: 'sibling', nodeName: 'n2', ready: true }), pod({ name: 'y', nodeName: 'n2', ready: true })],
    ),
    ['y', 'x'],
    'related pods (siblings of another ReplicaSet) count for crowding',
  )

  const plan = reconcileReplicaSet({
    replicaSet: replicaSet({ replicas: 1 }),
    pods: [
      owned('ready-old', { ready: true, created: 1 }),
      owned('unready', { ready: false, created: 2 }),
      owned('unbound', { nodeName: undefined, created: 3 }),
    ],
    now: T0,
    expectationsSatisfied: true,
  })
  t.same(plan.delete.map(p => p.metadata.name), ['unbound', 'unready'], 'the plan deletes by rank')
})

t.test('status: counts, availability after minReadySeconds, observedGeneration', async t => {
  const rs = replicaSet({ replicas: 4, minReadySeconds: 10, generation: 7 })
  const pods = [
    owned('long-ready', { ready: true, readySince: 0 }),
    owned('just-ready', { ready: true, readySince: 25 }),
    owned('unready', { ready: false }),
    owned('extra-labels', { labels: { app: 'web', extra: 'x' } }),
    owned('missing-template-label', { labels: { app: 'web' } }),
  ]
  // The template carries a label the selector does not require.
  rs.spec!.template!.metadata!.labels = { app: 'web', tier: 'fe' }
  pods[0]!.metadata.labels = { app: 'web', tier: 'fe' }
  pods[1]!.metadata.labels = { app: 'web', tier: 'fe' }
  const now = T0 + 30_000
  const s = calculateReplicaSetStatus(rs, pods, now)
  t.same(s, { replicas: 5, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 7 })

  const plan = reconcileReplicaSet({ replicaSet: rs, pods, now, expectationsSatisfied: false })
  t.same(plan.status, s, 'a changed status is written')
  t.equal(plan.requeueAfterMs, 5000, 'comes back when just-ready becomes available (25 s + 10 s)')

  const current = replicaSet({ replicas: 1, status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, fullyLabeledReplicas: 1, observedGeneration: 1 } })
  const steady = reconcileReplicaSet({ replicaSet: current, pods: [owned('a', { ready: true })], now: T0, expectationsSatisfied: true })
  t.equal(steady.status, undefined, 'an unchanged status is not rewritten')
  t.equal(steady.requeueAfterMs, undefined)

  const zero = calculateReplicaSetStatus(replicaSet({ replicas: 0 }), [], T0)
  t.same(zero, { replicas: 0, observedGeneration: 1 }, 'zero counts are omitted except replicas')
})

t.test('status: ReplicaFailure while creating fails, removed once it works', async t => {
  const rs = replicaSet({ replicas: 2 })
  const failed = calculateReplicaSetStatus(rs, [], T0, { reason: 'FailedCreate', message: 'pods "x" is forbidden: quota' })
  t.match(failed.conditions, [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "x" is forbidden: quota' }])
  const recovered = calculateReplicaSetStatus({ ...rs, status: failed }, [], T0)
  t.equal(recovered.conditions, undefined)
})
