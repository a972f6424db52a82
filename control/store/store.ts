// The store contract: what the API server needs from "etcd", and nothing more.
//
// Why this shape:
// - One global revision (like etcd's main revision). It is 1 on an empty store
//   and grows by exactly one per successful mutation, so an object's revision
//   is also its Kubernetes resourceVersion and a list's revision is a point a
//   watch can resume from without gaps.
// - The store itself writes metadata.resourceVersion into every object it
//   stores and returns; callers never compute it.
// - Everything that touches data is async, reads included. An etcd-backed
//   store needs a round trip for a read as much as for a write, so a sync read
//   API could not be implemented by it; the in-memory stores pay one microtask.
// - Objects handed out are deep-frozen and shared (between readers, events and
//   watchers). Copy before changing one (structuredClone).
// - Errors are small classes carrying a `code`: callers branch on the code, the
//   API layer maps it to an HTTP status (Gone → 410, Conflict → 409, ...).

/** Metadata fields the store looks at; any others pass through untouched. */
export interface ObjectMeta {
  resourceVersion?: string
  [field: string]: unknown
}

/** What callers hand in: a JSON object (a Kubernetes object, usually). */
export interface StoreObject {
  metadata?: ObjectMeta
  [field: string]: unknown
}

/** What the store hands out: deep-frozen, resourceVersion always set. */
export interface StoredObject extends StoreObject {
  metadata: ObjectMeta & { resourceVersion: string }
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface WatchEvent {
  type: WatchEventType
  key: string
  /** For DELETED: the last state, its resourceVersion being the deletion's revision. */
  object: StoredObject
  /** The mutation's revision; equals Number(object.metadata.resourceVersion). */
  revision: number
}

export interface ListResult {
  /** Sorted by key. */
  items: StoredObject[]
  /** The store's revision at the moment of the list: watch from here for what follows. */
  revision: number
}

export interface Preconditions {
  /** Fail with Conflict unless the object's current revision is exactly this. */
  expectedRevision?: number
}

export interface WatchOptions {
  /**
   * Deliver every event with revision > fromRevision. Absent: from now on.
   * Older than the store's history window: the watch fails with Gone.
   */
  fromRevision?: number
}

export type WatchEndReason = 'stopped' | 'closed' | 'error'

export interface WatchEnd {
  reason: WatchEndReason
  /** For 'error': what the onEvent callback threw. */
  error?: unknown
}

export interface WatchHandle {
  /** Ends the watch; no event is delivered after stop() returns. Idempotent. */
  stop(): void
  /** Settles when the watch ends: stop(), store closed, or onEvent threw. */
  readonly done: Promise<WatchEnd>
}

export type WatchCallback = (event: WatchEvent) => void

export interface Store {
  /** The object at key, or undefined. */
  get(key: string): Promise<StoredObject | undefined>
  /** Objects whose key starts with prefix, sorted by key, and the current revision. */
  list(prefix: string): Promise<ListResult>
  /** Stores a new object. AlreadyExists if the key is taken. */
  create(key: string, object: StoreObject): Promise<StoredObject>
  /** Replaces an object. NotFound if absent; Conflict if expectedRevision differs. */
  update(key: string, object: StoreObject, preconditions?: Preconditions): Promise<StoredObject>
  /** Removes an object and returns its last state stamped with the deletion's revision. */
  delete(key: string, preconditions?: Preconditions): Promise<StoredObject>
  /**
   * Calls onEvent for every mutation under prefix with revision > fromRevision:
   * first those still in history, then live ones, in revision order, each once.
   * Rejects with Gone when fromRevision is older than the history window.
   */
  watch(prefix: string, options: WatchOptions, onEvent: WatchCallback): Promise<WatchHandle>
  /** The revision of the last applied mutation (1 on an empty store). */
  revision(): Promise<number>
  /** Finishes accepted mutations, ends every watch, releases resources. Idempotent. */
  close(): Promise<void>
}

export type StoreErrorCode =
  | 'AlreadyExists'
  | 'NotFound'
  | 'Conflict'
  | 'Gone'
  | 'InvalidArgument'
  | 'Closed'
  | 'Unavailable'
  | 'Corrupt'
  | 'Locked'

export class StoreError extends Error {
  readonly code: StoreErrorCode
  constructor (code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = `StoreError[${code}]`
  }
}

export class AlreadyExistsError extends StoreError {
  readonly key: string
  constructor (key: string) {
    super('AlreadyExists', `key already exists: ${key}`)
    this.key = key
  }
}

export class NotFoundError extends StoreError {
  readonly key: string
  constructor (key: string) {
    super('NotFound', `key not found: ${key}`)
    this.key = key
  }
}

export class ConflictError extends StoreError {
  readonly key: string
  readonly expectedRevision: number
  readonly actualRevision: number
  constructor (key: string, expectedRevision: number, actualRevision: number) {
    super('Conflict', `revision mismatch for ${key}: expected ${expectedRevision}, current ${actualRevision}`)
    this.key = key
    this.expectedRevision = expectedRevision
    this.actualRevision = actualRevision
  }
}

/** A watch asked for history the store no longer has (HTTP 410). */
export class GoneError extends StoreError {
  readonly requestedRevision: number
  readonly oldestRevision: number
  constructor (requestedRevision: number, oldestRevision: number) {
    // Same wording as the Kubernetes API server, which clients recognise.
    super('Gone', `too old resource version: ${requestedRevision} (${oldestRevision})`)
    this.requestedRevision = requestedRevision
    this.oldestRevision = oldestRevision
  }
}

export class InvalidArgumentError extends StoreError {
  constructor (message: string) {
    super('InvalidArgument', message)
  }
}

export class ClosedError extends StoreError {
  constructor () {
    super('Closed', 'store is closed')
  }
}

/** Persisting failed; the store accepts no more writes (fail-stop, reopen to recover). */
export class UnavailableError extends StoreError {
  constructor (message: string, options?: ErrorOptions) {
    super('Unavailable', message, options)
  }
}

/** On-disk data that cannot be trusted; names the file and byte offset. */
export class CorruptError extends StoreError {
  readonly file: string
  readonly offset: number
  constructor (file: string, offset: number, detail: string) {
    super('Corrupt', `${file} at offset ${offset}: ${detail}`)
    this.file = file
    this.offset = offset
  }
}

/** Another live process (or another store in this process) owns the directory. */
export class LockedError extends StoreError {
  readonly lockFile: string
  readonly pid: number | undefined
  constructor (lockFile: string, pid: number | undefined, detail?: string) {
    super('Locked', `${lockFile} is held${pid === undefined ? '' : ` by pid ${pid}`}${detail === undefined ? '' : `: ${detail}`}`)
    this.lockFile = lockFile
    this.pid = pid
  }
}
