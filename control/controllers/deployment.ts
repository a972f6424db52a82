// The Deployment controller's decisions, pure: one sync of one Deployment
// (Kubernetes' pkg/controller/deployment: sync.go, rolling.go, recreate.go,
// progress.go) turned into an ordered list of actions for the shell.
//
// How a sync goes, as in Kubernetes:
// - A Deployment with an empty selector would select every pod: it gets a
//   Warning SelectingAll and nothing else.
// - It claims ReplicaSets as a ReplicaSet claims pods (controller reference
//   plus selector). The new ReplicaSet is the oldest one whose template
//   equals the Deployment's, ignoring the pod-template-hash label; the rest
//   are old. A new one is named `<deployment>-<hash>`, carries the label
//   pod-template-hash=<hash> in its selector, template and labels, and gets
//   revision max(old revisions)+1. Re-applying an old template finds its old
//   ReplicaSet, which gets that next revision too (rollback).
// - Being deleted: only the status is synced. Paused: only scaling (and
//   history cleanup); the Progressing condition says DeploymentPaused, then
//   DeploymentResumed. A change of spec.replicas (desired-replicas
//   annotation differs) is a scaling event: ReplicaSets are resized
//   proportionally, not rolled.
// - RollingUpdate: scale the new ReplicaSet up while the sum of all sizes
//   stays within replicas + maxSurge; scale old ones down (first their
//   unavailable pods, then oldest first) while the available pods stay at or
//   above replicas - maxUnavailable. Each step waits for pods to become
//   available, reported by the ReplicaSets' status.
// - Recreate: scale every old ReplicaSet to 0, wait until none of their
//   pods exists (terminating ones included), then create or scale up the new.
// - Once complete, old ReplicaSets at 0 beyond revisionHistoryLimit are
//   deleted, lowest revision first.
// - Status: replicas, updatedReplicas, readyReplicas, availableReplicas,
//   unavailableReplicas, observedGeneration; Available (MinimumReplicas-
//   Available/Unavailable) and Progressing (NewReplicaSetCreated,
//   FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
//   ProgressDeadlineExceeded) with Kubernetes' messages; ReplicaFailure
//   copied from a failing ReplicaSet. When nothing changed and the rollout
//   is stuck, the sync asks to be requeued at the progress deadline.
// Events: ScalingReplicaSet "Scaled up replica set web-5d78f9b8c4 to 3".

import { labelSelectorFromObject } from '../api/label-selector.ts'
import type { LabelSelector } from '../api/label-selector.ts'
import { claimObjects } from './controller-ref.ts'
import type { EventType } from './events.ts'
import type { Condition, Deployment, DeploymentStatus, Pod, ReplicaSet } from './objects.ts'
import { byCreation, controllerRefOf, deepCopy, getCondition, newControllerRef } from './objects.ts'
import { formatTime, parseTime } from './clock.ts'
import {
  PROGRESSING,
  POD_TEMPLATE_HASH_LABEL,
  REASON,
  REPLICA_FAILURE,
  REVISION_ANNOTATION,
  REVISION_HISTORY_LIMIT_CHARS,
  availableReplicaCount,
  actualReplicaCount,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  calculateDeploymentStatus,
  computeHash,
  deploymentComplete,
  deploymentParams,
  deploymentProgressing,
  deploymentStatusEqual,
  deploymentTimedOut,
  desiredReplicasAnnotation,
  filterActive,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  isSaturated,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newDeploymentCondition,
  newRSNewReplicas,
  proportion,
  removeDeploymentCondition,
  replicaCount,
  replicasAnnotationsNeedUpdate,
  selectorWithHash,
  setDeploymentCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specReplicas,
} from './deployment-util.ts'

export type DeploymentAction =
  /** Add the deployment's controller reference to an orphan ReplicaSet. */
  | { type: 'adoptReplicaSet'; replicaSet: ReplicaSet }
  /** Remove it from a ReplicaSet that no longer matches. */
  | { type: 'releaseReplicaSet'; replicaSet: ReplicaSet }
  /** Create this ReplicaSet (no uid, resourceVersion or status). */
  | { type: 'createReplicaSet'; replicaSet: ReplicaSet }
  /** Set these fields on the ReplicaSet as last seen (PUT). */
  | {
      type: 'updateReplicaSet'
      name: string
      replicas: number
      minReadySeconds: number | undefined
      annotations: Record<string, string>
    }
  | { type: 'deleteReplicaSet'; name: string; uid: string }
  /** Merge these annotations into the deployment's metadata. */
  | { type: 'patchDeploymentAnnotations'; annotations: Record<string, string> }
  | { type: 'updateDeploymentStatus'; status: DeploymentStatus }
  | { type: 'event'; eventType: EventType; reason: string; message: string }

export interface DeploymentInput {
  deployment: Deployment
  /** The ReplicaSets of the deployment's namespace, as cached. */
  replicaSets: readonly ReplicaSet[]
  /** The pods of the deployment's namespace, as cached (Recreate waits on them). */
  pods: readonly Pod[]
  now: number
  revisionHistoryLimitChars?: number
}

export interface DeploymentPlan {
  actions: DeploymentAction[]
  /** Come back then to check the progress deadline. */
  requeueAfterMs?: number
}

/** The uid a ReplicaSet created in this plan carries until the server gives it one. */
const PENDING_UID = 'pending:'

class Planner {
  readonly actions: DeploymentAction[] = []
  requeueAfterMs: number | undefined
  readonly d: Deployment

  constructor(
    deployment: Deployment,
    private readonly now: number,
    private readonly historyChars: number,
  ) {
    this.d = deepCopy(deployment)
    this.d.status ??= {}
  }

  private get replicas(): number {
    return deploymentParams(this.d).replicas
  }

  private event(eventType: EventType, reason: string, message: string): void {
    this.actions.push({ type: 'event', eventType, reason, message })
  }

  private updateStatus(status: DeploymentStatus): void {
    this.d.status = status
    this.actions.push({ type: 'updateDeploymentStatus', status: deepCopy(status) })
  }

  private pushReplicaSetUpdate(rs: ReplicaSet): void {
    this.actions.push({
      type: 'updateReplicaSet',
      name: rs.metadata.name ?? '',
      replicas: specReplicas(rs),
      minReadySeconds: rs.spec?.minReadySeconds,
      annotations: { ...rs.metadata.annotations },
    })
  }

  // --- scaling one ReplicaSet ---------------------------------------------------

  private scaleReplicaSet(rs: ReplicaSet, newScale: number): boolean {
    const sizeNeedsUpdate = specReplicas(rs) !== newScale
    const max = this.replicas + maxSurge(this.d)
    const annotationsNeedUpdate = replicasAnnotationsNeedUpdate(rs, this.replicas, max)
    if (!sizeNeedsUpdate && !annotationsNeedUpdate) return false
    const old = specReplicas(rs)
    rs.spec ??= {}
    rs.spec.replicas = newScale
    setReplicasAnnotations(rs, this.replicas, max)
    this.pushReplicaSetUpdate(rs)
    if (!sizeNeedsUpdate) return false
    const op = old < newScale ? 'up' : 'down'
    this.event('Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${rs.metadata.name ?? ''} to ${newScale}`)
    return true
  }

  private scaleReplicaSetAndRecordEvent(rs: ReplicaSet, newScale: number): boolean {
    if (specReplicas(rs) === newScale) return false
    return this.scaleReplicaSet(rs, newScale)
  }

  // --- finding (and making) the new ReplicaSet ----------------------------------

  allReplicaSetsAndSyncRevision(rsList: ReplicaSet[], createIfNotExisted: boolean): { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] } {
    const existing = findNewReplicaSet(this.d, rsList)
    const oldRSs = findOldReplicaSets(rsList, existing)
    const newRS = this.newReplicaSet(rsList, existing, oldRSs, createIfNotExisted)
    return { newRS, oldRSs }
  }

  private setDeploymentRevision(revision: string | undefined): void {
    if (revision === undefined) return
    const annotations = (this.d.metadata.annotations ??= {})
    if (annotations[REVISION_ANNOTATION] === revision) return
    annotations[REVISION_ANNOTATION] = revision
    this.actions.push({ type: 'patchDeploymentAnnotations', annotations: { [REVISION_ANNOTATION]: revision } })
  }

  private newReplicaSet(
    rsList: ReplicaSet[],
    existing: ReplicaSet | undefined,
    oldRSs: ReplicaSet[],
    create: boolean,
  ): ReplicaSet | undefined {
    const newRevision = maxRevision(oldRSs) + 1
    const p = deploymentParams(this.d)
    const hasDeadline = p.progressDeadlineSeconds !== undefined
    if (existing) {
      const annotationsUpdated = setNewReplicaSetAnnotations(this.d, existing, newRevision, true, this.historyChars)
      const minReadyNeedsUpdate = (existing.spec?.minReadySeconds ?? 0) !== p.minReadySeconds
      if (annotationsUpdated || minReadyNeedsUpdate) {
        existing.spec ??= {}
        existing.spec.minReadySeconds = p.minReadySeconds
        this.pushReplicaSetUpdate(existing)
      }
      this.setDeploymentRevision(existing.metadata.annotations?.[REVISION_ANNOTATION])
      if (hasDeadline && !getCondition(this.d.status?.conditions, PROGRESSING)) {
        const status = deepCopy(this.d.status ?? {})
        setDeploymentCondition(
          status,
          newDeploymentCondition(PROGRESSING, 'True', REASON.foundNewReplicaSet, `Found new replica set "${existing.metadata.name ?? ''}"`, this.now),
        )
        this.updateStatus(status)
      }
      return existing
    }
    if (!create) return undefined

    const template = deepCopy(this.d.spec?.template ?? {})
    const hash = computeHash(this.d.spec?.template, this.d.status?.collisionCount)
    template.metadata ??= {}
    template.metadata.labels = { ...template.metadata.labels, [POD_TEMPLATE_HASH_LABEL]: hash }
    const name = `${this.d.metadata.name ?? ''}-${hash}`
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: this.d.metadata.namespace,
        labels: { ...template.metadata.labels },
        ownerReferences: [newControllerRef(this.d, 'apps/v1', 'Deployment')],
      },
      spec: {
        replicas: 0,
        minReadySeconds: p.minReadySeconds,
        selector: selectorWithHash(this.d.spec?.selector, hash),
        template,
      },
    }
    rs.spec!.replicas = newRSNewReplicas(this.d, [...oldRSs, rs], rs)
    setNewReplicaSetAnnotations(this.d, rs, newRevision, false, this.historyChars)
    this.actions.push({ type: 'createReplicaSet', replicaSet: deepCopy(rs) })
    rs.metadata.uid = PENDING_UID + name
    rs.metadata.creationTimestamp = formatTime(this.now)
    rsList.push(rs)
    if (specReplicas(rs) > 0) this.event('Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} to ${specReplicas(rs)}`)
    this.setDeploymentRevision(String(newRevision))
    if (hasDeadline) {
      const status = deepCopy(this.d.status ?? {})
      setDeploymentCondition(status, newDeploymentCondition(PROGRESSING, 'True', REASON.newReplicaSetCreated, `Created new replica set "${name}"`, this.now))
      this.updateStatus(status)
    }
    return rs
  }

  // --- scaling events and paused deployments (sync.go) ------------------------------

  isScalingEvent(rsList: ReplicaSet[]): boolean {
    const { newRS, oldRSs } = this.allReplicaSetsAndSyncRevision(rsList, false)
    for (const rs of filterActive([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs)
      if (desired !== undefined && desired !== this.replicas) return true
    }
    return false
  }

  sync(rsList: ReplicaSet[]): void {
    const { newRS, oldRSs } = this.allReplicaSetsAndSyncRevision(rsList, false)
    this.scale(newRS, oldRSs)
    if (deploymentParams(this.d).paused) this.cleanupDeployment(oldRSs)
    this.syncDeploymentStatus([...oldRSs, newRS], newRS)
  }

  syncStatusOnly(rsList: ReplicaSet[]): void {
    const { newRS, oldRSs } = this.allReplicaSetsAndSyncRevision(rsList, false)
    this.syncDeploymentStatus([...oldRSs, newRS], newRS)
  }

  private scale(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): void {
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs)
    if (activeOrLatest) {
      if (specReplicas(activeOrLatest) !== this.replicas) this.scaleReplicaSetAndRecordEvent(activeOrLatest, this.replicas)
      return
    }
    if (isSaturated(this.d, newRS)) {
      for (const old of filterActive(oldRSs)) this.scaleReplicaSetAndRecordEvent(old, 0)
      return
    }
    if (deploymentParams(this.d).strategy !== 'RollingUpdate') return
    const allRSs = filterActive([...oldRSs, newRS])
    const allowed = this.replicas > 0 ? this.replicas + maxSurge(this.d) : 0
    const toAdd = allowed - replicaCount(allRSs)
    if (toAdd > 0) allRSs.sort(bySizeNewer)
    else if (toAdd < 0) allRSs.sort(bySizeOlder)
    let added = 0
    const sizes = new Map<ReplicaSet, number>()
    for (const rs of allRSs) {
      if (toAdd !== 0) {
        const share = proportion(rs, this.d, toAdd, added)
        sizes.set(rs, specReplicas(rs) + share)
        added += share
      } else {
        sizes.set(rs, specReplicas(rs))
      }
    }
    allRSs.forEach((rs, i) => {
      let size = sizes.get(rs) ?? specReplicas(rs)
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added)
      this.scaleReplicaSet(rs, size)
    })
  }

  checkPausedConditions(): void {
    const p = deploymentParams(this.d)
    if (p.progressDeadlineSeconds === undefined) return
    const cond = getCondition(this.d.status?.conditions, PROGRESSING)
    if (cond?.reason === REASON.progressDeadlineExceeded) return
    const pausedCondExists = cond?.reason === REASON.deploymentPaused
    const status = deepCopy(this.d.status ?? {})
    if (p.paused && !pausedCondExists) {
      setDeploymentCondition(status, newDeploymentCondition(PROGRESSING, 'Unknown', REASON.deploymentPaused, 'Deployment is paused', this.now))
    } else if (!p.paused && pausedCondExists) {
      setDeploymentCondition(status, newDeploymentCondition(PROGRESSING, 'Unknown', REASON.deploymentResumed, 'Deployment is resumed', this.now))
    } else {
      return
    }
    this.updateStatus(status)
  }

  // --- RollingUpdate (rolling.go) --------------------------------------------------

  rolloutRolling(rsList: ReplicaSet[]): void {
    const { newRS, oldRSs } = this.allReplicaSetsAndSyncRevision(rsList, true)
    if (!newRS) return
    const allRSs = [...oldRSs, newRS]
    if (this.reconcileNewReplicaSet(allRSs, newRS)) {
      this.syncRolloutStatus(allRSs, newRS)
      return
    }
    if (this.reconcileOldReplicaSets(allRSs, filterActive(oldRSs), newRS)) {
      this.syncRolloutStatus(allRSs, newRS)
      return
    }
    if (deploymentComplete(this.d, this.d.status ?? {})) this.cleanupDeployment(oldRSs)
    this.syncRolloutStatus(allRSs, newRS)
  }

  private reconcileNewReplicaSet(allRSs: ReplicaSet[], newRS: ReplicaSet): boolean {
    if (specReplicas(newRS) === this.replicas) return false
    if (specReplicas(newRS) > this.replicas) return this.scaleReplicaSetAndRecordEvent(newRS, this.replicas)
    return this.scaleReplicaSetAndRecordEvent(newRS, newRSNewReplicas(this.d, allRSs, newRS))
  }

  private reconcileOldReplicaSets(allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet): boolean {
    if (replicaCount(oldRSs) === 0) return false
    const allPods = replicaCount(allRSs)
    const minAvailable = this.replicas - maxUnavailable(this.d)
    const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0)
    const maxScaledDown = allPods - minAvailable - newUnavailable
    if (maxScaledDown <= 0) return false
    const cleaned = this.cleanupUnhealthyReplicas(oldRSs, maxScaledDown)
    const scaledDown = this.scaleDownOldReplicaSetsForRollingUpdate([...oldRSs, newRS], oldRSs)
    return cleaned + scaledDown > 0
  }

  // Old ReplicaSets lose their unavailable pods first, oldest first.
  private cleanupUnhealthyReplicas(oldRSs: ReplicaSet[], maxCleanup: number): number {
    let total = 0
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (total >= maxCleanup) break
      const replicas = specReplicas(rs)
      const available = rs.status?.availableReplicas ?? 0
      if (replicas === 0 || available >= replicas) continue
      const down = Math.min(maxCleanup - total, replicas - available)
      this.scaleReplicaSetAndRecordEvent(rs, replicas - down)
      total += down
    }
    return total
  }

  // Then as many available pods as stay above replicas - maxUnavailable, oldest first.
  private scaleDownOldReplicaSetsForRollingUpdate(allRSs: ReplicaSet[], oldRSs: ReplicaSet[]): number {
    const minAvailable = this.replicas - maxUnavailable(this.d)
    const available = availableReplicaCount(allRSs)
    if (available <= minAvailable) return 0
    const target = available - minAvailable
    let total = 0
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (total >= target) break
      if (specReplicas(rs) === 0) continue
      const down = Math.min(specReplicas(rs), target - total)
      this.scaleReplicaSetAndRecordEvent(rs, specReplicas(rs) - down)
      total += down
    }
    return total
  }

  // --- Recreate (recreate.go) --------------------------------------------------------

  rolloutRecreate(rsList: ReplicaSet[], podMap: Map<string, Pod[]>): void {
    let { newRS, oldRSs } = this.allReplicaSetsAndSyncRevision(rsList, false)
    let allRSs: Array<ReplicaSet | undefined> = [...oldRSs, newRS]
    let scaledDown = false
    for (const rs of filterActive(oldRSs)) if (this.scaleReplicaSetAndRecordEvent(rs, 0)) scaledDown = true
    if (scaledDown || this.oldPodsRunning(newRS, oldRSs, podMap)) {
      this.syncRolloutStatus(allRSs, newRS)
      return
    }
    if (!newRS) {
      ;({ newRS, oldRSs } = this.allReplicaSetsAndSyncRevision(rsList, true))
      allRSs = [...oldRSs, newRS]
    }
    if (newRS) this.scaleReplicaSetAndRecordEvent(newRS, this.replicas)
    if (deploymentComplete(this.d, this.d.status ?? {})) this.cleanupDeployment(oldRSs)
    this.syncRolloutStatus(allRSs, newRS)
  }

  // Any old pod that is not terminal (terminating ones too) is still running.
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], podMap: Map<string, Pod[]>): boolean {
    if (actualReplicaCount(oldRSs) > 0) return true
    for (const [uid, pods] of podMap) {
      if (newRS && newRS.metadata.uid === uid) continue
      for (const pod of pods) {
        const phase = pod.status?.phase
        if (phase !== 'Failed' && phase !== 'Succeeded') return true
      }
    }
    return false
  }

  // --- history ---------------------------------------------------------------------

  private cleanupDeployment(oldRSs: ReplicaSet[]): void {
    const limit = deploymentParams(this.d).revisionHistoryLimit
    const cleanable = oldRSs.filter(rs => !rs.metadata.deletionTimestamp && !rs.metadata.uid?.startsWith(PENDING_UID))
    const diff = cleanable.length - limit
    if (diff <= 0) return
    cleanable.sort(byRevision)
    for (const rs of cleanable.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0) continue
      if ((rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue
      this.actions.push({ type: 'deleteReplicaSet', name: rs.metadata.name ?? '', uid: rs.metadata.uid ?? '' })
      rs.metadata.deletionTimestamp = formatTime(this.now)
    }
  }

  // --- status (sync.go, progress.go) -------------------------------------------------

  private syncDeploymentStatus(allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet | undefined): void {
    const status = calculateDeploymentStatus(allRSs, newRS, this.d, this.now)
    if (!deploymentStatusEqual(this.d.status, status)) this.updateStatus(status)
  }

  private syncRolloutStatus(allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet | undefined): void {
    const status = calculateDeploymentStatus(allRSs, newRS, this.d, this.now)
    const deadline = deploymentParams(this.d).progressDeadlineSeconds
    if (deadline === undefined) removeDeploymentCondition(status, PROGRESSING)
    const current = getCondition(this.d.status?.conditions, PROGRESSING)
    const isComplete = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === REASON.newReplicaSetAvailable
    if (deadline !== undefined && !isComplete) {
      const subject = newRS ? `ReplicaSet "${newRS.metadata.name ?? ''}"` : `Deployment "${this.d.metadata.name ?? ''}"`
      if (deploymentComplete(this.d, status)) {
        setDeploymentCondition(status, newDeploymentCondition(PROGRESSING, 'True', REASON.newReplicaSetAvailable, `${subject} has successfully progressed.`, this.now))
      } else if (deploymentProgressing(this.d, status)) {
        const cond = newDeploymentCondition(PROGRESSING, 'True', REASON.replicaSetUpdated, `${subject} is progressing.`, this.now)
        if (current?.status === 'True') cond.lastTransitionTime = current.lastTransitionTime
        removeDeploymentCondition(status, PROGRESSING)
        setDeploymentCondition(status, cond)
      } else if (deploymentTimedOut(this.d, status, this.now)) {
        setDeploymentCondition(status, newDeploymentCondition(PROGRESSING, 'False', REASON.progressDeadlineExceeded, `${subject} has timed out progressing.`, this.now))
      }
    }
    const failure = replicaFailure(allRSs, newRS)
    if (failure) setDeploymentCondition(status, failure)
    else removeDeploymentCondition(status, REPLICA_FAILURE)
    if (deploymentStatusEqual(this.d.status, status)) {
      this.requeueAfterMs = this.requeueStuck(status)
      return
    }
    this.updateStatus(status)
  }

  // When nothing moved, come back at the progress deadline (requeueStuckDeployment).
  private requeueStuck(status: DeploymentStatus): number | undefined {
    const deadline = deploymentParams(this.d).progressDeadlineSeconds
    const current = getCondition(this.d.status?.conditions, PROGRESSING)
    if (deadline === undefined || !current) return undefined
    if (deploymentComplete(this.d, status) || current.reason === REASON.progressDeadlineExceeded) return undefined
    const from = parseTime(current.lastUpdateTime)
    if (from === undefined) return undefined
    const after = from + deadline * 1000 - this.now
    return after < 1000 ? 1000 : after + 1000
  }
}

// A failing ReplicaSet's ReplicaFailure, the new one's first (getReplicaFailures).
function replicaFailure(allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet | undefined): Condition | undefined {
  for (const rs of [newRS, ...allRSs]) {
    const c = getCondition(rs?.status?.conditions, REPLICA_FAILURE)
    if (c) {
      const out: Condition = { type: REPLICA_FAILURE, status: c.status }
      if (c.lastTransitionTime) {
        out.lastUpdateTime = c.lastTransitionTime
        out.lastTransitionTime = c.lastTransitionTime
      }
      if (c.reason) out.reason = c.reason
      if (c.message) out.message = c.message
      return out
    }
  }
  return undefined
}

function isEmptySelector(d: Deployment): boolean {
  const s = d.spec?.selector
  if (!s) return true
  return Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0
}

/** One sync of one Deployment (syncDeployment without the I/O). */
export function reconcileDeployment(input: DeploymentInput): DeploymentPlan {
  const planner = new Planner(input.deployment, input.now, input.revisionHistoryLimitChars ?? REVISION_HISTORY_LIMIT_CHARS)
  const d = planner.d
  if (isEmptySelector(d)) {
    planner.actions.push({
      type: 'event',
      eventType: 'Warning',
      reason: 'SelectingAll',
      message: 'This deployment is selecting all pods. A non-empty selector is required.',
    })
    if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
      planner.actions.push({ type: 'updateDeploymentStatus', status: { ...d.status, observedGeneration: d.metadata.generation ?? 0 } })
    }
    return { actions: planner.actions }
  }

  let selector: LabelSelector
  try {
    selector = labelSelectorFromObject(d.spec?.selector)
  } catch {
    return { actions: [] }
  }
  const claim = claimObjects(d, selector, input.replicaSets)
  for (const rs of claim.adopt) planner.actions.push({ type: 'adoptReplicaSet', replicaSet: rs })
  for (const rs of claim.release) planner.actions.push({ type: 'releaseReplicaSet', replicaSet: rs })
  const ref = newControllerRef(d, 'apps/v1', 'Deployment')
  const rsList = claim.owned.map(rs => {
    const copy = deepCopy(rs)
    if (!controllerRefOf(copy)) copy.metadata.ownerReferences = [...(copy.metadata.ownerReferences ?? []), ref]
    return copy
  })

  // Pods of the claimed ReplicaSets, by ReplicaSet uid (getPodMapForDeployment).
  const podMap = new Map<string, Pod[]>(rsList.map(rs => [rs.metadata.uid ?? '', []]))
  for (const pod of input.pods) {
    if (pod.metadata.namespace !== d.metadata.namespace || !selector.matches(pod.metadata.labels)) continue
    const owner = controllerRefOf(pod)
    if (owner) podMap.get(owner.uid)?.push(pod)
  }

  if (d.metadata.deletionTimestamp) {
    planner.syncStatusOnly(rsList)
  } else {
    planner.checkPausedConditions()
    const p = deploymentParams(d)
    if (p.paused || planner.isScalingEvent(rsList)) planner.sync(rsList)
    else if (p.strategy === 'Recreate') planner.rolloutRecreate(rsList, podMap)
    else planner.rolloutRolling(rsList)
  }
  const plan: DeploymentPlan = { actions: planner.actions }
  if (planner.requeueAfterMs !== undefined) plan.requeueAfterMs = planner.requeueAfterMs
  return plan
}
