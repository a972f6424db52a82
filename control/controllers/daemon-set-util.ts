// What the DaemonSet controller asks of nodes and pods, pure (Kubernetes'
// pkg/controller/daemon/util and NodeShouldRunDaemonPod): which nodes should
// run a daemon pod, the pod as it is created for one node, which pods are
// up to date, and the rolling update's budgets.
//
// Rules, as Kubernetes has them:
// - A node should run the pod when the template's nodeName (if any) is the
//   node, the node matches the template's nodeSelector and required node
//   affinity, and the pod (with the tolerations below) tolerates every
//   NoSchedule and NoExecute taint in node.spec.taints. A pod already there
//   may continue running while every NoExecute taint is tolerated.
// - Daemon pods get tolerations so node problems neither evict them nor
//   keep them off a node: not-ready and unreachable NoExecute without
//   tolerationSeconds; disk-pressure, memory-pressure, pid-pressure and
//   unschedulable NoSchedule; network-unavailable NoSchedule for
//   hostNetwork pods. A user toleration with the same key, operator, value
//   and effect is replaced.
// - Placement: the pod's required node affinity becomes the single term
//   `matchFields metadata.name In [node]` and the scheduler binds it
//   (ReplaceDaemonSetPodNodeNameNodeAffinity), so resources and host ports
//   are still checked by the scheduler.
// - Labels: the template's plus `controller-revision-hash` (the current
//   ControllerRevision's hash) and `pod-template-generation` (the
//   DaemonSet's template generation, when known). A pod is up to date when
//   either matches.

import type { LabelSelectorObject } from '../api/label-selector.ts'
import type { IntOrString } from '../api/int-or-percent.ts'
import { scaledValueFromIntOrPercent } from '../api/int-or-percent.ts'
import type { KubeObject } from '../client/api-client.ts'
import { matchesAffinity } from '../scheduler/schedule.ts'
import { CONTROLLER_REVISION_HASH_LABEL } from './controller-history.ts'
import { toleratesTaint, TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from './node-lifecycle.ts'
import type { Node, Pod, PodSpec, PodTemplateSpec, Taint, TaintEffect, Toleration } from './objects.ts'
import { compareText, createdAt, deepCopy, newControllerRef } from './objects.ts'

export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation'
/** Where apps/v1 keeps the internal spec.templateGeneration. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation'

export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure'
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure'
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure'
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable'

export interface DaemonSetUpdateStrategy {
  type?: 'RollingUpdate' | 'OnDelete'
  rollingUpdate?: { maxUnavailable?: IntOrString; maxSurge?: IntOrString }
}

export interface DaemonSetSpec {
  selector?: LabelSelectorObject
  template?: PodTemplateSpec
  updateStrategy?: DaemonSetUpdateStrategy
  minReadySeconds?: number
  revisionHistoryLimit?: number
  [field: string]: unknown
}

export interface DaemonSetStatus {
  currentNumberScheduled?: number
  numberMisscheduled?: number
  desiredNumberScheduled?: number
  numberReady?: number
  observedGeneration?: number
  updatedNumberScheduled?: number
  numberAvailable?: number
  numberUnavailable?: number
  collisionCount?: number
  conditions?: unknown[]
  [field: string]: unknown
}

export interface DaemonSet extends KubeObject {
  spec?: DaemonSetSpec
  status?: DaemonSetStatus
}

export function daemonSetKey(ds: KubeObject): string {
  return `${ds.metadata.namespace ?? ''}/${ds.metadata.name ?? ''}`
}

/** The template generation from the annotation; undefined when absent or not a number (GetTemplateGeneration). */
export function templateGeneration(ds: DaemonSet): number | undefined {
  const text = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION]
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined
  return Number(text)
}

// --- tolerations ---------------------------------------------------------------------

const sameToleration = (a: Toleration, b: Toleration): boolean =>
  (a.key ?? '') === (b.key ?? '') &&
  (a.operator || 'Equal') === (b.operator || 'Equal') &&
  (a.value ?? '') === (b.value ?? '') &&
  (a.effect ?? '') === (b.effect ?? '')

function addOrUpdateToleration(spec: PodSpec, toleration: Toleration): void {
  const tolerations = [...(spec.tolerations ?? [])]
  const at = tolerations.findIndex(t => sameToleration(t, toleration))
  if (at >= 0) tolerations[at] = toleration
  else tolerations.push(toleration)
  spec.tolerations = tolerations
}

/** Adds the tolerations every daemon pod gets (AddOrUpdateDaemonPodTolerations). */
export function addDaemonPodTolerations(spec: PodSpec): void {
  const exists = (key: string, effect: TaintEffect): Toleration => ({ key, operator: 'Exists', effect })
  addOrUpdateToleration(spec, exists(TAINT_NOT_READY, 'NoExecute'))
  addOrUpdateToleration(spec, exists(TAINT_UNREACHABLE, 'NoExecute'))
  addOrUpdateToleration(spec, exists(TAINT_DISK_PRESSURE, 'NoSchedule'))
  addOrUpdateToleration(spec, exists(TAINT_MEMORY_PRESSURE, 'NoSchedule'))
  addOrUpdateToleration(spec, exists(TAINT_PID_PRESSURE, 'NoSchedule'))
  addOrUpdateToleration(spec, exists(TAINT_UNSCHEDULABLE, 'NoSchedule'))
  if (spec.hostNetwork === true) addOrUpdateToleration(spec, exists(TAINT_NETWORK_UNAVAILABLE, 'NoSchedule'))
}

// --- pods ------------------------------------------------------------------------------

/**
 * The template every new pod starts from (CreatePodTemplate): the DaemonSet's,
 * with the daemon tolerations and the generation and hash labels.
 */
export function daemonPodTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
  const template = deepCopy(ds.spec?.template ?? {})
  const spec = template.spec ?? {}
  addDaemonPodTolerations(spec)
  template.spec = spec
  const labels = { ...template.metadata?.labels }
  const generation = templateGeneration(ds)
  if (generation !== undefined) labels[TEMPLATE_GENERATION_LABEL] = String(generation)
  if (hash) labels[CONTROLLER_REVISION_HASH_LABEL] = hash
  template.metadata = { ...template.metadata, labels }
  return template
}

/** Required node affinity replaced by `metadata.name In [node]` (ReplaceDaemonSetPodNodeNameNodeAffinity). */
export function withNodeNameAffinity(spec: PodSpec, nodeName: string): PodSpec {
  const term = { matchFields: [{ key: 'metadata.name', operator: 'In' as const, values: [nodeName] }] }
  const affinity = { ...spec.affinity }
  const nodeAffinity = { ...affinity.nodeAffinity }
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    ...nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution,
    nodeSelectorTerms: [term],
  }
  affinity.nodeAffinity = nodeAffinity
  return { ...spec, affinity }
}

/** One pod to create for `nodeName` (CreatePods with the DaemonSet's controller reference). */
export function daemonPodForNode(ds: DaemonSet, template: PodTemplateSpec, nodeName: string): Pod {
  const metadata: Pod['metadata'] = {
    generateName: `${ds.metadata.name ?? ''}-`,
    namespace: ds.metadata.namespace,
    labels: { ...template.metadata?.labels },
    ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
  }
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations }
  if (template.metadata?.finalizers) metadata.finalizers = [...template.metadata.finalizers]
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: withNodeNameAffinity(deepCopy(template.spec ?? {}), nodeName) }
}

/**
 * The node a daemon pod is for (GetTargetNodeName): spec.nodeName once bound,
 * else the single value of its `metadata.name In` match field.
 */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []
  for (const term of terms) {
    for (const r of term.matchFields ?? []) {
      if (r.key === 'metadata.name' && r.operator === 'In') return r.values?.length === 1 ? r.values[0] : undefined
    }
  }
  return undefined
}

/** Up to date: the hash label is the current hash, or the generation label the template generation (IsPodUpdated). */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata.labels ?? {}
  const generationMatches = generation !== undefined && labels[TEMPLATE_GENERATION_LABEL] === String(generation)
  const hashMatches = hash.length > 0 && labels[CONTROLLER_REVISION_HASH_LABEL] === hash
  return hashMatches || generationMatches
}

/** Bound pods first, then oldest first, then by name (podByCreationTimestampAndPhase). */
export function byScheduledThenCreation(a: Pod, b: Pod): number {
  const ab = !!a.spec?.nodeName
  const bb = !!b.spec?.nodeName
  if (ab !== bb) return ab ? -1 : 1
  return createdAt(a) - createdAt(b) || compareText(a.metadata.name ?? '', b.metadata.name ?? '')
}

// --- nodes -----------------------------------------------------------------------------

export interface NodeFit {
  /** A daemon pod should be created here if none is. */
  shouldRun: boolean
  /** A daemon pod already here may stay. */
  shouldContinueRunning: boolean
}

function untolerated(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly TaintEffect[]): boolean {
  return taints.some(taint => effects.includes(taint.effect) && !tolerations.some(t => toleratesTaint(t, taint)))
}

/** NodeShouldRunDaemonPod: whether the DaemonSet belongs on `node`. */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): NodeFit {
  const name = node.metadata.name ?? ''
  const templateSpec = ds.spec?.template?.spec ?? {}
  if (templateSpec.nodeName && templateSpec.nodeName !== name) return { shouldRun: false, shouldContinueRunning: false }
  const spec = deepCopy(templateSpec)
  addDaemonPodTolerations(spec)
  const pod: Pod = { metadata: { labels: ds.spec?.template?.metadata?.labels }, spec: { ...spec, nodeName: name } }
  if (!matchesAffinity(pod, node)) return { shouldRun: false, shouldContinueRunning: false }
  const taints = node.spec?.taints ?? []
  const tolerations = spec.tolerations ?? []
  if (untolerated(taints, tolerations, ['NoSchedule', 'NoExecute'])) {
    return { shouldRun: false, shouldContinueRunning: !untolerated(taints, tolerations, ['NoExecute']) }
  }
  return { shouldRun: true, shouldContinueRunning: true }
}

// --- the rolling update's budgets ------------------------------------------------------

/** maxUnavailable of `desired` nodes, a percent rounded up (UnavailableCount); 0 unless RollingUpdate. */
export function maxUnavailableCount(ds: DaemonSet, desired: number): number {
  const strategy = ds.spec?.updateStrategy
  if (strategy?.type !== 'RollingUpdate' || !strategy.rollingUpdate) return 0
  return scaledValueFromIntOrPercent(strategy.rollingUpdate.maxUnavailable ?? 0, desired, true)
}

/** maxSurge of `desired` nodes, a percent rounded up (SurgeCount); 0 unless RollingUpdate. */
export function maxSurgeCount(ds: DaemonSet, desired: number): number {
  const strategy = ds.spec?.updateStrategy
  if (strategy?.type !== 'RollingUpdate' || !strategy.rollingUpdate) return 0
  return scaledValueFromIntOrPercent(strategy.rollingUpdate.maxSurge ?? 0, desired, true)
}

/** Whether the update surges: a new pod starts beside the old one (AllowsSurge). */
export function allowsSurge(ds: DaemonSet): boolean {
  try {
    return maxSurgeCount(ds, 1) !== 0
  } catch {
    return false
  }
}
