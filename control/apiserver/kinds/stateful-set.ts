// StatefulSets (apps/v1): defaults as apps/v1 has them, validation, and the
// status and scale subresources the StatefulSet controller and `scale` use.

import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord, setDefault } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { defaultPodTemplate } from './pod-spec.ts'
import { selectorText, validateReplicatedSpec, validateSelectorUnchanged } from './workload.ts'

export const statefulSets = defineResource({
  group: 'apps',
  version: 'v1',
  resource: 'statefulsets',
  kind: 'StatefulSet',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  tracksGeneration: true,
  subresources: { status: true, scale: { selector: selectorText } },
  hooks: {
    defaults(object) {
      const spec = ensureRecord(object as JsonRecord, 'spec')
      if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1
      setDefault(spec, 'podManagementPolicy', 'OrderedReady')
      setDefault(spec, 'revisionHistoryLimit', 10)
      const strategy = ensureRecord(spec, 'updateStrategy')
      setDefault(strategy, 'type', 'RollingUpdate')
      if (strategy.type === 'RollingUpdate') setDefault(ensureRecord(strategy, 'rollingUpdate'), 'partition', 0)
      const retention = ensureRecord(spec, 'persistentVolumeClaimRetentionPolicy')
      setDefault(retention, 'whenDeleted', 'Retain')
      setDefault(retention, 'whenScaled', 'Retain')
      if (isRecord(spec.template)) defaultPodTemplate(spec.template)
    },
    prepareForCreate(object) {
      object.status = { replicas: 0, availableReplicas: 0 }
    },
    validate: validateReplicatedSpec,
    validateUpdate: validateSelectorUnchanged,
  },
})
