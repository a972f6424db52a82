// The `get` columns of the workload kinds (printStatefulSet, printDaemonSet,
// printJob, printCronJob, printPersistentVolumeClaim,
// printControllerRevision): headers plain and wide, cells, the Job STATUS
// table, and `get all`'s kinds in kubectl's order.

import t from 'tap'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { accessModesText, controllerName, jobCompletions, jobDuration, jobStatus } from '../../../control/cli/kubectl/columns-workloads.ts'
import { categoryKinds, lookupResource } from '../../../control/cli/kubectl/resource-kinds.ts'
import { headerCells, renderRows, rowCells } from '../../../control/cli/kubectl/table-printer.ts'

const NOW = Date.parse('2026-01-02T00:10:00Z')
const ago = (s: number): string => new Date(NOW - s * 1000).toISOString()
const options = { wide: false, withNamespace: false, withKind: false, showLabels: false, labelColumns: [], now: NOW }
const head = (resource: string, wide = false): string => headerCells(lookupResource(resource), { ...options, wide }).join(' | ')
const row = (resource: string, o: KubeObject, wide = false): string[] => rowCells(lookupResource(resource), o, { ...options, wide })
const meta = { name: 'x', creationTimestamp: ago(7200) }
const podTemplate = (extra: Record<string, unknown> = {}) => ({
  metadata: { labels: { app: 'x' } },
  spec: { ...extra, containers: [{ name: 'a', image: 'nginx:1.25' }, { name: 'b', image: 'busybox' }] },
})

t.test('statefulsets: NAME READY AGE, wide CONTAINERS IMAGES', async t => {
  t.equal(head('sts'), 'NAME | READY | AGE')
  t.equal(head('statefulsets', true), 'NAME | READY | AGE | CONTAINERS | IMAGES')
  const set: KubeObject = { metadata: meta, spec: { replicas: 3, selector: { matchLabels: { app: 'x' } }, template: podTemplate() }, status: { replicas: 3, readyReplicas: 2 } }
  t.same(row('sts', set, true), ['x', '2/3', '120m', 'a,b', 'nginx:1.25,busybox'])
  t.same(row('sts', { metadata: meta, spec: { replicas: 1 } }), ['x', '0/1', '120m'], 'no status yet')
})

t.test('daemonsets: the five counts, NODE SELECTOR, wide SELECTOR', async t => {
  t.equal(head('ds'), 'NAME | DESIRED | CURRENT | READY | UP-TO-DATE | AVAILABLE | NODE SELECTOR | AGE')
  t.equal(head('daemonsets', true), 'NAME | DESIRED | CURRENT | READY | UP-TO-DATE | AVAILABLE | NODE SELECTOR | AGE | CONTAINERS | IMAGES | SELECTOR')
  const set: KubeObject = {
    metadata: meta,
    spec: { selector: { matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }, template: podTemplate({ nodeSelector: { 'kubernetes.io/os': 'linux', disk: 'ssd' } }) },
    status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 0 },
  }
  t.same(row('ds', set, true), ['x', '2', '2', '1', '1', '0', 'disk=ssd,kubernetes.io/os=linux', '120m', 'a,b', 'nginx:1.25,busybox', 'app=x,tier in (a,b)'])
  t.same(row('ds', { metadata: meta, spec: { template: podTemplate() } }).slice(1, 7), ['0', '0', '0', '0', '0', '<none>'])
})

const job = (status: Record<string, unknown>, spec: Record<string, unknown> = { completions: 1, parallelism: 1 }, deleting = false): KubeObject => ({
  metadata: { ...meta, ...(deleting ? { deletionTimestamp: ago(1) } : {}) },
  spec: { ...spec, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } }, template: podTemplate() },
  status,
})
const condition = (type: string, status = 'True') => ({ type, status })

t.test('jobs: STATUS as kubectl 1.33 computes it', async t => {
  const cases: Array<[string, KubeObject, string]> = [
    ['no conditions', job({}), 'Running'],
    ['complete', job({ conditions: [condition('SuccessCriteriaMet'), condition('Complete')] }), 'Complete'],
    ['failed', job({ conditions: [condition('FailureTarget'), condition('Failed')] }), 'Failed'],
    ['complete wins over terminating', job({ conditions: [condition('Complete')] }, undefined, true), 'Complete'],
    ['terminating', job({ conditions: [condition('Suspended')] }, undefined, true), 'Terminating'],
    ['suspended', job({ conditions: [condition('Suspended')] }), 'Suspended'],
    ['resumed: a False condition does not count', job({ conditions: [condition('Suspended', 'False')] }), 'Running'],
    ['failure target before the Failed condition', job({ conditions: [condition('FailureTarget')] }), 'FailureTarget'],
    ['success criteria met before Complete', job({ conditions: [condition('SuccessCriteriaMet')] }), 'SuccessCriteriaMet'],
  ]
  for (const [name, j, want] of cases) t.equal(jobStatus(j), want, name)
})

t.test('jobs: COMPLETIONS, DURATION and the row', async t => {
  t.equal(head('jobs'), 'NAME | STATUS | COMPLETIONS | DURATION | AGE')
  t.equal(head('job', true), 'NAME | STATUS | COMPLETIONS | DURATION | AGE | CONTAINERS | IMAGES | SELECTOR')
  t.equal(jobCompletions(job({ succeeded: 2 }, { completions: 3, parallelism: 2 })), '2/3')
  t.equal(jobCompletions(job({ succeeded: 1 }, { parallelism: 4 })), '1/1 of 4', 'work queue: no completions, parallel')
  t.equal(jobCompletions(job({}, { parallelism: 1 })), '0/1')
  t.equal(jobDuration(job({}), NOW), '', 'not started')
  t.equal(jobDuration(job({ startTime: ago(90) }), NOW), '90s', 'running: since the start')
  t.equal(jobDuration(job({ startTime: ago(600), completionTime: ago(535) }), NOW), '65s', 'finished: start to completion')
  t.same(row('jobs', job({ succeeded: 1, startTime: ago(600), completionTime: ago(595), conditions: [condition('Complete')] }), true), ['x', 'Complete', '1/1', '5s', '120m', 'a,b', 'nginx:1.25,busybox', 'batch.kubernetes.io/controller-uid=u'])
})

t.test('cronjobs: SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE, wide from the job template', async t => {
  t.equal(head('cj'), 'NAME | SCHEDULE | TIMEZONE | SUSPEND | ACTIVE | LAST SCHEDULE | AGE')
  t.equal(head('cronjobs', true), 'NAME | SCHEDULE | TIMEZONE | SUSPEND | ACTIVE | LAST SCHEDULE | AGE | CONTAINERS | IMAGES | SELECTOR')
  const cronJob: KubeObject = {
    metadata: meta,
    spec: { schedule: '*/5 * * * *', timeZone: 'Etc/UTC', suspend: false, jobTemplate: { spec: { template: podTemplate() } } },
    status: { active: [{ name: 'x-1' }, { name: 'x-2' }], lastScheduleTime: ago(240) },
  }
  t.same(row('cj', cronJob, true), ['x', '*/5 * * * *', 'Etc/UTC', 'False', '2', '4m', '120m', 'a,b', 'nginx:1.25,busybox', '<none>'])
  t.same(row('cj', { metadata: meta, spec: { schedule: '@hourly', jobTemplate: {} } }), ['x', '@hourly', '<none>', '<unset>', '0', '<none>', '120m'], 'never scheduled')
})

t.test('persistentvolumeclaims: capacity and modes once bound', async t => {
  t.equal(head('pvc'), 'NAME | STATUS | VOLUME | CAPACITY | ACCESS MODES | STORAGECLASS | VOLUMEATTRIBUTESCLASS | AGE')
  t.equal(head('pvc', true), 'NAME | STATUS | VOLUME | CAPACITY | ACCESS MODES | STORAGECLASS | VOLUMEATTRIBUTESCLASS | AGE | VOLUMEMODE')
  const bound: KubeObject = {
    metadata: meta,
    spec: { volumeName: 'pv-1', storageClassName: 'standard', volumeMode: 'Filesystem', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    status: { phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOncePod', 'ReadWriteOnce', 'ReadOnlyMany'] },
  }
  t.same(row('pvc', bound, true), ['x', 'Bound', 'pv-1', '2Gi', 'RWO,ROX,RWOP', 'standard', '<unset>', '120m', 'Filesystem'])
  const pending: KubeObject = { metadata: { ...meta, annotations: { 'volume.beta.kubernetes.io/storage-class': 'old' } }, spec: { volumeAttributesClassName: 'gold', resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Pending' } }
  t.same(row('pvc', pending, true), ['x', 'Pending', '', '', '', 'old', 'gold', '120m', '<unset>'])
  t.equal(row('pvc', { ...bound, metadata: { ...meta, deletionTimestamp: ago(1) } })[1], 'Terminating')
  t.equal(accessModesText(['ReadWriteMany', 'ReadWriteOnce']), 'RWO,RWX', "kubectl's fixed order")
})

t.test('controllerrevisions: NAME CONTROLLER REVISION AGE', async t => {
  t.equal(head('controllerrevisions'), 'NAME | CONTROLLER | REVISION | AGE')
  const revision: KubeObject = { metadata: { ...meta, name: 'web-6bd9cc7c7f', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true }] }, revision: 2 }
  t.same(row('controllerrevisions', revision), ['web-6bd9cc7c7f', 'statefulset.apps/web', '2', '120m'])
  t.equal(controllerName({ metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u', controller: true }] } }), 'pod/p', 'core group: the kind alone')
  t.equal(controllerName({ metadata: {} }), '<none>')
})

t.test('get all: the kinds in kubectl order, each a section', async t => {
  t.same(categoryKinds('all').map(def => def.resource), ['pods', 'services', 'daemonsets', 'deployments', 'replicasets', 'statefulsets', 'cronjobs', 'jobs'])
  const set: KubeObject = { metadata: meta, spec: { replicas: 1 }, status: { readyReplicas: 1 } }
  const def = lookupResource('statefulsets')
  t.equal(
    renderRows([headerCells(def, { ...options, withKind: true }), rowCells(def, set, { ...options, withKind: true })]),
    'NAME                 READY   AGE\nstatefulset.apps/x   1/1     120m',
  )
})
