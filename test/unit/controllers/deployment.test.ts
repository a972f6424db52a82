import t from 'tap'
import { reconcileDeployment } from '../../../control/controllers/deployment.ts'
import type { DeploymentAction, DeploymentPlan } from '../../../control/controllers/deployment.ts'
import {
  computeHash,
  equalIgnoreHash,
  maxSurge,
  maxUnavailable,
  safeEncodeString,
} from '../../../control/controllers/deployment-util.ts'
import type { Deployment, DeploymentSpec, Pod, PodTemplateSpec, ReplicaSet } from '../../../control/controllers/objects.ts'
import { formatTime } from '../../../control/controllers/clock.ts'
import { T0, at, deployment, pod, replicaSet, template } from './fakes/builders.ts'

const actionsOf = (plan: DeploymentPlan, type: DeploymentAction['type']): DeploymentAction[] =>
  plan.actions.filter(a => a.type === type)
const events = (plan: DeploymentPlan): string[] =>
  plan.actions.flatMap(a => (a.type === 'event' ? [`${a.eventType} ${a.reason} ${a.message}`] : []))

// An RS of deployment `d` with `template`, as the controller would have made it.
function ownedRS(d: Deployment, o: { tpl?: PodTemplateSpec; replicas: number; available?: number; revision: number; created: number; statusReplicas?: number }): ReplicaSet {
  const tpl = o.tpl ?? d.spec!.template!
  const hash = computeHash(tpl)
  const name = `${d.metadata.name}-${hash}`
  const rs = replicaSet({
    name,
    uid: `uid-${name}`,
    replicas: o.replicas,
    created: o.created,
    owner: d,
    selector: { ...d.spec!.selector!.matchLabels, 'pod-template-hash': hash },
    template: { ...tpl, metadata: { labels: { ...tpl.metadata?.labels, 'pod-template-hash': hash } } },
    annotations: {
      'deployment.kubernetes.io/revision': String(o.revision),
      'deployment.kubernetes.io/desired-replicas': String(d.spec!.replicas ?? 1),
      'deployment.kubernetes.io/max-replicas': String((d.spec!.replicas ?? 1) + maxSurge(d)),
    },
    status: {
      replicas: o.statusReplicas ?? o.replicas,
      availableReplicas: o.available ?? o.replicas,
      readyReplicas: o.available ?? o.replicas,
      observedGeneration: 1,
    },
  })
  return rs
}

t.test('pod-template hash: stable, safe-encoded, sensitive to the template and the collision count', async t => {
  const a = template({ app: 'web' }, 'nginx')
  const h = computeHash(a)
  t.match(h, /^[4-9bcdf]{6,10}$/, 'digits of an FNV-32 mapped through the safe alphabet')
  t.equal(computeHash(structuredClone(a)), h, 'the same template hashes the same')
  t.equal(
    computeHash({ spec: a.spec, metadata: a.metadata }),
    h,
    'key order does not matter',
  )
  t.not(computeHash(template({ app: 'web' }, 'nginx:1.27')), h, 'another image, another hash')
  t.not(computeHash(a, 1), h, 'a collision count changes the hash')
  t.not(computeHash(a, 1), computeHash(a, 2))
  t.equal(safeEncodeString('0123456789'), '456789bcdf')
  t.ok(equalIgnoreHash(a, { metadata: { labels: { app: 'web', 'pod-template-hash': 'x' } }, spec: a.spec }))
  t.notOk(equalIgnoreHash(a, template({ app: 'web' }, 'other')))
})

t.test('fenceposts: numbers, percentages and their rounding', async t => {
  const cases: Array<[DeploymentSpec, number, number]> = [
    [{ replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }, 1, 0],
    [{ replicas: 4 }, 1, 1], // 25%/25% by default
    [{ replicas: 10 }, 3, 2], // 2.5 → surge up, unavailable down
    [{ replicas: 3 }, 1, 0], // 0.75 → 1 and 0
    [{ replicas: 1 }, 1, 0],
    [{ replicas: 10, strategy: { rollingUpdate: { maxSurge: '0%', maxUnavailable: '0%' } } }, 0, 1], // both 0: unavailable 1
    [{ replicas: 5, strategy: { rollingUpdate: { maxSurge: '50%', maxUnavailable: '50%' } } }, 3, 2],
    [{ replicas: 2, strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 5 } } }, 0, 2], // capped at replicas
    [{ replicas: 3, strategy: { type: 'Recreate' } }, 0, 0],
    [{ replicas: 0 }, 0, 0],
  ]
  for (const [spec, surge, unavailable] of cases) {
    const d = deployment('web', spec)
    t.equal(maxSurge(d), surge, `${JSON.stringify(spec)} surge`)
    t.equal(maxUnavailable(d), unavailable, `${JSON.stringify(spec)} unavailable`)
  }
})

t.test('a new deployment gets a ReplicaSet named after the template hash', async t => {
  const d = deployment('web', { replicas: 3 })
  const plan = reconcileDeployment({ deployment: d, replicaSets: [], pods: [], now: T0 })
  const create = actionsOf(plan, 'createReplicaSet')[0]
  if (create?.type !== 'createReplicaSet') throw new Error('no create')
  const hash = computeHash(d.spec!.template)
  const rs = create.replicaSet
  t.equal(rs.metadata.name, `web-${hash}`)
  t.same(rs.metadata.labels, { app: 'web', 'pod-template-hash': hash })
  t.same(rs.spec?.selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } })
  t.same(rs.spec?.template?.metadata?.labels, { app: 'web', 'pod-template-hash': hash })
  t.equal(rs.spec?.replicas, 3)
  t.same(rs.metadata.annotations, {
    'deployment.kubernetes.io/revision': '1',
    'deployment.kubernetes.io/desired-replicas': '3',
    'deployment.kubernetes.io/max-replicas': '4',
  })
  t.match(rs.metadata.ownerReferences, [{ kind: 'Deployment', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true }])
  t.equal(rs.metadata.uid, undefined, 'no uid: the server gives one')
  t.same(events(plan), [`Normal ScalingReplicaSet Scaled up replica set web-${hash} to 3`])
  t.same(actionsOf(plan, 'patchDeploymentAnnotations'), [
    { type: 'patchDeploymentAnnotations', annotations: { 'deployment.kubernetes.io/revision': '1' } },
  ])
  const statuses = actionsOf(plan, 'updateDeploymentStatus')
  const last = statuses.at(-1)
  if (last?.type !== 'updateDeploymentStatus') throw new Error('no status')
  t.match(last.status.conditions, [
    { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "web-${hash}"` },
    { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
  ])
  t.equal(last.status.observedGeneration, 1)
})

t.test('annotations of the deployment are copied to a new ReplicaSet, but not the skipped ones', async t => {
  const d = deployment('web', {}, {
    annotations: { team: 'net', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'deployment.kubernetes.io/revision': '9' },
  })
  const plan = reconcileDeployment({ deployment: d, replicaSets: [], pods: [], now: T0 })
  const create = actionsOf(plan, 'createReplicaSet')[0]
  if (create?.type !== 'createReplicaSet') throw new Error('no create')
  t.equal(create.replicaSet.metadata.annotations?.['team'], 'net')
  t.equal(create.replicaSet.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined)
  t.equal(create.replicaSet.metadata.annotations?.['deployment.kubernetes.io/revision'], '1')
})

// ---------------------------------------------------------------------------
// A small pure world: the deployment controller's plans applied to
// ReplicaSets, a stand-in ReplicaSet controller that reports status, and
// pods becoming available only when the test says so.

interface World {
  d: Deployment
  rss: ReplicaSet[]
  /** Available pods per ReplicaSet name (what the pods would report). */
  available: Map<string, number>
  now: number
  seq: number
  log: string[]
  events: string[]
  created: ReplicaSet[]
  deleted: string[]
}

function newWorld(d: Deployment, rss: ReplicaSet[] = []): World {
  const w: World = { d, rss, available: new Map(), now: T0, seq: 100, log: [], events: [], created: [], deleted: [] }
  for (const rs of rss) w.available.set(rs.metadata.name!, rs.status?.availableReplicas ?? 0)
  return w
}

// The ReplicaSet controller's view: spec.replicas pods, of which `available` are available.
function reportStatus(w: World): void {
  for (const rs of w.rss) {
    const n = rs.spec?.replicas ?? 0
    const a = Math.min(n, w.available.get(rs.metadata.name!) ?? 0)
    w.available.set(rs.metadata.name!, a)
    rs.status = { replicas: n, readyReplicas: a, availableReplicas: a, observedGeneration: rs.metadata.generation ?? 1 }
  }
}

function apply(w: World, plan: DeploymentPlan, check: (w: World) => void = () => {}): void {
  for (const a of plan.actions) {
    switch (a.type) {
      case 'createReplicaSet': {
        const rs = structuredClone(a.replicaSet)
        rs.metadata.uid = `uid-${rs.metadata.name}`
        rs.metadata.creationTimestamp = at(w.seq++)
        rs.metadata.generation = 1
        w.rss.push(rs)
        w.created.push(rs)
        break
      }
      case 'updateReplicaSet': {
        const rs = w.rss.find(r => r.metadata.name === a.name)!
        rs.spec!.replicas = a.replicas
        rs.spec!.minReadySeconds = a.minReadySeconds
        rs.metadata.annotations = a.annotations
        break
      }
      case 'deleteReplicaSet':
        w.rss = w.rss.filter(r => r.metadata.name !== a.name)
        w.deleted.push(a.name)
        break
      case 'patchDeploymentAnnotations':
        w.d.metadata.annotations = { ...w.d.metadata.annotations, ...a.annotations }
        break
      case 'updateDeploymentStatus':
        w.d.status = structuredClone(a.status)
        break
      case 'event':
        w.events.push(`${a.reason} ${a.message}`)
        break
      default:
        break
    }
    reportStatus(w)
    check(w)
  }
}

/** Reconciles until nothing changes. */
function converge(w: World, check?: (w: World) => void): DeploymentPlan {
  for (let i = 0; i < 50; i++) {
    reportStatus(w)
    const plan = reconcileDeployment({ deployment: w.d, replicaSets: w.rss, pods: [], now: w.now })
    const effective = plan.actions.filter(a => a.type !== 'event')
    if (effective.length === 0) return plan
    apply(w, plan, check)
  }
  throw new Error('did not converge')
}

const sizes = (w: World): string => {
  const rs = [...w.rss].sort((a, b) => (a.metadata.creationTimestamp! < b.metadata.creationTimestamp! ? -1 : 1))
  return rs.map(r => `${r.spec?.replicas ?? 0}/${w.available.get(r.metadata.name!) ?? 0}`).join(' ')
}

// Rolls `d` (running `rs` fully) to a new image, making one more pod of the
// new ReplicaSet available whenever the controllers are done; returns the
// states seen between steps.
function rollout(spec: DeploymentSpec, replicas: number): { steps: string[]; minAvailable: number; maxTotal: number; world: World } {
  const d = deployment('web', { replicas, ...spec })
  const old = ownedRS(d, { replicas, revision: 1, created: 1 })
  d.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' }
  const w = newWorld(d, [old])
  converge(w)
  w.d.spec!.template = template({ app: 'web' }, 'nginx:2')
  w.d.metadata.generation = 2
  let minAvailable = Infinity
  let maxTotal = 0
  const check = (w: World): void => {
    const total = w.rss.reduce((n, r) => n + (r.spec?.replicas ?? 0), 0)
    const avail = w.rss.reduce((n, r) => n + (w.available.get(r.metadata.name!) ?? 0), 0)
    maxTotal = Math.max(maxTotal, total)
    minAvailable = Math.min(minAvailable, avail)
  }
  const steps: string[] = []
  for (let i = 0; i < 100; i++) {
    converge(w, check)
    steps.push(sizes(w))
    const newRS = w.rss.find(r => r.spec?.template?.spec?.containers?.[0]?.image === 'nginx:2')!
    const a = w.available.get(newRS.metadata.name!) ?? 0
    if (a >= replicas && w.rss.every(r => r === newRS || (r.spec?.replicas ?? 0) === 0)) break
    // One more pod of the new ReplicaSet becomes available.
    if (a < (newRS.spec?.replicas ?? 0)) w.available.set(newRS.metadata.name!, a + 1)
  }
  return { steps, minAvailable, maxTotal, world: w }
}

t.test('rolling update maxSurge=1 maxUnavailable=0: one pod at a time, never below 3 available', async t => {
  const { steps, minAvailable, maxTotal, world } = rollout(
    { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
    3,
  )
  t.same(steps, ['3/3 1/0', '2/2 2/1', '1/1 3/2', '0/0 3/3'], 'old/new sizes (spec/available) between steps')
  t.equal(minAvailable, 3, 'never fewer than replicas - maxUnavailable available')
  t.equal(maxTotal, 4, 'never more than replicas + maxSurge')
  t.equal(world.d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2')
  const newRS = world.created[0]!
  t.equal(newRS.metadata.annotations?.['deployment.kubernetes.io/revision'], '2')
  t.match(world.d.status, {
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    observedGeneration: 2,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${newRS.metadata.name}" has successfully progressed.` },
    ],
  })
  t.equal(world.d.status?.unavailableReplicas, undefined, 'zero unavailable is omitted')
  t.ok(world.events.includes(`ScalingReplicaSet Scaled up replica set ${newRS.metadata.name} to 1`))
  t.ok(world.events.some(e => /^ScalingReplicaSet Scaled down replica set web-\w+ to 2$/.test(e)))
})

t.test('rolling update 25%/25% with 4 replicas: surge 1, unavailable 1', async t => {
  const { steps, minAvailable, maxTotal } = rollout({}, 4)
  t.equal(minAvailable, 3)
  t.equal(maxTotal, 5)
  t.equal(steps[0], '3/3 2/0', 'new +1 (surge), old -1 (unavailable), new +1 again, then wait')
  t.equal(steps.at(-1), '0/0 4/4')
})

t.test('rolling update 25%/25% with 10 replicas: surge rounds up to 3, unavailable down to 2', async t => {
  const { steps, minAvailable, maxTotal, world } = rollout({}, 10)
  t.equal(minAvailable, 8)
  t.equal(maxTotal, 13)
  t.equal(steps[0], '8/8 5/0', 'new +3, old -2, new +2, then wait')
  t.equal(world.created[0]!.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '13')
  t.equal(steps.at(-1), '0/0 10/10')
})

t.test('rolling update with percentages 50%/0% on 5 replicas', async t => {
  const { minAvailable, maxTotal, steps } = rollout(
    { strategy: { rollingUpdate: { maxSurge: '50%', maxUnavailable: '0%' } } },
    5,
  )
  t.equal(minAvailable, 5)
  t.equal(maxTotal, 8, 'ceil(2.5) = 3 extra pods')
  t.equal(steps[0], '5/5 3/0')
})

t.test('rolling update maxSurge=0 maxUnavailable=1: delete first, then replace', async t => {
  const { minAvailable, maxTotal, steps } = rollout(
    { strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } },
    3,
  )
  t.equal(maxTotal, 3)
  t.equal(minAvailable, 2)
  t.equal(steps.at(-1), '0/0 3/3')
})

t.test('Recreate: old ReplicaSets to 0, wait for their pods, then the new one', async t => {
  const d = deployment('web', { replicas: 3, strategy: { type: 'Recreate' } })
  const old = ownedRS(d, { replicas: 3, revision: 1, created: 1 })
  d.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' }
  d.spec!.template = template({ app: 'web' }, 'nginx:2')

  const step1 = reconcileDeployment({ deployment: d, replicaSets: [old], pods: [], now: T0 })
  t.same(actionsOf(step1, 'createReplicaSet'), [], 'no new ReplicaSet yet')
  t.match(actionsOf(step1, 'updateReplicaSet'), [{ name: old.metadata.name, replicas: 0 }])
  t.same(events(step1), [`Normal ScalingReplicaSet Scaled down replica set ${old.metadata.name} to 0`])

  const scaled = structuredClone(old)
  scaled.spec!.replicas = 0
  scaled.metadata.annotations!['deployment.kubernetes.io/max-replicas'] = '3'
  scaled.status = { replicas: 0, observedGeneration: 1 }
  const terminating: Pod = pod({ name: 'old-1', owner: scaled, nodeName: 'n1', deleting: true })
  const step2 = reconcileDeployment({ deployment: d, replicaSets: [scaled], pods: [terminating], now: T0 })
  t.same(actionsOf(step2, 'createReplicaSet'), [], 'an old pod is still terminating: wait')

  const failed = pod({ name: 'old-2', owner: scaled, nodeName: 'n1', phase: 'Failed' })
  const step3 = reconcileDeployment({ deployment: d, replicaSets: [scaled], pods: [failed], now: T0 })
  const create = actionsOf(step3, 'createReplicaSet')[0]
  if (create?.type !== 'createReplicaSet') throw new Error('no create')
  t.equal(create.replicaSet.spec?.replicas, 3, 'the new one starts at full size')
  t.equal(create.replicaSet.metadata.annotations?.['deployment.kubernetes.io/revision'], '2')
  t.equal(create.replicaSet.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '3', 'no surge with Recreate')
})

t.test('rollback: re-applying an old template re-uses its ReplicaSet under a new revision', async t => {
  const d = deployment('web', { replicas: 3 })
  const tplA = template({ app: 'web' }, 'nginx:1')
  const tplB = template({ app: 'web' }, 'nginx:2')
  const rsA = ownedRS(d, { tpl: tplA, replicas: 0, available: 0, revision: 1, created: 1 })
  const rsB = ownedRS(d, { tpl: tplB, replicas: 3, revision: 2, created: 2 })
  d.metadata.annotations = { 'deployment.kubernetes.io/revision': '2' }
  d.spec!.template = structuredClone(tplA)
  d.metadata.generation = 3
  const w = newWorld(d, [rsA, rsB])
  const plan = reconcileDeployment({ deployment: w.d, replicaSets: w.rss, pods: [], now: T0 })
  t.same(actionsOf(plan, 'createReplicaSet'), [], 'no new ReplicaSet')
  const first = actionsOf(plan, 'updateReplicaSet')[0]
  t.match(first, {
    name: rsA.metadata.name,
    annotations: { 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' },
  })
  t.same(actionsOf(plan, 'patchDeploymentAnnotations'), [
    { type: 'patchDeploymentAnnotations', annotations: { 'deployment.kubernetes.io/revision': '3' } },
  ])
  converge(w)
  for (let i = 0; i < 10; i++) {
    w.available.set(rsA.metadata.name!, (w.available.get(rsA.metadata.name!) ?? 0) + 1)
    converge(w)
  }
  t.equal(sizes(w), '3/3 0/0', 'rolled back to the first ReplicaSet')
  t.equal(w.created.length, 0)
})

t.test('revisionHistoryLimit: old ReplicaSets at 0 beyond the limit go, lowest revision first', async t => {
  const d = deployment('web', { replicas: 2, revisionHistoryLimit: 2 })
  d.metadata.annotations = { 'deployment.kubernetes.io/revision': '5' }
  const old = [1, 2, 3, 4].map(r =>
    ownedRS(d, { tpl: template({ app: 'web' }, `nginx:${r}`), replicas: 0, available: 0, revision: r, created: r }),
  )
  // Revision 2 still reports a pod: it is kept this time.
  old[1]!.status = { replicas: 1, observedGeneration: 1 }
  const current = ownedRS(d, { replicas: 2, revision: 5, created: 5 })
  d.status = { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 }
  const plan = reconcileDeployment({ deployment: d, replicaSets: [...old, current], pods: [], now: T0 })
  t.same(
    actionsOf(plan, 'deleteReplicaSet').map(a => (a.type === 'deleteReplicaSet' ? a.name : '')),
    [old[0]!.metadata.name],
    'revision 1 deleted; revision 2 kept while it has a pod; 3 and 4 within the limit',
  )
})

t.test('conditions: Available, Progressing, progress deadline', async t => {
  const d = deployment('web', { replicas: 3, progressDeadlineSeconds: 60, strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } })
  const rs = ownedRS(d, { replicas: 3, available: 1, revision: 1, created: 1 })
  d.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' }
  const progressing = {
    type: 'Progressing',
    status: 'True' as const,
    lastUpdateTime: at(0),
    lastTransitionTime: at(0),
    reason: 'ReplicaSetUpdated',
    message: `ReplicaSet "${rs.metadata.name}" is progressing.`,
  }
  d.status = {
    observedGeneration: 1,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 1,
    availableReplicas: 1,
    unavailableReplicas: 2,
    conditions: [
      { type: 'Available', status: 'False', lastUpdateTime: at(0), lastTransitionTime: at(0), reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      progressing,
    ],
  }
  const waiting = reconcileDeployment({ deployment: d, replicaSets: [rs], pods: [], now: T0 + 10_000 })
  t.same(actionsOf(waiting, 'updateDeploymentStatus'), [], 'nothing moved: no write')
  t.equal(waiting.requeueAfterMs, 51_000, 'back at the deadline (+1 s)')

  const late = reconcileDeployment({ deployment: d, replicaSets: [rs], pods: [], now: T0 + 61_000 })
  const s = actionsOf(late, 'updateDeploymentStatus')[0]
  if (s?.type !== 'updateDeploymentStatus') throw new Error('no status')
  t.match(s.status.conditions, [
    { type: 'Available', status: 'False' },
    { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rs.metadata.name}" has timed out progressing.`, lastTransitionTime: formatTime(T0 + 61_000) },
  ])

  const more = structuredClone(rs)
  more.status = { ...more.status, availableReplicas: 2, readyReplicas: 2 }
  const moving = reconcileDeployment({ deployment: d, replicaSets: [more], pods: [], now: T0 + 20_000 })
  const m = actionsOf(moving, 'updateDeploymentStatus')[0]
  if (m?.type !== 'updateDeploymentStatus') throw new Error('no status')
  t.match(m.status.conditions, [
    { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastTransitionTime: formatTime(T0 + 20_000) },
    { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: formatTime(T0 + 20_000), lastTransitionTime: at(0) },
  ])
  t.equal(m.status.unavailableReplicas, 1)
})

t.test('a ReplicaFailure of the new ReplicaSet shows on the deployment', async t => {
  const d = deployment('web', { replicas: 1 })
  d.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' }
  const rs = ownedRS(d, { replicas: 1, available: 0, revision: 1, created: 1 })
  rs.status!.replicas = 0
  rs.status!.conditions = [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastTransitionTime: at(3) }]
  const plan = reconcileDeployment({ deployment: d, replicaSets: [rs], pods: [], now: T0 })
  const s = actionsOf(plan, 'updateDeploymentStatus').at(-1)
  if (s?.type !== 'updateDeploymentStatus') throw new Error('no status')
  t.match(s.status.conditions, [{}, {}, { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastUpdateTime: at(3) }])
})

t.test('paused: no rollout, but scaling works; Progressing says paused, then resumed', async t => {
  const d = deployment('web', { replicas: 3, paused: true })
  d.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' }
  const rs = ownedRS(d, { replicas: 3, revision: 1, created: 1 })
  d.spec!.template = template({ app: 'web' }, 'nginx:2')
  d.spec!.replicas = 5
  const plan = reconcileDeployment({ deployment: d, replicaSets: [rs], pods: [], now: T0 })
  t.same(actionsOf(plan, 'createReplicaSet'), [], 'paused: the new template is not rolled out')
  t.match(actionsOf(plan, 'updateReplicaSet'), [{ name: rs.metadata.name, replicas: 5 }], 'but the scale change is applied')
  const s = actionsOf(plan, 'updateDeploymentStatus')[0]
  if (s?.type !== 'updateDeploymentStatus') throw new Error('no status')
  t.match(s.status.conditions, [{ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }])

  const resumed = structuredClone(d)
  resumed.spec!.paused = false
  resumed.status = s.status
  const plan2 = reconcileDeployment({ deployment: resumed, replicaSets: [rs], pods: [], now: T0 })
  const s2 = actionsOf(plan2, 'updateDeploymentStatus')[0]
  if (s2?.type !== 'updateDeploymentStatus') throw new Error('no status')
  t.match(s2.status.conditions, [{ type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' }])
})

t.test('scaling a settled deployment resizes its only active ReplicaSet', async t => {
  for (const [from, to] of [[3, 6], [6, 1], [3, 0]] as const) {
    const d = deployment('web', { replicas: from })
    d.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' }
    const rs = ownedRS(d, { replicas: from, revision: 1, created: 1 })
    d.spec!.replicas = to
    const plan = reconcileDeployment({ deployment: d, replicaSets: [rs], pods: [], now: T0 })
    t.match(actionsOf(plan, 'updateReplicaSet'), [{ name: rs.metadata.name, replicas: to }], `${from} → ${to}`)
    t.same(events(plan), [`Normal ScalingReplicaSet Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} to ${to}`])
  }
})

t.test('scaling in the middle of a rollout is proportional (the Kubernetes docs example)', async t => {
  // 10 replicas, maxSurge 3, maxUnavailable 2; mid-rollout the old RS has 8
  // and the new one 5. Scaling to 15 adds 5: 3 to the old, 2 to the new.
  const d = deployment('web', { replicas: 10, strategy: { rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } })
  const tplOld = template({ app: 'web' }, 'nginx:1')
  const oldRS = ownedRS(d, { tpl: tplOld, replicas: 8, revision: 1, created: 1 })
  const newRS = ownedRS(d, { replicas: 5, available: 0, revision: 2, created: 2 })
  d.metadata.annotations = { 'deployment.kubernetes.io/revision': '2' }
  d.spec!.replicas = 15
  const plan = reconcileDeployment({ deployment: d, replicaSets: [oldRS, newRS], pods: [], now: T0 })
  const updates = actionsOf(plan, 'updateReplicaSet').map(a => (a.type === 'updateReplicaSet' ? [a.name, a.replicas, a.annotations['deployment.kubernetes.io/max-replicas']] : []))
  t.same(updates, [
    [oldRS.metadata.name, 11, '18'],
    [newRS.metadata.name, 7, '18'],
  ])
})

t.test('a deployment selecting everything is refused with a Warning', async t => {
  const d = deployment('web', { selector: {} })
  d.metadata.generation = 4
  const plan = reconcileDeployment({ deployment: d, replicaSets: [], pods: [], now: T0 })
  t.same(events(plan), ['Warning SelectingAll This deployment is selecting all pods. A non-empty selector is required.'])
  t.match(actionsOf(plan, 'updateDeploymentStatus'), [{ status: { observedGeneration: 4 } }])
})

t.test('orphan ReplicaSets matching the selector are adopted; a deleting deployment only syncs status', async t => {
  const d = deployment('web', { replicas: 3 })
  const orphan = ownedRS(d, { replicas: 3, revision: 1, created: 1 })
  delete orphan.metadata.ownerReferences
  const plan = reconcileDeployment({ deployment: d, replicaSets: [orphan], pods: [], now: T0 })
  t.match(actionsOf(plan, 'adoptReplicaSet'), [{ replicaSet: { metadata: { name: orphan.metadata.name } } }])
  t.same(actionsOf(plan, 'createReplicaSet'), [], 'the adopted one is the new ReplicaSet')

  const dying = deployment('web', { replicas: 3 }, { deletionTimestamp: at(5) })
  const plan2 = reconcileDeployment({ deployment: dying, replicaSets: [], pods: [], now: T0 })
  t.same(actionsOf(plan2, 'createReplicaSet'), [])
  t.same(actionsOf(plan2, 'adoptReplicaSet'), [])
})
