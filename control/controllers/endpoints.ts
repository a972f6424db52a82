// The Endpoints controller's decisions, pure (pkg/controller/endpoint in
// Kubernetes): the core/v1 Endpoints object of a Service with a selector.
//
// Rules, as Kubernetes has them:
// - One Endpoints object per Service, of the same name, carrying the
//   Service's labels (plus `service.kubernetes.io/headless: ""` when
//   clusterIP is None).
// - Ready pods go to `addresses`, the others to `notReadyAddresses`;
//   publishNotReadyAddresses lists every pod as ready, terminating ones
//   included (tolerate-unready). Otherwise terminating pods are left out.
// - Each address is `{ip, hostname?, nodeName?, targetRef}`; ports are the
//   service ports resolved on the pod. Pods are grouped into subsets by the
//   set of ports they resolve (a pod lacking a named port lands in the
//   subset without it, or nowhere when it resolves none). A headless Service
//   without ports lists its pods in one subset without ports.
// - Everything in a stable order (subsets by ports, addresses by IP), so the
//   same inputs give the same object; nothing is written when the stored
//   subsets and labels already say what the desired ones say.

import { jsonEqual } from '../api/merge-patch.ts'
import type { Pod } from './objects.ts'
import { compareText, deepCopy } from './objects.ts'
import { isPodReady } from './pod-util.ts'
import {
  candidatePods,
  compareIPs,
  endpointHostname,
  endpointLabels,
  endpointPorts,
  isHeadless,
  isTerminating,
  podIP,
  podReference,
} from './endpoint-util.ts'
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Service } from './service-objects.ts'

export interface EndpointsInput {
  service: Service
  /** The pods of the Service's namespace, as cached. */
  pods: readonly Pod[]
  /** The stored Endpoints of the same name, if any. */
  current?: Endpoints
}

export type EndpointsPlan =
  | { action: 'none' }
  | { action: 'create'; endpoints: Endpoints }
  | { action: 'update'; endpoints: Endpoints }

function address(pod: Pod, service: Service): EndpointAddress {
  const a: EndpointAddress = { ip: podIP(pod) ?? '' }
  const hostname = endpointHostname(pod, service)
  if (hostname !== undefined) a.hostname = hostname
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName
  a.targetRef = podReference(pod)
  return a
}

function byAddress(a: EndpointAddress, b: EndpointAddress): number {
  return compareIPs(a.ip, b.ip) || compareText(a.targetRef?.uid ?? '', b.targetRef?.uid ?? '')
}

// Endpoints ports leave an empty name out (omitempty), slices keep it.
function subsetPorts(ports: readonly EndpointPort[]): EndpointPort[] {
  return ports.map(({ name, ...rest }) => (name ? { name, ...rest } : rest))
}

/** The subsets of `service` over `pods` (the namespace's), repacked and sorted. */
export function desiredSubsets(service: Service, pods: readonly Pod[]): EndpointSubset[] {
  const tolerateUnready = service.spec?.publishNotReadyAddresses === true
  const hasPorts = (service.spec?.ports ?? []).length > 0
  if (!hasPorts && !isHeadless(service)) return []
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>()
  for (const pod of candidatePods(service, pods)) {
    if (isTerminating(pod) && !tolerateUnready) continue
    const ports = subsetPorts(endpointPorts(service, pod))
    if (hasPorts && ports.length === 0) continue
    const key = JSON.stringify(ports)
    let group = groups.get(key)
    if (!group) groups.set(key, (group = { ports, ready: [], notReady: [] }))
    const list = tolerateUnready || isPodReady(pod) ? group.ready : group.notReady
    list.push(address(pod, service))
  }
  return [...groups.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .map(([, g]) => {
      const subset: EndpointSubset = {}
      if (g.ready.length > 0) subset.addresses = g.ready.sort(byAddress)
      if (g.notReady.length > 0) subset.notReadyAddresses = g.notReady.sort(byAddress)
      if (g.ports.length > 0) subset.ports = g.ports
      return subset
    })
}

/** The Endpoints object to create for `service` (no resourceVersion). */
export function desiredEndpoints(service: Service, pods: readonly Pod[]): Endpoints {
  const subsets = desiredSubsets(service, pods)
  const endpoints: Endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: service.metadata.name, namespace: service.metadata.namespace, labels: endpointLabels(service) },
  }
  if (subsets.length > 0) endpoints.subsets = subsets
  return endpoints
}

/** Whether the stored Endpoints already carry the desired subsets and labels (other metadata ignored). */
export function endpointsEqual(current: Endpoints, desired: Endpoints): boolean {
  return jsonEqual(current.subsets ?? [], desired.subsets ?? []) && jsonEqual(current.metadata.labels ?? {}, desired.metadata.labels ?? {})
}

/** One sync of one Service's Endpoints (syncService without the I/O). The Service must select pods. */
export function reconcileEndpoints(input: EndpointsInput): EndpointsPlan {
  const desired = desiredEndpoints(input.service, input.pods)
  const current = input.current
  if (!current) return { action: 'create', endpoints: desired }
  if (endpointsEqual(current, desired)) return { action: 'none' }
  const next = deepCopy(current)
  next.metadata.labels = desired.metadata.labels
  if (desired.subsets) next.subsets = desired.subsets
  else delete next.subsets
  return { action: 'update', endpoints: next }
}
