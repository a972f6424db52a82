// What the workload controllers ask of a pod: is it active, ready, available,
// and which pods go first when a ReplicaSet shrinks.
//
// Why these rules: they decide what users see during a scale-down or a
// rollout, so they follow Kubernetes (pkg/controller/controller_utils.go and
// api/v1/pod/util.go): a pod is active until it is terminal or marked for
// deletion; ready when its Ready condition is True; available once it has
// been ready for minReadySeconds.

import type { Pod } from './objects.ts'
import { compareText, createdAt, getCondition } from './objects.ts'
import { parseTime } from './clock.ts'

/** Not Succeeded, not Failed, not being deleted (FilterActivePods / IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp
}

/** Succeeded or Failed. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase
  return phase === 'Succeeded' || phase === 'Failed'
}

/** The Ready condition is True (IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return getCondition(pod.status?.conditions, 'Ready')?.status === 'True'
}

/** When the pod last became ready (lastTransitionTime of Ready=True), in ms. */
export function podReadySince(pod: Pod): number | undefined {
  const c = getCondition(pod.status?.conditions, 'Ready')
  return c?.status === 'True' ? parseTime(c.lastTransitionTime) : undefined
}

/**
 * Ready for at least minReadySeconds at `now` (IsPodAvailable). A ready pod
 * without a transition time counts as available only when minReadySeconds is 0.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false
  if (minReadySeconds <= 0) return true
  const since = podReadySince(pod)
  return since !== undefined && since + minReadySeconds * 1000 <= now
}

/**
 * Milliseconds until a ready but not yet available pod becomes available;
 * undefined when it is not ready or already available.
 */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, now: number): number | undefined {
  if (!isPodReady(pod) || minReadySeconds <= 0) return undefined
  const since = podReadySince(pod)
  if (since === undefined) return undefined
  const at = since + minReadySeconds * 1000
  return at > now ? at - now : undefined
}

/** The pod-deletion-cost annotation (0 when absent or not an integer). */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost'

function deletionCost(pod: Pod): number {
  const v = pod.metadata.annotations?.[POD_DELETION_COST]
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0
  return Number(v)
}

function maxRestarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map(s => s.restartCount ?? 0))
}

// Unknown phases rank with Pending, as Go's map lookup gives 0.
const phaseOrdinal: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 }

/**
 * Orders pods so the ones to delete first come first (Kubernetes'
 * ActivePodsWithRanks, without the logarithmic bucketing of ages):
 *  1. not yet scheduled before scheduled;
 *  2. Pending, then Unknown, then Running;
 *  3. not ready before ready;
 *  4. lower pod-deletion-cost first;
 *  5. more related pods on the same node first (spreads what remains);
 *  6. ready for a shorter time first;
 *  7. more container restarts first;
 *  8. created more recently first;
 *  then by name, so the order is total and deterministic.
 * `relatedPods` are the pods counted for rule 5 (the ReplicaSet's own, or
 * those of every ReplicaSet of the same Deployment); default: `pods`.
 */
export function rankPodsForDeletion(pods: readonly Pod[], relatedPods: readonly Pod[] = pods): Pod[] {
  const perNode = new Map<string, number>()
  for (const p of relatedPods) {
    const node = p.spec?.nodeName
    if (node && isPodActive(p)) perNode.set(node, (perNode.get(node) ?? 0) + 1)
  }
  const rank = (p: Pod): number => {
    const node = p.spec?.nodeName
    return node ? (perNode.get(node) ?? 0) : 0
  }
  return [...pods].sort((a, b) => {
    const an = a.spec?.nodeName ?? ''
    const bn = b.spec?.nodeName ?? ''
    if (an !== bn && (an === '' || bn === '')) return an === '' ? -1 : 1
    const ap = phaseOrdinal[a.status?.phase ?? ''] ?? 0
    const bp = phaseOrdinal[b.status?.phase ?? ''] ?? 0
    if (ap !== bp) return ap - bp
    const ar = isPodReady(a)
    const br = isPodReady(b)
    if (ar !== br) return ar ? 1 : -1
    const ac = deletionCost(a)
    const bc = deletionCost(b)
    if (ac !== bc) return ac - bc
    const ak = rank(a)
    const bk = rank(b)
    if (ak !== bk) return bk - ak
    if (ar && br) {
      const d = newerFirst(podReadySince(a), podReadySince(b))
      if (d !== 0) return d
    }
    const am = maxRestarts(a)
    const bm = maxRestarts(b)
    if (am !== bm) return bm - am
    const d = newerFirst(a.metadata.creationTimestamp ? createdAt(a) : undefined, b.metadata.creationTimestamp ? createdAt(b) : undefined)
    if (d !== 0) return d
    return compareText(a.metadata.name ?? '', b.metadata.name ?? '')
  })
}

// afterOrZero: a missing time first, then the later time first.
function newerFirst(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0
  if (a === undefined) return -1
  if (b === undefined) return 1
  return b - a
}
