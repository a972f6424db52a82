// The durable store's directory: which files exist and what their names mean.
//
//   LOCK                         pid of the owning process
//   wal-<first revision>.log     WAL segment; records first..(next segment's first - 1)
//   snap-<revision>.snap         the whole state at that revision
//   *.tmp                        a snapshot being written; left over only by a crash
//
// Revisions are zero-padded to 16 digits so names sort like the numbers, which
// keeps `ls` readable when debugging by hand.

import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'

export const LOCK_FILE = 'LOCK'
const DIGITS = 16
const SEGMENT = /^wal-(\d{16})\.log$/
const SNAPSHOT = /^snap-(\d{16})\.snap$/

export function segmentName (firstRevision: number): string {
  return `wal-${String(firstRevision).padStart(DIGITS, '0')}.log`
}

export function snapshotName (revision: number): string {
  return `snap-${String(revision).padStart(DIGITS, '0')}.snap`
}

export interface SegmentFile { name: string, firstRevision: number }
export interface SnapshotFile { name: string, revision: number }

export interface StoreDirListing {
  /** Ascending by first revision. */
  segments: SegmentFile[]
  /** Ascending by revision. */
  snapshots: SnapshotFile[]
  temporary: string[]
}

export async function listStoreDir (dir: string): Promise<StoreDirListing> {
  const listing: StoreDirListing = { segments: [], snapshots: [], temporary: [] }
  for (const name of await readdir(dir)) {
    const segment = SEGMENT.exec(name)
    const snapshot = SNAPSHOT.exec(name)
    if (segment?.[1] !== undefined) listing.segments.push({ name, firstRevision: Number(segment[1]) })
    else if (snapshot?.[1] !== undefined) listing.snapshots.push({ name, revision: Number(snapshot[1]) })
    else if (name.endsWith('.tmp')) listing.temporary.push(name)
  }
  listing.segments.sort((a, b) => a.firstRevision - b.firstRevision)
  listing.snapshots.sort((a, b) => a.revision - b.revision)
  return listing
}

/** Makes creations, renames and removals of entries in dir durable. */
export async function fsyncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export function pathIn (dir: string, name: string): string {
  return join(dir, name)
}
