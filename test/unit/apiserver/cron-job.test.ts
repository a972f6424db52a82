// CronJobs (batch/v1) at the API server: batch/v1 defaults, validation with
// pkg/apis/batch/validation's field paths and texts (the schedule's through
// robfig/cron's messages), the status subresource and kubectl's columns.

import t from 'tap'
import { lookupResource } from '../../../control/cli/kubectl/resource-kinds.ts'
import { headerCells, rowCells } from '../../../control/cli/kubectl/table-printer.ts'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { harness, rejectsStatus } from './helpers.ts'

type Json = Record<string, unknown>

const podTemplate = (restartPolicy: string | null = 'OnFailure'): Json => ({
  spec: { containers: [{ name: 'hello', image: 'busybox', command: ['date'] }], ...(restartPolicy !== null ? { restartPolicy } : {}) },
})
const cronJob = (name: string, spec: Json = {}, jobSpec: Json = {}): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name },
  spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: podTemplate(), ...jobSpec } }, ...spec },
})

t.test('a valid CronJob gets batch/v1 defaults and an empty status', async t => {
  const { client } = await harness(t)
  const created = await client.create<KubeObject>(RESOURCES.cronjobs, 'default', cronJob('hello'))
  t.equal(created.metadata.generation, 1)
  t.match(created.spec, { schedule: '*/5 * * * *', concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 })
  t.match((created.spec as { jobTemplate: { spec: { template: { spec: Json } } } }).jobTemplate.spec.template.spec, { restartPolicy: 'OnFailure', dnsPolicy: 'ClusterFirst' })
  t.same(created.status, {})
  for (const [name, spec] of [
    ['names', { schedule: '0 9 * JAN-MAR MON-FRI' }],
    ['macro', { schedule: '@hourly' }],
    ['every', { schedule: '@every 90m' }],
    ['zoned', { schedule: '0 3 * * *', timeZone: 'Europe/Paris' }],
    ['utc', { schedule: '0 3 * * *', timeZone: 'UTC' }],
    ['forbid', { concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 0, successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 0 }],
  ] as Array<[string, Json]>) {
    t.ok(await client.create(RESOURCES.cronjobs, 'default', cronJob(name, spec)), name)
  }
  t.ok(await client.create(RESOURCES.cronjobs, 'default', cronJob('n'.repeat(52))), '52 characters is the longest name')
  const never = cronJob('never')
  ;((never.spec as { jobTemplate: { spec: { template: Json } } }).jobTemplate.spec.template) = podTemplate('Never')
  t.ok(await client.create(RESOURCES.cronjobs, 'default', never), 'restartPolicy Never')
})

t.test('validation: the texts kube-apiserver gives', async t => {
  const { client } = await harness(t)
  const create = (o: KubeObject) => client.create(RESOURCES.cronjobs, 'default', o)
  const cases: Array<[string, KubeObject, string]> = [
    ['no schedule', cronJob('bad', { schedule: '' }), 'spec.schedule: Required value'],
    ['minute 61', cronJob('bad', { schedule: '61 * * * *' }), 'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'],
    ['four fields', cronJob('bad', { schedule: '* * * *' }), 'spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]'],
    ['weekday 7', cronJob('bad', { schedule: '0 0 * * 7' }), 'spec.schedule: Invalid value: "0 0 * * 7": end of range (7) above maximum (6): 7'],
    ['bad name', cronJob('bad', { schedule: '0 0 * FOO *' }), 'spec.schedule: Invalid value: "0 0 * FOO *": failed to parse int from FOO: strconv.Atoi: parsing "FOO": invalid syntax'],
    ['unknown macro', cronJob('bad', { schedule: '@reboot' }), 'spec.schedule: Invalid value: "@reboot": unrecognized descriptor: @reboot'],
    ['CRON_TZ', cronJob('bad', { schedule: 'CRON_TZ=UTC * * * * *' }), 'spec.schedule: Invalid value: "CRON_TZ=UTC * * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
    ['unknown zone', cronJob('bad', { timeZone: 'Europe/Pariss' }), 'spec.timeZone: Invalid value: "Europe/Pariss": unknown time zone Europe/Pariss'],
    ['zone in the wrong case', cronJob('bad', { timeZone: 'europe/paris' }), 'spec.timeZone: Invalid value: "europe/paris": unknown time zone europe/paris'],
    ['empty zone', cronJob('bad', { timeZone: '' }), 'spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string'],
    ['Local', cronJob('bad', { timeZone: 'Local' }), 'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'],
    ['a path', cronJob('bad', { timeZone: '../etc/passwd' }), 'spec.timeZone: Invalid value: "../etc/passwd": unknown time zone ../etc/passwd'],
    ['policy', cronJob('bad', { concurrencyPolicy: 'Sometimes' }), 'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'],
    ['deadline', cronJob('bad', { startingDeadlineSeconds: -1 }), 'spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0'],
    ['successful history', cronJob('bad', { successfulJobsHistoryLimit: -1 }), 'spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0'],
    ['failed history', cronJob('bad', { failedJobsHistoryLimit: -2 }), 'spec.failedJobsHistoryLimit: Invalid value: -2: must be greater than or equal to 0'],
    ['selector', cronJob('bad', {}, { selector: { matchLabels: { a: 'b' } } }), 'spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: `selector` will be auto-generated'],
    ['backoffLimit', cronJob('bad', {}, { backoffLimit: -1 }), 'spec.jobTemplate.spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0'],
    ['no containers', cronJob('bad', {}, { template: { spec: { restartPolicy: 'Never' } } }), 'spec.jobTemplate.spec.template.spec.containers: Required value'],
    // The Jobs it would make must pass the Job's own checks.
    ['Indexed', cronJob('bad', {}, { completionMode: 'Indexed', completions: 3 }), 'spec.jobTemplate.spec.completionMode: Unsupported value: "Indexed": supported values: "NonIndexed"'],
    ['podReplacementPolicy', cronJob('bad', {}, { podReplacementPolicy: 'Sometimes' }), 'spec.jobTemplate.spec.podReplacementPolicy: Unsupported value: "Sometimes": supported values: "TerminatingOrFailed", "Failed"'],
  ]
  for (const [name, object, message] of cases) {
    t.comment(name)
    await rejectsStatus(t, create(object), 422, `CronJob.batch "bad" is invalid: ${message}`, 'Invalid')
  }
  const long = 'x'.repeat(53)
  await rejectsStatus(t, create(cronJob(long)), 422, `CronJob.batch "${long}" is invalid: metadata.name: Invalid value: "${long}": must be no more than 52 characters`)
  // restartPolicy defaults to Always, which a Job may not have.
  await rejectsStatus(t, create(cronJob('bad', {}, { template: podTemplate(null) })), 422,
    'CronJob.batch "bad" is invalid: spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"')
  await rejectsStatus(t, create(cronJob('bad', { schedule: 'TZ=Mars/Base 0 * * * *' })), 422,
    /^CronJob\.batch "bad" is invalid: \[spec\.schedule: Invalid value: "TZ=Mars\/Base 0 \* \* \* \*": provided bad location Mars\/Base: unknown time zone Mars\/Base, spec\.schedule: Invalid value: .*cannot use TZ or CRON_TZ in schedule, use timeZone field instead\]$/)
  t.equal((await client.list(RESOURCES.cronjobs, 'default')).items.length, 0, 'nothing was stored')
})

t.test('updates are validated too; status goes through the status subresource', async t => {
  const { client } = await harness(t)
  const created = await client.create<KubeObject>(RESOURCES.cronjobs, 'default', cronJob('hello'))
  await rejectsStatus(t, client.patch(RESOURCES.cronjobs, 'default', 'hello', { spec: { schedule: '* * *' } }), 422,
    'CronJob.batch "hello" is invalid: spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]')
  const patched = await client.patch<KubeObject>(RESOURCES.cronjobs, 'default', 'hello', { spec: { suspend: true } })
  t.equal(patched.metadata.generation, 2, 'a spec change is a new generation')
  const status = { active: [{ kind: 'Job', namespace: 'default', name: 'hello-1', uid: 'u1', apiVersion: 'batch/v1' }], lastScheduleTime: '2025-01-01T00:00:00Z' }
  const ignored = await client.patch<KubeObject>(RESOURCES.cronjobs, 'default', 'hello', { status })
  t.same(ignored.status, {}, 'the main resource keeps the status')
  const written = await client.update<KubeObject>(RESOURCES.cronjobs, 'default', { ...created, metadata: { ...created.metadata, resourceVersion: ignored.metadata.resourceVersion }, status }, 'status')
  t.same(written.status, status)
  t.equal((written.spec as Json).suspend, true, 'a status write keeps the spec')
})

t.test('kubectl get columns: SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE', async t => {
  const now = Date.parse('2025-01-01T10:05:00Z')
  const options = { wide: false, withNamespace: false, withKind: false, showLabels: false, labelColumns: [], now }
  const def = lookupResource('cj')
  const cj: KubeObject = {
    metadata: { name: 'report', creationTimestamp: '2025-01-01T09:00:00Z' },
    spec: { schedule: '0 * * * *', suspend: false, jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } },
    status: { active: [{ name: 'report-1' }], lastScheduleTime: '2025-01-01T10:00:00Z' },
  }
  t.same(headerCells(def, options), ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE'])
  t.same(rowCells(def, cj, options), ['report', '0 * * * *', '<none>', 'False', '1', '5m', '65m'])
  t.same(rowCells(def, { metadata: { name: 'z', creationTimestamp: '2025-01-01T10:00:00Z' }, spec: { schedule: '@daily', timeZone: 'Europe/Paris', suspend: true } }, options),
    ['z', '@daily', 'Europe/Paris', 'True', '0', '<none>', '5m'])
  t.same(headerCells(def, { ...options, wide: true }).slice(-3), ['CONTAINERS', 'IMAGES', 'SELECTOR'])
  t.same(rowCells(def, cj, { ...options, wide: true }).slice(-3), ['c', 'busybox', '<none>'])
})
