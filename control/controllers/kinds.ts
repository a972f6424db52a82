// Kinds the control plane knows how to reach by an owner reference's
// apiVersion and kind (the garbage collector looks owners up with it).

import type { ResourceRef } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'

export interface KindInfo {
  kind: string
  apiVersion: string
  ref: ResourceRef
  namespaced: boolean
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'Pod', apiVersion: 'v1', ref: RESOURCES.pods, namespaced: true },
  { kind: 'Node', apiVersion: 'v1', ref: RESOURCES.nodes, namespaced: false },
  { kind: 'Namespace', apiVersion: 'v1', ref: RESOURCES.namespaces, namespaced: false },
  { kind: 'Service', apiVersion: 'v1', ref: RESOURCES.services, namespaced: true },
  { kind: 'Endpoints', apiVersion: 'v1', ref: RESOURCES.endpoints, namespaced: true },
  { kind: 'ConfigMap', apiVersion: 'v1', ref: RESOURCES.configmaps, namespaced: true },
  { kind: 'Event', apiVersion: 'v1', ref: RESOURCES.events, namespaced: true },
  { kind: 'Deployment', apiVersion: 'apps/v1', ref: RESOURCES.deployments, namespaced: true },
  { kind: 'ReplicaSet', apiVersion: 'apps/v1', ref: RESOURCES.replicasets, namespaced: true },
  { kind: 'StatefulSet', apiVersion: 'apps/v1', ref: RESOURCES.statefulsets, namespaced: true },
  { kind: 'DaemonSet', apiVersion: 'apps/v1', ref: RESOURCES.daemonsets, namespaced: true },
  { kind: 'ControllerRevision', apiVersion: 'apps/v1', ref: RESOURCES.controllerrevisions, namespaced: true },
  { kind: 'Job', apiVersion: 'batch/v1', ref: RESOURCES.jobs, namespaced: true },
  { kind: 'CronJob', apiVersion: 'batch/v1', ref: RESOURCES.cronjobs, namespaced: true },
  { kind: 'PersistentVolumeClaim', apiVersion: 'v1', ref: RESOURCES.persistentvolumeclaims, namespaced: true },
  { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', ref: RESOURCES.endpointslices, namespaced: true },
]

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '')

/** The kind an owner reference names (matched on group and kind, any version). */
export function kindFor(apiVersion: string, kind: string): KindInfo | undefined {
  const group = groupOf(apiVersion)
  return KINDS.find(k => k.kind === kind && groupOf(k.apiVersion) === group)
}

/** The kind stored under a resource. */
export function kindOfResource(ref: ResourceRef): KindInfo | undefined {
  return KINDS.find(k => k.ref.group === ref.group && k.ref.resource === ref.resource)
}
