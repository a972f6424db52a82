// Which patch a PATCH request carries (its Content-Type) and applying it,
// with kube-apiserver's errors: 415 for an unknown media type, 400 for a
// malformed patch, 422 for a JSON patch that does not apply.
//
// Strategic merge patch is the subset described in strategic-merge-patch.ts;
// server-side apply (application/apply-patch+yaml) is not supported (415).

import { MergePatchError, applyMergePatch } from '../../api/merge-patch.ts'
import type { JsonValue } from '../../api/merge-patch.ts'
import { StatusError, badRequest } from '../../api/status-error.ts'
import type { PatchType } from '../../client/api-client.ts'
import { JsonPatchError, applyJsonPatch } from './json-patch.ts'
import { StrategicMergePatchError, applyStrategicMergePatch } from './strategic-merge-patch.ts'

export const PATCH_MEDIA_TYPES: Readonly<Record<PatchType, string>> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
}

function unsupportedMediaType(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `the body of the request was in an unknown format - accepted media types include: ${Object.values(PATCH_MEDIA_TYPES).join(', ')}`,
    reason: 'UnsupportedMediaType',
    code: 415,
  })
}

/** The patch type a Content-Type names (parameters such as `; charset=utf-8` ignored). */
export function patchTypeOf(contentType: string | undefined): PatchType {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase()
  for (const [type, value] of Object.entries(PATCH_MEDIA_TYPES)) if (value === media) return type as PatchType
  throw unsupportedMediaType()
}

function rejected(detail: string): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server rejected our request due to an error in our request',
    reason: 'Invalid',
    details: { causes: [{ reason: 'UnexpectedServerResponse', message: detail }] },
    code: 422,
  })
}

/** `document` patched (a new value; the input is untouched). Throws StatusError. */
export function applyPatch(type: PatchType, document: unknown, patch: unknown): JsonValue {
  try {
    switch (type) {
      case 'json':
        return applyJsonPatch(document, patch)
      case 'merge':
        return applyMergePatch(document, patch)
      case 'strategic':
        return applyStrategicMergePatch(document, patch)
    }
  } catch (err) {
    if (err instanceof JsonPatchError) throw err.code === 'ApplyFailed' ? rejected(err.message) : badRequest(err.message)
    if (err instanceof MergePatchError || err instanceof StrategicMergePatchError) throw badRequest(err.message)
    throw err
  }
}
