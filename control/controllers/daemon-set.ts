// The DaemonSet controller's decisions, pure (Kubernetes' pkg/controller/daemon:
// syncDaemonSet's manage, rollingUpdate, updateDaemonSetStatus and the
// history helpers), given the current revision's hash.
//
// Rules, as Kubernetes has them:
// - The DaemonSet owns the pods with its controller reference that match its
//   selector (orphans adopted, mismatches released, as ReplicaSets). Owned
//   pods are grouped by the node they are for (targetNodeName); a pod that is
//   both terminal and being deleted no longer counts.
// - manage, per node: should run and has no pod → create one; may continue
//   running → delete failed pods (a FailedDaemonPod Event; at most once per
//   back-off period per node: 1 s doubling to 15 min) and succeeded ones,
//   and beyond one running pod keep only the oldest (without surge) or the
//   oldest new and oldest old (with surge, the old one going once the new
//   one is available or if the old one is not ready); may not continue →
//   delete every pod there. Pods for nodes that do not exist and were never
//   bound are deleted; pods bound to a node that is gone are left to the
//   pod garbage collection (here: the node lifecycle controller).
// - Nothing is created or deleted while the previous sync's expectations are
//   unmet; then only the status is written (observedGeneration kept).
// - RollingUpdate runs only when manage had nothing to do. Without surge:
//   old pods are deleted while the unavailable count (nodes without an
//   available up-to-date pod, counting nodes that should run one and have
//   none) stays within maxUnavailable (a percent of desiredNumberScheduled,
//   rounded up); old pods that are not available are replaced regardless.
//   With surge: a new pod is created beside an old one on up to maxSurge
//   nodes (at once where the old pod is not available); the old pod goes once
//   the new one is available. OnDelete: pods change only when deleted.
// - Status: desiredNumberScheduled (nodes that should run the pod),
//   currentNumberScheduled (of those, nodes with a pod), numberMisscheduled
//   (nodes with a pod that should not run it), numberReady, numberAvailable,
//   updatedNumberScheduled (judged by each node's oldest pod),
//   numberUnavailable = desired − available, observedGeneration.

import type { LabelSelector } from '../api/label-selector.ts'
import { labelSelectorFromObject } from '../api/label-selector.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import { claimObjects } from './controller-ref.ts'
import type { ControllerRevision } from './controller-history.ts'
import { CONTROLLER_REVISION_HASH_LABEL, newRevision, nextRevisionNumber, revisionData, revisionHash, sortRevisions } from './controller-history.ts'
import type { DaemonSet, DaemonSetStatus } from './daemon-set-util.ts'
import {
  allowsSurge,
  byScheduledThenCreation,
  daemonPodForNode,
  daemonPodTemplate,
  isPodUpdated,
  maxSurgeCount,
  maxUnavailableCount,
  nodeShouldRunDaemonPod,
  targetNodeName,
  templateGeneration,
} from './daemon-set-util.ts'
import type { Node, Pod } from './objects.ts'
import { newControllerRef } from './objects.ts'
import { isPodAvailable, isPodReady, isPodTerminal, msUntilAvailable } from './pod-util.ts'

/** Most pods created or deleted in one sync (burstReplicas). */
export const BURST_REPLICAS = 250

/** The failed-pod back-off per node: 1 s, doubling, at most 15 min (flowcontrol.NewBackOff(1s, 15m)). */
export const FAILED_POD_BACKOFF_INITIAL_MS = 1000
export const FAILED_POD_BACKOFF_MAX_MS = 15 * 60 * 1000

export interface BackoffEntry {
  delayMs: number
  lastUpdate: number
}

/** The entry after one more failure at `now` (Backoff.Next: reset after 2 × max of quiet). */
export function nextBackoff(entry: BackoffEntry | undefined, now: number): BackoffEntry {
  if (!entry || now - entry.lastUpdate > 2 * FAILED_POD_BACKOFF_MAX_MS) return { delayMs: FAILED_POD_BACKOFF_INITIAL_MS, lastUpdate: now }
  return { delayMs: Math.min(entry.delayMs * 2, FAILED_POD_BACKOFF_MAX_MS), lastUpdate: now }
}

export interface DaemonSetEvent {
  type: 'Normal' | 'Warning'
  reason: string
  message: string
}

export interface DaemonSetInput {
  daemonSet: DaemonSet
  nodes: readonly Node[]
  /** The pods of the DaemonSet's namespace, as cached. */
  pods: readonly Pod[]
  /** The current ControllerRevision's hash (the controller-revision-hash label). */
  hash: string
  now: number
  /** The previous sync's creations and deletions have all been observed. */
  expectationsSatisfied: boolean
  /** Failed-pod back-off by node name. */
  backoff?: ReadonlyMap<string, BackoffEntry>
  burstReplicas?: number
}

export interface DaemonSetPlan {
  adopt: Pod[]
  release: Pod[]
  /** Owned pods after the claim (adoptions included), any phase. */
  owned: Pod[]
  /** Pods to create, each pinned to its node by affinity (generateName, not name). */
  create: Pod[]
  delete: Pod[]
  events: DaemonSetEvent[]
  /** Back-off entries to store (nodes where a failed pod is deleted now). */
  backoff: Map<string, BackoffEntry>
  /** The status to write; undefined when the stored one is current. */
  status?: DaemonSetStatus
  requeueAfterMs?: number
}

/** Owned pods by the node they are for; pods both terminal and being deleted left out (getNodesToDaemonPods). */
export function podsByNode(owned: readonly Pod[], includeDeletedTerminal = false): Map<string, Pod[]> {
  const byNode = new Map<string, Pod[]>()
  for (const pod of owned) {
    if (!includeDeletedTerminal && isPodTerminal(pod) && pod.metadata.deletionTimestamp) continue
    const node = targetNodeName(pod)
    if (node === undefined) continue
    const list = byNode.get(node) ?? []
    list.push(pod)
    byNode.set(node, list)
  }
  return byNode
}

interface ManageResult {
  createOn: string[]
  delete: Pod[]
  events: DaemonSetEvent[]
  backoff: Map<string, BackoffEntry>
  requeueAfterMs?: number
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return Math.min(a, b)
}

// podsShouldBeOnNode for every node, then the unbound pods of vanished nodes.
function manage(input: DaemonSetInput, nodeToPods: ReadonlyMap<string, Pod[]>): ManageResult {
  const { daemonSet: ds, now, hash } = input
  const result: ManageResult = { createOn: [], delete: [], events: [], backoff: new Map() }
  const surge = allowsSurge(ds)
  const minReadySeconds = ds.spec?.minReadySeconds ?? 0
  for (const node of input.nodes) {
    const name = node.metadata.name ?? ''
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds)
    const pods = nodeToPods.get(name)
    if (shouldRun && !pods) {
      result.createOn.push(name)
      continue
    }
    if (!pods) continue
    if (!shouldContinueRunning) {
      for (const pod of pods) if (!pod.metadata.deletionTimestamp) result.delete.push(pod)
      continue
    }
    const running: Pod[] = []
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue
      const phase = pod.status?.phase
      if (phase === 'Failed') {
        const entry = input.backoff?.get(name)
        if (entry && now - entry.lastUpdate < entry.delayMs) {
          result.requeueAfterMs = minDefined(result.requeueAfterMs, entry.lastUpdate + entry.delayMs - now)
          continue
        }
        result.backoff.set(name, nextBackoff(entry, now))
        result.events.push({
          type: 'Warning',
          reason: 'FailedDaemonPod',
          message: `Found failed daemon pod ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''} on node ${name}, will try to kill it`,
        })
        result.delete.push(pod)
      } else if (phase === 'Succeeded') {
        result.delete.push(pod)
      } else {
        running.push(pod)
      }
    }
    running.sort(byScheduledThenCreation)
    if (!surge) {
      result.delete.push(...running.slice(1))
      continue
    }
    if (running.length === 0) {
      if (shouldRun) result.createOn.push(name)
      continue
    }
    // With surge: keep the oldest new pod and the oldest old pod, the old one
    // only while it is ready and the new one not yet available.
    let oldestNew: Pod | undefined
    let oldestOld: Pod | undefined
    const generation = templateGeneration(ds)
    for (const pod of running) {
      if (isPodUpdated(pod, hash, generation)) {
        if (!oldestNew) {
          oldestNew = pod
          continue
        }
      } else if (!oldestOld) {
        oldestOld = pod
        continue
      }
      result.delete.push(pod)
    }
    if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, minReadySeconds, now))) {
      result.delete.push(oldestOld)
    }
  }
  const known = new Set(input.nodes.map(n => n.metadata.name ?? ''))
  for (const [name, pods] of nodeToPods) {
    if (known.has(name)) continue
    for (const pod of pods) if (!pod.spec?.nodeName && !pod.metadata.deletionTimestamp) result.delete.push(pod)
  }
  return result
}

/** The non-deleted new and old pod on a node; ok false when there is more than one of either (findUpdatedPodsOnNode). */
function updatedPodsOnNode(pods: readonly Pod[], hash: string, generation: number | undefined): { newPod?: Pod; oldPod?: Pod; ok: boolean } {
  let newPod: Pod | undefined
  let oldPod: Pod | undefined
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue
    if (isPodUpdated(pod, hash, generation)) {
      if (newPod) return { ok: false }
      newPod = pod
    } else {
      if (oldPod) return { ok: false }
      oldPod = pod
    }
  }
  return { newPod, oldPod, ok: true }
}

/** maxSurge and maxUnavailable against desiredNumberScheduled (updatedDesiredNodeCounts). */
export function rollingUpdateBudget(ds: DaemonSet, desired: number): { maxSurge: number; maxUnavailable: number } {
  let maxUnavailable = maxUnavailableCount(ds, desired)
  const maxSurge = maxSurgeCount(ds, desired)
  // An impossible configuration falls back to accepting one unavailable node.
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1
  return { maxSurge, maxUnavailable }
}

// rollingUpdate: which old pods to delete and (with surge) where to start new ones.
function rollingUpdate(input: DaemonSetInput, nodeToPodsIn: ReadonlyMap<string, Pod[]>): { createOn: string[]; delete: Pod[] } {
  const { daemonSet: ds, now, hash } = input
  const minReadySeconds = ds.spec?.minReadySeconds ?? 0
  const generation = templateGeneration(ds)
  const available = (p: Pod): boolean => isPodAvailable(p, minReadySeconds, now)
  // Nodes that should run the pod and have none count too (as unavailable).
  const nodeToPods = new Map(nodeToPodsIn)
  const nodesByName = new Map<string, Node>()
  let desired = 0
  for (const node of input.nodes) {
    const name = node.metadata.name ?? ''
    nodesByName.set(name, node)
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue
    desired++
    if (!nodeToPods.has(name)) nodeToPods.set(name, [])
  }
  const { maxSurge, maxUnavailable } = rollingUpdateBudget(ds, desired)
  const entries = [...nodeToPods].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

  if (maxSurge === 0) {
    let numUnavailable = 0
    const replacements: Pod[] = []
    const candidates: Pod[] = []
    for (const [, pods] of entries) {
      const { newPod, oldPod, ok } = updatedPodsOnNode(pods, hash, generation)
      if (!ok) {
        numUnavailable++ // manage prunes the excess first
        continue
      }
      if ((!oldPod && !newPod) || (oldPod && newPod)) {
        numUnavailable++
      } else if (newPod) {
        if (!available(newPod)) numUnavailable++
      } else if (oldPod) {
        if (!available(oldPod)) {
          replacements.push(oldPod)
          numUnavailable++
        } else if (numUnavailable < maxUnavailable) {
          candidates.push(oldPod)
        }
      }
    }
    const remaining = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length)
    return { createOn: [], delete: [...replacements, ...candidates.slice(0, remaining)] }
  }

  const oldToDelete: Pod[] = []
  const shouldNotRunToDelete: Pod[] = []
  const candidateNodes: string[] = []
  const allowedNodes: string[] = []
  let numSurge = 0
  let numAvailable = 0
  for (const [name, pods] of entries) {
    const { newPod, oldPod, ok } = updatedPodsOnNode(pods, hash, generation)
    if (!ok) {
      numSurge++
      continue
    }
    if (oldPod) {
      if (available(oldPod)) numAvailable++
    } else if (newPod && available(newPod)) {
      numAvailable++
    }
    if (!oldPod) continue
    if (!newPod) {
      const node = nodesByName.get(name)
      const shouldRun = node ? nodeShouldRunDaemonPod(node, ds).shouldRun : false
      if (!available(oldPod)) {
        if (!shouldRun) oldToDelete.push(oldPod)
        else allowedNodes.push(name)
      } else if (!shouldRun) {
        shouldNotRunToDelete.push(oldPod)
      } else if (numSurge < maxSurge) {
        candidateNodes.push(name)
      }
      continue
    }
    if (!available(newPod)) {
      numSurge++
      continue
    }
    oldToDelete.push(oldPod)
  }
  // Full availability: a pod on a node it no longer belongs on goes only as
  // pods elsewhere become available.
  const deletable = Math.min(Math.max(0, numAvailable - desired), shouldNotRunToDelete.length)
  oldToDelete.push(...shouldNotRunToDelete.slice(0, deletable))
  const remainingSurge = Math.min(Math.max(0, maxSurge - numSurge), candidateNodes.length)
  return { createOn: [...allowedNodes, ...candidateNodes.slice(0, remainingSurge)], delete: oldToDelete }
}

/** The status for the claimed pods at `now` (updateDaemonSetStatus); observedGeneration only when `observe`. */
export function calculateDaemonSetStatus(input: DaemonSetInput, nodeToPods: ReadonlyMap<string, Pod[]>, observe: boolean): DaemonSetStatus {
  const { daemonSet: ds, now, hash } = input
  const minReadySeconds = ds.spec?.minReadySeconds ?? 0
  const generation = templateGeneration(ds)
  let desired = 0
  let current = 0
  let misscheduled = 0
  let ready = 0
  let available = 0
  let updated = 0
  for (const node of input.nodes) {
    const pods = nodeToPods.get(node.metadata.name ?? '') ?? []
    const scheduled = pods.length > 0
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) {
      if (scheduled) misscheduled++
      continue
    }
    desired++
    if (!scheduled) continue
    current++
    const pod = [...pods].sort(byScheduledThenCreation)[0]!
    if (isPodReady(pod)) {
      ready++
      if (isPodAvailable(pod, minReadySeconds, now)) available++
    }
    if (isPodUpdated(pod, hash, generation)) updated++
  }
  const status: DaemonSetStatus = {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
  }
  const observedGeneration = observe ? ds.metadata.generation : ds.status?.observedGeneration
  if (observedGeneration) status.observedGeneration = observedGeneration
  if (updated) status.updatedNumberScheduled = updated
  if (available) status.numberAvailable = available
  if (desired - available) status.numberUnavailable = desired - available
  if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount
  if (ds.status?.conditions !== undefined) status.conditions = ds.status.conditions
  return status
}

/** Whether the stored status already says what `next` says (storeDaemonSetStatus's short cut). */
export function daemonSetStatusCurrent(ds: DaemonSet, next: DaemonSetStatus): boolean {
  const c = ds.status ?? {}
  const fields = [
    'desiredNumberScheduled', 'currentNumberScheduled', 'numberMisscheduled', 'numberReady',
    'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable',
  ] as const
  return fields.every(f => (c[f] ?? 0) === (next[f] ?? 0)) && (c.observedGeneration ?? 0) === (next.observedGeneration ?? 0)
}

function selectorOf(ds: DaemonSet): LabelSelector | undefined {
  try {
    return labelSelectorFromObject(ds.spec?.selector)
  } catch {
    return undefined
  }
}

/** One sync of one DaemonSet (syncDaemonSet without the I/O and the history). */
export function reconcileDaemonSet(input: DaemonSetInput): DaemonSetPlan {
  const { daemonSet: ds, now } = input
  const plan: DaemonSetPlan = { adopt: [], release: [], owned: [], create: [], delete: [], events: [], backoff: new Map() }
  const selector = selectorOf(ds)
  // Deleting: the history may be gone, so neither manage nor status (as Kubernetes).
  if (!selector || selector.empty() || ds.metadata.deletionTimestamp) return plan
  const claim = claimObjects(ds, selector, input.pods)
  plan.adopt = claim.adopt
  plan.release = claim.release
  plan.owned = claim.owned
  const nodeToPods = podsByNode(claim.owned)

  if (input.expectationsSatisfied) {
    const managed = manage(input, nodeToPods)
    let createOn = managed.createOn
    let toDelete = managed.delete
    plan.events = managed.events
    plan.backoff = managed.backoff
    plan.requeueAfterMs = managed.requeueAfterMs
    if (createOn.length === 0 && toDelete.length === 0 && ds.spec?.updateStrategy?.type === 'RollingUpdate') {
      const update = rollingUpdate(input, nodeToPods)
      createOn = update.createOn
      toDelete = update.delete
    }
    const burst = input.burstReplicas ?? BURST_REPLICAS
    const template = daemonPodTemplate(ds, input.hash)
    plan.create = createOn.slice(0, burst).map(node => daemonPodForNode(ds, template, node))
    plan.delete = toDelete.slice(0, burst)
  }

  const status = calculateDaemonSetStatus(input, nodeToPods, input.expectationsSatisfied)
  if (!daemonSetStatusCurrent(ds, status)) plan.status = status

  const minReadySeconds = ds.spec?.minReadySeconds ?? 0
  for (const pod of claim.owned) plan.requeueAfterMs = minDefined(plan.requeueAfterMs, msUntilAvailable(pod, minReadySeconds, now))
  return plan
}

// --- history ---------------------------------------------------------------------------

export interface DaemonSetHistory {
  /** The revision holding the current template (undefined: create `create`). */
  current?: ControllerRevision
  /** The revision to create when none holds the current template. */
  create?: ControllerRevision
  /** The current revision's number, when it must be raised above the old ones. */
  renumber?: number
  /** Duplicates of the current template (all but the highest numbered), to delete. */
  duplicates: ControllerRevision[]
  old: ControllerRevision[]
}

/** The hash a revision stands for (its controller-revision-hash label, else its name). */
export function revisionHashOf(revision: ControllerRevision): string {
  return revision.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? revision.metadata.name ?? ''
}

/** The revision Kubernetes' snapshot creates for the current template. */
export function daemonSetRevision(ds: DaemonSet, revision: number): ControllerRevision {
  const hash = revisionHash(ds.spec?.template, ds.status?.collisionCount)
  const created = newRevision(ds, newControllerRef(ds, 'apps/v1', 'DaemonSet'), {}, revision)
  created.metadata.labels = { ...ds.spec?.template?.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash }
  if (ds.metadata.annotations) created.metadata.annotations = { ...ds.metadata.annotations }
  return created
}

/** constructHistory's decision over the DaemonSet's own revisions. */
export function planHistory(ds: DaemonSet, revisions: readonly ControllerRevision[]): DaemonSetHistory {
  const data = revisionData(ds.spec?.template)
  const matching = sortRevisions(revisions.filter(r => jsonEqual(r.data, data)))
  const old = revisions.filter(r => !matching.includes(r))
  const next = nextRevisionNumber(old)
  const current = matching.at(-1)
  if (!current) return { create: daemonSetRevision(ds, next), duplicates: [], old }
  const history: DaemonSetHistory = { current, duplicates: matching.slice(0, -1), old }
  if ((current.revision ?? 0) < next) history.renumber = next
  return history
}

/**
 * Old revisions beyond revisionHistoryLimit to delete, lowest revision first,
 * skipping those a pod still runs (cleanupHistory: the count to delete is
 * taken over every old revision, live ones included).
 */
export function historyToPrune(ds: DaemonSet, old: readonly ControllerRevision[], pods: readonly Pod[]): ControllerRevision[] {
  let toKill = old.length - (ds.spec?.revisionHistoryLimit ?? 10)
  if (toKill <= 0) return []
  const live = new Set<string>()
  for (const pod of pods) {
    const hash = pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL]
    if (hash) live.add(hash)
  }
  const out: ControllerRevision[] = []
  for (const revision of sortRevisions(old)) {
    if (toKill <= 0) break
    if (live.has(revisionHashOf(revision))) continue
    out.push(revision)
    toKill--
  }
  return out
}
