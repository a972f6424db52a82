// StatefulSets (apps/v1): defaults as apps/v1 has them, validation as
// pkg/apis/apps/validation's ValidateStatefulSetSpec / ValidateStatefulSetUpdate,
// and the status and scale subresources the StatefulSet controller and
// `scale` use.
//
// One difference, on purpose: Kubernetes leaves the template's pod spec
// unvalidated (its TODO: "check that the union of the given volumes and
// volumeClaims match volume mounts"); here the pod spec is validated with the
// claim templates counted as volumes, which is that union.

import { jsonEqual } from '../../api/merge-patch.ts'
import { fieldDuplicate, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { defineResource } from '../resource-definition.ts'
import { dns1035LabelErrors, dns1123LabelErrors } from '../validation/names.ts'
import { ensureRecord, isRecord, recordAt, recordsAt, setDefault, stringAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { defaultPersistentVolumeClaimSpec, validatePersistentVolumeClaimSpec } from './persistent-volume-claim.ts'
import { defaultPodTemplate } from './pod-spec.ts'
import { selectorText, validateNonNegative, validateReplicatedSpec } from './workload.ts'

const RETENTION_POLICIES = ['Retain', 'Delete']

function validatePodManagementPolicy(spec: JsonRecord): FieldError[] {
  const policy = spec.podManagementPolicy
  if (policy === undefined || policy === null || policy === '') return [fieldRequired('spec.podManagementPolicy', '')]
  if (policy === 'OrderedReady' || policy === 'Parallel') return []
  return [fieldInvalid('spec.podManagementPolicy', policy, "must be 'OrderedReady' or 'Parallel'")]
}

function validateUpdateStrategy(spec: JsonRecord): FieldError[] {
  const strategy = recordAt(spec, 'updateStrategy') ?? {}
  const type = strategy.type
  const rollingUpdate = strategy.rollingUpdate
  const hasRollingUpdate = rollingUpdate !== undefined && rollingUpdate !== null
  if (type === undefined || type === null || type === '') return [fieldRequired('spec.updateStrategy', '')]
  if (type === 'OnDelete') {
    return hasRollingUpdate
      ? [fieldInvalid('spec.updateStrategy.rollingUpdate', rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")]
      : []
  }
  if (type === 'RollingUpdate') {
    return hasRollingUpdate ? validateNonNegative(recordAt(strategy, 'rollingUpdate')?.partition, 'spec.updateStrategy.rollingUpdate.partition') : []
  }
  return [fieldInvalid('spec.updateStrategy', strategy, "must be 'RollingUpdate' or 'OnDelete'")]
}

function validateRetentionPolicy(spec: JsonRecord): FieldError[] {
  const policy = recordAt(spec, 'persistentVolumeClaimRetentionPolicy')
  if (policy === undefined) return []
  const errs: FieldError[] = []
  for (const key of ['whenDeleted', 'whenScaled']) {
    const value = policy[key]
    if (!RETENTION_POLICIES.includes(String(value))) {
      errs.push(fieldNotSupported(`spec.persistentVolumeClaimRetentionPolicy.${key}`, value ?? '', RETENTION_POLICIES))
    }
  }
  return errs
}

/** The claim templates' names (volume names, so DNS labels, unique) and specs. */
function validateClaimTemplates(spec: JsonRecord): FieldError[] {
  const errs: FieldError[] = []
  const names = new Set<string>()
  for (const [claim, i] of recordsAt(spec, 'volumeClaimTemplates')) {
    const path = `spec.volumeClaimTemplates[${i}]`
    const name = stringAt(recordAt(claim, 'metadata'), 'name') ?? ''
    if (name === '') errs.push(fieldRequired(`${path}.metadata.name`, 'name or generateName is required'))
    else {
      for (const msg of dns1123LabelErrors(name)) errs.push(fieldInvalid(`${path}.metadata.name`, name, msg))
      if (names.has(name)) errs.push(fieldDuplicate(`${path}.metadata.name`, name))
      names.add(name)
    }
    errs.push(...validatePersistentVolumeClaimSpec(claim.spec, `${path}.spec`))
  }
  return errs
}

/** The object with the claim templates added to the pod's volumes, as the controller adds them. */
function withClaimVolumes(object: KubeObject): KubeObject {
  const copy = structuredClone(object)
  const spec = copy.spec as JsonRecord
  const podSpec = recordAt(recordAt(spec, 'template'), 'spec')
  if (podSpec === undefined) return copy
  const volumes = Array.isArray(podSpec.volumes) ? [...(podSpec.volumes as unknown[])] : []
  const existing = new Set(volumes.map(v => stringAt(v, 'name')))
  for (const [claim] of recordsAt(spec, 'volumeClaimTemplates')) {
    const name = stringAt(recordAt(claim, 'metadata'), 'name')
    if (name && !existing.has(name)) volumes.push({ name, persistentVolumeClaim: { claimName: name } })
  }
  if (volumes.length > 0) podSpec.volumes = volumes
  return copy
}

/** ValidateStatefulSetSpec, with Kubernetes' StatefulSet wording where the shared checks say "deployment". */
export function validateStatefulSet(object: KubeObject): FieldError[] {
  const spec = object.spec
  if (!isRecord(spec)) return [fieldRequired('spec', '')]
  const errs: FieldError[] = [...validatePodManagementPolicy(spec), ...validateUpdateStrategy(spec), ...validateRetentionPolicy(spec)]
  const serviceName = stringAt(spec, 'serviceName') ?? ''
  for (const msg of serviceName === '' ? [] : dns1035LabelErrors(serviceName)) errs.push(fieldInvalid('spec.serviceName', serviceName, msg))
  errs.push(...validateNonNegative(recordAt(spec, 'ordinals')?.start, 'spec.ordinals.start'))
  errs.push(...validateNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'))
  for (const e of validateReplicatedSpec(withClaimVolumes(object))) {
    if (e.field === 'spec.selector' && e.detail === 'empty selector is invalid for deployment') {
      errs.push({ ...e, detail: 'empty selector is invalid for statefulset' })
    } else if (e.field === 'spec.template.spec.activeDeadlineSeconds') {
      errs.push({ ...e, detail: 'activeDeadlineSeconds in StatefulSet is not Supported' })
    } else errs.push(e)
  }
  errs.push(...validateClaimTemplates(spec))
  return errs
}

// What ValidateStatefulSetUpdate lets change; everything else in spec is fixed.
const MUTABLE_SPEC_FIELDS = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds']

function fixedPart(spec: unknown): JsonRecord {
  const copy: JsonRecord = isRecord(spec) ? { ...spec } : {}
  for (const key of MUTABLE_SPEC_FIELDS) delete copy[key]
  return copy
}

/** ValidateStatefulSetUpdate's spec check. */
export function validateStatefulSetUpdate(object: KubeObject, old: KubeObject): FieldError[] {
  if (jsonEqual(fixedPart(object.spec), fixedPart(old.spec))) return []
  return [
    fieldForbidden(
      'spec',
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ]
}

/** SetDefaults_StatefulSet. */
export function defaultStatefulSet(object: KubeObject): void {
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
  for (const [claim] of recordsAt(spec, 'volumeClaimTemplates')) {
    defaultPersistentVolumeClaimSpec(ensureRecord(claim, 'spec'))
  }
}

export const statefulSets = defineResource({
  group: 'apps',
  version: 'v1',
  resource: 'statefulsets',
  kind: 'StatefulSet',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  nameRule: 'dns1123-label',
  tracksGeneration: true,
  subresources: { status: true, scale: { selector: selectorText } },
  hooks: {
    defaults: defaultStatefulSet,
    prepareForCreate(object) {
      object.status = { replicas: 0, availableReplicas: 0 }
    },
    validate: validateStatefulSet,
    validateUpdate: validateStatefulSetUpdate,
  },
})
