// Ingresses (networking.k8s.io/v1): HTTP routing rules an ingress controller
// turns into proxying (ours: the built-in image kubewire/ingress). Validation
// follows kube-apiserver's (pkg/apis/networking/validation) for what users get
// wrong: hosts (DNS names, a leading `*.` wildcard, never an IP), paths
// (absolute for Prefix/Exact, pathType required and known), backends (a
// Service name and exactly one of port number or name). On create, the
// DefaultIngressClass admission gives an Ingress without a class the cluster's
// default IngressClass. Status (the controller's loadBalancer addresses) is a
// subresource, as for Services.

import { isIP } from 'node:net'
import { fieldInvalid, fieldNotSupported, fieldRequired, invalid } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { defineResource } from '../resource-definition.ts'
import { resourcePrefix } from '../storage-keys.ts'
import { dns1035LabelErrors, dns1123SubdomainErrors } from '../validation/names.ts'
import { isRecord, numberAt, recordAt, recordsAt, stringAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { DEFAULT_CLASS_ANNOTATION, ingressClasses } from './ingress-class.ts'

/** The annotation that named an Ingress's class before spec.ingressClassName existed. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class'

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix']
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F']
const INVALID_PATH_SUFFIXES = ['/..', '/.']

const WILDCARD_FMT = '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'
const WILDCARD_RE = new RegExp(`^${WILDCARD_FMT}$`)
const WILDCARD_MESSAGE =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '" +
  WILDCARD_FMT +
  "')"

/** IsWildcardDNS1123Subdomain. */
function wildcardHostErrors(host: string): string[] {
  const errs: string[] = []
  if (host.length > 253) errs.push('must be no more than 253 bytes')
  if (!WILDCARD_RE.test(host)) errs.push(WILDCARD_MESSAGE)
  return errs
}

/** IsValidPortName, with its separate texts. */
export function portNameErrors(name: string): string[] {
  const errs: string[] = []
  if (name.length > 15) errs.push('must be no more than 15 bytes')
  if (!/^[-a-z0-9]+$/.test(name)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)')
  if (name.includes('--')) errs.push('must not contain consecutive hyphens')
  if (name.startsWith('-') || name.endsWith('-')) errs.push('must not begin or end with a hyphen')
  return errs
}

/** validateIngressBackend: a Service (name, port number xor name) or a typed resource reference. */
function validateBackend(backend: JsonRecord, path: string): FieldError[] {
  const service = recordAt(backend, 'service')
  const resource = recordAt(backend, 'resource')
  if (service !== undefined && resource !== undefined) return [fieldInvalid(path, '', 'cannot set both resource and service backends')]
  if (resource !== undefined) {
    const errs: FieldError[] = []
    if (!stringAt(resource, 'kind')) errs.push(fieldRequired(`${path}.resource.kind`, ''))
    if (!stringAt(resource, 'name')) errs.push(fieldRequired(`${path}.resource.name`, ''))
    return errs
  }
  if (service === undefined) return [fieldInvalid(path, '', 'resource or service backend is required')]
  const errs: FieldError[] = []
  const name = stringAt(service, 'name') ?? ''
  if (name === '') errs.push(fieldRequired(`${path}.service.name`, ''))
  else for (const msg of dns1035LabelErrors(name)) errs.push(fieldInvalid(`${path}.service.name`, name, msg))
  const port = recordAt(service, 'port')
  const portName = stringAt(port, 'name') ?? ''
  const portNumber = numberAt(port, 'number') ?? 0
  if (portName !== '' && portNumber !== 0) errs.push(fieldInvalid(path, '', 'cannot set both port name & port number'))
  else if (portName !== '') for (const msg of portNameErrors(portName)) errs.push(fieldInvalid(`${path}.service.port.name`, portName, msg))
  else if (portNumber !== 0) {
    if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
      errs.push(fieldInvalid(`${path}.service.port.number`, portNumber, 'must be between 1 and 65535, inclusive'))
    }
  } else errs.push(fieldRequired(path, 'port name or number is required'))
  return errs
}

function validatePath(item: JsonRecord, at: string): FieldError[] {
  const pathType = item.pathType
  if (pathType === undefined || pathType === null || pathType === '') return [fieldRequired(`${at}.pathType`, 'pathType must be specified')]
  const errs: FieldError[] = []
  const path = stringAt(item, 'path') ?? ''
  if (pathType === 'Exact' || pathType === 'Prefix') {
    if (!path.startsWith('/')) errs.push(fieldInvalid(`${at}.path`, path, 'must be an absolute path'))
    for (const seq of INVALID_PATH_SEQUENCES) if (path.includes(seq)) errs.push(fieldInvalid(`${at}.path`, path, `must not contain '${seq}'`))
    for (const suffix of INVALID_PATH_SUFFIXES) if (path.endsWith(suffix)) errs.push(fieldInvalid(`${at}.path`, path, `cannot end with '${suffix}'`))
  } else if (pathType === 'ImplementationSpecific') {
    if (path !== '' && !path.startsWith('/')) errs.push(fieldInvalid(`${at}.path`, path, 'must be an absolute path'))
  } else {
    errs.push(fieldNotSupported(`${at}.pathType`, pathType, PATH_TYPES))
  }
  errs.push(...validateBackend(recordAt(item, 'backend') ?? {}, `${at}.backend`))
  return errs
}

function validateRules(spec: JsonRecord): FieldError[] {
  const errs: FieldError[] = []
  for (const [rule, i] of recordsAt(spec, 'rules')) {
    const at = `spec.rules[${i}]`
    const host = stringAt(rule, 'host') ?? ''
    if (host !== '') {
      if (isIP(host) !== 0) errs.push(fieldInvalid(`${at}.host`, host, 'must be a DNS name, not an IP address'))
      const messages = host.includes('*') ? wildcardHostErrors(host) : dns1123SubdomainErrors(host)
      for (const msg of messages) errs.push(fieldInvalid(`${at}.host`, host, msg))
    }
    const http = recordAt(rule, 'http')
    if (http === undefined) continue
    const paths = recordsAt(http, 'paths')
    if (paths.length === 0) errs.push(fieldRequired(`${at}.http.paths`, ''))
    for (const [item, j] of paths) errs.push(...validatePath(item, `${at}.http.paths[${j}]`))
  }
  return errs
}

function validateIngress(object: KubeObject): FieldError[] {
  const spec = recordAt(object, 'spec') ?? {}
  const errs: FieldError[] = []
  const defaultBackend = recordAt(spec, 'defaultBackend')
  const rules = recordsAt(spec, 'rules')
  if (rules.length === 0 && defaultBackend === undefined) {
    errs.push(fieldInvalid('spec', null, 'either `defaultBackend` or `rules` must be specified'))
  }
  if (defaultBackend !== undefined) errs.push(...validateBackend(defaultBackend, 'spec.defaultBackend'))
  errs.push(...validateRules(spec))
  for (const [tls, i] of recordsAt(spec, 'tls')) {
    const hosts = Array.isArray(tls.hosts) ? tls.hosts : []
    hosts.forEach((host, j) => {
      if (typeof host !== 'string') return
      const messages = host.includes('*') ? wildcardHostErrors(host) : dns1123SubdomainErrors(host)
      for (const msg of messages) errs.push(fieldInvalid(`spec.tls[${i}].hosts[${j}]`, host, msg))
    })
  }
  const className = spec.ingressClassName
  if (typeof className === 'string') {
    for (const msg of dns1123SubdomainErrors(className)) errs.push(fieldInvalid('spec.ingressClassName', className, msg))
  }
  return errs
}

/** The IngressClass an Ingress names: spec.ingressClassName, else the legacy annotation. */
export function ingressClassOf(ingress: KubeObject): string | undefined {
  return stringAt(recordAt(ingress, 'spec'), 'ingressClassName') ?? ingress.metadata.annotations?.[INGRESS_CLASS_ANNOTATION]
}

/** The default IngressClass among `classes` (the newest one marked default, as kube-apiserver picks), if any. */
export function defaultIngressClass(classes: readonly KubeObject[]): string | undefined {
  const defaults = classes
    .filter(c => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))
  return defaults[0]?.metadata.name
}

export const ingresses = defineResource({
  group: 'networking.k8s.io',
  version: 'v1',
  resource: 'ingresses',
  kind: 'Ingress',
  namespaced: true,
  shortNames: ['ing'],
  tracksGeneration: true,
  subresources: { status: true },
  hooks: {
    prepareForCreate(object) {
      object.status = { loadBalancer: {} }
    },
    validate(object) {
      return validateIngress(object)
    },
    async admit(object, old, context) {
      if (old !== undefined) return
      const annotation = object.metadata.annotations?.[INGRESS_CLASS_ANNOTATION]
      const spec = recordAt(object, 'spec')
      if (!isRecord(spec)) return
      const className = spec.ingressClassName
      if (annotation !== undefined && typeof className === 'string' && annotation !== className) {
        throw invalid({ kind: 'Ingress', group: 'networking.k8s.io' }, object.metadata.name ?? '', [fieldInvalid(`annotations.${INGRESS_CLASS_ANNOTATION}`, annotation, 'must match `ingressClassName` when both are specified')])
      }
      // DefaultIngressClass admission: only an Ingress that names no class at all.
      if (className !== undefined && className !== null) return
      if (annotation !== undefined) return
      const classes = (await context.store.list(resourcePrefix(ingressClasses))).items as KubeObject[]
      const name = defaultIngressClass(classes)
      if (name !== undefined) spec.ingressClassName = name
    },
  },
})
