// Time for the control loops, behind a two-method interface.
//
// Why: every timed rule of the controllers (minReadySeconds, progress
// deadlines, node grace periods, eviction after a toleration, retry backoff)
// reads the time and sets timers only through a Clock, so tests drive time
// with a manual clock instead of sleeping, and pure reconcile functions take
// `now` as a plain number.

/** Milliseconds since the epoch, and one-shot timers. */
export interface Clock {
  now(): number
  /** Calls `fn` once after `ms` milliseconds; the result cancels it. */
  setTimer(ms: number, fn: () => void): () => void
}

/** The real clock; timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, Math.max(0, ms))
    timer.unref()
    return () => clearTimeout(timer)
  },
}

/** A metav1.Time as the API writes it: RFC 3339, whole seconds, UTC. */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Parses a metav1.Time; undefined when absent or unreadable. */
export function parseTime(text: unknown): number | undefined {
  if (typeof text !== 'string' || text === '') return undefined
  const ms = Date.parse(text)
  return Number.isNaN(ms) ? undefined : ms
}
