// When a probe runs and what its results mean, as the kubelet's prober does:
// nothing before initialDelaySeconds, then one run per periodSeconds; the
// result flips to success after successThreshold consecutive successes and to
// failure after failureThreshold consecutive failures. Pure: the caller runs
// the probe and passes the clock, so the timing rules are table-tested.

export interface ProbeTiming {
  initialDelaySeconds?: number
  periodSeconds?: number
  timeoutSeconds?: number
  successThreshold?: number
  failureThreshold?: number
}

export type ProbeResult = 'unknown' | 'success' | 'failure'

export const PROBE_DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 }

export class ProbeTracker {
  readonly timing: Required<ProbeTiming>
  private nextRunAt: number
  private successes = 0
  private failures = 0
  private running = false
  result: ProbeResult
  /** The message of the last failed run, for events ("Liveness probe failed: ..."). */
  lastFailure = ''

  /** `startedAt` in ms: when the container started. `initial`: the result before any run. */
  constructor(timing: ProbeTiming, startedAt: number, initial: ProbeResult = 'unknown') {
    this.timing = { ...PROBE_DEFAULTS, ...stripUndefined(timing) }
    this.nextRunAt = startedAt + this.timing.initialDelaySeconds * 1000
    this.result = initial
  }

  get timeoutMs(): number {
    return this.timing.timeoutSeconds * 1000
  }

  /** True if a run is due at `now` and none is in flight. */
  due(now: number): boolean {
    return !this.running && now >= this.nextRunAt
  }

  /** Milliseconds until the next run is due (0 if due). */
  msUntilDue(now: number): number {
    return Math.max(0, this.nextRunAt - now)
  }

  begin(now: number): void {
    this.running = true
    this.nextRunAt = now + this.timing.periodSeconds * 1000
  }

  /** Record a finished run; returns the new result if it changed. */
  record(ok: boolean, message = ''): ProbeResult | undefined {
    this.running = false
    if (ok) {
      this.failures = 0
      this.successes++
      if (this.result !== 'success' && this.successes >= this.timing.successThreshold) return this.set('success')
    } else {
      this.lastFailure = message
      this.successes = 0
      this.failures++
      if (this.result !== 'failure' && this.failures >= this.timing.failureThreshold) return this.set('failure')
    }
    return undefined
  }

  private set(result: ProbeResult): ProbeResult {
    this.result = result
    return result
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>
}
