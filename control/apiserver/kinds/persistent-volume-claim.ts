// PersistentVolumeClaims (core/v1). kubewire has no volume plugins: a claim
// is bound at once to a directory under the cluster's state directory (the
// node agent makes it when a pod first mounts the claim), which outlives the
// pods that use it and goes with the claim.

import { defineResource } from '../resource-definition.ts'
import { ensureRecord, setDefault } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'

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
      const spec = ensureRecord(object as JsonRecord, 'spec')
      setDefault(spec, 'volumeMode', 'Filesystem')
    },
    prepareForCreate(object) {
      object.status = { phase: 'Pending' }
    },
  },
})
