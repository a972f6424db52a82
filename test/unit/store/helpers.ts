// Test helpers for the store tests: temp directories, event collection
// (waiting on a condition, never on a timer) and error matching.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { Store, WatchEvent, WatchHandle, WatchOptions } from '../../../control/store/store.ts'

/** The type of the `t` a subtest callback receives. */
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

/** A fresh directory under the OS temp dir, removed when the test ends. */
export function tempDir (t: TapTest, label = 'store'): string {
  const dir = mkdtempSync(join(tmpdir(), `kubewire-${label}-`))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export interface Collector {
  events: WatchEvent[]
  handle: WatchHandle
  /** Resolves once at least n events have arrived. */
  waitFor(n: number): Promise<WatchEvent[]>
  /** Resolves once the events received so far satisfy the condition. */
  until(condition: (events: WatchEvent[]) => boolean): Promise<WatchEvent[]>
}

export async function collect (store: Store, prefix: string, options: WatchOptions = {}): Promise<Collector> {
  const events: WatchEvent[] = []
  const waiters: Array<{ condition: (events: WatchEvent[]) => boolean, resolve: (events: WatchEvent[]) => void }> = []
  const handle = await store.watch(prefix, options, event => {
    events.push(event)
    for (const waiter of [...waiters]) {
      if (waiter.condition(events)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(events)
      }
    }
  })
  const until = async (condition: (events: WatchEvent[]) => boolean): Promise<WatchEvent[]> => {
    if (condition(events)) return events
    return await new Promise(resolve => waiters.push({ condition, resolve }))
  }
  return { events, handle, until, waitFor: async n => await until(e => e.length >= n) }
}

/** A compact, comparable view of events. */
export function summary (events: WatchEvent[]): string[] {
  return events.map(e => `${e.type} ${e.key} ${e.revision} rv=${e.object.metadata.resourceVersion}`)
}

export function range (from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}
