// PersistentVolumeClaims (core/v1). kubewire has no volume plugins: a claim
// is bound at once to a directory under the cluster's state directory (the
// node agent makes it when a pod first mounts the claim), which outlives the
// pods that use it and goes with the claim. The binding itself is the
// persistentvolume-binder loop's (control/controllers/persistent-volume-claim*.ts).
// Every claim is created with the `kubernetes.io/pvc-protection` finalizer
// (Kubernetes' StorageObjectInUseProtection admission): a deleted claim stays
// until no pod uses it, so its data never goes from under a running pod.
//
// Validation as ValidatePersistentVolumeClaim(Spec|Update): access modes and
// a positive storage request are required, and the spec is immutable except
// for resources.requests (expansion).

import { jsonEqual } from '../../api/merge-patch.ts'
import { QuantityError, parseQuantity } from '../../api/quantity.ts'
import { fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord, recordAt, setDefault } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'

/** The finalizer the binder removes once no pod uses a deleted claim. */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection'

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod']
const VOLUME_MODES = ['Block', 'Filesystem']

/** ValidatePersistentVolumeClaimSpec (the parts kubewire reads), at `path`. */
export function validatePersistentVolumeClaimSpec(spec: unknown, path: string): FieldError[] {
  if (!isRecord(spec)) return [fieldRequired(path, '')]
  const errs: FieldError[] = []
  const modes = Array.isArray(spec.accessModes) ? spec.accessModes : []
  if (modes.length === 0) errs.push(fieldRequired(`${path}.accessModes`, 'at least 1 access mode is required'))
  for (const mode of modes) {
    if (!ACCESS_MODES.includes(String(mode))) errs.push(fieldNotSupported(`${path}.accessModes`, mode, ACCESS_MODES))
  }
  const storagePath = `${path}.resources[storage]`
  const storage = recordAt(recordAt(spec, 'resources'), 'requests')?.storage
  if (storage === undefined || storage === null) errs.push(fieldRequired(storagePath, ''))
  else if (typeof storage !== 'string' && typeof storage !== 'number') errs.push(fieldInvalid(storagePath, storage, 'must be a quantity'))
  else {
    try {
      if (parseQuantity(storage).sign() <= 0) errs.push(fieldInvalid(storagePath, storage, 'must be greater than zero'))
    } catch (err) {
      if (!(err instanceof QuantityError)) throw err
      errs.push(fieldInvalid(storagePath, storage, err.message))
    }
  }
  const volumeMode = spec.volumeMode
  if (volumeMode !== undefined && volumeMode !== null && !VOLUME_MODES.includes(String(volumeMode))) {
    errs.push(fieldNotSupported(`${path}.volumeMode`, volumeMode, VOLUME_MODES))
  }
  return errs
}

/** The spec without what may change on a bound claim (resources.requests). */
function immutablePart(spec: unknown): unknown {
  if (!isRecord(spec)) return spec
  const copy = structuredClone(spec)
  const resources = recordAt(copy, 'resources')
  if (resources) delete resources.requests
  if (resources && Object.keys(resources).length === 0) delete copy.resources
  return copy
}

/** SetDefaults_PersistentVolumeClaimSpec. */
export function defaultPersistentVolumeClaimSpec(spec: JsonRecord): void {
  setDefault(spec, 'volumeMode', 'Filesystem')
}

export const persistentVolumeClaims = defineResource({
  group: '',
  version: 'v1',
  resource: 'persistentvolumeclaims',
  kind: 'PersistentVolumeClaim',
  namespaced: true,
  shortNames: ['pvc'],
  subresources: { status: true },
  hooks: {
    defaults(object) {
      defaultPersistentVolumeClaimSpec(ensureRecord(object as JsonRecord, 'spec'))
    },
    prepareForCreate(object) {
      object.status = { phase: 'Pending' }
      const finalizers = object.metadata.finalizers ?? []
      if (!finalizers.includes(PVC_PROTECTION_FINALIZER)) object.metadata.finalizers = [...finalizers, PVC_PROTECTION_FINALIZER]
    },
    validate: object => validatePersistentVolumeClaimSpec(object.spec, 'spec'),
    validateUpdate(object, old) {
      // Binding sets volumeName once (ValidatePersistentVolumeClaimUpdate lets an empty one be filled).
      const before = isRecord(old.spec) && !old.spec.volumeName && isRecord(object.spec) ? { ...old.spec, volumeName: object.spec.volumeName } : old.spec
      return jsonEqual(immutablePart(object.spec), immutablePart(before))
        ? []
        : [fieldForbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')]
    },
  },
})
