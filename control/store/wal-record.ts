// One WAL record = one mutation = one revision.
//
// Why so little in it: replay starts from a snapshot and applies records in
// order, so the state before each record is known. A put does not say whether
// it created or modified, and a delete does not carry the deleted object;
// both are derived during replay exactly as they were live.

import { encodeFrame } from './frame.ts'
import { deepFreeze } from './object-copy.ts'
import { CorruptError } from './store.ts'
import type { StoredObject } from './store.ts'

export type WalRecord =
  | { revision: number, op: 'put', key: string, object: StoredObject }
  | { revision: number, op: 'delete', key: string }

/** A record read back from disk, with where it was found (for error messages). */
export interface RecordAt { record: WalRecord, file: string, offset: number }

export function encodeRecord (record: WalRecord): Buffer {
  return encodeFrame(Buffer.from(JSON.stringify(record), 'utf8'))
}

/**
 * Parses a frame payload that passed its CRC. Anything malformed here was
 * written that way (a bug or tampering, not a crash), so it is Corrupt.
 */
export function decodeRecord (payload: Buffer, file: string, offset: number): WalRecord {
  let value: unknown
  try {
    value = JSON.parse(payload.toString('utf8'))
  } catch (err) {
    throw new CorruptError(file, offset, `record is not JSON: ${(err as Error).message}`)
  }
  const bad = (detail: string): CorruptError => new CorruptError(file, offset, `malformed record: ${detail}`)
  if (typeof value !== 'object' || value === null) throw bad('not an object')
  const { revision, op, key, object } = value as Record<string, unknown>
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 2) throw bad('bad revision')
  if (typeof key !== 'string' || key === '') throw bad('bad key')
  if (op === 'delete') return { revision, op, key }
  if (op !== 'put') throw bad(`unknown op ${JSON.stringify(op)}`)
  if (!isStoredObject(object, revision)) throw bad(`object of ${key} lacks resourceVersion ${revision}`)
  return { revision, op, key, object: deepFreeze(object) }
}

function isStoredObject (value: unknown, revision: number): value is StoredObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const metadata = (value as Record<string, unknown>).metadata
  if (typeof metadata !== 'object' || metadata === null) return false
  return (metadata as Record<string, unknown>).resourceVersion === String(revision)
}
