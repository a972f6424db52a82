// Jobs (batch/v1): defaults, the generated selector, validation and the
// status subresource the Job controller writes (pkg/apis/batch/validation and
// pkg/registry/batch/job/strategy.go in Kubernetes).
//
// Why the generated selector: unless spec.manualSelector is true, a Job
// selects its pods by its own uid (`batch.kubernetes.io/controller-uid=<uid>`)
// and stamps that label, the legacy `controller-uid` and the two job-name
// labels on its template, so two Jobs never claim each other's pods. The API
// server assigns the uid before the create hooks run, so prepareForCreate
// can build it; validation then insists the labels are the generated ones.
//
// Not supported here: completionMode Indexed (refused with NotSupported),
// podFailurePolicy, successPolicy and backoffLimitPerIndex (stored, ignored
// by the controller).

import { LabelSelectorError, labelSelectorFromObject } from '../../api/label-selector.ts'
import type { LabelSelectorObject } from '../../api/label-selector.ts'
import { jsonEqual } from '../../api/merge-patch.ts'
import { fieldInvalid, fieldNotSupported, fieldRequired } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord, recordAt, setDefault, stringAt, stringMapAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { defaultPodTemplate, validatePodTemplate } from './pod-spec.ts'
import { validateNonNegative } from './workload.ts'

export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid'
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid'
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name'
export const LEGACY_JOB_NAME_LABEL = 'job-name'

const JOB_RESTART_POLICIES = ['OnFailure', 'Never']
const POD_REPLACEMENT_POLICIES = ['TerminatingOrFailed', 'Failed']

const manualSelector = (spec: unknown): boolean => isRecord(spec) && spec.manualSelector === true

/**
 * generateSelector: the template gets the uid and name labels it lacks, the
 * selector the uid label. A conflicting label the user set stays, and
 * validation refuses it.
 */
export function generateJobSelector(object: KubeObject): void {
  const spec = ensureRecord(object as JsonRecord, 'spec')
  if (manualSelector(spec)) return
  const uid = object.metadata.uid ?? ''
  const name = object.metadata.name ?? ''
  const templateMeta = ensureRecord(ensureRecord(spec, 'template'), 'metadata')
  const labels = ensureRecord(templateMeta, 'labels')
  for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (labels[key] === undefined) labels[key] = name
  for (const key of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (labels[key] === undefined) labels[key] = uid
  const selector = ensureRecord(spec, 'selector')
  const matchLabels = ensureRecord(selector, 'matchLabels')
  if (matchLabels[CONTROLLER_UID_LABEL] === undefined) matchLabels[CONTROLLER_UID_LABEL] = uid
}

// ValidateHasLabel.
function hasLabel(labels: Record<string, string> | undefined, key: string, expected: string): FieldError[] {
  const path = `spec.template.metadata.labels[${key}]`
  const actual = labels?.[key]
  if (actual === undefined) return [fieldRequired(path, `must be '${expected}'`)]
  return actual === expected ? [] : [fieldInvalid(path, actual, `must be '${expected}'`)]
}

/** ValidateGeneratedSelector: the generated labels are there and the selector is the generated one. */
function validateGeneratedSelector(object: KubeObject): FieldError[] {
  const spec = object.spec
  if (manualSelector(spec) || !isRecord(spec) || !isRecord(spec.selector)) return []
  const uid = object.metadata.uid ?? ''
  const name = object.metadata.name ?? ''
  const errs: FieldError[] = []
  if (uid === '') errs.push(fieldRequired('metadata.uid', ''))
  const labels = stringMapAt(recordAt(recordAt(spec, 'template'), 'metadata'), 'labels')
  errs.push(
    ...hasLabel(labels, LEGACY_CONTROLLER_UID_LABEL, uid),
    ...hasLabel(labels, LEGACY_JOB_NAME_LABEL, name),
    ...hasLabel(labels, CONTROLLER_UID_LABEL, uid),
    ...hasLabel(labels, JOB_NAME_LABEL, name),
  )
  const expected = {
    [CONTROLLER_UID_LABEL]: uid,
    [JOB_NAME_LABEL]: name,
    [LEGACY_CONTROLLER_UID_LABEL]: uid,
    [LEGACY_JOB_NAME_LABEL]: name,
  }
  try {
    if (!labelSelectorFromObject(spec.selector as LabelSelectorObject).matches(expected)) {
      errs.push(fieldInvalid('spec.selector', spec.selector, '`selector` not auto-generated'))
    }
  } catch (err) {
    if (!(err instanceof LabelSelectorError)) throw err // reported by validateJobSpec
  }
  return errs
}

/** ValidateJobSpec: counts, deadlines, modes, the template and its match with the selector. */
/**
 * What a Job's spec and a CronJob's job template must both satisfy: counts,
 * the completion mode this Job controller runs, the pod replacement policy.
 * `path` is where the spec sits (`spec`, `spec.jobTemplate.spec`).
 */
export function validateJobRunFields(spec: JsonRecord, path: string): FieldError[] {
  const errs: FieldError[] = []
  for (const field of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished']) {
    errs.push(...validateNonNegative(spec[field], `${path}.${field}`))
  }
  const completionMode = spec.completionMode
  if (completionMode !== undefined && completionMode !== null && completionMode !== 'NonIndexed') {
    // Indexed Jobs (a completion per index) are not implemented.
    errs.push(fieldNotSupported(`${path}.completionMode`, completionMode, ['NonIndexed']))
  }
  const replacement = spec.podReplacementPolicy
  if (replacement !== undefined && !POD_REPLACEMENT_POLICIES.includes(String(replacement))) {
    errs.push(fieldNotSupported(`${path}.podReplacementPolicy`, replacement, POD_REPLACEMENT_POLICIES))
  }
  return errs
}

function validateJobSpec(spec: JsonRecord): FieldError[] {
  const errs = validateJobRunFields(spec, 'spec')
  let selector: ReturnType<typeof labelSelectorFromObject> | undefined
  if (spec.selector === undefined || spec.selector === null) {
    errs.push(fieldRequired('spec.selector', ''))
  } else {
    try {
      selector = labelSelectorFromObject(spec.selector as LabelSelectorObject)
    } catch (err) {
      if (!(err instanceof LabelSelectorError)) throw err
      errs.push(fieldInvalid('spec.selector', spec.selector, err.message))
    }
  }
  const template = spec.template
  if (!isRecord(template)) {
    errs.push(fieldRequired('spec.template', ''))
    return errs
  }
  const labels = stringMapAt(recordAt(template, 'metadata'), 'labels')
  if (selector !== undefined && !selector.matches(labels)) {
    errs.push(fieldInvalid('spec.template.metadata.labels', labels ?? null, '`selector` does not match template `labels`'))
  }
  errs.push(...validatePodTemplate(template, 'spec.template'))
  const restartPolicy = stringAt(recordAt(template, 'spec'), 'restartPolicy') ?? ''
  if (!JOB_RESTART_POLICIES.includes(restartPolicy)) {
    errs.push(fieldNotSupported('spec.template.spec.restartPolicy', restartPolicy, JOB_RESTART_POLICIES))
  }
  return errs
}

export function validateJob(object: KubeObject): FieldError[] {
  const spec = object.spec
  if (!isRecord(spec)) return [fieldRequired('spec', '')]
  return [...validateGeneratedSelector(object), ...validateJobSpec(spec)]
}

/** ValidateJobSpecUpdate: what a running Job's pods were made from does not change. */
export function validateJobUpdate(object: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = []
  for (const field of ['completions', 'selector', 'template', 'completionMode']) {
    const now = isRecord(object.spec) ? object.spec[field] : undefined
    const before = isRecord(old.spec) ? old.spec[field] : undefined
    if (!jsonEqual(now ?? null, before ?? null)) errs.push(fieldInvalid(`spec.${field}`, now ?? null, 'field is immutable'))
  }
  return errs
}

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
      if (spec.podFailurePolicy === undefined || spec.podFailurePolicy === null) setDefault(spec, 'podReplacementPolicy', 'TerminatingOrFailed')
      if (isRecord(spec.template)) defaultPodTemplate(spec.template)
    },
    prepareForCreate(object) {
      object.status = {}
      generateJobSelector(object)
    },
    validate: validateJob,
    validateUpdate: validateJobUpdate,
  },
})
