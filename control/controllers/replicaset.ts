// The ReplicaSet controller's decisions, pure (pkg/controller/replicaset in
// Kubernetes): which pods to adopt, release, create and delete, and the
// status to report.
//
// Rules, as Kubernetes has them:
// - Only active pods count: a pod being deleted (deletionTimestamp) or
//   terminal is never an existing replica, so its replacement is created at
//   once.
// - The ReplicaSet owns the pods whose controller reference names its uid and
//   which match its selector; matching orphans are adopted, owned pods that
//   stopped matching are released; pods controlled by others are left alone.
// - Pods are created from spec.template with generateName `<rs>-` (the API
//   server appends 5 random characters), the template's labels, annotations
//   and finalizers, and a controller reference (blockOwnerDeletion: true).
//   At most `burstReplicas` (500) are created or deleted per sync.
// - manageReplicas runs only when the expectations of the previous sync are
//   met (the shell tracks them) and the ReplicaSet is not being deleted.
// - Which pods go first on scale-down: see rankPodsForDeletion.
// - Status: replicas (owned active pods), fullyLabeledReplicas (pods that
//   carry every template label), readyReplicas, availableReplicas (ready for
//   minReadySeconds), observedGeneration, and a ReplicaFailure condition
//   while creating or deleting fails.

import type { Condition, Pod, ReplicaSet, ReplicaSetStatus } from './objects.ts'
import { deepCopy, getCondition, newControllerRef } from './objects.ts'
import { labelSelectorFromObject, selectorFromSet } from '../api/label-selector.ts'
import { claimObjects } from './controller-ref.ts'
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable, rankPodsForDeletion } from './pod-util.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import { formatTime } from './clock.ts'

/** Most pods created or deleted in one sync (burstReplicas). */
export const BURST_REPLICAS = 500

export interface ReplicaSetInput {
  replicaSet: ReplicaSet
  /** The pods of the ReplicaSet's namespace, as cached. */
  pods: readonly Pod[]
  /**
   * Pods whose placement ranks deletions (more of them on a node, delete
   * there first); the shell passes the pods of every ReplicaSet of the same
   * Deployment. Default: the ReplicaSet's own.
   */
  relatedPods?: readonly Pod[]
  now: number
  /** The previous sync's creations and deletions have all been observed. */
  expectationsSatisfied: boolean
  burstReplicas?: number
}

export interface ReplicaSetPlan {
  adopt: Pod[]
  release: Pod[]
  /** Pods to create, one object per pod (generateName, not name). */
  create: Pod[]
  /** Pods to delete, in order. */
  delete: Pod[]
  /** Active pods the ReplicaSet owns after the claim (adoptions included). */
  owned: Pod[]
  /** The status to write; undefined when the stored one is current. */
  status?: ReplicaSetStatus
  /** Come back when the next ready pod becomes available (minReadySeconds). */
  requeueAfterMs?: number
}

/** spec.replicas, defaulting to 1 as the API does. */
export function desiredReplicas(rs: ReplicaSet): number {
  return rs.spec?.replicas ?? 1
}

export function replicaSetKey(rs: ReplicaSet): string {
  return `${rs.metadata.namespace ?? ''}/${rs.metadata.name ?? ''}`
}

/** One pod as the ReplicaSet creates it (GetPodFromTemplate). */
export function podFromTemplate(rs: ReplicaSet): Pod {
  const template = rs.spec?.template ?? {}
  const metadata: Pod['metadata'] = {
    generateName: `${rs.metadata.name ?? ''}-`,
    namespace: rs.metadata.namespace,
    labels: { ...template.metadata?.labels },
    ownerReferences: [newControllerRef(rs, 'apps/v1', 'ReplicaSet')],
  }
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations }
  if (template.metadata?.finalizers) metadata.finalizers = [...template.metadata.finalizers]
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: deepCopy(template.spec ?? {}) }
}

/** What went wrong in manageReplicas, for the ReplicaFailure condition. */
export interface ManageError {
  reason: 'FailedCreate' | 'FailedDelete'
  message: string
}

/**
 * The status for `owned` pods at `now` (calculateStatus), observedGeneration
 * set; zero counts other than replicas are left out, as the API omits them.
 */
export function calculateReplicaSetStatus(
  rs: ReplicaSet,
  owned: readonly Pod[],
  now: number,
  manageError?: ManageError,
): ReplicaSetStatus {
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0
  const templateLabels = selectorFromSet(rs.spec?.template?.metadata?.labels)
  let fullyLabeled = 0
  let ready = 0
  let available = 0
  for (const pod of owned) {
    if (templateLabels.matches(pod.metadata.labels)) fullyLabeled++
    if (isPodReady(pod)) {
      ready++
      if (isPodAvailable(pod, minReadySeconds, now)) available++
    }
  }
  let conditions = [...(rs.status?.conditions ?? [])]
  const failure = getCondition(conditions, 'ReplicaFailure')
  if (manageError && !failure) {
    const cond: Condition = {
      type: 'ReplicaFailure',
      status: 'True',
      lastTransitionTime: formatTime(now),
      reason: manageError.reason,
      message: manageError.message,
    }
    conditions.push(cond)
  } else if (!manageError && failure) {
    conditions = conditions.filter(c => c.type !== 'ReplicaFailure')
  }
  const status: ReplicaSetStatus = { replicas: owned.length }
  if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled
  if (ready) status.readyReplicas = ready
  if (available) status.availableReplicas = available
  if (rs.metadata.generation) status.observedGeneration = rs.metadata.generation
  if (conditions.length > 0) status.conditions = conditions
  return status
}

/** Whether the stored status already says what `next` says. */
export function replicaSetStatusEqual(current: ReplicaSetStatus | undefined, next: ReplicaSetStatus): boolean {
  const c = current ?? {}
  return (
    (c.replicas ?? 0) === (next.replicas ?? 0) &&
    (c.fullyLabeledReplicas ?? 0) === (next.fullyLabeledReplicas ?? 0) &&
    (c.readyReplicas ?? 0) === (next.readyReplicas ?? 0) &&
    (c.availableReplicas ?? 0) === (next.availableReplicas ?? 0) &&
    (c.observedGeneration ?? 0) === (next.observedGeneration ?? 0) &&
    jsonEqual(c.conditions ?? [], next.conditions ?? [])
  )
}

/** One sync of one ReplicaSet (syncReplicaSet without the I/O). */
export function reconcileReplicaSet(input: ReplicaSetInput): ReplicaSetPlan {
  const { replicaSet: rs, now } = input
  const selector = labelSelectorFromObject(rs.spec?.selector)
  const active = input.pods.filter(isPodActive)
  const claim = claimObjects(rs, selector, active)
  const plan: ReplicaSetPlan = { adopt: claim.adopt, release: claim.release, create: [], delete: [], owned: claim.owned }

  if (input.expectationsSatisfied && !rs.metadata.deletionTimestamp) {
    const burst = input.burstReplicas ?? BURST_REPLICAS
    const diff = claim.owned.length - desiredReplicas(rs)
    if (diff < 0) {
      const count = Math.min(-diff, burst)
      for (let i = 0; i < count; i++) plan.create.push(podFromTemplate(rs))
    } else if (diff > 0) {
      const related = input.relatedPods ?? claim.owned
      plan.delete = rankPodsForDeletion(claim.owned, related).slice(0, Math.min(diff, burst))
    }
  }

  const status = calculateReplicaSetStatus(rs, claim.owned, now)
  if (!replicaSetStatusEqual(rs.status, status)) plan.status = status

  const minReadySeconds = rs.spec?.minReadySeconds ?? 0
  const waits = claim.owned
    .map(p => msUntilAvailable(p, minReadySeconds, now))
    .filter((ms): ms is number => ms !== undefined)
  if (waits.length > 0) plan.requeueAfterMs = Math.min(...waits)
  return plan
}
