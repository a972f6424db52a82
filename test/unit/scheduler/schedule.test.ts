import t from 'tap'
import {
  filterNode,
  groupPodsByNode,
  podRequests,
  schedule,
  scoreNode,
  unschedulableMessage,
} from '../../../control/scheduler/schedule.ts'
import type { Node, Pod } from '../../../control/controllers/objects.ts'
import { node, pod, replicaSet } from '../controllers/fakes/builders.ts'

const none = new Map<string, Pod[]>()
const place = (p: Pod, nodes: Node[], bound: Pod[] = []): string => {
  const r = schedule(p, nodes, groupPodsByNode(bound))
  return 'node' in r ? r.node : `unschedulable: ${r.unschedulable}`
}

t.test('a pod with spec.nodeName is left alone', async t => {
  const p = pod({ name: 'p', nodeName: 'n9' })
  t.same(schedule(p, [node('n1')], none), { node: 'n9', alreadyBound: true })
})

t.test('filters and their reasons', async t => {
  const cases: Array<[string, Pod, Node, string[]]> = [
    ['fits', pod({ name: 'p' }), node('n'), []],
    ['cordoned', pod({ name: 'p' }), node('n', { unschedulable: true }), ['node(s) were unschedulable']],
    ['cordoned but tolerated', pod({ name: 'p', tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }), node('n', { unschedulable: true }), []],
    ['NoSchedule taint', pod({ name: 'p' }), node('n', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), ['node(s) had untolerated taint {dedicated: db}']],
    ['NoExecute taint', pod({ name: 'p' }), node('n', { taints: [{ key: 'x', effect: 'NoExecute' }] }), ['node(s) had untolerated taint {x: }']],
    ['PreferNoSchedule is only a preference', pod({ name: 'p' }), node('n', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }), []],
    ['tolerated taint', pod({ name: 'p', tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }), node('n', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), []],
    ['not ready', pod({ name: 'p' }), node('n', { ready: 'False' }), ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']],
    ['unknown', pod({ name: 'p' }), node('n', { ready: 'Unknown' }), ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }']],
    ['never reported', pod({ name: 'p' }), node('n', { ready: 'missing' }), ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']],
    ['not ready, tolerated', pod({ name: 'p', tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }] }), node('n', { ready: 'False' }), []],
    ['nodeSelector matches', pod({ name: 'p', nodeSelector: { disk: 'ssd' } }), node('n', { labels: { disk: 'ssd' } }), []],
    ['nodeSelector does not', pod({ name: 'p', nodeSelector: { disk: 'ssd' } }), node('n', { labels: { disk: 'hdd' } }), ["node(s) didn't match Pod's node affinity/selector"]],
    ['cpu', pod({ name: 'p', cpu: '3' }), node('n', { cpu: '2' }), ['Insufficient cpu']],
    ['memory', pod({ name: 'p', memory: '5Gi' }), node('n', { memory: '4Gi' }), ['Insufficient memory']],
    ['cpu and memory', pod({ name: 'p', cpu: '2500m', memory: '5Gi' }), node('n'), ['Insufficient cpu', 'Insufficient memory']],
    ['exactly fits', pod({ name: 'p', cpu: '2', memory: '4Gi' }), node('n'), []],
    ['pods', pod({ name: 'p' }), node('n', { pods: '0' }), ['Too many pods']],
  ]
  for (const [name, p, n, want] of cases) t.same(filterNode(p, n, []), want, name)

  const n = node('n', { cpu: '1', pods: '2' })
  const there = [pod({ name: 'a', nodeName: 'n', cpu: '600m' }), pod({ name: 'b', nodeName: 'n', cpu: '300m' })]
  t.same(filterNode(pod({ name: 'p', cpu: '200m' }), n, there), ['Too many pods', 'Insufficient cpu'], 'requests of pods already there count')
  t.same(filterNode(pod({ name: 'p', cpu: '100m' }), node('n', { cpu: '1' }), there), [], '900m + 100m = 1')
  const finished = [pod({ name: 'done', nodeName: 'n', cpu: '1', phase: 'Succeeded' })]
  t.same(filterNode(pod({ name: 'p', cpu: '1' }), node('n', { cpu: '1' }), finished), [], 'terminal pods free their resources')
  const terminating = [pod({ name: 'going', nodeName: 'n', cpu: '1', deleting: true })]
  t.same(filterNode(pod({ name: 'p', cpu: '1' }), node('n', { cpu: '1' }), terminating), ['Insufficient cpu'], 'terminating pods still hold theirs')
  const bare: Node = { metadata: { name: 'bare' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }
  t.same(filterNode(pod({ name: 'p', cpu: '64' }), bare, []), [], 'a node reporting no allocatable is not limited')
  t.same(
    filterNode(pod({ name: 'p', hostPort: 8080 }), node('n'), [pod({ name: 'q', nodeName: 'n', hostPort: 8080 })]),
    ["node(s) didn't have free ports for the requested pod ports"],
  )
  t.same(filterNode(pod({ name: 'p', hostPort: 8080 }), node('n'), [pod({ name: 'q', nodeName: 'n', hostPort: 9090 })]), [])
})

t.test('node affinity expressions', async t => {
  const withAffinity = (terms: NonNullable<NonNullable<NonNullable<Pod['spec']>['affinity']>['nodeAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']): Pod => {
    const p = pod({ name: 'p' })
    p.spec!.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } }
    return p
  }
  const n = node('n1', { labels: { zone: 'a', gen: '5' } })
  const cases: Array<[string, Pod, boolean]> = [
    ['In', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] }), true],
    ['NotIn', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] }), false],
    ['Exists', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: 'Exists' }] }] }), true],
    ['DoesNotExist', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }] }), true],
    ['Gt', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }] }), true],
    ['Lt', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['4'] }] }] }), false],
    ['terms are ORed', withAffinity({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] }), true],
    ['matchFields on the name', withAffinity({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] }), true],
    ['an empty term matches nothing', withAffinity({ nodeSelectorTerms: [{}] }), false],
  ]
  for (const [name, p, fits] of cases) t.equal(filterNode(p, n, []).length === 0, fits, name)
})

t.test('requests: limits stand in for requests, init containers, overhead', async t => {
  const p = pod({ name: 'p' })
  p.spec!.containers = [
    { name: 'a', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
    { name: 'b', resources: { limits: { cpu: '250m', memory: '1Gi' } } },
  ]
  p.spec!.initContainers = [{ name: 'init', resources: { requests: { cpu: '500m' } } }]
  p.spec!.overhead = { cpu: '10m' }
  t.same(podRequests(p), { cpu: 510, memory: 64 * 1024 * 1024 + 1024 ** 3 })
})

t.test('unschedulable messages in Kubernetes format', async t => {
  t.equal(
    unschedulableMessage(2, { n1: ['Insufficient cpu'], n2: ["node(s) didn't match Pod's node affinity/selector"] }),
    "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.",
  )
  t.equal(
    unschedulableMessage(3, { a: ['Insufficient cpu', 'Insufficient memory'], b: ['Insufficient cpu'], c: ['node(s) were unschedulable'] }),
    '0/3 nodes are available: 1 Insufficient memory, 1 node(s) were unschedulable, 2 Insufficient cpu.',
    'counted per reason, sorted as text',
  )
  t.equal(unschedulableMessage(0, {}), 'no nodes available to schedule pods')
  t.equal(
    place(pod({ name: 'p', cpu: '3', nodeSelector: { disk: 'ssd' } }), [node('n1', { labels: { disk: 'ssd' } }), node('n2')]),
    "unschedulable: 0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.",
  )
  t.equal(place(pod({ name: 'p' }), []), 'unschedulable: no nodes available to schedule pods')
  t.equal(
    place(pod({ name: 'p' }), [node('n1', { ready: 'Unknown' }), node('n2', { ready: 'False' })]),
    'unschedulable: 0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.',
  )
})

t.test('scores: spread the same ReplicaSet, then least requested, then fewest pods, then name', async t => {
  const rs = replicaSet({ name: 'web-abc' })
  const other = replicaSet({ name: 'db-xyz', uid: 'uid-db' })
  const mine = (name: string, nodeName?: string, extra: Parameters<typeof pod>[0] = { name }): Pod => pod({ ...extra, name, owner: rs, nodeName })
  const nodes = [node('n1'), node('n2')]

  // Spreading 3 replicas over 2 nodes, scheduling one at a time.
  const bound: Pod[] = []
  for (const name of ['r1', 'r2', 'r3']) {
    const target = place(mine(name), nodes, bound)
    bound.push(mine(name, target))
  }
  t.same(bound.map(p => p.spec?.nodeName), ['n1', 'n2', 'n1'], '2 + 1, deterministic')

  t.equal(place(mine('r4'), nodes, [mine('a', 'n1'), pod({ name: 'x', owner: other, nodeName: 'n2', cpu: '1500m' })]), 'n2', 'spreading first: n2 has none of ours, though busier')
  t.equal(place(pod({ name: 'solo', cpu: '100m' }), nodes, [pod({ name: 'x', nodeName: 'n1', cpu: '1' })]), 'n2', 'least requested')
  t.equal(place(pod({ name: 'solo' }), [node('n1', { cpu: '4' }), node('n2', { cpu: '2' })]), 'n1', 'the bigger node is less requested')
  t.equal(place(pod({ name: 'solo' }), [node('n2'), node('n1')]), 'n1', 'all equal: by name')
  const s = scoreNode(pod({ name: 'p' }), node('n', { cpu: '1', memory: '1Gi' }), [pod({ name: 'q', nodeName: 'n', cpu: '400m', memory: '512Mi' })])
  // cpu: (1000 - 400 - 100) * 100 / 1000 = 50; memory: (1024 - 512 - 200) * 100 / 1024 = 30.46 → 30; mean 40
  t.same(s, { node: 'n', spread: 0, leastRequested: 40, pods: 1 })
  const terminating = scoreNode(mine('p'), node('n'), [mine('gone', 'n', { name: 'gone', deleting: true })])
  t.equal(terminating.spread, 0, 'terminating replicas do not count for spreading')
})
