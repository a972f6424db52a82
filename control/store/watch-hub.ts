// Fan-out of applied events to watchers, each in order and exactly once.
//
// Why a queue per watcher: registration (replay of history + joining the live
// stream) happens in one synchronous step, so no event can fall between the
// two or be seen twice. Delivery is then deferred to a microtask, so a
// callback never runs inside a store mutation (it may itself call the store),
// and stop() can drop whatever is still queued.

import type { WatchCallback, WatchEnd, WatchEvent, WatchHandle } from './store.ts'

interface Watcher {
  prefix: string
  /** Only events with a greater revision are delivered. */
  after: number
  onEvent: WatchCallback
  queue: WatchEvent[]
  scheduled: boolean
  ended: boolean
  end(result: WatchEnd): void
}

export class WatchHub {
  readonly #watchers = new Set<Watcher>()

  /**
   * Registers a watcher that first receives `replay`, then every published
   * event under prefix; in both, only events with revision > after.
   */
  add (prefix: string, after: number, replay: WatchEvent[], onEvent: WatchCallback): WatchHandle {
    let settle!: (result: WatchEnd) => void
    const done = new Promise<WatchEnd>(resolve => { settle = resolve })
    const watcher: Watcher = {
      prefix,
      after,
      onEvent,
      queue: [],
      scheduled: false,
      ended: false,
      end: (result) => {
        if (watcher.ended) return
        watcher.ended = true
        watcher.queue = []
        this.#watchers.delete(watcher)
        settle(result)
      }
    }
    this.#watchers.add(watcher)
    for (const event of replay) this.#offer(watcher, event)
    return { stop: () => watcher.end({ reason: 'stopped' }), done }
  }

  publish (event: WatchEvent): void {
    for (const watcher of this.#watchers) this.#offer(watcher, event)
  }

  /** Ends every watch (store closing); queued events are not delivered. */
  endAll (result: WatchEnd): void {
    for (const watcher of [...this.#watchers]) watcher.end(result)
  }

  get size (): number {
    return this.#watchers.size
  }

  #offer (watcher: Watcher, event: WatchEvent): void {
    if (event.revision <= watcher.after || !event.key.startsWith(watcher.prefix)) return
    watcher.queue.push(event)
    if (watcher.scheduled) return
    watcher.scheduled = true
    queueMicrotask(() => this.#drain(watcher))
  }

  #drain (watcher: Watcher): void {
    // Events published by a callback during this loop are appended to the
    // same queue (scheduled is still true) and delivered here, in order.
    for (let i = 0; !watcher.ended && i < watcher.queue.length; i++) {
      const event = watcher.queue[i]
      if (event === undefined) continue
      try {
        watcher.onEvent(event)
      } catch (error) {
        watcher.end({ reason: 'error', error })
      }
    }
    watcher.queue = []
    watcher.scheduled = false
  }
}
