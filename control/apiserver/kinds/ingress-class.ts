// IngressClasses (networking.k8s.io/v1, cluster-scoped): which controller
// serves Ingresses of a class (spec.controller, a domain-prefixed path such as
// `kubewire.dev/ingress-controller`, immutable), optional parameters, and the
// annotation that makes a class the default for Ingresses that name none.

import { fieldInvalid, fieldNotSupported, fieldRequired, fieldTooLong } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import { defineResource } from '../resource-definition.ts'
import { dns1123SubdomainErrors } from '../validation/names.ts'
import { recordAt, stringAt } from './json-fields.ts'

/** `"true"` on an IngressClass: Ingresses without a class get this one. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class'

const MAX_CONTROLLER_LENGTH = 250
const SCOPES = ['Cluster', 'Namespace']
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+"
const HTTP_PATH_RE = new RegExp(`^${HTTP_PATH_FMT}$`)

/** IsDomainPrefixedPath: `acme.io/foo`. */
function domainPrefixedPathErrors(value: string, field: string): FieldError[] {
  const slash = value.indexOf('/')
  const host = slash < 0 ? value : value.slice(0, slash)
  const path = slash < 0 ? '' : value.slice(slash + 1)
  if (host === '' || path === '') return [fieldInvalid(field, value, 'must be a domain-prefixed path (such as "acme.io/foo")')]
  const errs = dns1123SubdomainErrors(host).map(msg => fieldInvalid(field, host, msg))
  if (!HTTP_PATH_RE.test(path)) errs.push(fieldInvalid(field, path, `Invalid path (regex used for validation is '${HTTP_PATH_FMT}')`))
  return errs
}

function validateParameters(spec: unknown): FieldError[] {
  const parameters = recordAt(spec, 'parameters')
  if (parameters === undefined) return []
  const at = 'spec.parameters'
  const errs: FieldError[] = []
  if (!stringAt(parameters, 'kind')) errs.push(fieldRequired(`${at}.kind`, ''))
  if (!stringAt(parameters, 'name')) errs.push(fieldRequired(`${at}.name`, ''))
  const scope = stringAt(parameters, 'scope') ?? ''
  if (!SCOPES.includes(scope)) errs.push(fieldNotSupported(`${at}.scope`, scope, SCOPES))
  else if (scope === 'Namespace' && !stringAt(parameters, 'namespace')) errs.push(fieldRequired(`${at}.namespace`, "`parameters.scope` is set to 'Namespace'"))
  return errs
}

export const ingressClasses = defineResource({
  group: 'networking.k8s.io',
  version: 'v1',
  resource: 'ingressclasses',
  kind: 'IngressClass',
  namespaced: false,
  hooks: {
    defaults(object) {
      const parameters = recordAt(recordAt(object, 'spec'), 'parameters')
      if (parameters !== undefined && (parameters.scope === undefined || parameters.scope === null)) parameters.scope = 'Cluster'
    },
    validate(object) {
      const spec = recordAt(object, 'spec')
      const controller = stringAt(spec, 'controller') ?? ''
      const errs: FieldError[] = []
      if (controller === '') errs.push(fieldRequired('spec.controller', ''))
      else {
        if (controller.length > MAX_CONTROLLER_LENGTH) errs.push(fieldTooLong('spec.controller', MAX_CONTROLLER_LENGTH))
        errs.push(...domainPrefixedPathErrors(controller, 'spec.controller'))
      }
      errs.push(...validateParameters(spec))
      return errs
    },
    validateUpdate(object, old) {
      const controller = stringAt(recordAt(object, 'spec'), 'controller') ?? ''
      return controller !== (stringAt(recordAt(old, 'spec'), 'controller') ?? '') ? [fieldInvalid('spec.controller', controller, 'field is immutable')] : []
    },
  },
})
