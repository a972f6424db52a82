// Container restart back-off as the kubelet does it: 10 s after the first
// crash, doubling per crash up to 5 minutes, forgotten after the container has
// run for 10 minutes. While waiting, the container shows CrashLoopBackOff.

export const BACKOFF_INITIAL_MS = 10_000
export const BACKOFF_MAX_MS = 300_000
export const BACKOFF_RESET_AFTER_MS = 600_000

export class RestartBackoff {
  private delayMs = 0

  constructor(
    private readonly initialMs = BACKOFF_INITIAL_MS,
    private readonly maxMs = BACKOFF_MAX_MS,
    private readonly resetAfterMs = BACKOFF_RESET_AFTER_MS,
  ) {}

  /** The container exited after running `ranForMs`: how long to wait before starting it again. */
  next(ranForMs: number): number {
    if (ranForMs >= this.resetAfterMs) this.delayMs = 0
    this.delayMs = this.delayMs === 0 ? this.initialMs : Math.min(this.delayMs * 2, this.maxMs)
    return this.delayMs
  }
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never'

export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0)
}
