// Kubernetes objects to the DNS responder's slim structs (dataplane/dns/zone.ts),
// as CoreDNS's kubernetes plugin strips them (plugin/kubernetes/object/):
// only the fields DNS answers from are kept.
// - A Service: namespace, name, type, clusterIP ('None' for headless),
//   externalName, ports (name, port, protocol). Only a headless Service gets
//   endpoints: every IPv4 address of its EndpointSlices (those labelled
//   kubernetes.io/service-name with its name), with the endpoint's hostname
//   and its ready condition (an absent condition counts as ready, as the
//   discovery API says). publishNotReadyAddresses needs nothing here: the
//   EndpointSlice controller already marks such endpoints ready. Endpoints
//   are sorted (address, hostname), so the same endpoints in other slices or
//   another order give the same struct and the responder rebuilds nothing.
// - A pod: its namespace and status.podIP, while it has one and is neither
//   terminal nor being deleted.
// - A namespace: its name.
import type { DnsEndpoint, DnsPod, DnsService } from '../../dataplane/dns/zone.ts'
import type { KubeObject } from '../client/api-client.ts'
import type { EndpointSlice, Service } from '../controllers/service-objects.ts'
import { endpointReady } from '../controllers/service-objects.ts'

const SERVICE_TYPES = new Set(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'])

/** The endpoints a headless Service publishes, from its slices (IPv4 only), sorted. */
export function sliceEndpoints(slices: readonly EndpointSlice[]): DnsEndpoint[] {
  const out: DnsEndpoint[] = []
  for (const slice of slices) {
    if ((slice.addressType ?? 'IPv4') !== 'IPv4') continue
    for (const ep of slice.endpoints ?? []) {
      const ready = endpointReady(ep)
      for (const ip of ep.addresses ?? []) out.push({ ip, ...(ep.hostname ? { hostname: ep.hostname } : {}), ready })
    }
  }
  return out.sort((a, b) => compare(a.ip, b.ip) || compare(a.hostname ?? '', b.hostname ?? ''))
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The Service as the responder takes it (its slices matter only when it is headless). */
export function dnsService(service: Service, slices: readonly EndpointSlice[] = []): DnsService {
  const spec = service.spec ?? {}
  const type = spec.type && SERVICE_TYPES.has(spec.type) ? spec.type : 'ClusterIP'
  const out: DnsService = {
    namespace: service.metadata.namespace ?? 'default',
    name: service.metadata.name ?? '',
    type,
    clusterIP: typeof spec.clusterIP === 'string' ? spec.clusterIP : '',
    ports: (spec.ports ?? []).map(p => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP' })),
  }
  if (type === 'ExternalName') out.externalName = typeof spec['externalName'] === 'string' ? spec['externalName'] : ''
  else if (out.clusterIP === 'None') out.endpoints = sliceEndpoints(slices)
  return out
}

/** The pod's address record, while it has an address, runs and is not being deleted. */
export function dnsPod(pod: KubeObject): DnsPod | undefined {
  const status = pod.status as { podIP?: string; phase?: string } | undefined
  const ip = status?.podIP
  if (!ip || status?.phase === 'Succeeded' || status?.phase === 'Failed' || pod.metadata.deletionTimestamp) return undefined
  return { namespace: pod.metadata.namespace ?? 'default', ip }
}

export function samePod(a: DnsPod | undefined, b: DnsPod | undefined): boolean {
  return a?.ip === b?.ip && a?.namespace === b?.namespace
}
