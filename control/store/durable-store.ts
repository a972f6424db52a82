// The default store: the shared engine over a write-ahead log in a directory.
//
// open() takes the directory's lock, recovers (newest valid snapshot + WAL
// replay, torn tail cut off) and continues the WAL. After a restart the
// revision, every object and its resourceVersion are exactly what they were,
// and watches can resume from any revision since the snapshot recovery
// started from (older ones get Gone, as after a compaction).

import { mkdir } from 'node:fs/promises'
import { acquireDirLock } from './lock-file.ts'
import type { DirLock } from './lock-file.ts'
import { recoverStoreDir } from './recovery.ts'
import type { RecoveryReport } from './recovery.ts'
import { StoreEngine } from './store-engine.ts'
import type { EngineOptions, EngineStart } from './store-engine.ts'
import { WalJournal } from './wal-journal.ts'
import type { WalJournalOptions } from './wal-journal.ts'

export type DurableStoreOptions = EngineOptions & WalJournalOptions

export class DurableStore extends StoreEngine {
  readonly dir: string
  /** What open() found and repaired. */
  readonly recovery: RecoveryReport
  readonly #lock: DirLock
  #closed: Promise<void> | undefined

  private constructor (dir: string, lock: DirLock, journal: WalJournal, options: DurableStoreOptions, start: EngineStart, recovery: RecoveryReport) {
    super(journal, options, start)
    this.dir = dir
    this.#lock = lock
    this.recovery = recovery
  }

  /** Opens (creating if needed) the store in dir. Rejects with Locked or Corrupt. */
  static async open (dir: string, options: DurableStoreOptions = {}): Promise<DurableStore> {
    await mkdir(dir, { recursive: true })
    const lock = await acquireDirLock(dir)
    let journal: WalJournal | undefined
    try {
      const recovered = await recoverStoreDir(dir)
      journal = await WalJournal.open(dir, recovered.tail, recovered.revision, options)
      const start = { snapshot: recovered.snapshot, records: recovered.records }
      return new DurableStore(dir, lock, journal, options, start, recovered.report)
    } catch (err) {
      await journal?.close().catch(() => {})
      await lock.release().catch(() => {})
      throw err
    }
  }

  override close (): Promise<void> {
    this.#closed ??= super.close().finally(async () => { await this.#lock.release() })
    return this.#closed
  }
}
