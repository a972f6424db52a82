// ReplicaSets (apps/v1): replicas default to 1; selector and template are
// validated like a Deployment's; status and scale subresources.

import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { defaultPodTemplate } from './pod-spec.ts'
import { selectorText, validateReplicatedSpec, validateSelectorUnchanged } from './workload.ts'

export const replicaSets = defineResource({
  group: 'apps',
  version: 'v1',
  resource: 'replicasets',
  kind: 'ReplicaSet',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  tracksGeneration: true,
  subresources: { status: true, scale: { selector: selectorText } },
  hooks: {
    defaults(object) {
      const spec = ensureRecord(object as JsonRecord, 'spec')
      if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1
      if (isRecord(spec.template)) defaultPodTemplate(spec.template)
    },
    prepareForCreate(object) {
      object.status = { replicas: 0 }
    },
    validate: validateReplicatedSpec,
    validateUpdate: validateSelectorUnchanged,
  },
})
