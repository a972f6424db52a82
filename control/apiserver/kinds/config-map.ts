// ConfigMaps (core/v1): keys must be valid config keys, data and binaryData
// may not share a key, and the whole map stays under 1 MiB.

import { fieldDuplicate, fieldInvalid, fieldTooLong } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import { defineResource } from '../resource-definition.ts'
import { recordAt } from './json-fields.ts'

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
const MAX_SIZE = 1024 * 1024

export const configMaps = defineResource({
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
  shortNames: ['cm'],
  hooks: {
    validate(object) {
      const errs: FieldError[] = []
      const data = recordAt(object, 'data') ?? {}
      const binary = recordAt(object, 'binaryData') ?? {}
      let size = 0
      for (const [where, map] of [['data', data], ['binaryData', binary]] as const) {
        for (const [key, value] of Object.entries(map)) {
          if (key.length > 253 || !CONFIG_KEY.test(key)) errs.push(fieldInvalid(where, key, CONFIG_KEY_MESSAGE))
          if (typeof value !== 'string') errs.push(fieldInvalid(`${where}[${key}]`, value, 'must be a string'))
          else size += value.length
        }
      }
      for (const key of Object.keys(binary)) if (Object.hasOwn(data, key)) errs.push(fieldDuplicate(`data[${key}]`, key))
      if (size > MAX_SIZE) errs.push(fieldTooLong('', MAX_SIZE))
      return errs
    },
  },
})
