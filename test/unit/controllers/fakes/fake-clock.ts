// A manual clock: time moves only when a test calls advance(), which fires
// the timers that fall due, in order, each at its own time.

import type { Clock } from '../../../../control/controllers/clock.ts'

interface Timer {
  at: number
  seq: number
  fn: () => void
}

export class FakeClock implements Clock {
  private current: number
  private seq = 0
  private timers: Timer[] = []

  constructor(start = Date.parse('2025-01-01T00:00:00Z')) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: Timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn }
    this.timers.push(timer)
    return () => {
      this.timers = this.timers.filter(t => t !== timer)
    }
  }

  /** Moves time forward by `ms`, firing due timers (and timers they set) in order. */
  advance(ms: number): void {
    const end = this.current + ms
    for (;;) {
      const due = this.timers
        .filter(t => t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!due) break
      this.timers = this.timers.filter(t => t !== due)
      this.current = Math.max(this.current, due.at)
      due.fn()
    }
    this.current = end
  }

  /** Timers not yet fired. */
  pending(): number {
    return this.timers.length
  }
}
