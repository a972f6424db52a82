// Client-side apply's three-way merge, pure: what `kubectl apply` sends when
// the object already exists.
//
//   original  the configuration applied last time (the last-applied-configuration annotation)
//   modified  the configuration being applied now (with the new annotation)
//   current   the live object
//
// The patch (a JSON merge patch, control/api/merge-patch.ts semantics) sets
// every field of `modified` that differs from `current`, and deletes the
// fields that were in `original` but are no longer in `modified`. Fields that
// only `current` has — status, a Service's clusterIP, a pod's nodeName,
// replicas set by `kubectl scale` when the manifest leaves replicas out, the
// API server's defaults — are left alone. That is kubectl's rule
// (CreateThreeWayMergePatch). An empty patch means "unchanged".
//
// Lists: a merge patch can only replace a list whole, and the server fills
// defaults into list items (a container's imagePullPolicy, a port's
// protocol). So a list is left alone when the user did not change it since
// the last apply and the live list still holds everything the manifest says
// (each item a superset of the applied one); otherwise the applied list is
// sent whole and the server defaults it again. Without that, every re-apply
// of a Deployment would print "configured".

import { cloneJson, jsonEqual } from '../../api/merge-patch.ts'
import type { JsonObject, JsonValue } from '../../api/merge-patch.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { compactJson } from './sorted-json.ts'

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration'

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * kubectl's GetModifiedConfiguration: the object to apply, carrying in its
 * annotation its own JSON (sorted keys, without that annotation, newline-ended).
 */
export function withLastApplied(object: KubeObject): KubeObject {
  const copy = structuredClone(object)
  const annotations = { ...(copy.metadata.annotations ?? {}) }
  delete annotations[LAST_APPLIED_ANNOTATION]
  copy.metadata.annotations = annotations
  const text = compactJson(copy) + '\n'
  copy.metadata.annotations = { ...annotations, [LAST_APPLIED_ANNOTATION]: text }
  return copy
}

/** The configuration applied last time, if the live object carries one. */
export function lastApplied(current: KubeObject): Json | undefined {
  const text = current.metadata.annotations?.[LAST_APPLIED_ANNOTATION]
  if (text === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    return isObject(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

/** `current` holds everything `wanted` says (objects may have more keys; lists item by item). */
export function covers(current: unknown, wanted: unknown): boolean {
  if (isObject(wanted)) {
    if (!isObject(current)) return false
    return Object.entries(wanted).every(([k, v]) => (v === null || v === undefined ? true : covers(current[k], v)))
  }
  if (Array.isArray(wanted)) {
    return Array.isArray(current) && current.length === wanted.length && wanted.every((item, i) => covers(current[i], item))
  }
  return jsonEqual(current, wanted)
}

function threeWay(original: Json | undefined, modified: Json, current: Json): JsonObject {
  const patch: JsonObject = {}
  if (original !== undefined) {
    for (const key of Object.keys(original)) {
      if (!Object.hasOwn(modified, key) && current[key] !== undefined && current[key] !== null) patch[key] = null
    }
  }
  for (const [key, want] of Object.entries(modified)) {
    if (want === undefined) continue
    const live = current[key]
    const before = original?.[key]
    if (want === null) {
      if (live !== undefined && live !== null) patch[key] = null
      continue
    }
    if (live === undefined || live === null) {
      patch[key] = cloneJson(want)
    } else if (isObject(want) && isObject(live)) {
      const sub = threeWay(isObject(before) ? before : undefined, want, live)
      if (Object.keys(sub).length > 0) patch[key] = sub
    } else if (Array.isArray(want)) {
      const untouched = before !== undefined && jsonEqual(before, want) && covers(live, want)
      if (!untouched && !jsonEqual(live, want)) patch[key] = cloneJson(want)
    } else if (!jsonEqual(live, want)) {
      patch[key] = cloneJson(want)
    }
  }
  return patch
}

/**
 * The merge patch that applies `modified` over `current`, given what was
 * applied before (`original`, undefined when the object was never applied).
 */
export function threeWayMergePatch(original: Json | undefined, modified: KubeObject, current: KubeObject): JsonObject {
  return threeWay(original, modified as unknown as Json, current as unknown as Json)
}

export function isEmptyPatch(patch: JsonValue): boolean {
  return isObject(patch) && Object.keys(patch).length === 0
}
