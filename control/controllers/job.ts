// The Job controller's decisions, pure (pkg/controller/job in Kubernetes):
// which pods to adopt, release, create and delete, the conditions reached,
// the Events to record and the status to write.
//
// Rules, as Kubernetes 1.31 has them (NonIndexed completion):
// - Pods run `min(parallelism, completions - succeeded)` at a time; without
//   completions (a work queue) `parallelism` until one succeeds, then no new
//   ones. Terminating pods do not count as active (podReplacementPolicy
//   TerminatingOrFailed) unless the policy is Failed.
// - restartPolicy Never: each Failed pod is a failure; its replacement waits
//   an exponential back-off (10 s, 20 s, 40 s ... capped at 6 min) counted
//   from the newest failure since the last success. OnFailure: the agent
//   restarts containers in place, and the restarts of the active pods count
//   towards backoffLimit (reached at restarts >= backoffLimit, or > 0 when
//   the limit is 0).
// - Reaching the end goes in two steps: first the target condition
//   (SuccessCriteriaMet, or FailureTarget with BackoffLimitExceeded /
//   DeadlineExceeded) while the remaining active pods are deleted, then,
//   once no pod is active or terminating, Complete (with completionTime) or
//   Failed with the same reason and message. A finished Job is left alone.
// - suspend: active pods are deleted, none created, condition Suspended,
//   startTime cleared; resuming flips the condition to False and sets
//   startTime anew, so activeDeadlineSeconds counts from the resume.
//
// Without the pod-tracking finalizer (batch.kubernetes.io/job-tracking),
// succeeded and failed are counted from the pods still there and never go
// down: a terminated pod removed before the controller saw it is not
// counted.

import type { KubeObject } from '../client/api-client.ts'
import type { LabelSelectorObject } from '../api/label-selector.ts'
import { labelSelectorFromObject } from '../api/label-selector.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import { formatTime, parseTime } from './clock.ts'
import { claimObjects } from './controller-ref.ts'
import type { EventType } from './events.ts'
import type { Condition, Pod, PodTemplateSpec } from './objects.ts'
import { createdAt, deepCopy, getCondition, newControllerRef } from './objects.ts'
import { isPodActive, isPodReady, isPodTerminal, rankPodsForDeletion } from './pod-util.ts'

export interface JobSpec {
  parallelism?: number
  completions?: number | null
  activeDeadlineSeconds?: number
  backoffLimit?: number
  selector?: LabelSelectorObject
  manualSelector?: boolean
  template?: PodTemplateSpec
  ttlSecondsAfterFinished?: number
  completionMode?: string
  suspend?: boolean
  podReplacementPolicy?: 'TerminatingOrFailed' | 'Failed'
  [field: string]: unknown
}

export interface JobStatus {
  conditions?: Condition[]
  startTime?: string
  completionTime?: string
  active?: number
  succeeded?: number
  failed?: number
  terminating?: number
  ready?: number
  [field: string]: unknown
}

export interface Job extends KubeObject {
  spec?: JobSpec
  status?: JobStatus
}

/** The replacement delay after pod failures (DefaultJobPodFailureBackOff and its cap). */
export interface PodFailureBackoff {
  baseMs: number
  maxMs: number
}

export const DEFAULT_POD_FAILURE_BACKOFF: PodFailureBackoff = { baseMs: 10_000, maxMs: 6 * 60_000 }

/** Most pods created or deleted in one sync. */
export const JOB_BURST = 500

export const REASON_BACKOFF_LIMIT = 'BackoffLimitExceeded'
export const MESSAGE_BACKOFF_LIMIT = 'Job has reached the specified backoff limit'
export const REASON_DEADLINE = 'DeadlineExceeded'
export const MESSAGE_DEADLINE = 'Job was active longer than specified deadline'
export const REASON_COMPLETIONS = 'CompletionsReached'
export const MESSAGE_COMPLETIONS = 'Reached expected number of succeeded pods'

export interface JobEvent {
  type: EventType
  reason: string
  message: string
}

export interface JobInput {
  job: Job
  /** The pods of the Job's namespace, as cached. */
  pods: readonly Pod[]
  now: number
  /** The previous sync's creations and deletions have all been observed. */
  expectationsSatisfied: boolean
  backoff?: PodFailureBackoff
  burst?: number
}

export interface JobPlan {
  adopt: Pod[]
  release: Pod[]
  /** Pods to create (generateName `<job>-`). */
  create: Pod[]
  /** Pods to delete. */
  delete: Pod[]
  /** The pods the Job owns after the claim. */
  owned: Pod[]
  /** The status to write; undefined when the stored one is current. */
  status?: JobStatus
  /** Events besides the per-pod ones (Completed, Suspended, ...). */
  events: JobEvent[]
  /** Come back then (back-off over, deadline reached). */
  requeueAfterMs?: number
}

export function jobKey(job: KubeObject): string {
  return `${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`
}

const isTrue = (job: Job, type: string): boolean => getCondition(job.status?.conditions, type)?.status === 'True'

/** Complete or Failed (IsJobFinished). */
export function isJobFinished(job: Job): boolean {
  return isTrue(job, 'Complete') || isTrue(job, 'Failed')
}

/** When a finished Job finished: completionTime for Complete, the Failed condition's transition time. */
export function jobFinishTime(job: Job): number | undefined {
  const complete = getCondition(job.status?.conditions, 'Complete')
  if (complete?.status === 'True') return parseTime(job.status?.completionTime) ?? parseTime(complete.lastTransitionTime)
  const failed = getCondition(job.status?.conditions, 'Failed')
  return failed?.status === 'True' ? parseTime(failed.lastTransitionTime) : undefined
}

/** One pod as the Job creates it. */
export function podFromJobTemplate(job: Job): Pod {
  const template = job.spec?.template ?? {}
  const metadata: Pod['metadata'] = {
    generateName: `${job.metadata.name ?? ''}-`,
    namespace: job.metadata.namespace,
    labels: { ...template.metadata?.labels },
    ownerReferences: [newControllerRef(job, 'batch/v1', 'Job')],
  }
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations }
  if (template.metadata?.finalizers) metadata.finalizers = [...template.metadata.finalizers]
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: deepCopy(template.spec ?? {}) }
}

/** When a terminated pod ended: its containers' finishedAt, else deletion, else creation (getFinishedTime). */
export function podFinishTime(pod: Pod): number {
  let latest: number | undefined
  for (const status of pod.status?.containerStatuses ?? []) {
    const terminated = (status.state as { terminated?: { finishedAt?: string } } | undefined)?.terminated
    const at = parseTime(terminated?.finishedAt)
    if (at !== undefined && (latest === undefined || at > latest)) latest = at
  }
  return latest ?? parseTime(pod.metadata.deletionTimestamp) ?? createdAt(pod)
}

/**
 * Milliseconds until a replacement may be created after the failures since
 * the last success (0: now): base * 2^(failures - 1), capped, from the newest failure.
 */
export function backoffRemainingMs(succeeded: readonly Pod[], failed: readonly Pod[], now: number, backoff: PodFailureBackoff): number {
  const lastSuccess = Math.max(-Infinity, ...succeeded.map(podFinishTime))
  const failures = failed.map(podFinishTime).filter(at => at > lastSuccess)
  if (failures.length === 0) return 0
  const delay = Math.min(backoff.baseMs * 2 ** (failures.length - 1), backoff.maxMs)
  return Math.max(0, Math.max(...failures) + delay - now)
}

type ContainerStatuses = NonNullable<NonNullable<Pod['status']>['containerStatuses']>

/** Container restarts of a pod, init containers included. */
function restartCount(pod: Pod): number {
  const init = (pod.status?.initContainerStatuses ?? []) as ContainerStatuses
  return [...(pod.status?.containerStatuses ?? []), ...init].reduce((n, s) => n + (s.restartCount ?? 0), 0)
}

function condition(type: string, status: Condition['status'], reason: string, message: string, now: number): Condition {
  const at = formatTime(now)
  return { type, status, lastProbeTime: at, lastTransitionTime: at, reason, message }
}

/** Sets a condition, keeping lastTransitionTime when the status does not change. */
function setCondition(conditions: Condition[], next: Condition): void {
  const i = conditions.findIndex(c => c.type === next.type)
  const current = i >= 0 ? conditions[i] : undefined
  if (current === undefined) {
    conditions.push(next)
    return
  }
  if (current.status === next.status && current.reason === next.reason && current.message === next.message) return
  conditions[i] = current.status === next.status ? { ...next, lastTransitionTime: current.lastTransitionTime } : next
}

/** One sync of one Job (syncJob without the I/O). */
export function reconcileJob(input: JobInput): JobPlan {
  const { job, now } = input
  const plan: JobPlan = { adopt: [], release: [], create: [], delete: [], owned: [], events: [] }
  if (isJobFinished(job) || job.metadata.deletionTimestamp) return plan

  const spec = job.spec ?? {}
  const claim = claimObjects(job, labelSelectorFromObject(spec.selector), input.pods)
  plan.adopt = claim.adopt
  plan.release = claim.release
  plan.owned = claim.owned
  const owned = claim.owned
  const active = owned.filter(isPodActive)
  const terminating = owned.filter(p => p.metadata.deletionTimestamp && !isPodTerminal(p))
  const succeededPods = owned.filter(p => p.status?.phase === 'Succeeded')
  const failedPods = owned.filter(p => p.status?.phase === 'Failed')

  const previous = job.status ?? {}
  const status: JobStatus = deepCopy(previous)
  const conditions: Condition[] = [...(status.conditions ?? [])]
  const suspended = spec.suspend === true
  // A suspended Job has not started (the deadline counts from the resume).
  if (suspended && !getCondition(conditions, 'FailureTarget') && !getCondition(conditions, 'SuccessCriteriaMet')) delete status.startTime
  if (!suspended && !status.startTime) status.startTime = formatTime(now)
  const succeeded = Math.max(previous.succeeded ?? 0, succeededPods.length)
  let failed = Math.max(previous.failed ?? 0, failedPods.length)
  const backoffLimit = spec.backoffLimit ?? 6
  const parallelism = spec.parallelism ?? 1
  const completions = spec.completions ?? undefined
  let activeAfter = active.length

  // The end: a target condition already set, or reached now.
  let target = conditions.find(c => (c.type === 'FailureTarget' || c.type === 'SuccessCriteriaMet') && c.status === 'True')
  if (!target) {
    const restarts = spec.template?.spec?.restartPolicy === 'OnFailure' ? active.reduce((n, p) => n + restartCount(p), 0) : 0
    const pastRestartLimit = restarts > 0 && (backoffLimit === 0 || restarts >= backoffLimit)
    const startTime = parseTime(status.startTime)
    const deadline = spec.activeDeadlineSeconds
    const pastDeadline = !suspended && deadline !== undefined && startTime !== undefined && now - startTime >= deadline * 1000
    const complete = completions === undefined ? succeeded > 0 && active.length === 0 : succeeded >= completions
    if (failed > backoffLimit || pastRestartLimit) target = condition('FailureTarget', 'True', REASON_BACKOFF_LIMIT, MESSAGE_BACKOFF_LIMIT, now)
    else if (pastDeadline) target = condition('FailureTarget', 'True', REASON_DEADLINE, MESSAGE_DEADLINE, now)
    else if (complete) target = condition('SuccessCriteriaMet', 'True', REASON_COMPLETIONS, MESSAGE_COMPLETIONS, now)
    if (target) conditions.push(target)
  }

  if (target) {
    // No new pods; the active ones go (and count as failed, as the tracking finalizer would count them).
    plan.delete = active.slice(0, input.burst ?? JOB_BURST)
    activeAfter = active.length - plan.delete.length
    const failing = target.type === 'FailureTarget'
    if (failing) failed = Math.max(failed, failedPods.length + plan.delete.length)
    if (active.length === 0 && terminating.length === 0) {
      const finished = condition(failing ? 'Failed' : 'Complete', 'True', target.reason ?? '', target.message ?? '', now)
      conditions.push(finished)
      if (failing) plan.events.push({ type: 'Warning', reason: finished.reason ?? '', message: finished.message ?? '' })
      else {
        status.completionTime = formatTime(now)
        plan.events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' })
      }
    }
  } else if (suspended) {
    plan.delete = [...active]
    activeAfter = 0
    if (!isTrue(job, 'Suspended')) {
      setCondition(conditions, condition('Suspended', 'True', 'JobSuspended', 'Job suspended', now))
      plan.events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' })
    }
  } else {
    if (isTrue(job, 'Suspended')) {
      setCondition(conditions, condition('Suspended', 'False', 'JobResumed', 'Job resumed', now))
      plan.events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' })
    }
    const counted = spec.podReplacementPolicy === 'Failed' ? active.length + terminating.length : active.length
    const wantActive = completions === undefined
      ? (succeeded > 0 ? active.length : parallelism)
      : Math.max(0, Math.min(parallelism, completions - succeeded))
    const burst = input.burst ?? JOB_BURST
    if (active.length > wantActive) {
      plan.delete = rankPodsForDeletion(active).slice(0, Math.min(active.length - wantActive, burst))
      activeAfter = active.length - plan.delete.length
    } else if (counted < wantActive && input.expectationsSatisfied) {
      const wait = backoffRemainingMs(succeededPods, failedPods, now, input.backoff ?? DEFAULT_POD_FAILURE_BACKOFF)
      if (wait > 0) plan.requeueAfterMs = wait
      else {
        const count = Math.min(wantActive - counted, burst)
        for (let i = 0; i < count; i++) plan.create.push(podFromJobTemplate(job))
        activeAfter = active.length + count
      }
    }
    const startTime = parseTime(status.startTime)
    if (spec.activeDeadlineSeconds !== undefined && startTime !== undefined) {
      const left = startTime + spec.activeDeadlineSeconds * 1000 - now
      plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, Math.max(0, left))
    }
  }

  if (conditions.length > 0) status.conditions = conditions
  status.active = activeAfter
  status.ready = active.filter(isPodReady).length
  status.succeeded = succeeded
  status.failed = failed
  status.terminating = terminating.length
  // The API leaves zero counts out, ready and terminating excepted (pointers in Go).
  for (const key of ['active', 'succeeded', 'failed'] as const) if (status[key] === 0) delete status[key]
  if (!jsonEqual(previous, status)) plan.status = status
  return plan
}
