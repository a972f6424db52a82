// Cluster IPs and node ports for Services, as kube-apiserver's service
// registry hands them out: a requested value is checked (in range, free), a
// missing one is picked at random among the free ones, and on update what was
// allocated before is kept when the new object leaves it out (so `kubectl
// replace` of a manifest without clusterIP keeps the address).
//
// Why the API server does it: allocation must be decided once, before the
// Service is stored, or two controllers could hand out the same address. The
// Service definition serializes writes, so "free" here means free in the store.

import { contains, intToIp, ipToInt, parseCidr } from '../../../dataplane/ipam/cidr.ts'
import type { Cidr } from '../../../dataplane/ipam/cidr.ts'
import { fieldInvalid, internalError } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import type { ClusterSettings } from '../resource-definition.ts'
import { isRecord, numberAt, recordAt, recordsAt, stringAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'

export interface AllocatedSets {
  ips: Set<string>
  nodePorts: Set<number>
}

/** What every other Service holds (`self`, "namespace/name", is left out: an update may keep its own). */
export function allocatedBy(services: readonly KubeObject[], self: string): AllocatedSets {
  const ips = new Set<string>()
  const nodePorts = new Set<number>()
  for (const service of services) {
    if (`${service.metadata.namespace}/${service.metadata.name}` === self) continue
    const spec = service.spec
    const ip = stringAt(spec, 'clusterIP')
    if (ip && ip !== 'None') ips.add(ip)
    for (const [port] of recordsAt(spec, 'ports')) {
      const nodePort = numberAt(port, 'nodePort')
      if (nodePort) nodePorts.add(nodePort)
    }
  }
  return { ips, nodePorts }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/

/** The first usable address of the range: the `kubernetes` Service's. */
export function firstServiceIp(serviceCidr: string): string {
  const cidr = parseCidr(serviceCidr, 'service CIDR')
  return intToIp(cidr.base + 1)
}

function randomInt(size: number): number {
  return Math.floor(Math.random() * size)
}

function allocateIp(cidr: Cidr, used: Set<string>): string {
  // Usable: everything but the network and broadcast addresses. Dynamic
  // allocation prefers the upper band so low addresses stay for static use.
  const first = cidr.base + 1
  const count = cidr.size - 2
  const band = Math.min(Math.max(16, Math.floor(cidr.size / 16)), 256)
  const tryRange = (from: number, length: number): string | undefined => {
    if (length <= 0) return undefined
    const start = randomInt(length)
    for (let i = 0; i < length; i++) {
      const ip = intToIp(from + ((start + i) % length))
      if (!used.has(ip)) return ip
    }
    return undefined
  }
  const ip = tryRange(first + band, count - band) ?? tryRange(first, Math.min(band, count))
  if (ip === undefined) throw internalError('failed to allocate a serviceIP: range is full')
  return ip
}

function allocateNodePort(range: ClusterSettings['nodePortRange'], used: Set<number>): number {
  const size = range.max - range.min + 1
  const start = randomInt(size)
  for (let i = 0; i < size; i++) {
    const port = range.min + ((start + i) % size)
    if (!used.has(port)) return port
  }
  throw internalError('failed to allocate a nodePort: range is full')
}

const needsNodePorts = (type: string | undefined): boolean => type === 'NodePort' || type === 'LoadBalancer'

/**
 * Fills spec.clusterIP(s) and node ports on `service` (a private copy),
 * keeping `old`'s where the new object leaves them out. Returns field errors
 * for requested values that cannot be had.
 */
export function allocateServiceAddresses(
  service: KubeObject,
  old: KubeObject | undefined,
  taken: AllocatedSets,
  settings: ClusterSettings,
): FieldError[] {
  const spec = isRecord(service.spec) ? service.spec : (service.spec = {}) as JsonRecord
  const oldSpec = recordAt(old, 'spec')
  const type = stringAt(spec, 'type')
  const errs: FieldError[] = []
  if (type === 'ExternalName') {
    for (const key of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy']) delete spec[key]
  } else {
    const firstRequested = Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === 'string' ? spec.clusterIPs[0] : undefined
    const oldIp = stringAt(oldSpec, 'clusterIP')
    const requested = stringAt(spec, 'clusterIP') || firstRequested || oldIp || ''
    const cidr = parseCidr(settings.serviceCidr, 'service CIDR')
    let ip = requested
    if (requested === '') {
      ip = allocateIp(cidr, taken.ips)
    } else if (requested !== 'None' && requested !== oldIp) {
      const path = 'spec.clusterIPs[0]'
      const failed = (why: string): FieldError => fieldInvalid(path, requested, `failed to allocate IP ${requested}: ${why}`)
      if (!IPV4.test(requested)) {
        errs.push(fieldInvalid(path, requested, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'))
      } else if (!contains(cidr, requested) || ipToInt(requested) === cidr.base || ipToInt(requested) === cidr.base + cidr.size - 1) {
        errs.push(failed(`the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${cidr.text}`))
      } else if (taken.ips.has(requested)) {
        errs.push(failed('provided IP is already allocated'))
      }
    }
    spec.clusterIP = ip
    spec.clusterIPs = [ip]
    if (spec.ipFamilies === undefined) spec.ipFamilies = ['IPv4']
    if (spec.ipFamilyPolicy === undefined) spec.ipFamilyPolicy = 'SingleStack'
  }
  if (needsNodePorts(type)) {
    const oldPorts = needsNodePorts(stringAt(oldSpec, 'type')) ? recordsAt(oldSpec, 'ports').map(([p]) => p) : []
    const mine = new Set<number>()
    const range = settings.nodePortRange
    for (const [port, i] of recordsAt(spec, 'ports')) {
      let nodePort = numberAt(port, 'nodePort') ?? 0
      if (nodePort === 0) {
        const match = oldPorts.find(p => p.port === port.port && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'))
        nodePort = numberAt(match, 'nodePort') ?? 0
      }
      const path = `spec.ports[${i}].nodePort`
      if (nodePort === 0) {
        nodePort = allocateNodePort(range, new Set([...taken.nodePorts, ...mine]))
      } else if (nodePort < range.min || nodePort > range.max) {
        errs.push(fieldInvalid(path, nodePort, `provided port is not in the valid range. The range of valid ports is ${range.min}-${range.max}`))
      } else if (taken.nodePorts.has(nodePort) || mine.has(nodePort)) {
        errs.push(fieldInvalid(path, nodePort, 'provided port is already allocated'))
      }
      mine.add(nodePort)
      port.nodePort = nodePort
    }
  }
  return errs
}
