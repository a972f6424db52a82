// The store's logic, shared by every implementation: keys, revisions,
// preconditions, serialized mutations, group commit, history and watch.
//
// How a mutation flows:
// 1. Synchronously, at call time, it is validated against the *pending* view
//    (the applied state plus every accepted, not yet durable mutation) and
//    given the next revision. So mutations are serialized in call order and
//    each sees the previous one's result, without waiting for the disk.
// 2. It joins the queue. One commit loop hands everything queued to the
//    journal as one batch (one write + one fsync for the durable store: group
//    commit) while the next batch accumulates.
// 3. Once the batch is durable, its mutations are applied in revision order:
//    state, history and watchers change, then each caller's promise resolves.
//    Readers and watchers therefore never see anything that is not durable.
// If the journal fails, the store stops accepting writes (fail-stop): the WAL
// may hold part of the failed batch, and only a reopen (replay) knows what.

import { EventHistory } from './event-history.ts'
import { nullJournal } from './journal.ts'
import type { Journal } from './journal.ts'
import { copyInput, restamp, stamp } from './object-copy.ts'
import type { Snapshot } from './snapshot-file.ts'
import {
  AlreadyExistsError, ClosedError, ConflictError, CorruptError, InvalidArgumentError,
  NotFoundError, UnavailableError
} from './store.ts'
import type {
  ListResult, Preconditions, Store, StoreObject, StoredObject, WatchCallback, WatchEvent,
  WatchHandle, WatchOptions
} from './store.ts'
import type { RecordAt, WalRecord } from './wal-record.ts'
import { WatchHub } from './watch-hub.ts'

export const DEFAULT_HISTORY_SIZE = 10_000

export interface EngineOptions {
  /** Events kept in memory for watches that resume from a revision (default 10,000). */
  historySize?: number
}

/** Where an engine starts: an empty store, or a recovered snapshot plus WAL records after it. */
export interface EngineStart {
  snapshot?: Snapshot
  records?: Iterable<RecordAt>
}

interface Entry { object: StoredObject, revision: number }

interface Pending {
  record: WalRecord
  resolve(object: StoredObject): void
  reject(error: unknown): void
}

export class StoreEngine implements Store {
  readonly #journal: Journal
  readonly #entries = new Map<string, Entry>()
  /** Keys changed by accepted, not yet applied mutations (undefined = deleted). */
  readonly #pending = new Map<string, { entry: Entry | undefined, revision: number }>()
  readonly #history: EventHistory
  readonly #hub = new WatchHub()
  #revision: number // last applied (visible) revision
  #assigned: number // last revision handed to a mutation
  #queue: Pending[] = []
  #committing = false
  #whenIdle: Array<() => void> = []
  #failure: UnavailableError | undefined
  #closing: Promise<void> | undefined

  constructor (journal: Journal = nullJournal, options: EngineOptions = {}, start: EngineStart = {}) {
    this.#journal = journal
    const snapshot = start.snapshot
    this.#revision = snapshot?.revision ?? 1
    for (const { key, revision, object } of snapshot?.entries ?? []) this.#entries.set(key, { object, revision })
    // Without a snapshot the history reaches back to the empty store: nothing was ever lost.
    this.#history = new EventHistory(options.historySize ?? DEFAULT_HISTORY_SIZE, snapshot?.revision ?? 0)
    for (const { record, file, offset } of start.records ?? []) {
      try {
        this.#apply(record)
      } catch (err) {
        throw new CorruptError(file, offset, (err as Error).message)
      }
    }
    this.#assigned = this.#revision
  }

  // ---- reads ---------------------------------------------------------------

  async get (key: string): Promise<StoredObject | undefined> {
    this.#assertReadable()
    checkKey(key)
    return this.#entries.get(key)?.object
  }

  async list (prefix: string): Promise<ListResult> {
    this.#assertReadable()
    checkPrefix(prefix)
    const keys: string[] = []
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) keys.push(key)
    keys.sort()
    const items = keys.map(key => (this.#entries.get(key) as Entry).object)
    return { items, revision: this.#revision }
  }

  async revision (): Promise<number> {
    this.#assertReadable()
    return this.#revision
  }

  async watch (prefix: string, options: WatchOptions, onEvent: WatchCallback): Promise<WatchHandle> {
    this.#assertReadable()
    checkPrefix(prefix)
    if (typeof onEvent !== 'function') throw new InvalidArgumentError('watch needs an onEvent callback')
    const from = options.fromRevision
    if (from === undefined) return this.#hub.add(prefix, this.#revision, [], onEvent)
    checkRevision('fromRevision', from)
    // since() throws Gone; replay and registration happen in this same tick.
    return this.#hub.add(prefix, from, this.#history.since(from), onEvent)
  }

  // ---- writes --------------------------------------------------------------

  create (key: string, object: StoreObject): Promise<StoredObject> {
    return this.#mutate(() => {
      checkKey(key)
      const copy = copyInput(object)
      if (this.#current(key) !== undefined) throw new AlreadyExistsError(key)
      const revision = this.#assigned + 1
      return { revision, op: 'put', key, object: stamp(copy, revision) }
    })
  }

  update (key: string, object: StoreObject, preconditions: Preconditions = {}): Promise<StoredObject> {
    return this.#mutate(() => {
      checkKey(key)
      const copy = copyInput(object)
      checkPreconditions(key, this.#current(key), preconditions)
      const revision = this.#assigned + 1
      return { revision, op: 'put', key, object: stamp(copy, revision) }
    })
  }

  delete (key: string, preconditions: Preconditions = {}): Promise<StoredObject> {
    return this.#mutate(() => {
      checkKey(key)
      checkPreconditions(key, this.#current(key), preconditions)
      return { revision: this.#assigned + 1, op: 'delete', key }
    })
  }

  // ---- lifecycle -----------------------------------------------------------

  close (): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close (): Promise<void> {
    if (this.#committing) await new Promise<void>(resolve => this.#whenIdle.push(resolve))
    this.#hub.endAll({ reason: 'closed' })
    await this.#journal.close()
  }

  /** The whole applied state (for snapshots and tests). */
  protected snapshot (): Snapshot {
    const entries = []
    for (const [key, { revision, object }] of this.#entries) entries.push({ key, revision, object })
    return { revision: this.#revision, entries }
  }

  // ---- internals -----------------------------------------------------------

  /** The key's entry as the next mutation must see it: pending changes first. */
  #current (key: string): Entry | undefined {
    const pending = this.#pending.get(key)
    return pending !== undefined ? pending.entry : this.#entries.get(key)
  }

  /** Validates and orders a mutation now; settles once it is durable and applied. */
  #mutate (build: () => WalRecord): Promise<StoredObject> {
    let record: WalRecord
    try {
      this.#assertWritable()
      record = build()
    } catch (err) {
      return Promise.reject(err)
    }
    this.#assigned = record.revision
    const entry = record.op === 'put' ? { object: record.object, revision: record.revision } : undefined
    this.#pending.set(record.key, { entry, revision: record.revision })
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, resolve, reject })
      if (!this.#committing) {
        this.#committing = true
        // Start after the current tick so that callers firing many mutations
        // at once (Promise.all) share the first fsync too.
        queueMicrotask(() => { void this.#commitLoop() })
      }
    })
  }

  async #commitLoop (): Promise<void> {
    while (this.#queue.length > 0 && this.#failure === undefined) {
      const batch = this.#queue
      this.#queue = []
      try {
        await this.#journal.commit(batch.map(p => p.record))
      } catch (err) {
        this.#fail(err, batch)
        break
      }
      for (const pending of batch) {
        let event: WatchEvent
        try {
          event = this.#apply(pending.record)
        } catch (err) { // a bug: the pending view and the applied state disagree
          this.#fail(err, batch.slice(batch.indexOf(pending)))
          break
        }
        pending.resolve(event.object)
      }
      if (this.#failure !== undefined) break
      try {
        this.#journal.applied({ revision: this.#revision, snapshot: () => this.snapshot() })
      } catch (err) {
        this.#fail(err, [])
      }
    }
    this.#committing = false
    for (const resolve of this.#whenIdle.splice(0)) resolve()
  }

  /** Applies one durable record: state, history, watchers. Throws if it does not fit. */
  #apply (record: WalRecord): WatchEvent {
    const { key, revision } = record
    if (revision !== this.#revision + 1) {
      throw new Error(`revision ${revision} does not follow ${this.#revision}`)
    }
    const previous = this.#entries.get(key)
    let event: WatchEvent
    if (record.op === 'put') {
      this.#entries.set(key, { object: record.object, revision })
      event = { type: previous === undefined ? 'ADDED' : 'MODIFIED', key, object: record.object, revision }
    } else {
      if (previous === undefined) throw new Error(`revision ${revision} deletes missing key ${key}`)
      this.#entries.delete(key)
      event = { type: 'DELETED', key, object: restamp(previous.object, revision), revision }
    }
    this.#revision = revision
    if (this.#pending.get(key)?.revision === revision) this.#pending.delete(key)
    this.#history.push(event)
    this.#hub.publish(event)
    return event
  }

  #fail (cause: unknown, batch: Pending[]): void {
    const message = cause instanceof Error ? cause.message : String(cause)
    this.#failure = new UnavailableError(`store write failed, no further writes accepted: ${message}`, { cause })
    for (const pending of [...batch, ...this.#queue.splice(0)]) pending.reject(this.#failure)
    this.#pending.clear()
  }

  #assertReadable (): void {
    if (this.#closing !== undefined) throw new ClosedError()
  }

  #assertWritable (): void {
    this.#assertReadable()
    if (this.#failure !== undefined) throw this.#failure
  }
}

/** Kubernetes keys are a few hundred bytes at most; this bounds WAL records. */
const MAX_KEY_LENGTH = 4096

function checkKey (key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw new InvalidArgumentError('key must be a non-empty string')
  if (key.length > MAX_KEY_LENGTH) throw new InvalidArgumentError(`key longer than ${MAX_KEY_LENGTH} characters`)
}

function checkPrefix (prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') throw new InvalidArgumentError('prefix must be a string')
}

function checkRevision (name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${String(value)}`)
  }
}

function checkPreconditions (key: string, current: Entry | undefined, preconditions: Preconditions): Entry {
  if (current === undefined) throw new NotFoundError(key)
  const expected = preconditions.expectedRevision
  if (expected !== undefined) {
    checkRevision('expectedRevision', expected)
    if (expected !== current.revision) throw new ConflictError(key, expected, current.revision)
  }
  return current
}
