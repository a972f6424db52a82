// Services (core/v1): defaults (type ClusterIP, sessionAffinity None, ports'
// protocol TCP and targetPort = port, traffic policies), validation, and the
// cluster IP / node port allocation kube-apiserver does on create and update.

import { validateLabels } from '../../api/label-selector.ts'
import {
  fieldDuplicate,
  fieldForbidden,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  invalid,
} from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import { defineResource } from '../resource-definition.ts'
import { dns1123LabelErrors } from '../validation/names.ts'
import { ensureRecord, isRecord, recordsAt, setDefault, stringAt, stringMapAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { allocateServiceAddresses, allocatedBy } from './service-allocation.ts'

const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']
const PROTOCOLS = ['SCTP', 'TCP', 'UDP']
const AFFINITIES = ['ClientIP', 'None']
const IANA_SVC_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/

function validatePortNumber(value: unknown, path: string): FieldError[] {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    return [fieldInvalid(path, value ?? 0, 'must be between 1 and 65535, inclusive')]
  }
  return []
}

function validateService(spec: unknown): FieldError[] {
  if (!isRecord(spec)) return [fieldRequired('spec', '')]
  const errs: FieldError[] = []
  const type = stringAt(spec, 'type') ?? 'ClusterIP'
  if (!TYPES.includes(type)) errs.push(fieldNotSupported('spec.type', type, TYPES))
  const headless = stringAt(spec, 'clusterIP') === 'None'
  const ports = recordsAt(spec, 'ports')
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(fieldRequired('spec.ports', ''))
  const names = new Set<string>()
  for (const [port, i] of ports) {
    const path = `spec.ports[${i}]`
    const name = stringAt(port, 'name') ?? ''
    if (name === '') {
      if (ports.length > 1) errs.push(fieldRequired(`${path}.name`, ''))
    } else {
      for (const msg of dns1123LabelErrors(name)) errs.push(fieldInvalid(`${path}.name`, name, msg))
      if (names.has(name)) errs.push(fieldDuplicate(`${path}.name`, name))
      names.add(name)
    }
    errs.push(...validatePortNumber(port.port, `${path}.port`))
    const protocol = port.protocol
    if (protocol !== undefined && !PROTOCOLS.includes(String(protocol))) {
      errs.push(fieldNotSupported(`${path}.protocol`, protocol, PROTOCOLS))
    }
    const target = port.targetPort
    if (typeof target === 'string') {
      if (!IANA_SVC_NAME.test(target)) {
        errs.push(fieldInvalid(`${path}.targetPort`, target, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters, at least one letter'))
      }
    } else if (target !== undefined) {
      errs.push(...validatePortNumber(target, `${path}.targetPort`))
    }
    if (port.nodePort !== undefined && port.nodePort !== 0 && (type === 'ClusterIP' || type === 'ExternalName')) {
      errs.push(fieldForbidden(`${path}.nodePort`, `may not be used when \`type\` is '${type}'`))
    }
  }
  const selector = stringMapAt(spec, 'selector')
  if (selector !== undefined) errs.push(...validateLabels(selector, 'spec.selector'))
  const affinity = spec.sessionAffinity
  if (affinity !== undefined && !AFFINITIES.includes(String(affinity))) {
    errs.push(fieldNotSupported('spec.sessionAffinity', affinity, AFFINITIES))
  }
  if (type === 'ExternalName' && !stringAt(spec, 'externalName')) errs.push(fieldRequired('spec.externalName', ''))
  return errs
}

export const services = defineResource({
  group: '',
  version: 'v1',
  resource: 'services',
  kind: 'Service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  nameRule: 'dns1035-label',
  returnDeletedObject: true,
  serializeWrites: true,
  subresources: { status: true },
  hooks: {
    defaults(object) {
      const spec = ensureRecord(object as JsonRecord, 'spec')
      setDefault(spec, 'type', 'ClusterIP')
      setDefault(spec, 'sessionAffinity', 'None')
      if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig
      for (const [port] of recordsAt(spec, 'ports')) {
        setDefault(port, 'protocol', 'TCP')
        if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port
      }
      const type = spec.type
      if ((type === 'NodePort' || type === 'LoadBalancer') && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster'
      if (type !== 'ExternalName' && spec.internalTrafficPolicy === undefined) spec.internalTrafficPolicy = 'Cluster'
      if (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true
    },
    prepareForCreate(object) {
      object.status = { loadBalancer: {} }
    },
    validate(object) {
      return validateService(object.spec)
    },
    validateUpdate(object, old) {
      const ip = stringAt(object.spec, 'clusterIP')
      const before = stringAt(old.spec, 'clusterIP')
      const type = stringAt(object.spec, 'type')
      if (ip && before && ip !== before && type !== 'ExternalName' && stringAt(old.spec, 'type') !== 'ExternalName') {
        return [fieldInvalid('spec.clusterIPs[0]', ip, 'may not change once set')]
      }
      return []
    },
    async admit(object, old, context) {
      const self = `${object.metadata.namespace}/${object.metadata.name}`
      const taken = allocatedBy(await context.listAll(), self)
      const errs = allocateServiceAddresses(object, old, taken, context.settings)
      if (errs.length > 0) throw invalid('Service', object.metadata.name ?? '', errs)
    },
  },
})
