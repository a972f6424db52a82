// CronJobs (batch/v1): defaults as batch/v1 has them, validation as
// pkg/apis/batch/validation's ValidateCronJobCreate/Update, and the status
// subresource the CronJob controller writes.
//
// The schedule is checked by the controller's own parser (robfig/cron's
// ParseStandard rules and messages). TZ=/CRON_TZ= in the schedule is refused
// (spec.timeZone says it); Kubernetes lets an update keep one that an older
// server stored, which cannot happen here, so create and update check the
// same. The 52-character name limit leaves room for the Jobs' `-<minutes>`
// suffix. The job template is checked the way ValidateJobTemplateSpec does
// (its own copy of the Job spec rules: this kind does not lean on the Job
// kind's code).

import { fieldInvalid, fieldNotSupported, fieldRequired } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { scheduleError } from '../../api/cron-schedule.ts'
import { isKnownTimeZone } from '../../api/cron-time-zone.ts'
import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord, recordAt, setDefault, stringAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { validateJobRunFields } from './job.ts'
import { defaultPodTemplate, validatePodTemplate } from './pod-spec.ts'
import { validateNonNegative } from './workload.ts'

/** DNS-1035 label length (63) minus the Jobs' 11-character `-<minutes>` suffix. */
export const MAX_CRONJOB_NAME_LENGTH = 52

const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace']
const JOB_RESTART_POLICIES = ['OnFailure', 'Never']

// IANA naming rules for one component of a zone name, loosened for legacy names (digits, '+').
const TIME_ZONE_COMPONENT = /^[A-Za-z.\-_0-9+]{1,14}$/

function validateSchedule(schedule: unknown, path: string): FieldError[] {
  if (schedule === undefined || schedule === null || schedule === '') return [fieldRequired(path, '')]
  if (typeof schedule !== 'string') return [fieldInvalid(path, schedule, 'must be a string')]
  const errs: FieldError[] = []
  const parseError = scheduleError(schedule)
  if (parseError !== undefined) errs.push(fieldInvalid(path, schedule, parseError))
  if (schedule.includes('TZ')) errs.push(fieldInvalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'))
  return errs
}

function validateTimeZone(timeZone: unknown, path: string): FieldError[] {
  if (timeZone === undefined || timeZone === null) return []
  if (typeof timeZone !== 'string') return [fieldInvalid(path, timeZone, 'must be a string')]
  if (timeZone === '') return [fieldInvalid(path, timeZone, 'timeZone must be nil or non-empty string')]
  for (const part of timeZone.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TIME_ZONE_COMPONENT.test(part)) {
      return [fieldInvalid(path, timeZone, `unknown time zone ${timeZone}`)]
    }
  }
  const errs: FieldError[] = []
  if (timeZone.toLowerCase() === 'local') {
    errs.push(fieldInvalid(path, timeZone, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'))
  }
  if (timeZone !== 'Local' && !isKnownTimeZone(timeZone)) errs.push(fieldInvalid(path, timeZone, `unknown time zone ${timeZone}`))
  return errs
}

function validateConcurrencyPolicy(policy: unknown, path: string): FieldError[] {
  if (policy === undefined || policy === null || policy === '') return [fieldRequired(path, '')]
  return CONCURRENCY_POLICIES.includes(String(policy)) ? [] : [fieldNotSupported(path, policy, CONCURRENCY_POLICIES)]
}

/** validateJobSpec and ValidateJobTemplateSpec's extra rules, at `path` (spec.jobTemplate.spec). */
function validateJobTemplateSpec(spec: unknown, path: string): FieldError[] {
  if (!isRecord(spec)) return [fieldRequired(path, '')]
  // The Jobs made from the template must pass the Job's own checks.
  const errs = validateJobRunFields(spec, path)
  errs.push(...validatePodTemplate(spec.template, `${path}.template`))
  const restartPolicy = stringAt(recordAt(spec.template, 'spec'), 'restartPolicy') ?? ''
  const restartPath = `${path}.template.spec.restartPolicy`
  if (restartPolicy === 'Always' || restartPolicy === '') {
    errs.push(fieldRequired(restartPath, 'valid values: "OnFailure", "Never"'))
  } else if (!JOB_RESTART_POLICIES.includes(restartPolicy)) {
    errs.push(fieldNotSupported(restartPath, restartPolicy, JOB_RESTART_POLICIES))
  }
  if (spec.selector !== undefined && spec.selector !== null) {
    errs.push(fieldInvalid(`${path}.selector`, spec.selector, '`selector` will be auto-generated'))
  }
  if (spec.manualSelector === true) errs.push(fieldNotSupported(`${path}.manualSelector`, true, ['nil', 'false']))
  return errs
}

/** ValidateCronJobCreate: the name's length and the spec. */
export function validateCronJob(object: KubeObject): FieldError[] {
  const errs: FieldError[] = []
  const name = object.metadata.name ?? ''
  if (name.length > MAX_CRONJOB_NAME_LENGTH) {
    errs.push(fieldInvalid('metadata.name', name, `must be no more than ${MAX_CRONJOB_NAME_LENGTH} characters`))
  }
  const spec = object.spec
  if (!isRecord(spec)) return [...errs, fieldRequired('spec', '')]
  errs.push(...validateSchedule(spec.schedule, 'spec.schedule'))
  errs.push(...validateNonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'))
  errs.push(...validateTimeZone(spec.timeZone, 'spec.timeZone'))
  errs.push(...validateConcurrencyPolicy(spec.concurrencyPolicy, 'spec.concurrencyPolicy'))
  errs.push(...validateJobTemplateSpec(recordAt(spec, 'jobTemplate')?.spec, 'spec.jobTemplate.spec'))
  errs.push(...validateNonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'))
  errs.push(...validateNonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'))
  return errs
}

export const cronJobs = defineResource({
  group: 'batch',
  version: 'v1',
  resource: 'cronjobs',
  kind: 'CronJob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  tracksGeneration: true,
  subresources: { status: true },
  hooks: {
    defaults(object) {
      const spec = ensureRecord(object as JsonRecord, 'spec')
      setDefault(spec, 'concurrencyPolicy', 'Allow')
      setDefault(spec, 'suspend', false)
      setDefault(spec, 'successfulJobsHistoryLimit', 3)
      setDefault(spec, 'failedJobsHistoryLimit', 1)
      const jobTemplate = ensureRecord(spec, 'jobTemplate')
      const jobSpec = ensureRecord(jobTemplate, 'spec')
      if (isRecord(jobSpec.template)) defaultPodTemplate(jobSpec.template)
    },
    prepareForCreate(object) {
      object.status = {}
    },
    validate: validateCronJob,
  },
})
