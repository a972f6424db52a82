// The EndpointSliceMirroring controller's decisions, pure
// (pkg/controller/endpointslicemirroring in Kubernetes): a Service without a
// selector gets its backends from Endpoints a user writes, and this mirrors
// those Endpoints into EndpointSlices, which is what the proxies and the DNS
// read.
//
// Rules, as Kubernetes has them:
// - Mirrored: Endpoints whose Service exists, has no selector and is not
//   ExternalName, unless labelled `endpointslice.kubernetes.io/skip-mirror:
//   "true"` (the label our own Endpoints controller never needs: Services
//   with a selector are not mirrored at all).
// - Subsets with the same ports share slices; `addresses` are endpoints with
//   ready true, `notReadyAddresses` ready false; hostname, nodeName and
//   targetRef are carried over; IPv4 and IPv6 addresses go to slices of
//   their own address type; at most 1000 endpoints per slice
//   (--mirroring-max-endpoints-per-subset).
// - The slices carry the Endpoints' labels plus `kubernetes.io/service-name`
//   and `endpointslice.kubernetes.io/managed-by:
//   endpointslicemirroring-controller.k8s.io`, its annotations but for
//   last-applied-configuration and the change-trigger time, a controller
//   reference to the Endpoints, and generateName `<name>-`.
// - Few writes: desired slices pair with stored ones in a stable order; only
//   those whose content differs are written, surplus ones are deleted.

import { isIPv4 } from 'node:net'
import { jsonEqual } from '../api/merge-patch.ts'
import type { KubeObject } from '../client/api-client.ts'
import { compareText, deepCopy, newControllerRef } from './objects.ts'
import { sliceContentEqual } from './endpoint-slice.ts'
import { compareIPs, selectsPods } from './endpoint-util.ts'
import type { EndpointAddress, EndpointPort, EndpointSlice, Endpoints, Service, SliceEndpoint } from './service-objects.ts'
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from './service-objects.ts'

export const MIRRORING_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io'
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror'
/** Kubernetes' default --mirroring-max-endpoints-per-subset. */
export const MAX_MIRRORED_ENDPOINTS_PER_SLICE = 1000

const SKIPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration', 'endpoints.kubernetes.io/last-change-trigger-time'])

export interface MirroringInput {
  /** The Service of that name, if any. */
  service: Service | undefined
  /** The Endpoints of that name, if any. */
  endpoints: Endpoints | undefined
  /** Mirrored slices of that Service, as cached (others are filtered out here). */
  slices: readonly EndpointSlice[]
  maxEndpointsPerSlice?: number
}

export interface MirroringPlan {
  create: EndpointSlice[]
  update: EndpointSlice[]
  delete: EndpointSlice[]
}

/** Whether these Endpoints are mirrored into slices for this Service. */
export function shouldMirror(service: Service | undefined, endpoints: Endpoints | undefined): boolean {
  if (!service || !endpoints) return false
  if (endpoints.metadata.labels?.[LABEL_SKIP_MIRROR] === 'true') return false
  return service.spec?.type !== 'ExternalName' && !selectsPods(service)
}

/** A slice this controller wrote for the Service `namespace/name`. */
export function isMirroredSliceOf(slice: EndpointSlice, namespace: string, name: string): boolean {
  const labels = slice.metadata.labels ?? {}
  return (slice.metadata.namespace ?? '') === namespace && labels[LABEL_SERVICE_NAME] === name && labels[LABEL_MANAGED_BY] === MIRRORING_CONTROLLER_NAME
}

function sliceEndpoint(address: EndpointAddress, ready: boolean): SliceEndpoint {
  const endpoint: SliceEndpoint = { addresses: [address.ip], conditions: { ready } }
  if (address.hostname) endpoint.hostname = address.hostname
  if (address.targetRef) endpoint.targetRef = address.targetRef
  if (address.nodeName) endpoint.nodeName = address.nodeName
  return endpoint
}

function slicePorts(ports: readonly EndpointPort[] | undefined): EndpointPort[] {
  return (ports ?? [])
    .map(p => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }))
    .sort((a, b) => compareText(a.name, b.name) || a.port - b.port)
}

interface Group {
  addressType: 'IPv4' | 'IPv6'
  ports: EndpointPort[]
  endpoints: SliceEndpoint[]
}

/** The endpoints of every subset, grouped by ports and address type, in a stable order. */
function desiredGroups(endpoints: Endpoints): Group[] {
  const groups = new Map<string, Group>()
  for (const subset of endpoints.subsets ?? []) {
    const ports = slicePorts(subset.ports)
    const add = (address: EndpointAddress, ready: boolean): void => {
      if (!address.ip) return
      const addressType = isIPv4(address.ip) ? 'IPv4' : 'IPv6'
      const key = `${addressType} ${JSON.stringify(ports)}`
      let group = groups.get(key)
      if (!group) groups.set(key, (group = { addressType, ports, endpoints: [] }))
      // The same address twice in a group (two subsets): the first one counts.
      if (!group.endpoints.some(e => e.addresses[0] === address.ip)) group.endpoints.push(sliceEndpoint(address, ready))
    }
    for (const a of subset.addresses ?? []) add(a, true)
    for (const a of subset.notReadyAddresses ?? []) add(a, false)
  }
  for (const g of groups.values()) g.endpoints.sort((a, b) => compareIPs(a.addresses[0] ?? '', b.addresses[0] ?? ''))
  return [...groups.entries()].sort(([a], [b]) => compareText(a, b)).map(([, g]) => g)
}

function copiedAnnotations(object: KubeObject): Record<string, string> | undefined {
  const entries = Object.entries(object.metadata.annotations ?? {}).filter(([k]) => !SKIPPED_ANNOTATIONS.has(k))
  return entries.length > 0 ? Object.fromEntries(entries) : undefined
}

function newSlice(endpoints: Endpoints, group: Group, members: SliceEndpoint[]): EndpointSlice {
  const name = endpoints.metadata.name ?? ''
  const labels = { ...(endpoints.metadata.labels ?? {}), [LABEL_SERVICE_NAME]: name, [LABEL_MANAGED_BY]: MIRRORING_CONTROLLER_NAME }
  const annotations = copiedAnnotations(endpoints)
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${name}-`,
      namespace: endpoints.metadata.namespace,
      labels,
      ...(annotations ? { annotations } : {}),
      ownerReferences: [newControllerRef(endpoints, 'v1', 'Endpoints')],
    },
    addressType: group.addressType,
    endpoints: members,
    ports: group.ports,
  }
}

/** One sync of one Service's mirrored slices (reconcile without the I/O). */
export function reconcileMirroredSlices(input: MirroringInput): MirroringPlan {
  const max = Math.max(1, input.maxEndpointsPerSlice ?? MAX_MIRRORED_ENDPOINTS_PER_SLICE)
  const namespace = input.endpoints?.metadata.namespace ?? input.service?.metadata.namespace ?? ''
  const name = input.endpoints?.metadata.name ?? input.service?.metadata.name ?? ''
  const stored = input.slices
    .filter(s => isMirroredSliceOf(s, namespace, name))
    .sort((a, b) => compareText(a.addressType ?? '', b.addressType ?? '') || compareText(a.metadata.name ?? '', b.metadata.name ?? ''))
  const plan: MirroringPlan = { create: [], update: [], delete: [] }
  if (!shouldMirror(input.service, input.endpoints)) return { ...plan, delete: stored }
  const endpoints = input.endpoints as Endpoints
  const uid = endpoints.metadata.uid
  const reusable = stored.filter(s => (s.metadata.ownerReferences ?? []).some(r => r.controller === true && r.kind === 'Endpoints' && r.uid === uid))
  plan.delete.push(...stored.filter(s => !reusable.includes(s)))

  const desired: EndpointSlice[] = []
  for (const group of desiredGroups(endpoints)) {
    for (let i = 0; i < group.endpoints.length; i += max) desired.push(newSlice(endpoints, group, group.endpoints.slice(i, i + max)))
  }
  for (const want of desired) {
    // A stored slice of the same type and ports first, else any of the same address type.
    const index = reusable.findIndex(s => s.addressType === want.addressType && jsonEqual(s.ports ?? [], want.ports ?? []))
    const pick = index >= 0 ? index : reusable.findIndex(s => s.addressType === want.addressType)
    if (pick < 0) {
      plan.create.push(want)
      continue
    }
    const [slice] = reusable.splice(pick, 1) as [EndpointSlice]
    if (sliceContentEqual(slice, want) && jsonEqual(slice.metadata.annotations ?? {}, want.metadata.annotations ?? {})) continue
    const next = deepCopy(slice)
    next.metadata.labels = want.metadata.labels
    next.metadata.annotations = want.metadata.annotations
    next.metadata.ownerReferences = want.metadata.ownerReferences
    next.endpoints = want.endpoints
    next.ports = want.ports
    plan.update.push(next)
  }
  plan.delete.push(...reusable)
  return plan
}

