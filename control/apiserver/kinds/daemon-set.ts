// DaemonSets (apps/v1): defaults as apps/v1 has them (RollingUpdate with
// maxUnavailable 1 and maxSurge 0, revisionHistoryLimit 10), validation as
// pkg/apis/apps/validation's ValidateDaemonSet / ValidateDaemonSetUpdate,
// the template generation, and the status subresource.
//
// The template generation: Kubernetes keeps an internal
// spec.templateGeneration (1 on create, +1 whenever the template changes)
// that apps/v1 shows as the annotation `deprecated.daemonset.template.generation`;
// the controller labels its pods `pod-template-generation` with it. Here the
// server owns the annotation: a client's value is replaced by the stored one.

import { LabelSelectorError, labelSelectorFromObject } from '../../api/label-selector.ts'
import type { LabelSelectorObject } from '../../api/label-selector.ts'
import { validateNotMoreThan100Percent, validatePositiveIntOrPercent } from '../../api/int-or-percent.ts'
import { jsonEqual } from '../../api/merge-patch.ts'
import { fieldInvalid, fieldNotSupported, fieldRequired } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord, recordAt, setDefault, stringAt, stringMapAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { defaultPodTemplate, validatePodTemplate } from './pod-spec.ts'
import { validateNonNegative, validateSelectorNotEmpty, validateSelectorUnchanged } from './workload.ts'

/** apps/v1's home of the internal spec.templateGeneration (DeprecatedTemplateGeneration). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation'

const STRATEGY_TYPES = ['RollingUpdate', 'OnDelete']

// getIntOrPercentValue: a percent's number, an int as is, anything else 0.
function intOrPercentNumber(v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string') {
    const digits = v.endsWith('%') ? v.slice(0, -1) : v
    return /^[+-]?[0-9]+$/.test(digits) ? Number(digits) : 0
  }
  return 0
}

/** ValidateRollingUpdateDaemonSet: both int-or-percent, ≤ 100%, exactly one of them non-zero. */
export function validateRollingUpdateDaemonSet(rollingUpdate: JsonRecord, path: string): FieldError[] {
  // The internal fields are not pointers: absent is the int 0.
  const maxUnavailable = rollingUpdate.maxUnavailable ?? 0
  const maxSurge = rollingUpdate.maxSurge ?? 0
  const errs = [
    ...validatePositiveIntOrPercent(maxUnavailable, `${path}.maxUnavailable`),
    ...validatePositiveIntOrPercent(maxSurge, `${path}.maxSurge`),
    ...validateNotMoreThan100Percent(maxUnavailable, `${path}.maxUnavailable`),
    ...validateNotMoreThan100Percent(maxSurge, `${path}.maxSurge`),
  ]
  const hasUnavailable = intOrPercentNumber(maxUnavailable) !== 0
  const hasSurge = intOrPercentNumber(maxSurge) !== 0
  if (hasUnavailable && hasSurge) {
    errs.push(fieldInvalid(`${path}.maxSurge`, maxSurge, 'may not be set when maxUnavailable is non-zero'))
  } else if (!hasUnavailable && !hasSurge) {
    errs.push(fieldRequired(`${path}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'))
  }
  return errs
}

/** ValidateDaemonSetUpdateStrategy. */
function validateUpdateStrategy(strategy: unknown, path: string): FieldError[] {
  const type = stringAt(strategy, 'type')
  if (type === 'OnDelete') return []
  if (type === 'RollingUpdate') {
    const rollingUpdate = recordAt(strategy, 'rollingUpdate')
    if (rollingUpdate === undefined) return [fieldRequired(`${path}.rollingUpdate`, '')]
    return validateRollingUpdateDaemonSet(rollingUpdate, `${path}.rollingUpdate`)
  }
  return [fieldNotSupported(path, strategy ?? null, STRATEGY_TYPES)]
}

/** ValidateDaemonSetSpec. */
export function validateDaemonSetSpec(object: KubeObject): FieldError[] {
  const spec = object.spec
  if (!isRecord(spec)) return [fieldRequired('spec', '')]
  const errs: FieldError[] = []
  const template = recordAt(spec, 'template')
  const templateLabels = stringMapAt(recordAt(template, 'metadata'), 'labels')

  const selectorObject = spec.selector
  if (selectorObject === undefined || selectorObject === null) {
    // A nil selector converts to "nothing", which no template matches.
    errs.push(fieldInvalid('spec.template.metadata.labels', templateLabels ?? null, '`selector` does not match template `labels`'))
  } else {
    try {
      const selector = labelSelectorFromObject(selectorObject as LabelSelectorObject)
      if (!selector.matches(templateLabels)) {
        errs.push(fieldInvalid('spec.template.metadata.labels', templateLabels ?? null, '`selector` does not match template `labels`'))
      }
    } catch (err) {
      if (!(err instanceof LabelSelectorError)) throw err
      errs.push(fieldInvalid('spec.selector', selectorObject, err.message))
    }
    errs.push(...validateSelectorNotEmpty(selectorObject, 'daemonset'))
  }

  if (template === undefined) {
    errs.push(fieldRequired('spec.template', ''))
  } else {
    errs.push(...validatePodTemplate(template, 'spec.template'))
    const podSpec = recordAt(template, 'spec')
    const restartPolicy = stringAt(podSpec, 'restartPolicy')
    if (restartPolicy !== 'Always') {
      errs.push(fieldNotSupported('spec.template.spec.restartPolicy', restartPolicy ?? '', ['Always']))
    }
    const deadline = podSpec?.activeDeadlineSeconds
    if (deadline !== undefined && deadline !== null) {
      errs.push(fieldInvalid('spec.template.spec.activeDeadlineSeconds', deadline, 'activeDeadlineSeconds in DaemonSet is not Supported'))
    }
  }
  errs.push(...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'))
  errs.push(...validateUpdateStrategy(spec.updateStrategy, 'spec.updateStrategy'))
  errs.push(...validateNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'))
  return errs
}

function templateGeneration(object: KubeObject): number {
  const n = Number(object.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION])
  return Number.isInteger(n) && n > 0 ? n : 0
}

function setTemplateGeneration(object: KubeObject, generation: number): void {
  object.metadata.annotations = { ...object.metadata.annotations, [TEMPLATE_GENERATION_ANNOTATION]: String(generation) }
}

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
      setTemplateGeneration(object, 1)
    },
    prepareForUpdate(object, old) {
      const before = templateGeneration(old)
      const changed = !jsonEqual(recordAt(object.spec, 'template'), recordAt(old.spec, 'template'))
      setTemplateGeneration(object, changed ? before + 1 : before)
    },
    validate: validateDaemonSetSpec,
    validateUpdate: validateSelectorUnchanged,
  },
})
