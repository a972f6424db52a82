// EndpointSlices (discovery.k8s.io/v1): what the proxy and DNS read to reach a
// Service's pods. addressType is required and immutable; every endpoint needs
// at least one address.

import { fieldInvalid, fieldNotSupported, fieldRequired } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import { defineResource } from '../resource-definition.ts'
import { recordsAt, stringAt } from './json-fields.ts'

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6']

export const endpointSlices = defineResource({
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
  kind: 'EndpointSlice',
  namespaced: true,
  hooks: {
    validate(object) {
      const errs: FieldError[] = []
      const addressType = object.addressType
      if (addressType === undefined || addressType === '') errs.push(fieldRequired('addressType', ''))
      else if (!ADDRESS_TYPES.includes(String(addressType))) errs.push(fieldNotSupported('addressType', addressType, ADDRESS_TYPES))
      for (const [endpoint, i] of recordsAt(object, 'endpoints')) {
        const addresses = endpoint.addresses
        if (!Array.isArray(addresses) || addresses.length === 0) {
          errs.push(fieldRequired(`endpoints[${i}].addresses`, 'must contain at least 1 address'))
        }
      }
      return errs
    },
    validateUpdate(object, old) {
      const type = stringAt(object, 'addressType')
      return type !== stringAt(old, 'addressType') ? [fieldInvalid('addressType', type ?? '', 'field is immutable')] : []
    },
  },
})
