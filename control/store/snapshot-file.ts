// Snapshots: the whole state at one revision, so recovery does not replay
// the WAL from the beginning of time and old segments can be deleted.
//
// A snapshot is one frame (length + CRC + JSON) in its own file. It is written
// to a temporary name, fsynced, renamed into place and the directory fsynced:
// a snapshot file under its final name is therefore always complete, and one
// whose CRC fails was damaged later (recovery then falls back to the previous
// snapshot, which is kept for that reason).

import { open, readFile, rename } from 'node:fs/promises'
import { encodeFrame, readFrame } from './frame.ts'
import { deepFreeze } from './object-copy.ts'
import { fsyncDir, pathIn, snapshotName } from './store-files.ts'
import { CorruptError } from './store.ts'
import type { StoredObject } from './store.ts'

export interface SnapshotEntry { key: string, revision: number, object: StoredObject }

export interface Snapshot {
  revision: number
  /** Ascending by key is not required; keys are unique. */
  entries: SnapshotEntry[]
}

/** Writes snap-<revision>.snap durably and returns its name. */
export async function writeSnapshot (dir: string, snapshot: Snapshot): Promise<string> {
  const name = snapshotName(snapshot.revision)
  const temporary = pathIn(dir, `${name}.tmp`)
  const frame = encodeFrame(Buffer.from(JSON.stringify(snapshot), 'utf8'))
  const handle = await open(temporary, 'w')
  try {
    await handle.writeFile(frame)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temporary, pathIn(dir, name))
  await fsyncDir(dir)
  return name
}

/** Reads and checks a snapshot; any defect is a CorruptError naming the file. */
export async function readSnapshot (dir: string, name: string, revision: number): Promise<Snapshot> {
  const file = pathIn(dir, name)
  const bytes = await readFile(file)
  const frame = readFrame(bytes, 0, bytes.length)
  if (frame.kind !== 'ok') throw new CorruptError(file, 0, frame.detail)
  if (frame.end !== bytes.length) throw new CorruptError(file, frame.end, 'trailing bytes after the snapshot')
  let value: unknown
  try {
    value = JSON.parse(frame.payload.toString('utf8'))
  } catch (err) {
    throw new CorruptError(file, 0, `snapshot is not JSON: ${(err as Error).message}`)
  }
  const snapshot = value as Partial<Snapshot> | null
  if (snapshot?.revision !== revision || !Array.isArray(snapshot.entries)) {
    throw new CorruptError(file, 0, `snapshot header does not match revision ${revision}`)
  }
  const keys = new Set<string>()
  for (const entry of snapshot.entries as unknown[]) {
    const { key, revision: entryRevision, object } = (entry ?? {}) as Partial<SnapshotEntry>
    const ok = typeof key === 'string' && !keys.has(key) &&
      typeof entryRevision === 'number' && entryRevision <= revision &&
      object?.metadata?.resourceVersion === String(entryRevision)
    if (!ok) throw new CorruptError(file, 0, `bad entry ${JSON.stringify(key)}`)
    keys.add(key)
    deepFreeze(object)
  }
  return snapshot as Snapshot
}
