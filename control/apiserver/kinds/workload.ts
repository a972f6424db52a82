// What Deployments and ReplicaSets share: a replica count, a label selector
// and a pod template that the selector must match (apps validation's
// ValidateReplicaSetSpec / ValidateDeploymentSpec and their template checks).
//
// Why shared: Kubernetes validates both the same way, with the same texts
// (even "empty selector is invalid for deployment" on a ReplicaSet).

import { LabelSelectorError, labelSelectorFromObject } from '../../api/label-selector.ts'
import type { LabelSelectorObject } from '../../api/label-selector.ts'
import { jsonEqual } from '../../api/merge-patch.ts'
import { fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { isRecord, recordAt, stringAt, stringMapAt } from './json-fields.ts'
import { validatePodTemplate } from './pod-spec.ts'

/** Non-negative integer field check (ValidateNonnegativeField). */
export function validateNonNegative(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return []
  if (typeof value !== 'number' || !Number.isInteger(value)) return [fieldInvalid(path, value, 'must be an integer')]
  return value < 0 ? [fieldInvalid(path, value, 'must be greater than or equal to 0')] : []
}

/** A spec.selector with neither matchLabels nor matchExpressions selects everything: refused ("empty selector is invalid for <kind>"). */
export function validateSelectorNotEmpty(selectorObject: unknown, kind: string): FieldError[] {
  const matchLabels = recordAt(selectorObject, 'matchLabels') ?? {}
  const matchExpressions = isRecord(selectorObject) && Array.isArray(selectorObject.matchExpressions) ? selectorObject.matchExpressions : []
  if (Object.keys(matchLabels).length + matchExpressions.length > 0) return []
  return [fieldInvalid('spec.selector', selectorObject, `empty selector is invalid for ${kind}`)]
}

/** replicas, minReadySeconds, selector, template and its match with the selector. */
export function validateReplicatedSpec(object: KubeObject): FieldError[] {
  const spec = object.spec
  if (!isRecord(spec)) return [fieldRequired('spec', '')]
  const errs: FieldError[] = [
    ...validateNonNegative(spec.replicas, 'spec.replicas'),
    ...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
  ]
  const selectorObject = spec.selector
  let selector: ReturnType<typeof labelSelectorFromObject> | undefined
  if (selectorObject === undefined || selectorObject === null) {
    errs.push(fieldRequired('spec.selector', ''))
  } else {
    try {
      selector = labelSelectorFromObject(selectorObject as LabelSelectorObject)
    } catch (err) {
      if (!(err instanceof LabelSelectorError)) throw err
      errs.push(fieldInvalid('spec.selector', selectorObject, err.message))
    }
    errs.push(...validateSelectorNotEmpty(selectorObject, 'deployment'))
  }
  const template = spec.template
  if (!isRecord(template)) {
    errs.push(fieldRequired('spec.template', ''))
    return errs
  }
  const labels = stringMapAt(recordAt(template, 'metadata'), 'labels')
  if (selector !== undefined && !selector.empty() && !selector.matches(labels)) {
    errs.push(fieldInvalid('spec.template.metadata.labels', labels ?? null, '`selector` does not match template `labels`'))
  }
  errs.push(...validatePodTemplate(template, 'spec.template'))
  const restartPolicy = stringAt(recordAt(template, 'spec'), 'restartPolicy')
  if (restartPolicy !== undefined && restartPolicy !== 'Always') {
    errs.push(fieldNotSupported('spec.template.spec.restartPolicy', restartPolicy, ['Always']))
  }
  if (recordAt(template, 'spec')?.activeDeadlineSeconds !== undefined) {
    errs.push(fieldForbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicaSet is not Supported'))
  }
  return errs
}

/** apps/v1 selectors are immutable. */
export function validateSelectorUnchanged(object: KubeObject, old: KubeObject): FieldError[] {
  const selector = recordAt(object.spec, 'selector')
  const before = recordAt(old.spec, 'selector')
  return jsonEqual(selector, before) ? [] : [fieldInvalid('spec.selector', selector ?? null, 'field is immutable')]
}

/** Scale.status.selector: the selector as text (`app=web`). */
export function selectorText(object: KubeObject): string {
  try {
    return labelSelectorFromObject(recordAt(object.spec, 'selector') as LabelSelectorObject | undefined).toString()
  } catch {
    return ''
  }
}
