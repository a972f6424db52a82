// Builders for the service-networking tests: Services, and pods that back
// them (an address, container ports, readiness).

import type { ContainerPort, Pod } from '../../../../control/controllers/objects.ts'
import type { Service, ServicePort, ServiceSpec } from '../../../../control/controllers/service-objects.ts'
import { at, pod } from './builders.ts'
import type { PodOptions } from './builders.ts'

export interface ServiceOptions {
  namespace?: string
  uid?: string
  /** Default { app: 'web' }; null: no selector. */
  selector?: Record<string, string> | null
  ports?: ServicePort[]
  type?: ServiceSpec['type']
  clusterIP?: string
  publishNotReadyAddresses?: boolean
  labels?: Record<string, string>
  loadBalancerIP?: string
  loadBalancerClass?: string
  /** status.loadBalancer.ingress addresses. */
  ingress?: string[]
  /** Seconds after T0. */
  created?: number
}

export function service(name: string, o: ServiceOptions = {}): Service {
  const spec: ServiceSpec = {
    type: o.type ?? 'ClusterIP',
    clusterIP: o.clusterIP ?? '10.96.0.20',
    ports: o.ports ?? [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
  }
  if (o.selector !== null) spec.selector = o.selector ?? { app: 'web' }
  if (o.publishNotReadyAddresses !== undefined) spec.publishNotReadyAddresses = o.publishNotReadyAddresses
  if (o.loadBalancerIP !== undefined) spec.loadBalancerIP = o.loadBalancerIP
  if (o.loadBalancerClass !== undefined) spec.loadBalancerClass = o.loadBalancerClass
  const s: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: o.namespace ?? 'default', uid: o.uid ?? `uid-svc-${name}`, creationTimestamp: at(o.created ?? 0) },
    spec,
    status: { loadBalancer: o.ingress ? { ingress: o.ingress.map(ip => ({ ip })) } : {} },
  }
  if (o.labels) s.metadata.labels = o.labels
  return s
}

export interface BackendOptions extends Omit<PodOptions, 'name'> {
  ip?: string
  /** Container ports of the first container (default: http 8080/TCP). */
  ports?: ContainerPort[]
  hostname?: string
  subdomain?: string
}

/** A running pod with an address on node-1 (ready unless told otherwise). */
export function backend(name: string, o: BackendOptions = {}): Pod {
  const p = pod({ nodeName: 'node-1', ready: true, ...o, name })
  if (o.ip !== undefined) p.status!['podIP'] = o.ip
  p.spec!.containers![0]!.ports = o.ports ?? [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]
  if (o.hostname !== undefined) p.spec!['hostname'] = o.hostname
  if (o.subdomain !== undefined) p.spec!['subdomain'] = o.subdomain
  return p
}
