// Jobs (batch/v1): defaults as batch/v1 has them, validation, and the status
// subresource the Job controller writes.

import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord, setDefault } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { defaultPodTemplate } from './pod-spec.ts'

export const jobs = defineResource({
  group: 'batch',
  version: 'v1',
  resource: 'jobs',
  kind: 'Job',
  namespaced: true,
  categories: ['all'],
  tracksGeneration: true,
  subresources: { status: true },
  hooks: {
    defaults(object) {
      const spec = ensureRecord(object as JsonRecord, 'spec')
      if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
        spec.completions = 1
      }
      setDefault(spec, 'parallelism', 1)
      setDefault(spec, 'backoffLimit', 6)
      setDefault(spec, 'completionMode', 'NonIndexed')
      setDefault(spec, 'suspend', false)
      if (isRecord(spec.template)) defaultPodTemplate(spec.template)
    },
    prepareForCreate(object) {
      object.status = {}
    },
  },
})
