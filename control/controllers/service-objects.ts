// Loose typed views of the service-networking objects the Endpoints,
// EndpointSlice and LoadBalancer loops read and write (core/v1 Service and
// Endpoints, discovery.k8s.io/v1 EndpointSlice), in the style of objects.ts:
// every field optional, unknown fields kept through a round trip.

import type { KubeObject } from '../client/api-client.ts'

export interface ServicePort {
  name?: string
  protocol?: string
  appProtocol?: string
  port: number
  /** A number, or the name of a container port. Absent: port. */
  targetPort?: number | string
  nodePort?: number
}

export interface ServiceSpec {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'
  selector?: Record<string, string>
  clusterIP?: string
  ports?: ServicePort[]
  publishNotReadyAddresses?: boolean
  loadBalancerIP?: string
  loadBalancerClass?: string
  [field: string]: unknown
}

export interface LoadBalancerIngress {
  ip?: string
  hostname?: string
  [field: string]: unknown
}

export interface LoadBalancerStatus {
  ingress?: LoadBalancerIngress[]
}

export interface ServiceStatus {
  loadBalancer?: LoadBalancerStatus
  [field: string]: unknown
}

export interface Service extends KubeObject {
  spec?: ServiceSpec
  status?: ServiceStatus
}

/** The reference from an endpoint to its pod. */
export interface PodReference {
  kind: 'Pod'
  namespace: string
  name: string
  uid: string
}

export interface EndpointAddress {
  ip: string
  hostname?: string
  nodeName?: string
  targetRef?: PodReference
}

/** A port of an Endpoints subset or an EndpointSlice. */
export interface EndpointPort {
  name?: string
  port: number
  protocol?: string
  appProtocol?: string
}

export interface EndpointSubset {
  addresses?: EndpointAddress[]
  notReadyAddresses?: EndpointAddress[]
  ports?: EndpointPort[]
}

export interface Endpoints extends KubeObject {
  subsets?: EndpointSubset[]
}

export interface EndpointConditions {
  ready?: boolean
  serving?: boolean
  terminating?: boolean
}

export interface SliceEndpoint {
  addresses: string[]
  conditions: EndpointConditions
  hostname?: string
  targetRef?: PodReference
  nodeName?: string
  zone?: string
}

export interface EndpointSlice extends KubeObject {
  addressType?: string
  endpoints?: SliceEndpoint[] | null
  ports?: EndpointPort[] | null
}

/** Labels of the Endpoints and EndpointSlices the controllers write. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name'
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by'
export const LABEL_HEADLESS = 'service.kubernetes.io/headless'
/** The managed-by value of the slices this controller owns (Kubernetes' own). */
export const ENDPOINTSLICE_CONTROLLER_NAME = 'endpointslice-controller.k8s.io'

/** "namespace/name" of the Service an EndpointSlice belongs to (its kubernetes.io/service-name label), or undefined. */
export function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const service = slice.metadata.labels?.[LABEL_SERVICE_NAME]
  return service ? `${slice.metadata.namespace ?? 'default'}/${service}` : undefined
}

/** The IPv4 EndpointSlices of each Service, by "namespace/name". */
export function ipv4SlicesByService(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const byService = new Map<string, EndpointSlice[]>()
  for (const slice of slices) {
    const key = sliceServiceKey(slice)
    if (!key || (slice.addressType ?? 'IPv4') !== 'IPv4') continue
    const list = byService.get(key)
    if (list) list.push(slice)
    else byService.set(key, [slice])
  }
  return byService
}

/** Whether an endpoint takes traffic: an absent ready condition counts as ready (the discovery API's documented default). */
export function endpointReady(endpoint: Pick<SliceEndpoint, 'conditions'>): boolean {
  return endpoint.conditions?.ready !== false
}
