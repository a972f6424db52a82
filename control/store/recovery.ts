// Opening a store directory after a clean stop or a crash.
//
// The state is the newest valid snapshot plus every WAL record after it, in
// revision order with no gap. A corrupt snapshot falls back to the previous
// one (the durable store keeps two, and the WAL since the older one) and is
// renamed aside, so that retention never counts it as a fallback again. A torn
// tail in the newest segment is cut off here, so appends continue after the
// last whole record; anything else that does not fit is a CorruptError naming
// the file and offset, because opening anyway would silently lose or invent
// history.

import { open, readFile, rename, truncate, unlink } from 'node:fs/promises'
import { readSnapshot } from './snapshot-file.ts'
import type { Snapshot } from './snapshot-file.ts'
import { listStoreDir, pathIn } from './store-files.ts'
import type { SegmentFile } from './store-files.ts'
import { CorruptError } from './store.ts'
import type { RecordAt } from './wal-record.ts'
import { scanSegment } from './wal-scan.ts'

export interface RecoveryReport {
  /** Revision of the snapshot used; undefined when replay started from the empty store. */
  snapshotRevision: number | undefined
  /**
   * Snapshots that failed their checks, passed over and renamed to
   * <name>.corrupt (kept for inspection, never again taken for a fallback).
   */
  skippedSnapshots: Array<{ name: string, error: string }>
  replayedRecords: number
  /** The torn tail cut off the newest segment, if any. */
  truncated: { file: string, offset: number, droppedBytes: number, detail: string } | undefined
  /** Leftover temporary files (interrupted snapshots) removed. */
  removedTemporary: string[]
}

/** The newest segment, which appends continue. */
export interface TailSegment extends SegmentFile {
  /** Bytes of whole records (after truncation). */
  size: number
  records: number
}

export interface Recovered {
  snapshot: Snapshot | undefined
  /** Records after the snapshot, consecutive revisions. */
  records: RecordAt[]
  /** The revision after replay. */
  revision: number
  tail: TailSegment | undefined
  report: RecoveryReport
}

export async function recoverStoreDir (dir: string): Promise<Recovered> {
  const listing = await listStoreDir(dir)
  const report: RecoveryReport = {
    snapshotRevision: undefined,
    skippedSnapshots: [],
    replayedRecords: 0,
    truncated: undefined,
    removedTemporary: []
  }
  for (const name of listing.temporary) {
    await unlink(pathIn(dir, name))
    report.removedTemporary.push(name)
  }

  let snapshot: Snapshot | undefined
  for (const candidate of [...listing.snapshots].reverse()) {
    try {
      snapshot = await readSnapshot(dir, candidate.name, candidate.revision)
      break
    } catch (err) {
      if (!(err instanceof CorruptError)) throw err
      await rename(pathIn(dir, candidate.name), pathIn(dir, `${candidate.name}.corrupt`))
      report.skippedSnapshots.push({ name: candidate.name, error: err.message })
    }
  }
  report.snapshotRevision = snapshot?.revision
  const base = snapshot?.revision ?? 1

  // The segment holding revision base+1 and every later one.
  let first = -1
  listing.segments.forEach((segment, i) => { if (segment.firstRevision <= base + 1) first = i })
  const segments = first === -1 ? listing.segments : listing.segments.slice(first)
  if (first === -1 && segments[0] !== undefined) {
    throw new CorruptError(pathIn(dir, segments[0].name), 0,
      `WAL starts at revision ${segments[0].firstRevision} but the state ends at revision ${base}: records are missing`)
  }

  const records: RecordAt[] = []
  let revision = base
  let tail: TailSegment | undefined
  for (const [i, segment] of segments.entries()) {
    const file = pathIn(dir, segment.name)
    const newest = i === segments.length - 1
    const bytes = await readFile(file)
    const scan = scanSegment(file, bytes, { newest })
    const firstRecord = scan.records[0]
    if (firstRecord !== undefined && firstRecord.record.revision !== segment.firstRevision) {
      throw new CorruptError(file, 0, `segment named for revision ${segment.firstRevision} starts at ${firstRecord.record.revision}`)
    }
    if (firstRecord === undefined && segment.firstRevision !== revision + 1) {
      throw new CorruptError(file, 0, `empty segment named for revision ${segment.firstRevision} after revision ${revision}`)
    }
    for (const located of scan.records) {
      const r = located.record.revision
      if (r <= base) continue
      if (r !== revision + 1) {
        throw new CorruptError(file, located.offset, `expected revision ${revision + 1}, found ${r}`)
      }
      records.push(located)
      revision = r
    }
    if (scan.torn !== undefined) {
      await cutTornTail(file, scan.validBytes)
      report.truncated = {
        file,
        offset: scan.torn.offset,
        droppedBytes: bytes.length - scan.validBytes,
        detail: scan.torn.detail
      }
    }
    if (newest) tail = { ...segment, size: scan.validBytes, records: scan.records.length }
  }
  report.replayedRecords = records.length
  return { snapshot, records, revision, tail, report }
}

async function cutTornTail (file: string, length: number): Promise<void> {
  await truncate(file, length)
  const handle = await open(file, 'r+')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
