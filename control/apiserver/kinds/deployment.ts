// Deployments (apps/v1): apps/v1 defaults (replicas 1, RollingUpdate 25%/25%,
// revisionHistoryLimit 10, progressDeadlineSeconds 600), validation, and the
// status and scale subresources the Deployment controller and `kubectl scale` use.

import { DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE, validateRollingUpdate } from '../../api/int-or-percent.ts'
import { jsonEqual } from '../../api/merge-patch.ts'
import { fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord, numberAt, recordAt, setDefault, stringAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { defaultPodTemplate } from './pod-spec.ts'
import { selectorText, validateNonNegative, validateReplicatedSpec, validateSelectorUnchanged } from './workload.ts'

function validateStrategy(spec: JsonRecord): FieldError[] {
  const strategy = recordAt(spec, 'strategy') ?? {}
  const type = stringAt(strategy, 'type')
  if (type === 'Recreate') {
    return strategy.rollingUpdate === undefined || strategy.rollingUpdate === null
      ? []
      : [fieldForbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'")]
  }
  if (type === 'RollingUpdate') {
    const rollingUpdate = recordAt(strategy, 'rollingUpdate')
    if (rollingUpdate === undefined) return [fieldRequired('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil')]
    return validateRollingUpdate(rollingUpdate, 'spec.strategy.rollingUpdate')
  }
  return [fieldNotSupported('spec.strategy', strategy, ['Recreate', 'RollingUpdate'])]
}

export const deployments = defineResource({
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  tracksGeneration: true,
  subresources: { status: true, scale: { selector: selectorText } },
  hooks: {
    defaults(object) {
      const spec = ensureRecord(object as JsonRecord, 'spec')
      if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1
      const strategy = ensureRecord(spec, 'strategy')
      setDefault(strategy, 'type', 'RollingUpdate')
      if (strategy.type === 'RollingUpdate') {
        const rollingUpdate = ensureRecord(strategy, 'rollingUpdate')
        if (rollingUpdate.maxUnavailable === undefined || rollingUpdate.maxUnavailable === null) {
          rollingUpdate.maxUnavailable = DEFAULT_MAX_UNAVAILABLE
        }
        if (rollingUpdate.maxSurge === undefined || rollingUpdate.maxSurge === null) rollingUpdate.maxSurge = DEFAULT_MAX_SURGE
      }
      if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10
      if (spec.progressDeadlineSeconds === undefined || spec.progressDeadlineSeconds === null) spec.progressDeadlineSeconds = 600
      if (isRecord(spec.template)) defaultPodTemplate(spec.template)
    },
    prepareForCreate(object) {
      object.status = {}
    },
    prepareForUpdate(object, old) {
      // Annotations are copied to the ReplicaSets, so changing them is a new generation too.
      const generation = object.metadata.generation ?? 0
      if (generation === (old.metadata.generation ?? 0) && !jsonEqual(object.metadata.annotations, old.metadata.annotations)) {
        object.metadata.generation = generation + 1
      }
    },
    validate(object) {
      const errs = validateReplicatedSpec(object)
      if (!isRecord(object.spec)) return errs
      errs.push(...validateStrategy(object.spec))
      errs.push(...validateNonNegative(object.spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'))
      errs.push(...validateNonNegative(object.spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'))
      const deadline = numberAt(object.spec, 'progressDeadlineSeconds')
      const minReady = numberAt(object.spec, 'minReadySeconds') ?? 0
      if (deadline !== undefined && deadline <= minReady) {
        errs.push(fieldInvalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'))
      }
      return errs
    },
    validateUpdate: validateSelectorUnchanged,
  },
})
