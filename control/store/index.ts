// The store's public surface: the contract, and its two implementations.
export * from './store.ts'
export { MemoryStore } from './memory-store.ts'
export type { MemoryStoreOptions } from './memory-store.ts'
export { DurableStore } from './durable-store.ts'
export type { DurableStoreOptions } from './durable-store.ts'
export type { RecoveryReport } from './recovery.ts'
export { DEFAULT_HISTORY_SIZE } from './store-engine.ts'
export { DEFAULT_SNAPSHOT_EVERY } from './wal-journal.ts'
