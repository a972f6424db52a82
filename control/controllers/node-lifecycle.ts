// Node health, pure: the heartbeat node agents post, how silence turns into
// Ready=Unknown and taints, and which pods are evicted when (Kubernetes'
// node lifecycle controller with taint-based eviction, and the taint
// manager).
//
// The heartbeat, as the kubelet posts it: the node's Ready condition with
// status True, reason KubeletReady, message "kubelet is posting ready
// status", lastHeartbeatTime = now (lastTransitionTime kept while the status
// stays True), written to the status subresource every few seconds
// (heartbeatPatch builds the merge patch).
//
// Silence: the controller notes, on its own clock, when it last saw the
// heartbeat change (clock skew between agent and controller does not
// matter). After the grace period (40 s, as Kubernetes'
// node-monitor-grace-period) Ready becomes Unknown with reason
// NodeStatusUnknown and message "Kubelet stopped posting node status."
// (pressure conditions present become Unknown too); a node that never
// posted Ready gets NodeStatusNeverUpdated / "Kubelet never posted node
// status." after the startup grace (60 s).
//
// Taints follow Ready: Unknown → node.kubernetes.io/unreachable NoSchedule
// and NoExecute (timeAdded on the NoExecute one), False →
// node.kubernetes.io/not-ready likewise, True → neither;
// spec.unschedulable → node.kubernetes.io/unschedulable:NoSchedule. Other
// taints are left alone.
//
// Eviction: a pod that does not tolerate a NoExecute taint of its node is
// evicted at once; one that tolerates them all is evicted when the shortest
// tolerationSeconds has run since the taint was added (never, if no
// toleration is bounded). Pods without their own toleration for the
// unreachable/not-ready taints get Kubernetes' default ones (the
// DefaultTolerationSeconds admission plugin: 300 s), configurable here.
// Evicting = the DisruptionTarget condition, then DELETE. Choice for
// kubewire: on an unreachable node (Ready Unknown: the agent is gone and
// cannot confirm termination) the delete uses gracePeriodSeconds 0, so the
// pod object goes at once and its ReplicaSet's replacement is not stuck
// behind a Terminating pod forever; pods already terminating there are
// force-deleted at their eviction time too. On a node whose agent reports
// NotReady, the pod's own grace period applies (the agent finishes it). A
// returning agent finds its pods gone from the API and stops them.
// When a node goes silent its pods' Ready conditions are set False at once,
// so Endpoints stop sending them traffic (MarkPodsNotReady).

import type { Condition, Node, Pod, Taint, Toleration } from './objects.ts'
import { createdAt, deepCopy, getCondition } from './objects.ts'
import { formatTime, parseTime } from './clock.ts'

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable'
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready'
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable'

export const DEFAULT_NODE_GRACE_MS = 40_000
export const DEFAULT_NODE_STARTUP_GRACE_MS = 60_000
export const DEFAULT_TOLERATION_SECONDS = 300

export const KUBELET_READY_MESSAGE = 'kubelet is posting ready status'
export const NODE_STATUS_UNKNOWN_MESSAGE = 'Kubelet stopped posting node status.'
export const NODE_NEVER_UPDATED_MESSAGE = 'Kubelet never posted node status.'

const PRESSURE_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure']

// --- the heartbeat (agent side) ---------------------------------------------------

/** The Ready condition an agent posts at `now` (the kubelet's setNodeReadyCondition). */
export function readyHeartbeat(previous: Condition | undefined, now: number): Condition {
  const t = formatTime(now)
  return {
    type: 'Ready',
    status: 'True',
    lastHeartbeatTime: t,
    lastTransitionTime: previous?.status === 'True' && previous.lastTransitionTime ? previous.lastTransitionTime : t,
    reason: 'KubeletReady',
    message: KUBELET_READY_MESSAGE,
  }
}

/** The merge patch (status subresource) an agent sends to heartbeat: Ready replaced, the rest kept. */
export function heartbeatPatch(node: Node, now: number): { status: { conditions: Condition[] } } {
  const conditions = node.status?.conditions ?? []
  const ready = readyHeartbeat(getCondition(conditions, 'Ready'), now)
  const rest = conditions.filter(c => c.type !== 'Ready')
  return { status: { conditions: [ready, ...rest] } }
}

// --- silence ----------------------------------------------------------------------

/** What the controller remembers of a node: the heartbeat it last saw, and when (its own clock). */
export interface NodeHealth {
  heartbeat: string | undefined
  probeTimestamp: number
}

export interface NodeLifecycleOptions {
  /** Silence after which Ready becomes Unknown (default 40 s). */
  gracePeriodMs: number
  /** The same for a node that never posted Ready (default 60 s). */
  startupGracePeriodMs: number
  /** tolerationSeconds of the default unreachable/not-ready tolerations (default 300). */
  tolerationSeconds: number
}

export const DEFAULT_NODE_LIFECYCLE_OPTIONS: NodeLifecycleOptions = {
  gracePeriodMs: DEFAULT_NODE_GRACE_MS,
  startupGracePeriodMs: DEFAULT_NODE_STARTUP_GRACE_MS,
  tolerationSeconds: DEFAULT_TOLERATION_SECONDS,
}

/** Updates what is known of `node`'s heartbeat at `now`. */
export function observeNodeHealth(node: Node, previous: NodeHealth | undefined, now: number): NodeHealth {
  const ready = getCondition(node.status?.conditions, 'Ready')
  const heartbeat = ready?.lastHeartbeatTime
  if (!previous) return { heartbeat, probeTimestamp: ready ? now : createdAt(node) || now }
  if (heartbeat !== previous.heartbeat) return { heartbeat, probeTimestamp: now }
  return previous
}

/** When the node's grace runs out, in ms since the epoch. */
export function graceDeadline(node: Node, health: NodeHealth, options: NodeLifecycleOptions): number {
  const ready = getCondition(node.status?.conditions, 'Ready')
  return health.probeTimestamp + (ready ? options.gracePeriodMs : options.startupGracePeriodMs)
}

/**
 * The node's conditions once its grace has run out (Ready and pressure
 * conditions Unknown), or undefined when nothing changes.
 */
export function conditionsAfterSilence(
  node: Node,
  health: NodeHealth,
  now: number,
  options: NodeLifecycleOptions,
): Condition[] | undefined {
  if (now <= graceDeadline(node, health, options)) return undefined
  const conditions = deepCopy(node.status?.conditions ?? [])
  let changed = false
  const t = formatTime(now)
  if (!getCondition(conditions, 'Ready')) {
    conditions.push({
      type: 'Ready',
      status: 'Unknown',
      lastHeartbeatTime: node.metadata.creationTimestamp ?? t,
      lastTransitionTime: t,
      reason: 'NodeStatusNeverUpdated',
      message: NODE_NEVER_UPDATED_MESSAGE,
    })
    changed = true
  }
  for (const c of conditions) {
    if ((c.type === 'Ready' || PRESSURE_CONDITIONS.includes(c.type)) && c.status !== 'Unknown') {
      c.status = 'Unknown'
      c.reason = 'NodeStatusUnknown'
      c.message = NODE_STATUS_UNKNOWN_MESSAGE
      c.lastTransitionTime = t
      changed = true
    }
  }
  return changed ? conditions : undefined
}

// --- taints -------------------------------------------------------------------------

const MANAGED = [TAINT_UNREACHABLE, TAINT_NOT_READY, TAINT_UNSCHEDULABLE]

/** The taints the node's conditions and spec call for, among those this controller manages. */
export function conditionTaints(node: Node): Taint[] {
  const ready = getCondition(node.status?.conditions, 'Ready')?.status
  const out: Taint[] = []
  if (ready === 'Unknown') {
    out.push({ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute' })
  } else if (ready === 'False') {
    out.push({ key: TAINT_NOT_READY, effect: 'NoSchedule' }, { key: TAINT_NOT_READY, effect: 'NoExecute' })
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' })
  return out
}

/** The node's full taint list after reconciling the managed ones, or undefined when it stays. */
export function reconcileTaints(node: Node, now: number): Taint[] | undefined {
  const current = node.spec?.taints ?? []
  const wanted = conditionTaints(node)
  const same = (a: Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect
  const kept = current.filter(t => !MANAGED.includes(t.key) || wanted.some(w => same(w, t)))
  const added = wanted
    .filter(w => !current.some(t => same(t, w)))
    .map(w => (w.effect === 'NoExecute' ? { ...w, timeAdded: formatTime(now) } : w))
  if (kept.length === current.length && added.length === 0) return undefined
  return [...kept, ...added]
}

// --- tolerations and eviction ------------------------------------------------------------

/** Whether one toleration tolerates one taint (Toleration.ToleratesTaint). */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false
  if (toleration.key && toleration.key !== taint.key) return false
  switch (toleration.operator ?? '') {
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '')
    case 'Exists':
      return true
    default:
      return false
  }
}

/** The pod's tolerations plus the admission defaults for unreachable/not-ready NoExecute. */
export function effectiveTolerations(pod: Pod, tolerationSeconds: number): Toleration[] {
  const own = pod.spec?.tolerations ?? []
  const out = [...own]
  for (const key of [TAINT_NOT_READY, TAINT_UNREACHABLE]) {
    const taint: Taint = { key, effect: 'NoExecute' }
    if (!own.some(t => toleratesTaint(t, taint))) {
      out.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds })
    }
  }
  return out
}

export interface Eviction {
  pod: Pod
  /** 0 on an unreachable node (force); undefined: the pod's own grace period. */
  gracePeriodSeconds?: number
}

export interface EvictionPlan {
  evict: Eviction[]
  /** Milliseconds until the next pod's eviction time, if any pod is waiting for one. */
  nextInMs?: number
}

/** When `pod` must go from a node with these NoExecute taints; undefined: never. */
export function evictionTime(pod: Pod, taints: readonly Taint[], now: number, tolerationSeconds: number): number | undefined {
  if (taints.length === 0) return undefined
  const tolerations = effectiveTolerations(pod, tolerationSeconds)
  let minSeconds: number | undefined
  for (const taint of taints) {
    const matching = tolerations.filter(t => toleratesTaint(t, taint))
    if (matching.length === 0) return now
    for (const t of matching) {
      if (t.tolerationSeconds === undefined) continue
      const s = Math.max(0, t.tolerationSeconds)
      minSeconds = minSeconds === undefined ? s : Math.min(minSeconds, s)
    }
  }
  if (minSeconds === undefined) return undefined
  const since = Math.min(...taints.map(t => parseTime(t.timeAdded) ?? now))
  return since + minSeconds * 1000
}

/** Which of the node's pods to evict now, and when to look again. */
export function planEvictions(node: Node, pods: readonly Pod[], now: number, tolerationSeconds: number): EvictionPlan {
  const taints = (node.spec?.taints ?? []).filter(t => t.effect === 'NoExecute')
  const unreachable = getCondition(node.status?.conditions, 'Ready')?.status === 'Unknown'
  const plan: EvictionPlan = { evict: [] }
  for (const pod of pods) {
    // A pod already terminating is the agent's to finish, unless the agent is gone.
    if (pod.metadata.deletionTimestamp && !unreachable) continue
    const at = evictionTime(pod, taints, now, tolerationSeconds)
    if (at === undefined) continue
    if (at <= now) plan.evict.push(unreachable ? { pod, gracePeriodSeconds: 0 } : { pod })
    else plan.nextInMs = Math.min(plan.nextInMs ?? Infinity, at - now)
  }
  return plan
}

/** Pods of a silent node (Ready Unknown) still reported ready. */
export function podsToMarkNotReady(node: Node, pods: readonly Pod[]): Pod[] {
  const ready = getCondition(node.status?.conditions, 'Ready')
  if (ready?.status !== 'Unknown') return []
  return pods.filter(p => !p.metadata.deletionTimestamp && getCondition(p.status?.conditions, 'Ready')?.status === 'True')
}

/** The pod's conditions with Ready set False at `now` (MarkPodsNotReady). */
export function notReadyConditions(pod: Pod, now: number): Condition[] {
  return (pod.status?.conditions ?? []).map(c =>
    c.type === 'Ready' && c.status !== 'False' ? { ...c, status: 'False', lastTransitionTime: formatTime(now) } : c,
  )
}

/** The pod's conditions with DisruptionTarget set, as the taint manager marks a pod before deleting it. */
export function disruptionConditions(pod: Pod, now: number): Condition[] {
  const rest = (pod.status?.conditions ?? []).filter(c => c.type !== 'DisruptionTarget')
  return [
    ...rest,
    {
      type: 'DisruptionTarget',
      status: 'True',
      lastTransitionTime: formatTime(now),
      reason: 'DeletionByTaintManager',
      message: 'Taint manager: deleting due to NoExecute taint',
    },
  ]
}

// --- one node, all together ------------------------------------------------------------------

export interface NodeInput {
  node: Node
  health: NodeHealth | undefined
  /** Pods bound to the node. */
  pods: readonly Pod[]
  now: number
  options?: Partial<NodeLifecycleOptions>
}

export interface NodePlan {
  health: NodeHealth
  /** New status.conditions to write (Ready went Unknown). */
  conditions?: Condition[]
  /** New spec.taints to write. */
  taints?: Taint[]
  markNotReady: Pod[]
  evict: Eviction[]
  /** Node events, e.g. NodeNotReady. */
  events: Array<{ reason: string; message: string }>
  /** When to look at this node again (grace running out, an eviction due). */
  requeueAfterMs?: number
}

/** One sync of one node. */
export function reconcileNode(input: NodeInput): NodePlan {
  const options = { ...DEFAULT_NODE_LIFECYCLE_OPTIONS, ...input.options }
  const { now } = input
  const health = observeNodeHealth(input.node, input.health, now)
  const node = deepCopy(input.node)
  const plan: NodePlan = { health, markNotReady: [], evict: [], events: [] }

  const conditions = conditionsAfterSilence(node, health, now, options)
  if (conditions) {
    const before = getCondition(node.status?.conditions, 'Ready')?.status
    plan.conditions = conditions
    node.status = { ...node.status, conditions }
    if (before !== 'Unknown') plan.events.push({ reason: 'NodeNotReady', message: `Node ${node.metadata.name ?? ''} status is now: NodeNotReady` })
  }
  const taints = reconcileTaints(node, now)
  if (taints) {
    plan.taints = taints
    node.spec = { ...node.spec, taints }
  }
  const evictions = planEvictions(node, input.pods, now, options.tolerationSeconds)
  plan.evict = evictions.evict
  const evicted = new Set(evictions.evict.map(e => e.pod))
  plan.markNotReady = podsToMarkNotReady(node, input.pods).filter(p => !evicted.has(p))

  const waits: number[] = []
  if (evictions.nextInMs !== undefined) waits.push(evictions.nextInMs)
  const readyStatus = getCondition(node.status?.conditions, 'Ready')?.status
  if (readyStatus !== 'Unknown') waits.push(Math.max(0, graceDeadline(node, health, options) - now) + 1)
  if (waits.length > 0) plan.requeueAfterMs = Math.min(...waits)
  return plan
}
