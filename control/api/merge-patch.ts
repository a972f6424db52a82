// JSON merge patch (RFC 7386): `kubectl patch --type=merge` and
// `Content-Type: application/merge-patch+json`.
//
// Why: it is the simplest patch kind the API server must take, and the one
// controllers use to change a few fields without a read-modify-write race on
// the whole object. Objects merge key by key, `null` deletes a key, anything
// else (arrays included) replaces the value whole. createMergePatch is the
// inverse: the smallest patch that turns one document into another.
// Inputs are never mutated and outputs share nothing with them, so a stored
// object can be patched safely while watchers still hold the old one.

/** A JSON document. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

/** An input is not JSON (a function, a Date, NaN...): code 'InvalidJson'. */
export class MergePatchError extends Error {
  readonly code = 'InvalidJson'
  constructor(message: string) {
    super(message)
    this.name = 'MergePatchError'
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

// Own-property write: a "__proto__" key from a parsed body stays a plain key.
function setKey(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
}

/**
 * A deep copy of a JSON value; undefined object members are dropped and
 * undefined array items become null, as JSON.stringify does.
 */
export function cloneJson(v: unknown, path = '$'): JsonValue {
  if (v === null || v === undefined) return null
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v
    case 'number':
      if (!Number.isFinite(v)) throw new MergePatchError(`${path}: ${v} is not a JSON number`)
      return v
    case 'object':
      if (Array.isArray(v)) return v.map((item, i) => cloneJson(item, `${path}[${i}]`))
      if (isPlainObject(v)) {
        const out: JsonObject = {}
        for (const [k, item] of Object.entries(v)) {
          if (item !== undefined) setKey(out, k, cloneJson(item, `${path}.${k}`))
        }
        return out
      }
      throw new MergePatchError(`${path}: a ${v.constructor?.name ?? 'non-plain object'} is not JSON`)
    default:
      throw new MergePatchError(`${path}: a ${typeof v} is not JSON`)
  }
}

/** Deep equality of two JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]))
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ak = Object.keys(a).filter(k => a[k] !== undefined)
    const bk = Object.keys(b).filter(k => b[k] !== undefined)
    return ak.length === bk.length && ak.every(k => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
  }
  return false
}

/**
 * Applies `patch` to `target` as RFC 7386 says: a non-object patch replaces
 * the target; an object patch turns a non-object target into {} first, then
 * deletes the keys set to null and merges the others recursively.
 */
export function applyMergePatch(target: unknown, patch: unknown): JsonValue {
  return merge(target, patch, '$')
}

function merge(target: unknown, patch: unknown, path: string): JsonValue {
  if (!isPlainObject(patch)) return cloneJson(patch, path)
  const out: JsonObject = isPlainObject(target) ? (cloneJson(target, path) as JsonObject) : {}
  for (const [k, value] of Object.entries(patch)) {
    if (value === undefined) continue
    if (value === null) {
      delete out[k]
    } else {
      const current = Object.hasOwn(out, k) ? out[k] : undefined
      setKey(out, k, merge(current, value, `${path}.${k}`))
    }
  }
  return out
}

/**
 * The smallest merge patch that turns `original` into `modified`: removed keys
 * become null, changed scalars and arrays are given whole, nested objects are
 * diffed; `{}` when nothing changed. When either side is not an object the
 * patch is `modified` itself. A null stored in `modified` cannot be expressed
 * (a merge patch null deletes), so such keys come out deleted.
 */
export function createMergePatch(original: unknown, modified: unknown): JsonValue {
  if (isPlainObject(original) && isPlainObject(modified)) return diff(original, modified, '$')
  return cloneJson(modified, '$')
}

function diff(original: Record<string, unknown>, modified: Record<string, unknown>, path: string): JsonObject {
  const patch: JsonObject = {}
  for (const [k, o] of Object.entries(original)) {
    if (o !== undefined && (!Object.hasOwn(modified, k) || modified[k] === undefined)) setKey(patch, k, null)
  }
  for (const [k, m] of Object.entries(modified)) {
    if (m === undefined) continue
    const has = Object.hasOwn(original, k) && original[k] !== undefined
    const o = has ? original[k] : undefined
    if (!has) {
      setKey(patch, k, cloneJson(m, `${path}.${k}`))
    } else if (isPlainObject(o) && isPlainObject(m)) {
      const sub = diff(o, m, `${path}.${k}`)
      if (Object.keys(sub).length > 0) setKey(patch, k, sub)
    } else if (!jsonEqual(o, m)) {
      setKey(patch, k, cloneJson(m, `${path}.${k}`))
    }
  }
  return patch
}
