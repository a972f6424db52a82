// How objects enter and leave the store.
//
// Why copies and freezing: a caller that keeps mutating the object it passed
// in, or one it got back, must not change what is stored, what was logged or
// what other watchers see. Input is copied once through JSON (which is also
// the check that it is plain JSON data and the form it is persisted in);
// everything stored is deep-frozen, so reads and events share it safely
// without copying again.

import { InvalidArgumentError } from './store.ts'
import type { StoreObject, StoredObject } from './store.ts'

/**
 * Largest object accepted, as JSON. etcd refuses requests over 1.5 MiB by
 * default; this is roomier but keeps every WAL record far below the frame limit.
 */
export const MAX_OBJECT_BYTES = 16 * 1024 * 1024

/** A private, mutable JSON copy of a caller's object. Throws InvalidArgument. */
export function copyInput (input: unknown): StoreObject {
  let text: string | undefined
  try {
    text = JSON.stringify(input)
  } catch (err) {
    throw new InvalidArgumentError(`object is not JSON-serialisable: ${(err as Error).message}`)
  }
  if (text !== undefined && text.length > MAX_OBJECT_BYTES / 3 && Buffer.byteLength(text) > MAX_OBJECT_BYTES) {
    throw new InvalidArgumentError(`object is ${Buffer.byteLength(text)} bytes as JSON, more than ${MAX_OBJECT_BYTES}`)
  }
  const copy: unknown = text === undefined ? undefined : JSON.parse(text)
  if (!isPlainObject(copy)) throw new InvalidArgumentError('object must be a JSON object')
  if (copy.metadata !== undefined && !isPlainObject(copy.metadata)) {
    throw new InvalidArgumentError('object.metadata must be a JSON object')
  }
  return copy as StoreObject
}

/** Sets metadata.resourceVersion on a private copy and freezes it. */
export function stamp (copy: StoreObject, revision: number): StoredObject {
  const metadata = copy.metadata ?? {}
  metadata.resourceVersion = String(revision)
  copy.metadata = metadata
  return deepFreeze(copy as StoredObject)
}

/** A frozen copy of a stored object with another resourceVersion (for DELETED). */
export function restamp (object: StoredObject, revision: number): StoredObject {
  const metadata = Object.freeze({ ...object.metadata, resourceVersion: String(revision) })
  return Object.freeze({ ...object, metadata })
}

export function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
