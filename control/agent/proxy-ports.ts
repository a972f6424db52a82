// Services and EndpointSlices -> the proxy's slim Service ports (pure), as
// kube-proxy reads them: ClusterIP, NodePort and LoadBalancer Services (not
// headless, not ExternalName); the endpoints of the slices labelled with the
// Service's name whose port has the Service port's name; ready endpoints, or,
// when none is ready, the serving ones still terminating (so connections keep
// working through a rollout's last moments).
import type { KubeObject } from '../client/api-client.ts'
import { endpointReady, ipv4SlicesByService, type EndpointSlice, type Service } from '../controllers/service-objects.ts'
import type { Protocol, ProxyEndpoint, ProxyServicePort } from '../../dataplane/proxy/ruleset.ts'

export const DEFAULT_AFFINITY_SECONDS = 10800

interface ProxySpecFields {
  externalTrafficPolicy?: string
  sessionAffinity?: string
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } }
}

export function servicePorts(services: readonly KubeObject[], slices: readonly KubeObject[], nodeName: string): ProxyServicePort[] {
  const slicesByService = ipv4SlicesByService(slices as EndpointSlice[])
  const out: ProxyServicePort[] = []
  for (const service of services as Service[]) {
    const spec = (service.spec ?? {}) as NonNullable<Service['spec']> & ProxySpecFields
    const type = spec.type ?? 'ClusterIP'
    if (type === 'ExternalName') continue
    const clusterIP = spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined
    if (!clusterIP) continue
    const external = type === 'NodePort' || type === 'LoadBalancer'
    const loadBalancerIPs = type === 'LoadBalancer' ? ingressIPs(service) : []
    const affinitySeconds = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : undefined
    const namespace = service.metadata.namespace ?? 'default'
    const owned = slicesByService.get(`${namespace}/${service.metadata.name}`) ?? []
    for (const port of spec.ports ?? []) {
      const protocol = (port.protocol ?? 'TCP') as Protocol
      if (protocol !== 'TCP' && protocol !== 'UDP') continue
      out.push({
        namespace,
        name: service.metadata.name ?? '',
        portName: port.name ?? '',
        protocol,
        port: port.port,
        clusterIP,
        ...(external && port.nodePort ? { nodePort: port.nodePort } : {}),
        loadBalancerIPs,
        externalLocal: external && spec.externalTrafficPolicy === 'Local',
        ...(affinitySeconds !== undefined ? { affinitySeconds } : {}),
        endpoints: endpointsFor(owned, port.name ?? '', protocol, nodeName),
      })
    }
  }
  return out
}

function endpointsFor(slices: readonly EndpointSlice[], portName: string, protocol: Protocol, nodeName: string): ProxyEndpoint[] {
  const ready: ProxyEndpoint[] = []
  const terminating: ProxyEndpoint[] = []
  const seen = new Set<string>()
  for (const slice of slices) {
    const port = (slice.ports ?? []).find(p => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol)
    if (!port?.port) continue
    for (const e of slice.endpoints ?? []) {
      const ip = e.addresses?.[0]
      if (!ip || seen.has(ip)) continue
      seen.add(ip)
      const endpoint = { ip, port: port.port, local: e.nodeName === nodeName }
      if (endpointReady(e)) ready.push(endpoint)
      else if (e.conditions?.serving === true && e.conditions.terminating === true) terminating.push(endpoint)
    }
  }
  return ready.length > 0 ? ready : terminating
}

/** The addresses in status.loadBalancer.ingress. */
export function ingressIPs(service: Service): string[] {
  return (service.status?.loadBalancer?.ingress ?? []).flatMap(i => (i.ip ? [i.ip] : []))
}
