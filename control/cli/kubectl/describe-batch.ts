// `kubectl describe job` and `kubectl describe cronjob`, pure: the object and
// its events in, kubectl's text out (Parallelism, Completions, Completion
// Mode, Suspend, Backoff Limit, Start Time, Completed At, Duration, Pods
// Statuses; a CronJob's Schedule, Concurrency Policy, history limits, its job
// template, Last Schedule Time and Active Jobs).

import { humanDuration } from '../../apiserver/http/table-columns.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { boolText } from './columns-workloads.ts'
import { describePodTemplate } from './describe-containers.ts'
import { selectorString } from './describe-sets.ts'
import { DescribeWriter, LEVEL_0, controllerOf, list, num, obj, printAnnotations, printEvents, printLabels, rfc1123z, str } from './describe-writer.ts'

type Json = Record<string, unknown>

const isSet = (value: unknown): boolean => value !== undefined && value !== null

/** The Completed Indexes line: at most 50 characters of the list, then "...". */
function indexesOrNone(indexes: string): string {
  if (indexes === '') return '<none>'
  if (indexes.length <= 50) return indexes
  const cut = indexes.slice(0, 50)
  const comma = cut.lastIndexOf(',')
  return `${comma < 0 ? cut : cut.slice(0, comma)}, ...`
}

export function describeJob(job: KubeObject, events: readonly KubeObject[] | undefined, now: number): string {
  const spec = obj(job.spec)
  const status = obj(job.status)
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${job.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${job.metadata.namespace ?? ''}\n`)
  w.write(LEVEL_0, `Selector:\t${selectorString(spec.selector)}\n`)
  printLabels(w, 'Labels', job.metadata.labels)
  printAnnotations(w, 'Annotations', job.metadata.annotations)
  const controlledBy = controllerOf(job)
  if (controlledBy !== undefined) w.write(LEVEL_0, `Controlled By:\t${controlledBy}\n`)
  w.write(LEVEL_0, `Parallelism:\t${num(spec.parallelism)}\n`)
  w.write(LEVEL_0, `Completions:\t${isSet(spec.completions) ? num(spec.completions) : '<unset>'}\n`)
  if (isSet(spec.completionMode)) w.write(LEVEL_0, `Completion Mode:\t${str(spec.completionMode)}\n`)
  if (typeof spec.suspend === 'boolean') w.write(LEVEL_0, `Suspend:\t${String(spec.suspend)}\n`)
  if (isSet(spec.backoffLimit)) w.write(LEVEL_0, `Backoff Limit:\t${num(spec.backoffLimit)}\n`)
  if (isSet(spec.ttlSecondsAfterFinished)) w.write(LEVEL_0, `TTL Seconds After Finished:\t${num(spec.ttlSecondsAfterFinished)}\n`)
  const start = str(status.startTime)
  const completion = str(status.completionTime)
  if (start !== '') w.write(LEVEL_0, `Start Time:\t${rfc1123z(start)}\n`)
  if (completion !== '') w.write(LEVEL_0, `Completed At:\t${rfc1123z(completion)}\n`)
  if (start !== '' && completion !== '') w.write(LEVEL_0, `Duration:\t${humanDuration(Date.parse(completion) - Date.parse(start))}\n`)
  if (isSet(spec.activeDeadlineSeconds)) w.write(LEVEL_0, `Active Deadline Seconds:\t${num(spec.activeDeadlineSeconds)}s\n`)
  const ready = isSet(status.ready) ? ` (${num(status.ready)} Ready)` : ''
  w.write(LEVEL_0, `Pods Statuses:\t${num(status.active)} Active${ready} / ${num(status.succeeded)} Succeeded / ${num(status.failed)} Failed\n`)
  if (spec.completionMode === 'Indexed') w.write(LEVEL_0, `Completed Indexes:\t${indexesOrNone(str(status.completedIndexes))}\n`)
  describePodTemplate(w, spec.template)
  printEvents(w, events, now)
  return w.toString()
}

/** describeJobTemplate: the job spec fields a CronJob stamps out, then its pod template. */
function describeJobTemplate(w: DescribeWriter, jobTemplate: Json): void {
  const spec = obj(jobTemplate.spec)
  w.write(LEVEL_0, `Selector:\t${isSet(spec.selector) ? selectorString(spec.selector) : '<unset>'}\n`)
  w.write(LEVEL_0, `Parallelism:\t${isSet(spec.parallelism) ? num(spec.parallelism) : '<unset>'}\n`)
  w.write(LEVEL_0, `Completions:\t${isSet(spec.completions) ? num(spec.completions) : '<unset>'}\n`)
  if (isSet(spec.activeDeadlineSeconds)) w.write(LEVEL_0, `Active Deadline Seconds:\t${num(spec.activeDeadlineSeconds)}s\n`)
  describePodTemplate(w, spec.template)
}

export function describeCronJob(cronJob: KubeObject, events: readonly KubeObject[] | undefined, now: number): string {
  const spec = obj(cronJob.spec)
  const status = obj(cronJob.status)
  const w = new DescribeWriter()
  const orUnset = (value: unknown, suffix = ''): string => (isSet(value) ? `${num(value)}${suffix}` : '<unset>')
  w.write(LEVEL_0, `Name:\t${cronJob.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${cronJob.metadata.namespace ?? ''}\n`)
  printLabels(w, 'Labels', cronJob.metadata.labels)
  printAnnotations(w, 'Annotations', cronJob.metadata.annotations)
  w.write(LEVEL_0, `Schedule:\t${str(spec.schedule)}\n`)
  w.write(LEVEL_0, `Concurrency Policy:\t${str(spec.concurrencyPolicy)}\n`)
  w.write(LEVEL_0, `Suspend:\t${boolText(spec.suspend)}\n`)
  w.write(LEVEL_0, `Successful Job History Limit:\t${orUnset(spec.successfulJobsHistoryLimit)}\n`)
  w.write(LEVEL_0, `Failed Job History Limit:\t${orUnset(spec.failedJobsHistoryLimit)}\n`)
  w.write(LEVEL_0, `Starting Deadline Seconds:\t${orUnset(spec.startingDeadlineSeconds, 's')}\n`)
  describeJobTemplate(w, obj(spec.jobTemplate))
  const last = str(status.lastScheduleTime)
  w.write(LEVEL_0, `Last Schedule Time:\t${last === '' ? '<unset>' : rfc1123z(last)}\n`)
  const active = list(status.active).map(ref => str(ref.name))
  w.write(LEVEL_0, `Active Jobs:\t${active.length === 0 ? '<none>' : active.join(', ')}\n`)
  printEvents(w, events, now)
  return w.toString()
}
