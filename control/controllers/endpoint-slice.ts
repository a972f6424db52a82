// The EndpointSlice controller's decisions, pure (pkg/controller/endpointslice
// in Kubernetes): which discovery.k8s.io/v1 EndpointSlices a Service with a
// selector should have, and which writes get the stored ones there.
//
// Rules, as Kubernetes has them:
// - Every pod that may back the Service is an endpoint, terminating ones
//   included: `{addresses: [podIP], conditions: {ready, serving,
//   terminating}, hostname?, targetRef, nodeName?}` where serving = the pod's
//   Ready condition, terminating = deletionTimestamp set, ready = serving
//   and not terminating (always true with publishNotReadyAddresses).
// - Endpoints are grouped by the ports they resolve (ports `{name, port,
//   protocol}`, name '' when the service port has none); a group fills
//   slices of at most 100 endpoints (maxEndpointsPerSlice).
// - The slices this controller owns carry the labels
//   `kubernetes.io/service-name`, `endpointslice.kubernetes.io/managed-by:
//   endpointslice-controller.k8s.io` (plus the Service's labels and the
//   headless marker), a controller reference to the Service and
//   generateName `<service>-`. Slices of another manager are never touched;
//   managed slices owned by an older Service of the same name are deleted.
// - Few writes: an endpoint stays in the slice that holds it; new endpoints
//   fill slices with room before new slices are made; a slice whose ports
//   are no longer wanted is reused before another is created. A Service with
//   no endpoints keeps one empty placeholder slice. Endpoints are sorted by
//   IP inside a slice and a slice is written only when its endpoints, ports,
//   labels or owner differ from the stored ones.

import { jsonEqual } from '../api/merge-patch.ts'
import type { Pod } from './objects.ts'
import { compareText, deepCopy, newControllerRef } from './objects.ts'
import { isPodReady } from './pod-util.ts'
import {
  candidatePods,
  compareIPs,
  endpointHostname,
  endpointLabels,
  endpointPorts,
  isTerminating,
  podIP,
  podReference,
} from './endpoint-util.ts'
import type { EndpointPort, EndpointSlice, Service, SliceEndpoint } from './service-objects.ts'
import { ENDPOINTSLICE_CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from './service-objects.ts'

/** Kubernetes' default --max-endpoints-per-slice. */
export const MAX_ENDPOINTS_PER_SLICE = 100

export interface EndpointSliceInput {
  service: Service
  /** The pods of the Service's namespace, as cached. */
  pods: readonly Pod[]
  /** The slices of the Service's namespace, as cached (others are filtered out here). */
  slices: readonly EndpointSlice[]
  maxEndpointsPerSlice?: number
}

export interface EndpointSlicePlan {
  /** New slices (generateName, not name). */
  create: EndpointSlice[]
  /** Stored slices with new content (their metadata, resourceVersion included). */
  update: EndpointSlice[]
  delete: EndpointSlice[]
}

/** The endpoint of `pod` for `service` (podToEndpoint). */
export function sliceEndpoint(pod: Pod, service: Service): SliceEndpoint {
  const serving = isPodReady(pod)
  const terminating = isTerminating(pod)
  const ready = service.spec?.publishNotReadyAddresses === true || (serving && !terminating)
  const endpoint: SliceEndpoint = { addresses: [podIP(pod) ?? ''], conditions: { ready, serving, terminating } }
  const hostname = endpointHostname(pod, service)
  if (hostname !== undefined) endpoint.hostname = hostname
  endpoint.targetRef = podReference(pod)
  if (pod.spec?.nodeName) endpoint.nodeName = pod.spec.nodeName
  return endpoint
}

/** The labels of the slices of `service`. */
export function sliceLabels(service: Service): Record<string, string> {
  return endpointLabels(service, {
    [LABEL_SERVICE_NAME]: service.metadata.name ?? '',
    [LABEL_MANAGED_BY]: ENDPOINTSLICE_CONTROLLER_NAME,
  })
}

/** A slice of `service` written by this controller (label-wise; ownership is checked apart). */
export function isManagedSliceOf(slice: EndpointSlice, namespace: string, service: string): boolean {
  const labels = slice.metadata.labels ?? {}
  return (
    (slice.metadata.namespace ?? '') === namespace &&
    labels[LABEL_SERVICE_NAME] === service &&
    labels[LABEL_MANAGED_BY] === ENDPOINTSLICE_CONTROLLER_NAME
  )
}

function ownedBy(slice: EndpointSlice, service: Service): boolean {
  return (slice.metadata.ownerReferences ?? []).some(r => r.controller === true && r.kind === 'Service' && r.uid === service.metadata.uid)
}

const endpointKey = (e: SliceEndpoint): string => `${e.addresses[0] ?? ''}|${e.targetRef?.uid ?? ''}`

function byIP(a: SliceEndpoint, b: SliceEndpoint): number {
  return compareIPs(a.addresses[0] ?? '', b.addresses[0] ?? '') || compareText(a.targetRef?.uid ?? '', b.targetRef?.uid ?? '')
}

interface PortGroup {
  ports: EndpointPort[]
  endpoints: SliceEndpoint[]
}

/** The desired endpoints of `service` grouped by the ports they resolve, groups and endpoints in a stable order. */
export function desiredSliceGroups(service: Service, pods: readonly Pod[]): Map<string, PortGroup> {
  const groups = new Map<string, PortGroup>()
  for (const pod of candidatePods(service, pods)) {
    const ports = endpointPorts(service, pod)
    const key = JSON.stringify(ports)
    let group = groups.get(key)
    if (!group) groups.set(key, (group = { ports, endpoints: [] }))
    group.endpoints.push(sliceEndpoint(pod, service))
  }
  for (const g of groups.values()) g.endpoints.sort(byIP)
  return new Map([...groups.entries()].sort(([a], [b]) => compareText(a, b)))
}

// What a slice should hold; `slice` is the stored one it goes into, if any.
interface Target {
  slice?: EndpointSlice
  ports: EndpointPort[]
  endpoints: SliceEndpoint[]
}

function newSlice(service: Service, ports: EndpointPort[], endpoints: SliceEndpoint[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${service.metadata.name ?? ''}-`,
      namespace: service.metadata.namespace,
      labels: sliceLabels(service),
      ownerReferences: [newControllerRef(service, 'v1', 'Service')],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  }
}

/** Whether a stored slice already holds what `desired` holds (endpoints, ports, labels, owner; other metadata ignored). */
export function sliceContentEqual(stored: EndpointSlice, desired: EndpointSlice): boolean {
  return (
    stored.addressType === desired.addressType &&
    jsonEqual(stored.endpoints ?? [], desired.endpoints ?? []) &&
    jsonEqual(stored.ports ?? [], desired.ports ?? []) &&
    jsonEqual(stored.metadata.labels ?? {}, desired.metadata.labels ?? {}) &&
    jsonEqual(stored.metadata.ownerReferences ?? [], desired.metadata.ownerReferences ?? [])
  )
}

// The stored slice rewritten to hold the target, keeping its other metadata.
function rewrite(service: Service, stored: EndpointSlice, target: Target): EndpointSlice {
  const desired = newSlice(service, target.ports, target.endpoints)
  const next = deepCopy(stored)
  next.metadata.labels = desired.metadata.labels
  next.metadata.ownerReferences = desired.metadata.ownerReferences
  next.addressType = desired.addressType
  next.endpoints = desired.endpoints
  next.ports = desired.ports
  return next
}

// Places each group's endpoints into the slices holding them, then into
// slices with room, then into new targets of at most `max`.
function placeEndpoints(groups: Map<string, PortGroup>, byPorts: Map<string, EndpointSlice[]>, max: number): Target[] {
  const targets: Target[] = []
  for (const [key, group] of groups) {
    const wanted = new Map(group.endpoints.map(e => [endpointKey(e), e]))
    const placed = new Set<string>()
    const own: Target[] = []
    for (const slice of byPorts.get(key) ?? []) {
      const endpoints: SliceEndpoint[] = []
      for (const e of slice.endpoints ?? []) {
        const k = endpointKey(e)
        const desired = wanted.get(k)
        if (desired && !placed.has(k) && endpoints.length < max) {
          placed.add(k)
          endpoints.push(desired)
        }
      }
      own.push({ slice, ports: group.ports, endpoints })
    }
    const rest = group.endpoints.filter(e => !placed.has(endpointKey(e)))
    for (const t of own) while (t.endpoints.length < max && rest.length > 0) t.endpoints.push(rest.shift()!)
    while (rest.length > 0) own.push({ ports: group.ports, endpoints: rest.splice(0, max) })
    for (const t of own) t.endpoints.sort(byIP)
    targets.push(...own)
  }
  return targets
}

/** One sync of one Service's slices (reconcile without the I/O). The Service must select pods. */
export function reconcileEndpointSlices(input: EndpointSliceInput): EndpointSlicePlan {
  const { service } = input
  const max = Math.max(1, input.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE)
  const plan: EndpointSlicePlan = { create: [], update: [], delete: [] }
  const managed = input.slices
    .filter(s => isManagedSliceOf(s, service.metadata.namespace ?? '', service.metadata.name ?? ''))
    .sort((a, b) => compareText(a.metadata.name ?? '', b.metadata.name ?? ''))
  const owned: EndpointSlice[] = []
  for (const s of managed) (ownedBy(s, service) && s.addressType === 'IPv4' ? owned : plan.delete).push(s)

  const groups = desiredSliceGroups(service, input.pods)
  const byPorts = new Map<string, EndpointSlice[]>()
  const spare: EndpointSlice[] = []
  for (const s of owned) {
    const key = JSON.stringify(s.ports ?? [])
    const list = byPorts.get(key)
    if (!groups.has(key)) spare.push(s)
    else if (list) list.push(s)
    else byPorts.set(key, [s])
  }

  let targets = placeEndpoints(groups, byPorts, max)
  const emptied = targets.filter(t => t.slice && t.endpoints.length === 0).map(t => t.slice!)
  targets = targets.filter(t => t.endpoints.length > 0)
  if (targets.length === 0) {
    // No endpoints: one placeholder slice, the first stored one if there is one.
    const reuse = [...emptied, ...spare].sort((a, b) => compareText(a.metadata.name ?? '', b.metadata.name ?? ''))[0]
    targets = [reuse ? { slice: reuse, ports: [], endpoints: [] } : { ports: [], endpoints: [] }]
  }
  const used = new Set(targets.map(t => t.slice).filter(s => s !== undefined))
  const reusable = [...spare, ...emptied].filter(s => !used.has(s))
  for (const t of targets) {
    t.slice ??= reusable.shift()
    if (!t.slice) {
      plan.create.push(newSlice(service, t.ports, t.endpoints))
      continue
    }
    const next = rewrite(service, t.slice, t)
    if (!sliceContentEqual(t.slice, next)) plan.update.push(next)
  }
  plan.delete.push(...reusable)
  return plan
}
