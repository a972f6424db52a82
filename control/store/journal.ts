// Where a store engine persists its mutations.
//
// Why an interface: the engine (validation, revisions, state, watch) is the
// same for every store; only "make this batch durable" differs. The memory
// store's journal does nothing, the durable store's appends to its WAL and
// fsyncs once per batch. The engine calls commit() with one batch at a time
// and applies the batch only after it resolves, so nothing is visible to
// readers or watchers before it is durable.

import type { Snapshot } from './snapshot-file.ts'
import type { WalRecord } from './wal-record.ts'

export interface AppliedState {
  readonly revision: number
  /** The whole state at `revision`; objects are frozen and shared, so this is cheap. */
  snapshot(): Snapshot
}

export interface Journal {
  /** Makes the records durable, in order. A rejection fails the store (fail-stop). */
  commit(records: readonly WalRecord[]): Promise<void>
  /** Called after each committed batch has been applied (the durable store snapshots here). */
  applied(state: AppliedState): void
  /** Called once, after the last commit has settled. */
  close(): Promise<void>
}

export const nullJournal: Journal = {
  async commit () {},
  applied () {},
  async close () {}
}
