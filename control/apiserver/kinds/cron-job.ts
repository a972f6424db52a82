// CronJobs (batch/v1): defaults as batch/v1 has them, validation, and the
// status subresource the CronJob controller writes.

import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord, setDefault } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { defaultPodTemplate } from './pod-spec.ts'

export const cronJobs = defineResource({
  group: 'batch',
  version: 'v1',
  resource: 'cronjobs',
  kind: 'CronJob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  tracksGeneration: true,
  subresources: { status: true },
  hooks: {
    defaults(object) {
      const spec = ensureRecord(object as JsonRecord, 'spec')
      setDefault(spec, 'concurrencyPolicy', 'Allow')
      setDefault(spec, 'suspend', false)
      setDefault(spec, 'successfulJobsHistoryLimit', 3)
      setDefault(spec, 'failedJobsHistoryLimit', 1)
      const jobTemplate = ensureRecord(spec, 'jobTemplate')
      const jobSpec = ensureRecord(jobTemplate, 'spec')
      if (isRecord(jobSpec.template)) defaultPodTemplate(jobSpec.template)
    },
    prepareForCreate(object) {
      object.status = {}
    },
  },
})
