// Small builders for the objects the tests feed the pure functions.

import type { KubeObject } from '../../../../control/client/api-client.ts'
import type {
  Deployment,
  DeploymentSpec,
  Node,
  Pod,
  PodTemplateSpec,
  ReplicaSet,
  Taint,
  Toleration,
} from '../../../../control/controllers/objects.ts'
import { formatTime } from '../../../../control/controllers/clock.ts'

export const T0 = Date.parse('2025-01-01T00:00:00Z')
export const at = (seconds: number): string => formatTime(T0 + seconds * 1000)

export interface PodOptions {
  name: string
  namespace?: string
  uid?: string
  labels?: Record<string, string>
  owner?: KubeObject
  ownerKind?: string
  nodeName?: string
  phase?: string
  ready?: boolean
  /** Seconds after T0 when it became ready. */
  readySince?: number
  /** Seconds after T0. */
  created?: number
  deleting?: boolean
  restarts?: number
  deletionCost?: number
  cpu?: string
  memory?: string
  tolerations?: Toleration[]
  nodeSelector?: Record<string, string>
  hostPort?: number
}

export function pod(o: PodOptions): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.namespace ?? 'default',
      uid: o.uid ?? `uid-${o.name}`,
      labels: o.labels ?? { app: 'web' },
      creationTimestamp: at(o.created ?? 0),
    },
    spec: { containers: [{ name: 'c', image: 'nginx' }] },
    status: { phase: o.phase ?? (o.nodeName ? 'Running' : 'Pending') },
  }
  if (o.owner) {
    p.metadata.ownerReferences = [
      {
        apiVersion: o.owner.apiVersion ?? 'apps/v1',
        kind: o.ownerKind ?? o.owner.kind ?? 'ReplicaSet',
        name: o.owner.metadata.name ?? '',
        uid: o.owner.metadata.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]
  }
  if (o.nodeName) p.spec!.nodeName = o.nodeName
  if (o.ready !== undefined) {
    p.status!.conditions = [
      { type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: at(o.readySince ?? 0) },
    ]
  }
  if (o.deleting) p.metadata.deletionTimestamp = at(100)
  if (o.restarts !== undefined) p.status!.containerStatuses = [{ name: 'c', restartCount: o.restarts }]
  if (o.deletionCost !== undefined) {
    p.metadata.annotations = { 'controller.kubernetes.io/pod-deletion-cost': String(o.deletionCost) }
  }
  const container = p.spec!.containers![0]!
  if (o.cpu || o.memory) {
    container.resources = { requests: {} }
    if (o.cpu) container.resources.requests!['cpu'] = o.cpu
    if (o.memory) container.resources.requests!['memory'] = o.memory
  }
  if (o.hostPort) container.ports = [{ containerPort: 80, hostPort: o.hostPort, protocol: 'TCP' }]
  if (o.tolerations) p.spec!.tolerations = o.tolerations
  if (o.nodeSelector) p.spec!.nodeSelector = o.nodeSelector
  return p
}

export function template(labels: Record<string, string> = { app: 'web' }, image = 'nginx'): PodTemplateSpec {
  return { metadata: { labels }, spec: { containers: [{ name: 'c', image }] } }
}

export interface ReplicaSetOptions {
  name?: string
  uid?: string
  replicas?: number
  selector?: Record<string, string>
  labels?: Record<string, string>
  template?: PodTemplateSpec
  minReadySeconds?: number
  generation?: number
  created?: number
  owner?: KubeObject
  annotations?: Record<string, string>
  status?: ReplicaSet['status']
  deleting?: boolean
}

export function replicaSet(o: ReplicaSetOptions = {}): ReplicaSet {
  const name = o.name ?? 'web'
  const rs: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'default',
      uid: o.uid ?? `uid-${name}`,
      generation: o.generation ?? 1,
      creationTimestamp: at(o.created ?? 0),
      labels: o.labels ?? o.template?.metadata?.labels ?? { app: 'web' },
    },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: o.selector ?? { app: 'web' } },
      template: o.template ?? template(),
    },
  }
  if (o.minReadySeconds !== undefined) rs.spec!.minReadySeconds = o.minReadySeconds
  if (o.annotations) rs.metadata.annotations = o.annotations
  if (o.status) rs.status = o.status
  if (o.deleting) rs.metadata.deletionTimestamp = at(100)
  if (o.owner) {
    rs.metadata.ownerReferences = [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: o.owner.metadata.name ?? '',
        uid: o.owner.metadata.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]
  }
  return rs
}

export function deployment(name = 'web', spec: DeploymentSpec = {}, extra: Partial<Deployment['metadata']> = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      generation: 1,
      creationTimestamp: at(0),
      ...extra,
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: template({ app: name }),
      ...spec,
    },
  }
}

export interface NodeOptions {
  ready?: 'True' | 'False' | 'Unknown' | 'missing'
  cpu?: string
  memory?: string
  pods?: string
  labels?: Record<string, string>
  taints?: Taint[]
  unschedulable?: boolean
  heartbeat?: number
}

export function node(name: string, o: NodeOptions = {}): Node {
  const n: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-${name}`, labels: { 'kubernetes.io/hostname': name, ...o.labels }, creationTimestamp: at(0) },
    spec: {},
    status: { allocatable: { cpu: o.cpu ?? '2', memory: o.memory ?? '4Gi', pods: o.pods ?? '110' } },
  }
  if ((o.ready ?? 'True') !== 'missing') {
    n.status!.conditions = [
      {
        type: 'Ready',
        status: (o.ready ?? 'True') as 'True',
        reason: 'KubeletReady',
        message: 'kubelet is posting ready status',
        lastHeartbeatTime: at(o.heartbeat ?? 0),
        lastTransitionTime: at(0),
      },
    ]
  }
  if (o.taints) n.spec!.taints = o.taints
  if (o.unschedulable) n.spec!.unschedulable = true
  return n
}
