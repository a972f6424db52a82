// Where a data-path thread runs, decided from how busy it is. Pure: the
// worker feeds it times and applies what it says (datapath-worker.ts).
//
// Two modes, because latency and throughput want opposite things:
//   - latency (light traffic, the usual case): every node's data path on one
//     shared CPU at SCHED_FIFO. A ping crosses three data paths in turn, and
//     a wake-up on the CPU that is already awake costs a few microseconds
//     where waking an idle virtual CPU costs 40-90 us; real-time priority
//     keeps a packet from waiting behind an agent's time slice.
//   - throughput (a data path busy for more than half of a window): back to
//     all CPUs and the normal scheduler. A bulk transfer keeps both halves of
//     the path busy, one CPU cannot carry both, and busy real-time threads
//     would starve the very processes that produce the traffic.
// Busy is the share of a window not spent asleep in poll(): time spent
// waiting for the CPU counts as busy, which is the point (two data paths
// sharing one CPU under load each look half busy or more). Two thresholds
// apart keep a load near one of them from flapping the mode every window.

export type PlacementMode = 'latency' | 'throughput'

export interface PlacementOptions {
  /** Length of one measurement window (ms). */
  windowMs?: number
  /** Latency -> throughput when a window is busier than this (0..1). */
  spreadAbove?: number
  /** Throughput -> latency when a window is less busy than this (0..1). */
  gatherBelow?: number
}

export class PlacementGovernor {
  mode: PlacementMode = 'latency'
  /** Busy share of the last finished window. */
  lastBusy = 0
  readonly #windowMs: number
  readonly #spreadAbove: number
  readonly #gatherBelow: number
  #windowStart: number
  #slept = 0

  constructor(now: number, options: PlacementOptions = {}) {
    this.#windowMs = options.windowMs ?? 100
    this.#spreadAbove = options.spreadAbove ?? 0.5
    this.#gatherBelow = options.gatherBelow ?? 0.2
    if (!(this.#gatherBelow < this.#spreadAbove)) throw new RangeError('gatherBelow must be below spreadAbove')
    this.#windowStart = now
  }

  /** The thread slept `ms` in poll() (within the current window). */
  slept(ms: number): void {
    this.#slept += ms
  }

  /**
   * Call once per loop turn. At the end of a window, returns the new mode if
   * it changes; otherwise undefined.
   */
  tick(now: number): PlacementMode | undefined {
    const elapsed = now - this.#windowStart
    if (elapsed < this.#windowMs) return undefined
    const busy = 1 - Math.min(this.#slept, elapsed) / elapsed
    this.#windowStart = now
    this.#slept = 0
    this.lastBusy = busy
    const next: PlacementMode = this.mode === 'latency'
      ? (busy > this.#spreadAbove ? 'throughput' : 'latency')
      : (busy < this.#gatherBelow ? 'latency' : 'throughput')
    if (next === this.mode) return undefined
    this.mode = next
    return next
  }
}
