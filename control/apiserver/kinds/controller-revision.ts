// ControllerRevisions (apps/v1): the immutable snapshots of a StatefulSet's
// or DaemonSet's pod template that their rollout history and undo read.

import { jsonEqual } from '../../api/merge-patch.ts'
import { fieldInvalid, fieldRequired } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import { defineResource } from '../resource-definition.ts'

export const controllerRevisions = defineResource({
  group: 'apps',
  version: 'v1',
  resource: 'controllerrevisions',
  kind: 'ControllerRevision',
  namespaced: true,
  hooks: {
    validate(object): FieldError[] {
      const revision = (object as { revision?: unknown }).revision
      if (revision === undefined || revision === null) return [fieldRequired('revision', '')]
      if (typeof revision !== 'number' || !Number.isInteger(revision) || revision < 0) {
        return [fieldInvalid('revision', revision, 'must be greater than or equal to 0')]
      }
      return []
    },
    validateUpdate(object, old): FieldError[] {
      const data = (object as { data?: unknown }).data
      return jsonEqual(data, (old as { data?: unknown }).data) ? [] : [fieldInvalid('data', '', 'field is immutable')]
    },
  },
})
