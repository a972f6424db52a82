// The slice of the Kubernetes object model the controllers and the scheduler
// read and write, as loose TypeScript views over KubeObject, plus the small
// helpers every controller needs (conditions, controller references, age).
//
// Why loose: objects come from the API as JSON; every field may be missing,
// and fields the controllers do not know must survive a round trip, so each
// view keeps an index signature and every field optional.

import type { KubeObject, ObjectMeta, OwnerReference } from '../client/api-client.ts'
import type { LabelSelectorObject } from '../api/label-selector.ts'
import type { IntOrString } from '../api/int-or-percent.ts'
import { parseTime } from './clock.ts'

export type ConditionStatus = 'True' | 'False' | 'Unknown'

export interface Condition {
  type: string
  status: ConditionStatus
  reason?: string
  message?: string
  lastTransitionTime?: string
  /** Deployments. */
  lastUpdateTime?: string
  /** Nodes. */
  lastHeartbeatTime?: string
  /** Pods. */
  lastProbeTime?: string | null
  [field: string]: unknown
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'

export interface Taint {
  key: string
  value?: string
  effect: TaintEffect
  timeAdded?: string
}

export interface Toleration {
  key?: string
  /** '' or absent means Equal. */
  operator?: 'Exists' | 'Equal' | ''
  value?: string
  /** '' or absent matches every effect. */
  effect?: TaintEffect | ''
  tolerationSeconds?: number
}

export type ResourceList = Record<string, string | number>

export interface ContainerPort {
  containerPort: number
  hostPort?: number
  hostIP?: string
  protocol?: string
  name?: string
}

export interface Container {
  name: string
  image?: string
  command?: string[]
  ports?: ContainerPort[]
  resources?: { requests?: ResourceList; limits?: ResourceList }
  [field: string]: unknown
}

export interface NodeSelectorRequirement {
  key: string
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt'
  values?: string[]
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[]
  matchFields?: NodeSelectorRequirement[]
}

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] }
    [field: string]: unknown
  }
  [field: string]: unknown
}

export interface PodSpec {
  nodeName?: string
  nodeSelector?: Record<string, string>
  affinity?: Affinity
  tolerations?: Toleration[]
  containers?: Container[]
  initContainers?: Container[]
  overhead?: ResourceList
  schedulerName?: string
  terminationGracePeriodSeconds?: number
  [field: string]: unknown
}

export interface PodStatus {
  phase?: string
  conditions?: Condition[]
  containerStatuses?: Array<{ name?: string; restartCount?: number; ready?: boolean; [field: string]: unknown }>
  [field: string]: unknown
}

export interface Pod extends KubeObject {
  spec?: PodSpec
  status?: PodStatus
}

export interface PodTemplateSpec {
  metadata?: ObjectMeta
  spec?: PodSpec
}

export interface ReplicaSetSpec {
  replicas?: number
  minReadySeconds?: number
  selector?: LabelSelectorObject
  template?: PodTemplateSpec
  [field: string]: unknown
}

export interface ReplicaSetStatus {
  replicas?: number
  fullyLabeledReplicas?: number
  readyReplicas?: number
  availableReplicas?: number
  observedGeneration?: number
  conditions?: Condition[]
  [field: string]: unknown
}

export interface ReplicaSet extends KubeObject {
  spec?: ReplicaSetSpec
  status?: ReplicaSetStatus
}

export interface DeploymentStrategy {
  type?: 'RollingUpdate' | 'Recreate'
  rollingUpdate?: { maxSurge?: IntOrString; maxUnavailable?: IntOrString }
}

export interface DeploymentSpec {
  replicas?: number
  selector?: LabelSelectorObject
  template?: PodTemplateSpec
  strategy?: DeploymentStrategy
  minReadySeconds?: number
  revisionHistoryLimit?: number
  paused?: boolean
  progressDeadlineSeconds?: number
  [field: string]: unknown
}

export interface DeploymentStatus {
  observedGeneration?: number
  replicas?: number
  updatedReplicas?: number
  readyReplicas?: number
  availableReplicas?: number
  unavailableReplicas?: number
  conditions?: Condition[]
  collisionCount?: number
  [field: string]: unknown
}

export interface Deployment extends KubeObject {
  spec?: DeploymentSpec
  status?: DeploymentStatus
}

export interface NodeSpec {
  unschedulable?: boolean
  taints?: Taint[]
  podCIDR?: string
  [field: string]: unknown
}

export interface NodeStatus {
  conditions?: Condition[]
  allocatable?: ResourceList
  capacity?: ResourceList
  [field: string]: unknown
}

export interface Node extends KubeObject {
  spec?: NodeSpec
  status?: NodeStatus
}

// ---------------------------------------------------------------------------
// Helpers

/** A private, mutable deep copy (informer objects are frozen). */
export function deepCopy<T>(value: T): T {
  return structuredClone(value)
}

/** The condition of `type`, if present. */
export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find(c => c.type === type)
}

/** Whether a Node's Ready condition is True. */
export function isNodeReady(node: KubeObject): boolean {
  return getCondition((node as Node).status?.conditions, 'Ready')?.status === 'True'
}

/** The owner reference marked controller: true (GetControllerOf). */
export function controllerRefOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find(r => r.controller === true)
}

/** The controller reference a controller puts on what it creates (NewControllerRef). */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  }
}

export function isDeleting(object: KubeObject): boolean {
  return !!object.metadata.deletionTimestamp
}

/** creationTimestamp in ms; 0 when absent. */
export function createdAt(object: KubeObject): number {
  return parseTime(object.metadata.creationTimestamp) ?? 0
}

/** Oldest first, then by name (ReplicaSetsByCreationTimestamp, and the same for pods). */
export function byCreation(a: KubeObject, b: KubeObject): number {
  const d = createdAt(a) - createdAt(b)
  if (d !== 0) return d
  return compareText(a.metadata.name ?? '', b.metadata.name ?? '')
}

/** Bytewise string order, as Go sorts. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** "namespace/name" of a pod or any namespaced object. */
export function namespacedName(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`
}

/** The text of a failed API write, for Events and logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
