// DaemonSets (apps/v1): defaults as apps/v1 has them (RollingUpdate with
// maxUnavailable 1), validation, and the status subresource.

import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord, setDefault } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { defaultPodTemplate } from './pod-spec.ts'
import { validateReplicatedSpec, validateSelectorUnchanged } from './workload.ts'

export const daemonSets = defineResource({
  group: 'apps',
  version: 'v1',
  resource: 'daemonsets',
  kind: 'DaemonSet',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  tracksGeneration: true,
  subresources: { status: true },
  hooks: {
    defaults(object) {
      const spec = ensureRecord(object as JsonRecord, 'spec')
      setDefault(spec, 'revisionHistoryLimit', 10)
      const strategy = ensureRecord(spec, 'updateStrategy')
      setDefault(strategy, 'type', 'RollingUpdate')
      if (strategy.type === 'RollingUpdate') {
        const rollingUpdate = ensureRecord(strategy, 'rollingUpdate')
        setDefault(rollingUpdate, 'maxUnavailable', 1)
        setDefault(rollingUpdate, 'maxSurge', 0)
      }
      if (isRecord(spec.template)) defaultPodTemplate(spec.template)
    },
    prepareForCreate(object) {
      object.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }
    },
    validate: validateReplicatedSpec,
    validateUpdate: validateSelectorUnchanged,
  },
})
