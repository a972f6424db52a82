// The durable journal: WAL segments with group commit, and snapshots.
//
// - commit(batch): all records of the batch go out in one positional write,
//   then one fdatasync; only then does the engine apply them and resolve
//   their promises. The engine sends whatever queued up during the previous
//   fsync as the next batch, so concurrent writers share fsyncs.
// - After `snapshotEvery` records in the current segment, the applied state at
//   revision R is captured (frozen objects, so only references are copied), a
//   new segment wal-(R+1) is created and made durable before the next batch is
//   written, and the snapshot is written in the background (temp file, fsync,
//   rename, fsync dir). Only once it is durable are old files removed.
// - Retention keeps the two newest snapshots and every segment after the older
//   of them, so a snapshot found damaged at recovery has a fallback.

import { open, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { AppliedState, Journal } from './journal.ts'
import type { TailSegment } from './recovery.ts'
import { writeSnapshot } from './snapshot-file.ts'
import type { Snapshot } from './snapshot-file.ts'
import { fsyncDir, listStoreDir, pathIn, segmentName } from './store-files.ts'
import { encodeRecord } from './wal-record.ts'
import type { WalRecord } from './wal-record.ts'

export const DEFAULT_SNAPSHOT_EVERY = 10_000

export interface WalJournalOptions {
  /** Records per segment before a snapshot is taken and a new segment started. */
  snapshotEvery?: number
  /** Told about problems that do not stop the store (a failed snapshot). */
  onWarning?: (message: string, error?: unknown) => void
}

export class WalJournal implements Journal {
  readonly #dir: string
  readonly #snapshotEvery: number
  readonly #warn: (message: string, error?: unknown) => void
  #handle: FileHandle
  #size: number
  #records: number
  /** Creating the next segment; the next commit waits for it. */
  #rolling: Promise<void> | undefined
  /** Writing a snapshot and removing what it makes obsolete. */
  #snapshotting: Promise<void> | undefined
  #closed = false

  private constructor (dir: string, handle: FileHandle, size: number, records: number, options: WalJournalOptions) {
    this.#dir = dir
    this.#handle = handle
    this.#size = size
    this.#records = records
    this.#snapshotEvery = options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY
    if (!Number.isSafeInteger(this.#snapshotEvery) || this.#snapshotEvery < 1) {
      throw new RangeError(`snapshotEvery must be a positive integer, got ${this.#snapshotEvery}`)
    }
    this.#warn = options.onWarning ?? (() => {})
  }

  /** Continues the recovered tail segment, or starts one for revision+1. */
  static async open (dir: string, tail: TailSegment | undefined, revision: number, options: WalJournalOptions = {}): Promise<WalJournal> {
    if (tail !== undefined) {
      const handle = await open(pathIn(dir, tail.name), 'r+')
      return new WalJournal(dir, handle, tail.size, tail.records, options)
    }
    return new WalJournal(dir, await createSegment(dir, revision + 1), 0, 0, options)
  }

  async commit (records: readonly WalRecord[]): Promise<void> {
    if (this.#closed) throw new Error('journal is closed')
    if (this.#rolling !== undefined) {
      const rolling = this.#rolling
      this.#rolling = undefined
      await rolling
    }
    const bytes = Buffer.concat(records.map(encodeRecord))
    await writeAll(this.#handle, bytes, this.#size)
    await this.#handle.datasync()
    this.#size += bytes.length
    this.#records += records.length
  }

  applied (state: AppliedState): void {
    if (this.#records < this.#snapshotEvery || this.#snapshotting !== undefined || this.#closed) return
    const snapshot = state.snapshot()
    this.#rolling = this.#roll(snapshot.revision + 1)
    this.#snapshotting = this.#rolling
      .then(async () => await this.#snapshot(snapshot))
      .catch(err => this.#warn(`snapshot at revision ${snapshot.revision} failed; the WAL keeps everything`, err))
      .finally(() => { this.#snapshotting = undefined })
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#rolling?.catch(() => {})
    await this.#snapshotting
    await this.#handle.close()
  }

  /** Seals the current segment (every record in it is already fsynced) and starts the next. */
  async #roll (firstRevision: number): Promise<void> {
    const next = await createSegment(this.#dir, firstRevision)
    const previous = this.#handle
    this.#handle = next
    this.#size = 0
    this.#records = 0
    await previous.close()
  }

  async #snapshot (snapshot: Snapshot): Promise<void> {
    await writeSnapshot(this.#dir, snapshot)
    await this.#removeObsolete()
  }

  async #removeObsolete (): Promise<void> {
    const { snapshots, segments } = await listStoreDir(this.#dir)
    const fallback = snapshots.at(-2)
    if (fallback === undefined) return // first snapshot: the fallback is a replay from the empty store
    const obsolete: string[] = snapshots.slice(0, -2).map(s => s.name)
    segments.forEach((segment, i) => {
      const next = segments[i + 1]
      // Every record of this segment is at or below the fallback snapshot.
      if (next !== undefined && next.firstRevision <= fallback.revision + 1) obsolete.push(segment.name)
    })
    if (obsolete.length === 0) return
    for (const name of obsolete) await unlink(pathIn(this.#dir, name))
    await fsyncDir(this.#dir)
  }
}

/** A new, empty segment whose directory entry is durable before anything is written to it. */
async function createSegment (dir: string, firstRevision: number): Promise<FileHandle> {
  const handle = await open(pathIn(dir, segmentName(firstRevision)), 'wx')
  try {
    await fsyncDir(dir)
  } catch (err) {
    await handle.close()
    throw err
  }
  return handle
}

async function writeAll (handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done)
    if (bytesWritten === 0) throw new Error('write made no progress')
    done += bytesWritten
  }
}
