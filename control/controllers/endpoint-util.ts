// What the Endpoints and the EndpointSlice loops both ask of a Service and
// its pods (Kubernetes' pkg/controller/util/endpoint and podutil.FindPort):
// which Services pick endpoints from pods at all, which pods may back one,
// which port a service port reaches on a pod, and which Services a pod
// change concerns.
//
// Rules, as Kubernetes has them:
// - Only a Service with a non-empty selector that is not ExternalName gets
//   endpoints from these loops; a selectorless Service's Endpoints and
//   slices are written by someone else (the API server writes the
//   `kubernetes` Service's) and left alone.
// - A pod may back a Service once it has status.podIP and until it is
//   terminal (Succeeded or Failed). Terminating pods are each loop's call.
// - targetPort is a number, or the name of a container port with the service
//   port's protocol; a pod without that named port has no endpoint for that
//   service port. Absent targetPort: the port itself.
// - An endpoint carries the pod's hostname only when spec.subdomain names the
//   Service (a headless Service's per-pod DNS names).

import { selectorFromSet } from '../api/label-selector.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import type { Container, Pod } from './objects.ts'
import { compareText } from './objects.ts'
import { isPodReady, isPodTerminal } from './pod-util.ts'
import type { EndpointPort, PodReference, Service, ServicePort } from './service-objects.ts'
import { LABEL_HEADLESS } from './service-objects.ts'

/** The Service picks its endpoints from pods by its selector (non-empty, not ExternalName). */
export function selectsPods(service: Service): boolean {
  const selector = service.spec?.selector
  return service.spec?.type !== 'ExternalName' && selector !== undefined && selector !== null && Object.keys(selector).length > 0
}

export function isHeadless(service: Service): boolean {
  return service.spec?.clusterIP === 'None'
}

/** status.podIP, if set. */
export function podIP(pod: Pod): string | undefined {
  const ip = pod.status?.['podIP']
  return typeof ip === 'string' && ip !== '' ? ip : undefined
}

export function isTerminating(pod: Pod): boolean {
  return !!pod.metadata.deletionTimestamp
}

/** The pods that may back `service`: same namespace, selected, with an IP, not terminal (terminating ones included). */
export function candidatePods(service: Service, pods: readonly Pod[]): Pod[] {
  if (!selectsPods(service)) return []
  const selector = selectorFromSet(service.spec?.selector)
  const ns = service.metadata.namespace ?? ''
  return pods.filter(
    p => (p.metadata.namespace ?? '') === ns && selector.matches(p.metadata.labels) && podIP(p) !== undefined && !isPodTerminal(p),
  )
}

function containersWithPorts(pod: Pod): Container[] {
  // Sidecars (init containers that keep running) serve ports too.
  const sidecars = (pod.spec?.initContainers ?? []).filter(c => c['restartPolicy'] === 'Always')
  return [...(pod.spec?.containers ?? []), ...sidecars]
}

/** The pod port `servicePort` reaches (FindPort); undefined when a named port is missing. */
export function findPort(pod: Pod, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort
  if (target === undefined || target === '' || target === 0) return servicePort.port
  if (typeof target === 'number') return target
  const protocol = servicePort.protocol ?? 'TCP'
  for (const container of containersWithPorts(pod)) {
    for (const port of container.ports ?? []) {
      if (port.name === target && (port.protocol ?? 'TCP') === protocol) return port.containerPort
    }
  }
  return undefined
}

/** The ports of `service` on `pod`, in service order, leaving out unresolved named ports. Names are '' when unnamed. */
export function endpointPorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = []
  for (const sp of service.spec?.ports ?? []) {
    const port = findPort(pod, sp)
    if (port === undefined) continue
    const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' }
    if (sp.appProtocol !== undefined) ep.appProtocol = sp.appProtocol
    out.push(ep)
  }
  return out
}

export function podReference(pod: Pod): PodReference {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' }
}

/** spec.hostname when spec.subdomain names the Service (ShouldSetHostname). */
export function endpointHostname(pod: Pod, service: Service): string | undefined {
  const hostname = pod.spec?.['hostname']
  const subdomain = pod.spec?.['subdomain']
  if (typeof hostname !== 'string' || hostname === '') return undefined
  if (subdomain !== service.metadata.name || pod.metadata.namespace !== service.metadata.namespace) return undefined
  return hostname
}

/** Numeric IPv4 order (other text after, bytewise), then by the second key. */
export function compareIPs(a: string, b: string): number {
  const na = ipv4Number(a)
  const nb = ipv4Number(b)
  if (na !== undefined && nb !== undefined) return na - nb
  if (na !== undefined) return -1
  if (nb !== undefined) return 1
  return compareText(a, b)
}

function ipv4Number(ip: string): number | undefined {
  const parts = ip.split('.')
  if (parts.length !== 4) return undefined
  let n = 0
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined
    const v = Number(part)
    if (v > 255) return undefined
    n = n * 256 + v
  }
  return n
}

/** The Service's own labels plus the headless marker (set when clusterIP is None, removed otherwise), then `extra`. */
export function endpointLabels(service: Service, extra: Record<string, string> = {}): Record<string, string> {
  const labels: Record<string, string> = { ...service.metadata.labels }
  delete labels[LABEL_HEADLESS]
  for (const key of Object.keys(extra)) delete labels[key]
  if (isHeadless(service)) labels[LABEL_HEADLESS] = ''
  return { ...labels, ...extra }
}

/** Services of the pod's namespace whose selector matches the pod's labels, or `old`'s. */
export function servicesSelectingPod(services: readonly Service[], pod: Pod, old?: Pod): Service[] {
  const ns = pod.metadata.namespace ?? ''
  return services.filter(s => {
    if ((s.metadata.namespace ?? '') !== ns || !selectsPods(s)) return false
    const selector = selectorFromSet(s.spec?.selector)
    return selector.matches(pod.metadata.labels) || (old !== undefined && selector.matches(old.metadata.labels))
  })
}

// Everything of a pod that an endpoint is made from (podEndpointsChanged).
function endpointView(pod: Pod): unknown {
  return {
    uid: pod.metadata.uid,
    ip: podIP(pod),
    ready: isPodReady(pod),
    terminal: isPodTerminal(pod),
    terminating: isTerminating(pod),
    labels: pod.metadata.labels ?? {},
    nodeName: pod.spec?.nodeName,
    hostname: pod.spec?.['hostname'],
    subdomain: pod.spec?.['subdomain'],
    ports: containersWithPorts(pod).map(c => c.ports ?? []),
  }
}

/** Whether an update of a pod can change any endpoint (so the Services need a sync). */
export function podEndpointsChanged(pod: Pod, old: Pod): boolean {
  return !jsonEqual(endpointView(pod), endpointView(old))
}
