// The in-memory store, for controller and API unit tests.
//
// It is the shared engine with a journal that persists nothing, so it keeps
// every behaviour of the durable store that a test can observe: revisions,
// preconditions, serialized mutations that resolve asynchronously, history
// and Gone, frozen results. Only durability is missing.

import { nullJournal } from './journal.ts'
import { StoreEngine } from './store-engine.ts'
import type { EngineOptions } from './store-engine.ts'

export type MemoryStoreOptions = EngineOptions

export class MemoryStore extends StoreEngine {
  constructor (options: MemoryStoreOptions = {}) {
    super(nullJournal, options)
  }
}
