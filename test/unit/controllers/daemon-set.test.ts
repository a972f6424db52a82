// The DaemonSet controller's pure decisions: which nodes run a daemon pod,
// the pod as created, manage (create, delete, failed pods with back-off),
// the rolling update's budgets (maxUnavailable, maxSurge), the status, and
// the history.

import t from 'tap'
import type { ControllerRevision } from '../../../control/controllers/controller-history.ts'
import { revisionData } from '../../../control/controllers/controller-history.ts'
import type { BackoffEntry, DaemonSetInput } from '../../../control/controllers/daemon-set.ts'
import { historyToPrune, nextBackoff, planHistory, reconcileDaemonSet, rollingUpdateBudget } from '../../../control/controllers/daemon-set.ts'
import type { DaemonSet, DaemonSetSpec } from '../../../control/controllers/daemon-set-util.ts'
import {
  addDaemonPodTolerations,
  daemonPodForNode,
  daemonPodTemplate,
  nodeShouldRunDaemonPod,
  targetNodeName,
} from '../../../control/controllers/daemon-set-util.ts'
import type { Node, Pod, PodSpec, Taint } from '../../../control/controllers/objects.ts'
import { T0, at, node, pod, template } from './fakes/builders.ts'

const HASH = 'newhash'

function daemonSet(spec: DaemonSetSpec = {}, extra: Partial<DaemonSet['metadata']> = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default', uid: 'uid-agent', generation: 1, annotations: { 'deprecated.daemonset.template.generation': '1' }, ...extra },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: template({ app: 'agent' }),
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      ...spec,
    },
  }
}

const ds0 = daemonSet()

interface DaemonPodOptions {
  node: string
  hash?: string
  bound?: boolean
  ready?: boolean
  phase?: string
  created?: number
  deleting?: boolean
  owner?: DaemonSet
}

let seq = 0
function daemonPod(name: string, o: DaemonPodOptions): Pod {
  const p = pod({
    name,
    labels: { app: 'agent', 'controller-revision-hash': o.hash ?? HASH },
    owner: o.owner ?? ds0,
    ownerKind: 'DaemonSet',
    nodeName: o.bound === false ? undefined : o.node,
    phase: o.phase,
    ready: o.ready ?? true,
    created: o.created ?? seq++,
    deleting: o.deleting,
  })
  p.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [o.node] }] }] } } }
  return p
}

const nodes3 = [node('node-1'), node('node-2'), node('node-3')]

function input(o: Partial<DaemonSetInput> = {}): DaemonSetInput {
  return { daemonSet: ds0, nodes: nodes3, pods: [], hash: HASH, now: T0 + 1000_000, expectationsSatisfied: true, ...o }
}

const createdOn = (pods: readonly Pod[]): string[] => pods.map(p => targetNodeName(p) ?? '?')
const names = (pods: readonly Pod[]): string[] => pods.map(p => p.metadata.name ?? '')

t.test('nodeShouldRunDaemonPod', async t => {
  const taint = (key: string, effect: Taint['effect'], value?: string): Taint => (value ? { key, effect, value } : { key, effect })
  const cases: Array<[string, Node, DaemonSet, boolean, boolean]> = [
    ['plain node', node('n'), ds0, true, true],
    ['nodeSelector matches', node('n', { labels: { role: 'edge' } }), daemonSet({ template: { ...template({ app: 'agent' }), spec: { nodeSelector: { role: 'edge' } } } }), true, true],
    ['nodeSelector does not match', node('n'), daemonSet({ template: { ...template({ app: 'agent' }), spec: { nodeSelector: { role: 'edge' } } } }), false, false],
    [
      'required affinity does not match',
      node('n', { labels: { zone: 'a' } }),
      daemonSet({ template: { ...template({ app: 'agent' }), spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }] } } } } } }),
      false,
      false,
    ],
    ['template nodeName elsewhere', node('n'), daemonSet({ template: { ...template({ app: 'agent' }), spec: { nodeName: 'other' } } }), false, false],
    ['untolerated NoSchedule: keeps running, no new pod', node('n', { taints: [taint('dedicated', 'NoSchedule', 'db')] }), ds0, false, true],
    ['untolerated NoExecute: goes', node('n', { taints: [taint('dedicated', 'NoExecute', 'db')] }), ds0, false, false],
    ['PreferNoSchedule is ignored', node('n', { taints: [taint('dedicated', 'PreferNoSchedule')] }), ds0, true, true],
    [
      'tolerated taint',
      node('n', { taints: [taint('dedicated', 'NoSchedule', 'db')] }),
      daemonSet({ template: { ...template({ app: 'agent' }), spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] } } }),
      true,
      true,
    ],
    ['unschedulable taint: daemon pods tolerate it', node('n', { unschedulable: true, taints: [taint('node.kubernetes.io/unschedulable', 'NoSchedule')] }), ds0, true, true],
    ['not-ready NoExecute: tolerated forever', node('n', { taints: [taint('node.kubernetes.io/not-ready', 'NoExecute')] }), ds0, true, true],
    ['not-ready NoSchedule: no new pod, the old one stays', node('n', { taints: [taint('node.kubernetes.io/not-ready', 'NoSchedule')] }), ds0, false, true],
    ['memory-pressure NoSchedule tolerated', node('n', { taints: [taint('node.kubernetes.io/memory-pressure', 'NoSchedule')] }), ds0, true, true],
    ['network-unavailable: not tolerated without hostNetwork', node('n', { taints: [taint('node.kubernetes.io/network-unavailable', 'NoSchedule')] }), ds0, false, true],
    [
      'network-unavailable: tolerated with hostNetwork',
      node('n', { taints: [taint('node.kubernetes.io/network-unavailable', 'NoSchedule')] }),
      daemonSet({ template: { ...template({ app: 'agent' }), spec: { hostNetwork: true } } }),
      true,
      true,
    ],
  ]
  for (const [what, n, ds, shouldRun, shouldContinueRunning] of cases) {
    t.same(nodeShouldRunDaemonPod(n, ds), { shouldRun, shouldContinueRunning }, what)
  }
})

t.test('daemon pod tolerations: added, a matching user one replaced, order kept', async t => {
  const spec: PodSpec = { tolerations: [{ key: 'a', operator: 'Exists' }, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }] }
  addDaemonPodTolerations(spec)
  t.same(spec.tolerations, [
    { key: 'a', operator: 'Exists' },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ])
  const host: PodSpec = { hostNetwork: true }
  addDaemonPodTolerations(host)
  t.same(host.tolerations?.at(-1), { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' })
})

t.test('the pod created for a node', async t => {
  const ds = daemonSet({
    template: {
      metadata: { labels: { app: 'agent' }, annotations: { a: '1' } },
      spec: {
        containers: [{ name: 'c', image: 'busybox' }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }] } } },
      },
    },
  }, { annotations: { 'deprecated.daemonset.template.generation': '4' } })
  const p = daemonPodForNode(ds, daemonPodTemplate(ds, 'h1'), 'node-2')
  t.same(p.metadata, {
    generateName: 'agent-',
    namespace: 'default',
    labels: { app: 'agent', 'pod-template-generation': '4', 'controller-revision-hash': 'h1' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'uid-agent', controller: true, blockOwnerDeletion: true }],
    annotations: { a: '1' },
  })
  t.same(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-2'] }] }],
  }, 'the required terms replaced by the node name')
  t.equal(p.spec?.nodeName, undefined, 'the scheduler binds it')
  t.equal(p.spec?.tolerations?.length, 6)
  t.equal(targetNodeName(p), 'node-2')
  t.equal(targetNodeName({ metadata: {}, spec: { ...p.spec, nodeName: 'node-9' } }), 'node-9', 'nodeName once bound')
  t.equal(ds.spec?.template?.spec?.tolerations, undefined, 'the DaemonSet is not changed')
})

t.test('manage: one pod per eligible node', async t => {
  const plan = reconcileDaemonSet(input())
  t.same(createdOn(plan.create), ['node-1', 'node-2', 'node-3'])
  t.same(plan.delete, [])

  const labelled = daemonSet({ template: { ...template({ app: 'agent' }), spec: { nodeSelector: { role: 'edge' } } } })
  const nodes = [node('node-1', { labels: { role: 'edge' } }), node('node-2'), node('node-3', { labels: { role: 'edge' } })]
  const onTwo = daemonPod('on-two', { node: 'node-2', owner: labelled })
  const onThree = daemonPod('on-three', { node: 'node-3', owner: labelled })
  const p2 = reconcileDaemonSet(input({ daemonSet: labelled, nodes, pods: [onTwo, onThree] }))
  t.same(createdOn(p2.create), ['node-1'], 'created where labelled and missing')
  t.same(names(p2.delete), ['on-two'], 'deleted where the label is gone')
  t.match(p2.status, { desiredNumberScheduled: 2, currentNumberScheduled: 1, numberMisscheduled: 1, numberReady: 1, numberAvailable: 1, numberUnavailable: 1 })
})

t.test('manage: duplicates, deleting pods, vanished nodes, other owners', async t => {
  const old = daemonPod('old', { node: 'node-1', created: 1 })
  const young = daemonPod('young', { node: 'node-1', created: 5 })
  const going = daemonPod('going', { node: 'node-2', deleting: true })
  const unbound = daemonPod('unbound', { node: 'node-9', bound: false })
  const bound = daemonPod('bound', { node: 'node-8' })
  const foreign = pod({ name: 'foreign', labels: { app: 'agent' }, owner: { metadata: { name: 'x', uid: 'uid-x' } }, ownerKind: 'DaemonSet', nodeName: 'node-3' })
  const plan = reconcileDaemonSet(input({ pods: [old, young, going, unbound, bound, foreign] }))
  t.same(names(plan.delete), ['young', 'unbound'], 'the younger duplicate, and the unbound pod of a vanished node')
  t.same(createdOn(plan.create), ['node-3'], 'nothing while a pod is terminating on node-2; node-3 still needs ours')
  t.notOk(plan.owned.includes(foreign), 'pods of another DaemonSet are not ours')
})

t.test('manage: failed pods are deleted with back-off per node', async t => {
  const failed = daemonPod('failed', { node: 'node-1', phase: 'Failed', ready: false })
  const done = daemonPod('done', { node: 'node-2', phase: 'Succeeded', ready: false })
  const others = [daemonPod('n3', { node: 'node-3' })]
  const n2 = daemonPod('n2', { node: 'node-2' })
  const now = T0 + 1000_000
  const first = reconcileDaemonSet(input({ pods: [failed, done, ...others], now }))
  t.same(names(first.delete), ['failed', 'done'])
  t.same(first.events, [{ type: 'Warning', reason: 'FailedDaemonPod', message: 'Found failed daemon pod default/failed on node node-1, will try to kill it' }])
  t.same(first.backoff.get('node-1'), { delayMs: 1000, lastUpdate: now })

  const backoff = new Map<string, BackoffEntry>([['node-1', { delayMs: 2000, lastUpdate: now - 500 }]])
  const held = reconcileDaemonSet(input({ pods: [failed, n2, ...others], now, backoff }))
  t.same(held.delete, [], 'in back-off: kept for now')
  t.same(held.create, [], 'and no second pod beside it')
  t.equal(held.requeueAfterMs, 1500, 'back when the back-off ends')
  const later = reconcileDaemonSet(input({ pods: [failed, ...others], now: now + 1500, backoff }))
  t.same(names(later.delete), ['failed'])
  t.same(later.backoff.get('node-1'), { delayMs: 4000, lastUpdate: now + 1500 }, 'doubled')

  t.same(nextBackoff(undefined, 0), { delayMs: 1000, lastUpdate: 0 })
  t.same(nextBackoff({ delayMs: 600_000, lastUpdate: 0 }, 1), { delayMs: 900_000, lastUpdate: 1 }, 'capped at 15 min')
  t.same(nextBackoff({ delayMs: 600_000, lastUpdate: 0 }, 1800_001), { delayMs: 1000, lastUpdate: 1800_001 }, 'reset after 30 min quiet')
})

t.test('unmet expectations: status only, observedGeneration kept', async t => {
  const ds = daemonSet({}, { generation: 3 })
  ds.status = { observedGeneration: 2 }
  const plan = reconcileDaemonSet(input({ daemonSet: ds, expectationsSatisfied: false }))
  t.same(plan.create, [])
  t.match(plan.status, { desiredNumberScheduled: 3, currentNumberScheduled: 0, numberUnavailable: 3, observedGeneration: 2 })
  const satisfied = reconcileDaemonSet(input({ daemonSet: ds }))
  t.equal(satisfied.status?.observedGeneration, 3)
  const deleting = reconcileDaemonSet(input({ daemonSet: daemonSet({}, { deletionTimestamp: at(5) }) }))
  t.same([deleting.create, deleting.delete, deleting.status], [[], [], undefined], 'a DaemonSet being deleted is left alone')
})

t.test('rolling update without surge: never more than maxUnavailable nodes without an available new pod', async t => {
  const oldPods = (n: number): Pod[] => Array.from({ length: n }, (_, i) => daemonPod(`old-${i + 1}`, { node: `node-${i + 1}`, hash: 'oldhash' }))
  const five = Array.from({ length: 5 }, (_, i) => node(`node-${i + 1}`))

  const one = reconcileDaemonSet(input({ nodes: five, pods: oldPods(5) }))
  t.same(names(one.delete), ['old-1'], 'maxUnavailable 1: one old pod at a time')
  t.same(one.create, [])

  // node-1 has a new pod that is not ready yet: no other old pod goes.
  const waiting = [daemonPod('new-1', { node: 'node-1', ready: false }), ...oldPods(5).slice(1)]
  t.same(reconcileDaemonSet(input({ nodes: five, pods: waiting })).delete, [], 'waits for the new pod')
  // Once it is ready, the next goes.
  const next = [daemonPod('new-1', { node: 'node-1' }), ...oldPods(5).slice(1)]
  t.same(names(reconcileDaemonSet(input({ nodes: five, pods: next })).delete), ['old-2'])
  // An eligible node without any pod counts as unavailable (and manage creates there first).
  t.same(createdOn(reconcileDaemonSet(input({ nodes: five, pods: oldPods(4) })).create), ['node-5'])

  const percent = daemonSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '30%', maxSurge: 0 } } })
  t.same(names(reconcileDaemonSet(input({ daemonSet: percent, nodes: five, pods: oldPods(5) })).delete), ['old-1', 'old-2'], '30% of 5 rounds up to 2')

  // An old pod that is not available is replaced whatever the budget.
  const unready = [daemonPod('new-1', { node: 'node-1', ready: false }), daemonPod('old-2', { node: 'node-2', hash: 'oldhash', ready: false }), ...oldPods(5).slice(2)]
  t.same(names(reconcileDaemonSet(input({ nodes: five, pods: unready })).delete), ['old-2'])

  const onDelete = daemonSet({ updateStrategy: { type: 'OnDelete' } })
  t.same(reconcileDaemonSet(input({ daemonSet: onDelete, nodes: five, pods: oldPods(5) })).delete, [], 'OnDelete: nothing replaced')

  const minReady = daemonSet({ minReadySeconds: 10 })
  const fresh = [daemonPod('new-1', { node: 'node-1' }), ...oldPods(3).slice(1)]
  fresh[0]!.status!.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: at(995) }]
  const plan = reconcileDaemonSet(input({ daemonSet: minReady, pods: fresh, now: T0 + 1000_000 }))
  t.same(plan.delete, [], 'ready for 5 s of minReadySeconds 10: not yet available')
  t.equal(plan.requeueAfterMs, 5000)
  t.match(plan.status, { numberReady: 3, numberAvailable: 2, updatedNumberScheduled: 1 })
})

t.test('rolling update with surge: a new pod beside the old one, the old one going once the new one is available', async t => {
  const surge = daemonSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } })
  const old = (i: number, ready = true): Pod => daemonPod(`old-${i}`, { node: `node-${i}`, hash: 'oldhash', ready, owner: surge })
  const start = reconcileDaemonSet(input({ daemonSet: surge, pods: [old(1), old(2), old(3)] }))
  t.same(createdOn(start.create), ['node-1'], 'maxSurge 1: one extra pod')
  t.same(start.delete, [])

  const newPod = (i: number, ready: boolean): Pod => daemonPod(`new-${i}`, { node: `node-${i}`, ready, owner: surge })
  const surging = reconcileDaemonSet(input({ daemonSet: surge, pods: [old(1), newPod(1, false), old(2), old(3)] }))
  t.same([surging.create, surging.delete], [[], []], 'waits while the surge pod is not available')

  const swapped = reconcileDaemonSet(input({ daemonSet: surge, pods: [old(1), newPod(1, true), old(2), old(3)] }))
  t.same(names(swapped.delete), ['old-1'], 'manage deletes the old pod once the new one is available')

  const unavailableOld = reconcileDaemonSet(input({ daemonSet: surge, pods: [old(1), newPod(1, false), old(2, false), old(3)] }))
  t.same(createdOn(unavailableOld.create), ['node-2'], 'an unavailable old pod gets its replacement at once, beyond the surge budget')
})

t.test('rolling update budgets: percents round up, 0/0 falls back to one unavailable', async t => {
  const strategy = (maxUnavailable: number | string, maxSurge: number | string): DaemonSet =>
    daemonSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable, maxSurge } } })
  t.same(rollingUpdateBudget(strategy('10%', 0), 5), { maxSurge: 0, maxUnavailable: 1 })
  t.same(rollingUpdateBudget(strategy('50%', 0), 5), { maxSurge: 0, maxUnavailable: 3 })
  t.same(rollingUpdateBudget(strategy(0, '25%'), 10), { maxSurge: 3, maxUnavailable: 0 })
  t.same(rollingUpdateBudget(strategy(0, 0), 4), { maxSurge: 0, maxUnavailable: 1 })
  t.same(rollingUpdateBudget(strategy('0%', 0), 0), { maxSurge: 0, maxUnavailable: 0 })
})

t.test('status: the oldest pod of each node decides, updated by hash or template generation', async t => {
  const pods = [
    daemonPod('a', { node: 'node-1', created: 1 }),
    daemonPod('a2', { node: 'node-1', created: 2, ready: false, hash: 'oldhash' }),
    daemonPod('b', { node: 'node-2', hash: 'oldhash', ready: false }),
  ]
  pods[2]!.metadata.labels!['pod-template-generation'] = '1'
  const plan = reconcileDaemonSet(input({ pods, expectationsSatisfied: false }))
  t.same(plan.status, {
    currentNumberScheduled: 2,
    numberMisscheduled: 0,
    desiredNumberScheduled: 3,
    numberReady: 1,
    updatedNumberScheduled: 2,
    numberAvailable: 1,
    numberUnavailable: 2,
  })
  const ds = daemonSet()
  ds.status = { ...plan.status, observedGeneration: 1 }
  t.equal(reconcileDaemonSet(input({ daemonSet: ds, pods, expectationsSatisfied: false })).status, undefined, 'no write when nothing changed')
})

t.test('history: the current revision, a new one, renumbering, duplicates, pruning', async t => {
  const revision = (name: string, n: number, tpl = ds0.spec?.template, hash = name.replace('agent-', '')): ControllerRevision => ({
    metadata: { name, namespace: 'default', labels: { 'controller-revision-hash': hash }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'uid-agent', controller: true }] },
    data: revisionData(tpl),
    revision: n,
  })
  const other = template({ app: 'agent' }, 'busybox')

  const fresh = planHistory(ds0, [])
  t.match(fresh.create, {
    metadata: { name: /^agent-[bcdfghjklmnpqrstvwxz2456789]+$/, labels: { app: 'agent', 'controller-revision-hash': /.+/ }, ownerReferences: [{ kind: 'DaemonSet', uid: 'uid-agent', controller: true }] },
    revision: 1,
    data: { spec: { template: { $patch: 'replace' } } },
  })
  t.equal(fresh.create?.metadata.name, `agent-${fresh.create?.metadata.labels?.['controller-revision-hash']}`)
  t.same(fresh.create?.metadata.annotations, ds0.metadata.annotations, 'the DaemonSet annotations are copied')

  const afterUpdate = planHistory(ds0, [revision('agent-old', 1, other)])
  t.equal(afterUpdate.create?.revision, 2, 'numbered after the old ones')
  t.equal(afterUpdate.old.length, 1)

  const rollback = planHistory(ds0, [revision('agent-cur', 1), revision('agent-old', 2, other)])
  t.equal(rollback.current?.metadata.name, 'agent-cur')
  t.equal(rollback.renumber, 3, 'a template coming back is renumbered above the rest')

  const dups = planHistory(ds0, [revision('agent-a', 1), revision('agent-b', 4)])
  t.equal(dups.current?.metadata.name, 'agent-b')
  t.same(names(dups.duplicates as unknown as Pod[]), ['agent-a'])

  const old = [1, 2, 3, 4].map(n => revision(`agent-r${n}`, n, template({ app: 'agent' }, `image-${n}`)))
  const limited = daemonSet({ revisionHistoryLimit: 1 })
  const live = [daemonPod('p', { node: 'node-1', hash: 'r1' })]
  t.same(historyToPrune(limited, old, live).map(r => r.metadata.name), ['agent-r2', 'agent-r3', 'agent-r4'], 'oldest first, the live one skipped')
  t.same(historyToPrune(daemonSet({ revisionHistoryLimit: 3 }), old, []).map(r => r.metadata.name), ['agent-r1'])
  t.same(historyToPrune(ds0, old, []), [], 'within the limit')
})
