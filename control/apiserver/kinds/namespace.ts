// Namespaces (core/v1): status.phase Active on create, the `kubernetes`
// finalizer in spec.finalizers, the kubernetes.io/metadata.name label, and
// deletion that turns the namespace Terminating until everything in it is
// gone (namespace-lifecycle.ts empties it, as the namespace controller would).

import { forbidden } from '../../api/status-error.ts'
import { defineResource } from '../resource-definition.ts'
import { ensureRecord, recordAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'

/** The finalizer the API server's namespace lifecycle owns. */
export const NAMESPACE_FINALIZER = 'kubernetes'

/** Namespaces that exist from the start; the first three may never be deleted. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const
const IMMORTAL = new Set(['default', 'kube-system', 'kube-public'])

export function specFinalizers(object: unknown): string[] {
  const list = recordAt(object, 'spec')?.finalizers
  return Array.isArray(list) ? list.filter((f): f is string => typeof f === 'string') : []
}

export const namespaces = defineResource({
  group: '',
  version: 'v1',
  resource: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
  shortNames: ['ns'],
  nameRule: 'dns1123-label',
  returnDeletedObject: true,
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: { status: true },
  hooks: {
    defaults(object) {
      const name = object.metadata.name
      if (name) object.metadata.labels = { ...object.metadata.labels, 'kubernetes.io/metadata.name': name }
    },
    prepareForCreate(object) {
      const spec = ensureRecord(object as JsonRecord, 'spec')
      const finalizers = specFinalizers(object)
      if (!finalizers.includes(NAMESPACE_FINALIZER)) finalizers.push(NAMESPACE_FINALIZER)
      spec.finalizers = finalizers
      object.status = { phase: 'Active' }
    },
    prepareForUpdate(object, old) {
      // spec.finalizers change only through the lifecycle (the finalize subresource in Kubernetes).
      const spec = ensureRecord(object as JsonRecord, 'spec')
      spec.finalizers = specFinalizers(old)
    },
    hasSpecFinalizers(object) {
      return specFinalizers(object).length > 0
    },
    markDeleting(object) {
      object.status = { ...recordAt(object, 'status'), phase: 'Terminating' }
    },
    beforeDelete(object) {
      const name = object.metadata.name ?? ''
      if (IMMORTAL.has(name)) throw forbidden('namespaces', name, 'this namespace may not be deleted')
    },
  },
})
