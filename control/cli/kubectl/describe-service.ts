// `kubectl describe service`, pure: the Service, its EndpointSlices (or, when
// there are none, its Endpoints) and its events in, kubectl's text out
// (Selector, Type, IP Family Policy, IPs, one Port / TargetPort / NodePort /
// Endpoints group per port, Session Affinity, traffic policies, Events).

import type { KubeObject } from '../../client/api-client.ts'
import { DescribeWriter, LEVEL_0, list, num, obj, printAnnotations, printEvents, printLabels, str } from './describe-writer.ts'

const MAX_ENDPOINTS = 3

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}

/** formatEndpointSlices: the addresses serving the port named `portName`, three at most. */
export function endpointSlicesText(slices: readonly KubeObject[], portName: string): string {
  if (slices.length === 0) return '<none>'
  const shown: string[] = []
  let count = 0
  for (const slice of slices) {
    const endpoints = list(slice.endpoints)
    const ports = list(slice.ports)
    const first = (e: Record<string, unknown>): string => (Array.isArray(e.addresses) ? String(e.addresses[0] ?? '') : '')
    if (ports.length === 0) {
      for (const e of endpoints) {
        if (shown.length < MAX_ENDPOINTS) shown.push(first(e))
        count++
      }
      continue
    }
    for (const port of ports) {
      if (str(port.name) !== portName) continue
      for (const e of endpoints) {
        if (shown.length < MAX_ENDPOINTS) shown.push(hostPort(first(e), num(port.port)))
        count++
      }
    }
  }
  const text = shown.join(',')
  return count > MAX_ENDPOINTS ? `${text} + ${count - MAX_ENDPOINTS} more...` : text
}

/** formatEndpoints restricted to one port name (the older Endpoints object). */
export function endpointsText(endpoints: KubeObject | undefined, portName: string): string {
  const subsets = list(endpoints?.subsets)
  if (subsets.length === 0) return '<none>'
  const shown: string[] = []
  let count = 0
  for (const subset of subsets) {
    const addresses = list(subset.addresses)
    for (const port of list(subset.ports)) {
      if (str(port.name) !== portName) continue
      for (const a of addresses) {
        if (shown.length < MAX_ENDPOINTS) shown.push(hostPort(str(a.ip), num(port.port)))
        count++
      }
    }
  }
  const text = shown.join(',')
  return count > MAX_ENDPOINTS ? `${text} + ${count - MAX_ENDPOINTS} more...` : text
}

export function describeService(
  service: KubeObject,
  endpointSlices: readonly KubeObject[],
  endpoints: KubeObject | undefined,
  events: readonly KubeObject[] | undefined,
  now: number,
): string {
  const spec = obj(service.spec)
  const status = obj(service.status)
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${service.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${service.metadata.namespace ?? ''}\n`)
  printLabels(w, 'Labels', service.metadata.labels)
  printAnnotations(w, 'Annotations', service.metadata.annotations)
  const selector = Object.entries(obj(spec.selector))
    .map(([k, v]) => `${k}=${String(v)}`)
    .sort()
    .join(',')
  w.write(LEVEL_0, `Selector:\t${selector === '' ? '<none>' : selector}\n`)
  w.write(LEVEL_0, `Type:\t${str(spec.type)}\n`)
  if (str(spec.ipFamilyPolicy) !== '') w.write(LEVEL_0, `IP Family Policy:\t${str(spec.ipFamilyPolicy)}\n`)
  const families = Array.isArray(spec.ipFamilies) ? (spec.ipFamilies as unknown[]).map(String) : []
  w.write(LEVEL_0, `IP Families:\t${families.length > 0 ? families.join(',') : '<none>'}\n`)
  w.write(LEVEL_0, `IP:\t${str(spec.clusterIP)}\n`)
  const clusterIPs = Array.isArray(spec.clusterIPs) ? (spec.clusterIPs as unknown[]).map(String) : []
  w.write(LEVEL_0, `IPs:\t${clusterIPs.length > 0 ? clusterIPs.join(',') : '<none>'}\n`)
  const externalIPs = Array.isArray(spec.externalIPs) ? (spec.externalIPs as unknown[]).map(String) : []
  if (externalIPs.length > 0) w.write(LEVEL_0, `External IPs:\t${externalIPs.join(',')}\n`)
  if (str(spec.loadBalancerIP) !== '') w.write(LEVEL_0, `IP:\t${str(spec.loadBalancerIP)}\n`)
  if (str(spec.externalName) !== '') w.write(LEVEL_0, `External Name:\t${str(spec.externalName)}\n`)
  const ingress = list(obj(status.loadBalancer).ingress)
  if (ingress.length > 0) w.write(LEVEL_0, `LoadBalancer Ingress:\t${ingress.map(i => str(i.ip) || str(i.hostname)).join(', ')}\n`)
  for (const port of list(spec.ports)) {
    const name = str(port.name) === '' ? '<unset>' : str(port.name)
    const protocol = str(port.protocol) || 'TCP'
    w.write(LEVEL_0, `Port:\t${name}\t${num(port.port)}/${protocol}\n`)
    const target = port.targetPort ?? port.port
    w.write(LEVEL_0, `TargetPort:\t${typeof target === 'number' || typeof target === 'string' ? String(target) : ''}/${protocol}\n`)
    if (num(port.nodePort) !== 0) w.write(LEVEL_0, `NodePort:\t${name}\t${num(port.nodePort)}/${protocol}\n`)
    const text = endpointSlices.length > 0 || endpoints === undefined ? endpointSlicesText(endpointSlices, str(port.name)) : endpointsText(endpoints, str(port.name))
    w.write(LEVEL_0, `Endpoints:\t${text}\n`)
  }
  w.write(LEVEL_0, `Session Affinity:\t${str(spec.sessionAffinity)}\n`)
  if (str(spec.externalTrafficPolicy) !== '') w.write(LEVEL_0, `External Traffic Policy:\t${str(spec.externalTrafficPolicy)}\n`)
  if (str(spec.internalTrafficPolicy) !== '') w.write(LEVEL_0, `Internal Traffic Policy:\t${str(spec.internalTrafficPolicy)}\n`)
  if (num(spec.healthCheckNodePort) !== 0) w.write(LEVEL_0, `HealthCheck NodePort:\t${num(spec.healthCheckNodePort)}\n`)
  printEvents(w, events, now)
  return w.toString()
}
