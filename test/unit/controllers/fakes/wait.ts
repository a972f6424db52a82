// Waiting on conditions, never on timers: each turn yields to the event loop
// once (setImmediate), which is when fake watch events are delivered.

import type { FakeApi } from './fake-api.ts'

const turn = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))

/** Resolves once `condition()` holds; rejects after `maxTurns` event-loop turns. */
export async function until(condition: () => boolean, what = 'condition', maxTurns = 20_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (condition()) return
    await turn()
  }
  throw new Error(`gave up waiting for ${what}`)
}

/**
 * Resolves once the system is quiet: no API writes, no undelivered watch
 * events and every loop idle, for several turns in a row.
 */
export async function settle(api: FakeApi, idle: () => boolean = () => true, maxTurns = 50_000): Promise<void> {
  let quiet = 0
  let writes = api.writes
  for (let i = 0; i < maxTurns; i++) {
    await turn()
    if (api.writes === writes && api.pendingDeliveries() === 0 && idle()) {
      if (++quiet >= 10) return
    } else {
      quiet = 0
      writes = api.writes
    }
  }
  throw new Error('the system did not settle')
}
