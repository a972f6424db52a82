// Deployment arithmetic and bookkeeping, pure (Kubernetes'
// pkg/controller/deployment/util/deployment_util.go): the pod-template hash,
// revisions and their annotations, the rolling-update fenceposts, replica
// counts over ReplicaSets, the orders ReplicaSets are scaled in, and the
// status conditions with their reasons and messages.

import type { KubeObject } from '../client/api-client.ts'
import { resolveFenceposts, scaledValueFromIntOrPercent, DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE } from '../api/int-or-percent.ts'
import type { IntOrString } from '../api/int-or-percent.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import type { LabelSelectorObject } from '../api/label-selector.ts'
import type { Condition, ConditionStatus, Deployment, DeploymentStatus, PodTemplateSpec, ReplicaSet } from './objects.ts'
import { byCreation, deepCopy, getCondition } from './objects.ts'
import { formatTime, parseTime } from './clock.ts'

// --- annotations and labels --------------------------------------------------

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision'
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history'
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas'
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas'
export const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to'
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration'
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash'

/** Deployment annotations never copied onto ReplicaSets (annotationsToSkip). */
export const ANNOTATIONS_TO_SKIP: ReadonlySet<string> = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
])

/** How long the revision-history annotation may grow (the controller flag's default). */
export const REVISION_HISTORY_LIMIT_CHARS = 2000

// --- condition types, reasons, messages ----------------------------------------

export const AVAILABLE = 'Available'
export const PROGRESSING = 'Progressing'
export const REPLICA_FAILURE = 'ReplicaFailure'

export const REASON = {
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  newReplicaSetCreated: 'NewReplicaSetCreated',
  foundNewReplicaSet: 'FoundNewReplicaSet',
  replicaSetUpdated: 'ReplicaSetUpdated',
  newReplicaSetAvailable: 'NewReplicaSetAvailable',
  progressDeadlineExceeded: 'ProgressDeadlineExceeded',
  deploymentPaused: 'DeploymentPaused',
  deploymentResumed: 'DeploymentResumed',
} as const

export const MINIMUM_AVAILABLE_MESSAGE = 'Deployment has minimum availability.'
export const MINIMUM_UNAVAILABLE_MESSAGE = 'Deployment does not have minimum availability.'

// --- the spec, with the API's defaults -----------------------------------------

export interface DeploymentParams {
  replicas: number
  strategy: 'RollingUpdate' | 'Recreate'
  maxSurge: IntOrString
  maxUnavailable: IntOrString
  minReadySeconds: number
  revisionHistoryLimit: number
  /** undefined: no deadline. */
  progressDeadlineSeconds: number | undefined
  paused: boolean
}

const MAX_INT32 = 2147483647

/** The spec with apps/v1 defaults for what is missing (SetDefaults_Deployment). */
export function deploymentParams(d: Deployment): DeploymentParams {
  const spec = d.spec ?? {}
  const strategy = spec.strategy?.type === 'Recreate' ? 'Recreate' : 'RollingUpdate'
  const deadline = spec.progressDeadlineSeconds ?? 600
  return {
    replicas: spec.replicas ?? 1,
    strategy,
    maxSurge: spec.strategy?.rollingUpdate?.maxSurge ?? DEFAULT_MAX_SURGE,
    maxUnavailable: spec.strategy?.rollingUpdate?.maxUnavailable ?? DEFAULT_MAX_UNAVAILABLE,
    minReadySeconds: spec.minReadySeconds ?? 0,
    revisionHistoryLimit: spec.revisionHistoryLimit ?? 10,
    progressDeadlineSeconds: deadline === MAX_INT32 ? undefined : deadline,
    paused: spec.paused === true,
  }
}

/** How many pods above replicas a rolling update may run (MaxSurge); 0 for Recreate. */
export function maxSurge(d: Deployment): number {
  const p = deploymentParams(d)
  if (p.strategy !== 'RollingUpdate') return 0
  return resolveFenceposts(p.maxSurge, p.maxUnavailable, p.replicas).maxSurge
}

/** How many pods below replicas a rolling update may go (MaxUnavailable), at most replicas. */
export function maxUnavailable(d: Deployment): number {
  const p = deploymentParams(d)
  if (p.strategy !== 'RollingUpdate' || p.replicas === 0) return 0
  const { maxUnavailable: u } = resolveFenceposts(p.maxSurge, p.maxUnavailable, p.replicas)
  return Math.min(u, p.replicas)
}

// --- the pod-template hash -------------------------------------------------------

// JSON with object keys sorted at every level: the template's identity.
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']'
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return '{' + entries.map(([k, x]) => JSON.stringify(k) + ':' + canonicalJson(x)).join(',') + '}'
  }
  return JSON.stringify(v) ?? 'null'
}

function fnv32a(bytes: Uint8Array): number {
  let h = 0x811c9dc5
  for (const b of bytes) {
    h ^= b
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'

/** rand.SafeEncodeString: each character mapped into an alphabet without vowels. */
export function safeEncodeString(s: string): string {
  let out = ''
  for (const ch of Buffer.from(s, 'utf8')) out += SAFE_ALPHABET[ch % SAFE_ALPHABET.length]
  return out
}

/**
 * The pod-template-hash (ComputeHash): FNV-32a of the template, then the
 * collision count as 4 little-endian bytes when set, printed in decimal and
 * safe-encoded, e.g. "5d78f9b8c4". Kubernetes hashes Go's printout of the
 * struct; this hashes canonical JSON, so values differ from a real cluster's
 * but have the same shape and stability.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  const bytes = Buffer.from(canonicalJson(template ?? {}), 'utf8')
  let input: Uint8Array = bytes
  if (collisionCount !== undefined) {
    const extra = Buffer.alloc(4)
    extra.writeUInt32LE(collisionCount >>> 0)
    input = Buffer.concat([bytes, extra])
  }
  return safeEncodeString(String(fnv32a(input)))
}

function withoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const copy = deepCopy(t ?? {})
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL]
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels
  }
  return copy
}

/** Templates equal apart from the pod-template-hash label (EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return jsonEqual(withoutHash(a), withoutHash(b))
}

/** The selector with pod-template-hash added to matchLabels (CloneSelectorAndAddLabel). */
export function selectorWithHash(selector: LabelSelectorObject | undefined, hash: string): LabelSelectorObject {
  const copy = deepCopy(selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: unknown }
  copy.matchLabels = { ...copy.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash }
  return copy as LabelSelectorObject
}

// --- revisions -----------------------------------------------------------------------

/** The revision annotation as a number: 0 when absent, undefined when not an integer. */
export function revisionOf(o: KubeObject): number | undefined {
  const v = o.metadata.annotations?.[REVISION_ANNOTATION]
  if (v === undefined) return 0
  return /^[+-]?\d+$/.test(v) ? Number(v) : undefined
}

/** The highest revision among ReplicaSets (MaxRevision); 0 for none. */
export function maxRevision(rss: readonly ReplicaSet[]): number {
  let max = 0
  for (const rs of rss) {
    const v = revisionOf(rs)
    if (v !== undefined && v > max) max = v
  }
  return max
}

function annotationsOf(o: KubeObject): Record<string, string> {
  o.metadata.annotations ??= {}
  return o.metadata.annotations
}

/** Copies the deployment's annotations (but the skipped ones) onto the ReplicaSet; true if it changed. */
export function copyDeploymentAnnotationsToReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  let changed = false
  const target = annotationsOf(rs)
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (ANNOTATIONS_TO_SKIP.has(k) || target[k] === v) continue
    target[k] = v
    changed = true
  }
  return changed
}

/** Sets desired-replicas and max-replicas; true if either changed (SetReplicasAnnotations). */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = annotationsOf(rs)
  let changed = false
  if (a[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    a[DESIRED_REPLICAS_ANNOTATION] = String(desired)
    changed = true
  }
  if (a[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    a[MAX_REPLICAS_ANNOTATION] = String(max)
    changed = true
  }
  return changed
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata.annotations ?? {}
  return a[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max)
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key]
  return v !== undefined && /^[+-]?\d+$/.test(v) ? Number(v) : undefined
}

export const desiredReplicasAnnotation = (rs: ReplicaSet): number | undefined => intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION)
export const maxReplicasAnnotation = (rs: ReplicaSet): number | undefined => intAnnotation(rs, MAX_REPLICAS_ANNOTATION)

/**
 * Gives the new ReplicaSet its annotations (SetNewReplicaSetAnnotations): the
 * deployment's own, the revision when it is behind `newRevision` (keeping the
 * old number in revision-history: a rollback re-uses a ReplicaSet under a new
 * revision), and, for a ReplicaSet about to be created, desired/max replicas.
 */
export function setNewReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet,
  newRevision: number,
  exists: boolean,
  historyLimitChars = REVISION_HISTORY_LIMIT_CHARS,
): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs)
  const a = annotationsOf(rs)
  const oldText = a[REVISION_ANNOTATION]
  const hadRevision = oldText !== undefined
  let oldRevision = 0
  if (oldText !== undefined && oldText !== '') {
    if (!/^[+-]?\d+$/.test(oldText)) return false
    oldRevision = Number(oldText)
  }
  if (oldRevision < newRevision) {
    a[REVISION_ANNOTATION] = String(newRevision)
    changed = true
    if (hadRevision) {
      const history = a[REVISION_HISTORY_ANNOTATION] ?? ''
      if (history === '') {
        a[REVISION_HISTORY_ANNOTATION] = oldText ?? ''
      } else {
        let parts = history.split(',')
        let total = history.length + (oldText ?? '').length + 1
        let start = 0
        while (total > historyLimitChars && start < parts.length) {
          total -= (parts[start] ?? '').length + 1
          start++
        }
        if (total <= historyLimitChars) {
          parts = [...parts.slice(start), oldText ?? '']
          a[REVISION_HISTORY_ANNOTATION] = parts.join(',')
        }
      }
    }
  }
  if (!exists) {
    const p = deploymentParams(d)
    if (setReplicasAnnotations(rs, p.replicas, p.replicas + maxSurge(d))) changed = true
  }
  return changed
}

// --- counting over ReplicaSets ----------------------------------------------------------

export const specReplicas = (rs: ReplicaSet): number => rs.spec?.replicas ?? 0

/** ReplicaSets with spec.replicas > 0 (FilterActiveReplicaSets). */
export function filterActive(rss: ReadonlyArray<ReplicaSet | undefined>): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => rs !== undefined && specReplicas(rs) > 0)
}

const sum = (rss: ReadonlyArray<ReplicaSet | undefined>, f: (rs: ReplicaSet) => number): number =>
  rss.reduce((n, rs) => n + (rs ? f(rs) : 0), 0)

/** Sum of spec.replicas (GetReplicaCountForReplicaSets). */
export const replicaCount = (rss: ReadonlyArray<ReplicaSet | undefined>): number => sum(rss, specReplicas)
/** Sum of status.replicas (GetActualReplicaCountForReplicaSets). */
export const actualReplicaCount = (rss: ReadonlyArray<ReplicaSet | undefined>): number => sum(rss, rs => rs.status?.replicas ?? 0)
export const readyReplicaCount = (rss: ReadonlyArray<ReplicaSet | undefined>): number => sum(rss, rs => rs.status?.readyReplicas ?? 0)
export const availableReplicaCount = (rss: ReadonlyArray<ReplicaSet | undefined>): number =>
  sum(rss, rs => rs.status?.availableReplicas ?? 0)

// --- orders ------------------------------------------------------------------------------

/** Larger first; equal sizes older first (ReplicaSetsBySizeOlder). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(a, b)
}

/** Larger first; equal sizes newer first (ReplicaSetsBySizeNewer). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(b, a)
}

/** Lower revision first, then older (ReplicaSetsByRevision). */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a) ?? 0
  const rb = revisionOf(b) ?? 0
  return ra - rb || byCreation(a, b)
}

// --- which ReplicaSet is which -------------------------------------------------------------

/** The oldest ReplicaSet whose template equals the deployment's (FindNewReplicaSet). */
export function findNewReplicaSet(d: Deployment, rss: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rss].sort(byCreation).find(rs => equalIgnoreHash(rs.spec?.template, d.spec?.template))
}

/** Every ReplicaSet but `newRS`. */
export function findOldReplicaSets(rss: readonly ReplicaSet[], newRS: ReplicaSet | undefined): ReplicaSet[] {
  return rss.filter(rs => rs !== newRS && (newRS === undefined || rs.metadata.uid !== newRS.metadata.uid))
}

/** The single active ReplicaSet, or the newest when none is active (FindActiveOrLatest). */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a))
  const active = filterActive([...newestFirst, newRS])
  if (active.length === 0) return newRS ?? newestFirst[0]
  if (active.length === 1) return active[0]
  return undefined
}

/** The new ReplicaSet runs all replicas, all available (IsSaturated). */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false
  const replicas = deploymentParams(d).replicas
  return (
    specReplicas(rs) === replicas &&
    desiredReplicasAnnotation(rs) === replicas &&
    (rs.status?.availableReplicas ?? 0) === replicas
  )
}

/** How big the new ReplicaSet may be now (NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, allRSs: ReadonlyArray<ReplicaSet | undefined>, newRS: ReplicaSet): number {
  const p = deploymentParams(d)
  if (p.strategy === 'Recreate') return p.replicas
  const surge = scaledValueFromIntOrPercent(p.maxSurge, p.replicas, true)
  const current = replicaCount(allRSs)
  const maxTotal = p.replicas + surge
  if (current >= maxTotal) return specReplicas(newRS)
  const up = Math.min(maxTotal - current, p.replicas - specReplicas(newRS))
  return specReplicas(newRS) + up
}

// Go's math.Round: half away from zero.
const roundHalfAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x))

/** This ReplicaSet's share of a proportional scale (getReplicaSetFraction). */
export function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const p = deploymentParams(d)
  if (p.replicas === 0) return -specReplicas(rs)
  const deploymentReplicas = p.replicas + maxSurge(d)
  const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0
  if (annotated === 0) return 0
  const newSize = (specReplicas(rs) * deploymentReplicas) / annotated
  return roundHalfAway(newSize) - specReplicas(rs)
}

/** How many replicas to add to (or take from) `rs` when scaling proportionally (GetProportion). */
export function proportion(rs: ReplicaSet | undefined, d: Deployment, toAdd: number, added: number): number {
  if (!rs || specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0
  const fraction = replicaSetFraction(rs, d)
  const allowed = toAdd - added
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed)
}

// --- conditions and status ---------------------------------------------------------------------

export function newDeploymentCondition(
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
  now: number,
): Condition {
  const t = formatTime(now)
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message }
}

/**
 * Sets a condition (SetDeploymentCondition): same status and reason keep the
 * old one untouched; same status keeps its lastTransitionTime; the new
 * condition goes last.
 */
export function setDeploymentCondition(status: DeploymentStatus, condition: Condition): void {
  const current = getCondition(status.conditions, condition.type)
  if (current && current.status === condition.status && current.reason === condition.reason) return
  const next = { ...condition }
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime
  status.conditions = [...(status.conditions ?? []).filter(c => c.type !== condition.type), next]
}

export function removeDeploymentCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return
  status.conditions = status.conditions.filter(c => c.type !== type)
  if (status.conditions.length === 0) delete status.conditions
}

/** All replicas updated, running and available, for the current generation (DeploymentComplete). */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const replicas = deploymentParams(d).replicas
  return (
    (status.updatedReplicas ?? 0) === replicas &&
    (status.replicas ?? 0) === replicas &&
    (status.availableReplicas ?? 0) === replicas &&
    (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  )
}

/** The new status shows progress over the stored one (DeploymentProgressing). */
export function deploymentProgressing(d: Deployment, status: DeploymentStatus): boolean {
  const old = d.status ?? {}
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0)
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0)
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  )
}

/** No progress for progressDeadlineSeconds since the Progressing condition last changed (DeploymentTimedOut). */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, now: number): boolean {
  const deadline = deploymentParams(d).progressDeadlineSeconds
  if (deadline === undefined) return false
  const c = getCondition(status.conditions, PROGRESSING)
  if (!c) return false
  if (c.reason === REASON.newReplicaSetAvailable) return false
  if (c.reason === REASON.progressDeadlineExceeded) return true
  const from = parseTime(c.lastUpdateTime)
  if (from === undefined) return false
  return from + deadline * 1000 < now
}

/** Zero counts left out, as the API omits them. */
export function compactDeploymentStatus(s: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = {}
  for (const k of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const) {
    const v = s[k]
    if (v) out[k] = v
  }
  if (s.conditions && s.conditions.length > 0) out.conditions = s.conditions
  if (s.collisionCount !== undefined) out.collisionCount = s.collisionCount
  return out
}

/** The status the ReplicaSets add up to, with the Available condition (calculateStatus). */
export function calculateDeploymentStatus(
  allRSs: ReadonlyArray<ReplicaSet | undefined>,
  newRS: ReplicaSet | undefined,
  d: Deployment,
  now: number,
): DeploymentStatus {
  const available = availableReplicaCount(allRSs)
  const total = replicaCount(allRSs)
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
  }
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount
  if (d.status?.conditions) status.conditions = deepCopy(d.status.conditions)
  const replicas = deploymentParams(d).replicas
  if (available >= replicas - maxUnavailable(d)) {
    setDeploymentCondition(status, newDeploymentCondition(AVAILABLE, 'True', REASON.minimumReplicasAvailable, MINIMUM_AVAILABLE_MESSAGE, now))
  } else {
    setDeploymentCondition(status, newDeploymentCondition(AVAILABLE, 'False', REASON.minimumReplicasUnavailable, MINIMUM_UNAVAILABLE_MESSAGE, now))
  }
  return compactDeploymentStatus(status)
}

export function deploymentStatusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  return jsonEqual(compactDeploymentStatus(a ?? {}), compactDeploymentStatus(b))
}
