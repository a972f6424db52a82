// ObjectMeta validation (apimachinery's ValidateObjectMeta and
// ValidateObjectMetaUpdate), with Kubernetes' field paths and texts.
//
// Why here and not per kind: every kind's metadata follows the same rules;
// only the name rule differs, and the resource definition says which.

import { validateLabelKey, validateLabels } from '../../api/label-selector.ts'
import { fieldForbidden, fieldInvalid, fieldRequired, fieldTooLong } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { isRecord } from '../kinds/json-fields.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import { dns1123LabelErrors, nameErrors } from './names.ts'

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

/** Checks metadata of an object about to be stored (name already generated). */
export function validateObjectMeta(object: KubeObject, def: ResourceDefinition): FieldError[] {
  const errs: FieldError[] = []
  const meta = object.metadata
  const name = meta.name ?? ''
  if (name === '') {
    errs.push(fieldRequired('metadata.name', 'name or generateName is required'))
  } else {
    for (const msg of nameErrors(def.nameRule, name)) errs.push(fieldInvalid('metadata.name', name, msg))
  }
  const namespace = meta.namespace ?? ''
  if (def.namespaced) {
    if (namespace === '') errs.push(fieldRequired('metadata.namespace', ''))
    else for (const msg of dns1123LabelErrors(namespace)) errs.push(fieldInvalid('metadata.namespace', namespace, msg))
  } else if (namespace !== '') {
    errs.push(fieldForbidden('metadata.namespace', 'not allowed on this type'))
  }
  errs.push(...validateStringMap(meta.labels, 'metadata.labels'))
  if (isStringMap(meta.labels)) errs.push(...validateLabels(meta.labels, 'metadata.labels'))
  errs.push(...validateStringMap(meta.annotations, 'metadata.annotations'))
  if (isStringMap(meta.annotations)) errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'))
  if (meta.finalizers !== undefined && !(Array.isArray(meta.finalizers) && meta.finalizers.every(f => typeof f === 'string'))) {
    errs.push(fieldInvalid('metadata.finalizers', meta.finalizers, 'must be a list of strings'))
  }
  if (meta.ownerReferences !== undefined) {
    if (!Array.isArray(meta.ownerReferences)) {
      errs.push(fieldInvalid('metadata.ownerReferences', meta.ownerReferences, 'must be a list'))
    } else {
      meta.ownerReferences.forEach((ref, i) => {
        const path = `metadata.ownerReferences[${i}]`
        if (!isRecord(ref)) return errs.push(fieldInvalid(path, ref, 'must be an object'))
        if (!ref.apiVersion) errs.push(fieldInvalid(`${path}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'))
        if (!ref.kind) errs.push(fieldInvalid(`${path}.kind`, ref.kind ?? '', 'kind must not be empty'))
        if (!ref.name) errs.push(fieldInvalid(`${path}.name`, ref.name ?? '', 'name must not be empty'))
        if (!ref.uid) errs.push(fieldInvalid(`${path}.uid`, ref.uid ?? '', 'uid must not be empty'))
        return undefined
      })
    }
  }
  return errs
}

/** Annotation keys are qualified names; all values together at most 256 KiB. */
export function validateAnnotations(annotations: Record<string, string>, path: string): FieldError[] {
  const errs: FieldError[] = []
  let size = 0
  for (const [key, value] of Object.entries(annotations)) {
    for (const msg of validateLabelKey(key.toLowerCase())) errs.push(fieldInvalid(path, key, msg))
    size += key.length + value.length
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fieldTooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT))
  return errs
}

/** ValidateObjectMetaUpdate: what may never change. */
export function validateObjectMetaUpdate(object: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = []
  const meta = object.metadata
  const before = old.metadata
  if (meta.name !== before.name) errs.push(fieldInvalid('metadata.name', meta.name ?? '', 'field is immutable'))
  if ((meta.namespace ?? '') !== (before.namespace ?? '')) {
    errs.push(fieldInvalid('metadata.namespace', meta.namespace ?? '', 'field is immutable'))
  }
  if (meta.uid !== before.uid) errs.push(fieldInvalid('metadata.uid', meta.uid ?? '', 'field is immutable'))
  return errs
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every(v => typeof v === 'string')
}

function validateStringMap(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null || isStringMap(value)) return []
  return [fieldInvalid(path, value, 'must be a map of string keys to string values')]
}
