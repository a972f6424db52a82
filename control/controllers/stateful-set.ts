// The StatefulSet controller's decisions, pure (Kubernetes'
// pkg/controller/statefulset: stateful_set_utils.go and the update pass of
// stateful_set_control.go): which revisions are current and next, which pods
// and claims to create, delete or fix, and the status to report.
//
// Rules, as Kubernetes has them:
// - Pod i of set `web` is named `web-i` (ordinals from spec.ordinals.start),
//   labelled with the template's labels plus statefulset.kubernetes.io/pod-name,
//   apps.kubernetes.io/pod-index and controller-revision-hash, with
//   spec.hostname = its name and spec.subdomain = spec.serviceName, and a
//   controller reference. Each claim template T gives pod i the claim
//   `T-web-i` (labelled with the selector's labels), made before the pod, and
//   the volume {name: T, persistentVolumeClaim: {claimName}}.
// - Replicas are the ordinals in [start, start+replicas); pods outside are
//   condemned. A Failed or Succeeded replica is deleted and comes back under
//   the same name.
// - OrderedReady ("monotonic"): one step per pass. Ordinal i is created only
//   once every lower one is Running and Ready (and available, with
//   minReadySeconds); a terminating or unhealthy pod stops the pass. The
//   highest condemned ordinal goes first, and the next only once it is gone.
//   Parallel: every missing replica is created and every condemned pod
//   deleted in the same pass.
// - RollingUpdate: once the above is done, the replica with the highest
//   ordinal at or above `partition` whose revision is not the update
//   revision is deleted (it comes back at the update revision), one at a
//   time, each waiting for the previous to be healthy again. Replicas made
//   below the partition get the current revision. OnDelete: nothing is
//   deleted for an update; a pod the user deletes comes back at the update
//   revision.
// - persistentVolumeClaimRetentionPolicy: whenDeleted Delete gives claims an
//   owner reference to the set; whenScaled Delete gives a condemned pod's
//   claims an owner reference to that pod (so they go when the pod goes);
//   Retain removes those references. The garbage collector does the deleting.
// - A set being deleted only reports status.

import type { KubeObject, OwnerReference } from '../client/api-client.ts'
import type { LabelSelectorObject } from '../api/label-selector.ts'
import { labelSelectorFromObject } from '../api/label-selector.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import { claimObjects } from './controller-ref.ts'
import type { ControllerRevision } from './controller-history.ts'
import { CONTROLLER_REVISION_HASH_LABEL, equalRevisions, newRevision, nextRevisionNumber, revisionTemplate, revisionsToPrune, sortRevisions } from './controller-history.ts'
import type { Pod, PodTemplateSpec } from './objects.ts'
import { controllerRefOf, deepCopy, newControllerRef } from './objects.ts'
import { isPodAvailable, isPodReady, msUntilAvailable } from './pod-util.ts'

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name'
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index'

export type RetentionPolicyType = 'Retain' | 'Delete'

export interface PersistentVolumeClaim extends KubeObject {
  spec?: {
    accessModes?: string[]
    resources?: { requests?: Record<string, string | number> }
    volumeName?: string
    [field: string]: unknown
  }
  status?: { phase?: string; accessModes?: string[]; capacity?: Record<string, string | number>; [field: string]: unknown }
}

export interface StatefulSetSpec {
  replicas?: number
  selector?: LabelSelectorObject
  template?: PodTemplateSpec
  serviceName?: string
  podManagementPolicy?: 'OrderedReady' | 'Parallel'
  updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { partition?: number } }
  revisionHistoryLimit?: number
  minReadySeconds?: number
  ordinals?: { start?: number }
  volumeClaimTemplates?: PersistentVolumeClaim[]
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: RetentionPolicyType; whenScaled?: RetentionPolicyType }
  [field: string]: unknown
}

export interface StatefulSetStatus {
  observedGeneration?: number
  replicas?: number
  readyReplicas?: number
  currentReplicas?: number
  updatedReplicas?: number
  availableReplicas?: number
  currentRevision?: string
  updateRevision?: string
  collisionCount?: number
  [field: string]: unknown
}

export interface StatefulSet extends KubeObject {
  spec?: StatefulSetSpec
  status?: StatefulSetStatus
}

export function statefulSetKey(set: KubeObject): string {
  return `${set.metadata.namespace ?? ''}/${set.metadata.name ?? ''}`
}

export const setControllerRef = (set: StatefulSet): OwnerReference => newControllerRef(set, 'apps/v1', 'StatefulSet')

// ---------------------------------------------------------------------------
// Identity (stateful_set_utils.go)

const ORDINAL = /^(.*)-([0-9]+)$/

/** The parent name and ordinal of a pod name; ordinal -1 when it has none. */
export function parentAndOrdinal(name: string): { parent: string; ordinal: number } {
  const m = ORDINAL.exec(name)
  if (!m) return { parent: '', ordinal: -1 }
  const ordinal = Number(m[2])
  return Number.isSafeInteger(ordinal) ? { parent: m[1] ?? '', ordinal } : { parent: '', ordinal: -1 }
}

export const podName = (set: KubeObject, ordinal: number): string => `${set.metadata.name ?? ''}-${ordinal}`
export const claimName = (template: string, set: KubeObject, ordinal: number): string => `${template}-${set.metadata.name ?? ''}-${ordinal}`

export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0
}

export function desiredReplicas(set: StatefulSet): number {
  return set.spec?.replicas ?? 1
}

/** Whether the pod's name says it belongs to the set (isMemberOf). */
export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return parentAndOrdinal(pod.metadata.name ?? '').parent === set.metadata.name
}

export function podRevision(pod: Pod): string {
  return pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? ''
}

const claimTemplateName = (claim: PersistentVolumeClaim): string => claim.metadata?.name ?? ''

/** The claims pod `ordinal` uses, by template name, as they are created (getPersistentVolumeClaims). */
export function claimsForOrdinal(set: StatefulSet, ordinal: number): Map<string, PersistentVolumeClaim> {
  const claims = new Map<string, PersistentVolumeClaim>()
  const selectorLabels = set.spec?.selector?.matchLabels ?? {}
  for (const template of set.spec?.volumeClaimTemplates ?? []) {
    const name = claimTemplateName(template)
    const copy = deepCopy(template)
    claims.set(name, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        ...(copy.metadata?.annotations ? { annotations: copy.metadata.annotations } : {}),
        name: claimName(name, set, ordinal),
        namespace: set.metadata.namespace,
        labels: { ...copy.metadata?.labels, ...selectorLabels },
      },
      spec: copy.spec ?? {},
    })
  }
  return claims
}

/** Pod `ordinal` of the set built from `template` at `revision` (newStatefulSetPod). */
export function newStatefulSetPod(set: StatefulSet, template: PodTemplateSpec, ordinal: number, revision: string): Pod {
  const name = podName(set, ordinal)
  const metadata: Pod['metadata'] = {
    name,
    namespace: set.metadata.namespace,
    labels: { ...template.metadata?.labels, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [CONTROLLER_REVISION_HASH_LABEL]: revision },
    ownerReferences: [setControllerRef(set)],
  }
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations }
  if (template.metadata?.finalizers) metadata.finalizers = [...template.metadata.finalizers]
  const spec = deepCopy(template.spec ?? {})
  spec.hostname = name
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName
  // The claim templates' volumes replace template volumes of the same name (updateStorage).
  const claims = claimsForOrdinal(set, ordinal)
  if (claims.size > 0) {
    const volumes = ((spec.volumes as Array<{ name?: string }> | undefined) ?? []).filter(v => !claims.has(v.name ?? ''))
    for (const [volume, claim] of claims) volumes.push({ name: volume, persistentVolumeClaim: { claimName: claim.metadata.name } } as { name: string })
    spec.volumes = volumes
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec }
}

/** The patch that gives a member its identity labels back (updateIdentity, for labels), if it lacks them. */
function identityPatch(set: StatefulSet, pod: Pod): unknown {
  const name = pod.metadata.name ?? ''
  const { ordinal } = parentAndOrdinal(name)
  const labels: Record<string, string> = {}
  if (pod.metadata.labels?.[POD_NAME_LABEL] !== name) labels[POD_NAME_LABEL] = name
  if (pod.metadata.labels?.[POD_INDEX_LABEL] !== String(ordinal)) labels[POD_INDEX_LABEL] = String(ordinal)
  if (Object.keys(labels).length === 0) return undefined
  // Adding labels needs no precondition: a merge patch keeps every other label.
  return { metadata: { labels } }
}

// ---------------------------------------------------------------------------
// Revisions (getStatefulSetRevisions, truncateHistory)

export interface RevisionPlan {
  /** The revision the set's template is at, when it already exists. */
  update?: ControllerRevision
  /** Create this as the update revision. */
  create?: ControllerRevision
  /** Bump an older equal revision to this number (a rollback) and use it. */
  renumber?: { revision: ControllerRevision; to: number }
  /** The revision status.currentRevision names; undefined: the update revision. */
  current?: ControllerRevision
}

/** Which revision is the update revision, and how it comes to exist. */
export function planRevisions(set: StatefulSet, revisions: readonly ControllerRevision[], collisionCount = set.status?.collisionCount ?? 0): RevisionPlan {
  const sorted = sortRevisions(revisions)
  const owner = { ...set, status: { ...set.status, collisionCount } }
  const candidate = newRevision(owner, setControllerRef(set), set.spec?.selector?.matchLabels ?? {}, nextRevisionNumber(sorted))
  const equal = equalRevisions(sorted, set.spec?.template)
  const last = sorted[sorted.length - 1]
  const newestEqual = equal[equal.length - 1]
  const current = sorted.find(r => r.metadata.name === set.status?.currentRevision)
  const plan: RevisionPlan = current ? { current } : {}
  if (newestEqual && last && newestEqual.metadata.name === last.metadata.name) plan.update = last
  else if (newestEqual) plan.renumber = { revision: newestEqual, to: candidate.revision ?? 1 }
  else plan.create = candidate
  return plan
}

/** Revisions to delete beyond revisionHistoryLimit, never a live one. */
export function revisionsToTruncate(set: StatefulSet, pods: readonly Pod[], revisions: readonly ControllerRevision[], current: string, update: string): ControllerRevision[] {
  const live = new Set([current, update, ...pods.map(podRevision)])
  return revisionsToPrune(revisions, set.spec?.revisionHistoryLimit ?? 10, live)
}

// ---------------------------------------------------------------------------
// One pass (updateStatefulSet)

export interface StatefulSetInput {
  set: StatefulSet
  /** The pods of the set's namespace, as cached. */
  pods: readonly Pod[]
  /** The claims of the set's namespace, as cached. */
  claims: readonly PersistentVolumeClaim[]
  currentRevision: ControllerRevision
  updateRevision: ControllerRevision
  now: number
}

export interface ClaimPatch {
  claim: PersistentVolumeClaim
  ownerReferences: OwnerReference[]
}

export interface PodCreation {
  pod: Pod
  /** Its claims that do not exist yet, made first. */
  claims: PersistentVolumeClaim[]
}

export interface StatefulSetPlan {
  adopt: Pod[]
  release: Pod[]
  /** Owner references of claims to fix for the retention policy. */
  claimPatches: ClaimPatch[]
  /** Missing claims of pods that exist (pod = the pod they are for). */
  claimCreates: Array<{ claim: PersistentVolumeClaim; pod: Pod }>
  /** Pod labels to fix (identity). */
  podPatches: Array<{ pod: Pod; patch: unknown }>
  create: PodCreation[]
  /** Pods to delete (condemned, failed, or at an old revision). */
  delete: Pod[]
  /** The pods the set owns (adoptions included). */
  owned: Pod[]
  status: StatefulSetStatus
  /** Come back when a ready pod becomes available (minReadySeconds). */
  requeueAfterMs?: number
}

const isTerminating = (pod: Pod): boolean => !!pod.metadata.deletionTimestamp
const isFailed = (pod: Pod): boolean => pod.status?.phase === 'Failed'
const isSucceeded = (pod: Pod): boolean => pod.status?.phase === 'Succeeded'
const isRunningAndReady = (pod: Pod): boolean => pod.status?.phase === 'Running' && isPodReady(pod)
const isRunningAndAvailable = (pod: Pod, minReadySeconds: number, now: number): boolean =>
  pod.status?.phase === 'Running' && isPodAvailable(pod, minReadySeconds, now)
const isHealthy = (pod: Pod): boolean => isRunningAndReady(pod) && !isTerminating(pod)

/** The template a revision restores, or the set's own when it is that revision. */
function templateOf(set: StatefulSet, revision: ControllerRevision, update: ControllerRevision): PodTemplateSpec {
  return revision.metadata.name === update.metadata.name ? (set.spec?.template ?? {}) : revisionTemplate(revision)
}

/** The pod for ordinal `ordinal` at the revision its position asks for (newVersionedStatefulSetPod). */
function versionedPod(input: StatefulSetInput, ordinal: number): Pod {
  const { set, currentRevision, updateRevision } = input
  const strategy = set.spec?.updateStrategy
  const partition = strategy?.rollingUpdate?.partition
  const belowPartition = (strategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && partition !== undefined && ordinal < startOrdinal(set) + partition
  const revision = belowPartition ? currentRevision : updateRevision
  return newStatefulSetPod(set, templateOf(set, revision, updateRevision), ordinal, revision.metadata.name ?? '')
}

/** The owner references a pod's claim should carry under the retention policy (updateClaimOwnerRefForSetAndPod). */
export function retentionOwnerRefs(set: StatefulSet, pod: Pod, claim: PersistentVolumeClaim): OwnerReference[] {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy ?? {}
  const whenDeleted = policy.whenDeleted ?? 'Retain'
  const whenScaled = policy.whenScaled ?? 'Retain'
  const { ordinal } = parentAndOrdinal(pod.metadata.name ?? '')
  const scaledDown = ordinal < startOrdinal(set) || ordinal >= startOrdinal(set) + desiredReplicas(set)
  const wantSet = whenDeleted === 'Delete' && !(whenScaled === 'Delete' && scaledDown)
  const wantPod = whenScaled === 'Delete' && scaledDown
  let refs = (claim.metadata.ownerReferences ?? []).filter(r => r.uid !== set.metadata.uid && r.uid !== pod.metadata.uid)
  // Keep the existing reference objects (and their order) when they stay.
  const keep = (owner: KubeObject, make: () => OwnerReference): void => {
    const existing = (claim.metadata.ownerReferences ?? []).find(r => r.uid === owner.metadata.uid)
    refs = [...refs, existing ?? make()]
  }
  if (wantSet) keep(set, () => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name ?? '', uid: set.metadata.uid ?? '' }))
  if (wantPod && pod.metadata.uid) keep(pod, () => ({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' }))
  return refs
}

function withOwners(claim: PersistentVolumeClaim, refs: OwnerReference[]): PersistentVolumeClaim {
  return refs.length > 0 ? { ...claim, metadata: { ...claim.metadata, ownerReferences: refs } } : claim
}

/** One sync of one StatefulSet, after its revisions are known. */
export function reconcileStatefulSet(input: StatefulSetInput): StatefulSetPlan {
  const { set, now, currentRevision, updateRevision } = input
  const selector = labelSelectorFromObject(set.spec?.selector)
  const uid = set.metadata.uid
  // Only pods named as members are claimed; owned pods that are not members are released.
  const members = input.pods.filter(p => isMemberOf(set, p))
  const strangers = input.pods.filter(p => !isMemberOf(set, p) && controllerRefOf(p)?.uid === uid && (p.metadata.namespace ?? '') === (set.metadata.namespace ?? ''))
  const claim = claimObjects(set, selector, members)
  const plan: StatefulSetPlan = {
    adopt: claim.adopt,
    release: [...claim.release, ...(set.metadata.deletionTimestamp ? [] : strangers)],
    claimPatches: [],
    claimCreates: [],
    podPatches: [],
    create: [],
    delete: [],
    owned: claim.owned,
    status: {},
  }
  const minReadySeconds = set.spec?.minReadySeconds ?? 0
  plan.status = computeStatus(set, claim.owned, currentRevision, updateRevision, now)
  const waits = claim.owned.map(p => msUntilAvailable(p, minReadySeconds, now)).filter((ms): ms is number => ms !== undefined)
  if (waits.length > 0) plan.requeueAfterMs = Math.min(...waits)
  if (set.metadata.deletionTimestamp) return plan

  const start = startOrdinal(set)
  const count = desiredReplicas(set)
  const replicas: Array<Pod | undefined> = new Array<Pod | undefined>(count).fill(undefined)
  const condemned: Pod[] = []
  for (const pod of claim.owned) {
    const { ordinal } = parentAndOrdinal(pod.metadata.name ?? '')
    if (ordinal >= start && ordinal < start + count) replicas[ordinal - start] = pod
    else if (ordinal >= 0) condemned.push(pod)
  }
  condemned.sort((a, b) => parentAndOrdinal(a.metadata.name ?? '').ordinal - parentAndOrdinal(b.metadata.name ?? '').ordinal)
  const monotonic = (set.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel'
  const claims = new Map(input.claims.filter(c => (c.metadata.namespace ?? '') === (set.metadata.namespace ?? '')).map(c => [c.metadata.name ?? '', c]))

  // Claims of existing pods: create the missing, fix owner references for the retention policy.
  for (const pod of [...replicas, ...condemned]) {
    if (!pod || isTerminating(pod)) continue
    for (const wanted of claimsForOrdinal(set, parentAndOrdinal(pod.metadata.name ?? '').ordinal).values()) {
      const existing = claims.get(wanted.metadata.name ?? '')
      if (!existing) {
        plan.claimCreates.push({ claim: withOwners(wanted, retentionOwnerRefs(set, pod, wanted)), pod })
        continue
      }
      const refs = retentionOwnerRefs(set, pod, existing)
      if (!jsonEqual(refs, existing.metadata.ownerReferences ?? [])) plan.claimPatches.push({ claim: existing, ownerReferences: refs })
    }
    const patch = identityPatch(set, pod)
    if (patch !== undefined) plan.podPatches.push({ pod, patch })
  }

  const firstUnhealthy = [...replicas, ...condemned].find(p => p !== undefined && !isHealthy(p))
  const done = (): StatefulSetPlan => plan

  // Replicas, lowest ordinal first.
  for (let i = 0; i < count; i++) {
    let pod = replicas[i]
    if (pod && !isTerminating(pod) && (isFailed(pod) || isSucceeded(pod))) {
      plan.delete.push(pod)
      if (monotonic) return done()
      continue
    }
    if (!pod) {
      pod = versionedPod(input, start + i)
      const missing = [...claimsForOrdinal(set, start + i).values()]
        .filter(c => !claims.has(c.metadata.name ?? ''))
        .map(c => withOwners(c, retentionOwnerRefs(set, pod!, c)))
      plan.create.push({ pod, claims: missing })
      if (monotonic) return done()
      continue
    }
    if (isTerminating(pod)) {
      if (monotonic) return done()
      continue
    }
    if (monotonic && (!isRunningAndReady(pod) || !isRunningAndAvailable(pod, minReadySeconds, now))) return done()
  }

  // Condemned pods, highest ordinal first.
  for (let target = condemned.length - 1; target >= 0; target--) {
    const pod = condemned[target]!
    if (isTerminating(pod)) {
      if (monotonic) return done()
      continue
    }
    if (monotonic && !isRunningAndReady(pod) && pod !== firstUnhealthy) return done()
    plan.delete.push(pod)
    if (monotonic) return done()
  }
  // Parallel: nothing more while pods are still being made or removed.
  if (plan.create.length > 0 || plan.delete.length > 0) return done()

  // Rolling update: highest ordinal first, down to the partition, one at a time.
  if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return done()
  const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0
  for (let target = count - 1; target >= partition; target--) {
    const pod = replicas[target]
    if (!pod) return done()
    if (podRevision(pod) !== updateRevision.metadata.name && !isTerminating(pod)) {
      plan.delete.push(pod)
      return done()
    }
    if (!isHealthy(pod)) return done()
  }
  return done()
}

/** computeReplicaStatus plus completeRollingUpdate. */
export function computeStatus(set: StatefulSet, pods: readonly Pod[], current: ControllerRevision, update: ControllerRevision, now: number): StatefulSetStatus {
  const minReadySeconds = set.spec?.minReadySeconds ?? 0
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata.generation ?? 0,
    replicas: 0,
    readyReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    availableReplicas: 0,
    currentRevision: current.metadata.name ?? '',
    updateRevision: update.metadata.name ?? '',
    collisionCount: set.status?.collisionCount ?? 0,
  }
  const n = (k: 'replicas' | 'readyReplicas' | 'currentReplicas' | 'updatedReplicas' | 'availableReplicas'): void => {
    status[k] = (status[k] ?? 0) + 1
  }
  for (const pod of pods) {
    n('replicas')
    if (isRunningAndReady(pod)) {
      n('readyReplicas')
      if (isRunningAndAvailable(pod, minReadySeconds, now)) n('availableReplicas')
    }
    if (!isTerminating(pod)) {
      if (podRevision(pod) === status.currentRevision) n('currentReplicas')
      if (podRevision(pod) === status.updateRevision) n('updatedReplicas')
    }
  }
  if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
    status.currentReplicas = status.updatedReplicas
    status.currentRevision = status.updateRevision
  }
  return status
}

/** Whether the stored status already says what `next` says. */
export function statefulSetStatusEqual(current: StatefulSetStatus | undefined, next: StatefulSetStatus): boolean {
  const c = current ?? {}
  return (Object.keys(next) as Array<keyof StatefulSetStatus>).every(k => jsonEqual(c[k] ?? (typeof next[k] === 'number' ? 0 : ''), next[k]))
}
