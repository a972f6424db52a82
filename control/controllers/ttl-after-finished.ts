// The TTL-after-finished controller's decision, pure
// (pkg/controller/ttlafterfinished in Kubernetes): when a finished Job with
// spec.ttlSecondsAfterFinished is due for deletion.
//
// A Job is finished when its Complete or Failed condition is True; it
// finished at its completionTime (Complete) or the Failed condition's
// lastTransitionTime, and expires ttlSecondsAfterFinished later. A Job
// already being deleted is left alone.

import type { Job } from './job.ts'
import { isJobFinished, jobFinishTime } from './job.ts'

export type TtlDecision =
  | { action: 'none' }
  | { action: 'wait'; ms: number }
  | { action: 'delete' }

/** Whether the controller has anything to do with `job` (needsCleanup). */
export function needsCleanup(job: Job): boolean {
  const ttl = job.spec?.ttlSecondsAfterFinished
  return typeof ttl === 'number' && !job.metadata.deletionTimestamp && isJobFinished(job)
}

/** What to do with `job` at `now`. */
export function ttlDecision(job: Job, now: number): TtlDecision {
  if (!needsCleanup(job)) return { action: 'none' }
  const finishedAt = jobFinishTime(job)
  if (finishedAt === undefined) return { action: 'none' }
  const expireAt = finishedAt + (job.spec?.ttlSecondsAfterFinished ?? 0) * 1000
  return expireAt <= now ? { action: 'delete' } : { action: 'wait', ms: expireAt - now }
}
