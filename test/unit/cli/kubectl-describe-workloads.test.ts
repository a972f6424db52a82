// The StatefulSet, DaemonSet, Job, CronJob and PersistentVolumeClaim
// describers against golden text printed by kubectl 1.32 itself for the same
// objects (read from a kubewire API server: a partitioned StatefulSet with a
// volume claim template and pods in every phase, a DaemonSet with a node
// selector, a finished Job, a CronJob with two active jobs, a bound and a
// pending claim), plus the branches the goldens do not reach.

import { readFileSync } from 'node:fs'
import t from 'tap'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { describeCronJob, describeJob } from '../../../control/cli/kubectl/describe-batch.ts'
import { describePersistentVolumeClaim, podsUsingClaim } from '../../../control/cli/kubectl/describe-claim.ts'
import { describeDaemonSet, describeStatefulSet, podsStatusText } from '../../../control/cli/kubectl/describe-sets.ts'

process.env.TZ = 'UTC' // kubectl prints times in local time; the goldens were made in UTC

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
const json = <T = KubeObject>(name: string): T => JSON.parse(fixture(name)) as T
const pods = json<KubeObject[]>('describe-workload-pods.json')
const NOW = Date.parse('2026-01-02T00:10:00Z')

t.test('describe statefulset matches kubectl byte for byte', async t => {
  t.equal(describeStatefulSet(json('describe-statefulset.json'), pods, [], NOW), fixture('describe-statefulset.txt'))
})

t.test('describe daemonset matches kubectl byte for byte', async t => {
  t.equal(describeDaemonSet(json('describe-daemonset.json'), pods, [], NOW), fixture('describe-daemonset.txt'))
})

t.test('describe job matches kubectl byte for byte', async t => {
  t.equal(describeJob(json('describe-job.json'), [], NOW), fixture('describe-job.txt'))
})

t.test('describe cronjob matches kubectl byte for byte', async t => {
  t.equal(describeCronJob(json('describe-cronjob.json'), [], NOW), fixture('describe-cronjob.txt'))
})

t.test('describe persistentvolumeclaim matches kubectl byte for byte, bound and pending', async t => {
  t.equal(describePersistentVolumeClaim(json('describe-pvc.json'), pods, [], NOW), fixture('describe-pvc.txt'))
  t.equal(describePersistentVolumeClaim(json('describe-pvc-pending.json'), pods, [], NOW), fixture('describe-pvc-pending.txt'))
})

t.test('pods status counts only controlled pods the selector matches', async t => {
  const set: KubeObject = { metadata: { name: 'web', uid: 'u1' } }
  const pod = (name: string, phase: string, labels: Record<string, string>, uid = 'u1'): KubeObject => ({
    metadata: { name, labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid, controller: true }] },
    status: { phase },
  })
  const all = [pod('a', 'Running', { app: 'web' }), pod('b', 'Pending', { app: 'web' }), pod('c', 'Running', { app: 'other' }), pod('d', 'Failed', { app: 'web' }, 'u2')]
  t.equal(podsStatusText(set, { matchLabels: { app: 'web' } }, all), '1 Running / 1 Waiting / 0 Succeeded / 0 Failed')
})

t.test('describe job: unset completions, suspended, indexed, controlled by a CronJob', async t => {
  const job: KubeObject = {
    metadata: { name: 'tick-1', namespace: 'default', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: 'c', controller: true }] },
    spec: { parallelism: 3, completionMode: 'Indexed', suspend: true, backoffLimit: 6, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'x' } } },
    status: { active: 2, completedIndexes: '0,2-4' },
  }
  const text = describeJob(job, undefined, NOW)
  for (const line of [
    'Selector:         batch.kubernetes.io/controller-uid=x',
    'Controlled By:    CronJob/tick',
    'Parallelism:      3',
    'Completions:      <unset>',
    'Completion Mode:  Indexed',
    'Suspend:          true',
    'Pods Statuses:    2 Active / 0 Succeeded / 0 Failed',
    'Completed Indexes:  0,2-4',
  ]) {
    t.ok(text.split('\n').some(l => l.replace(/\s+/g, ' ') === line.replace(/\s+/g, ' ')), line)
  }
  t.notMatch(text, /Events:/, 'no events section when events were not asked for')
})

t.test('describe cronjob: nothing scheduled yet, no active jobs, unset limits', async t => {
  const text = describeCronJob({ metadata: { name: 'c', namespace: 'default' }, spec: { schedule: '@hourly', concurrencyPolicy: 'Forbid', jobTemplate: { spec: {} } } }, [], NOW)
  t.match(text, /Suspend:\s+<unset>\n/)
  t.match(text, /Successful Job History Limit:\s+<unset>\n/)
  t.match(text, /Starting Deadline Seconds:\s+<unset>\n/)
  t.match(text, /Last Schedule Time:\s+<unset>\n/)
  t.match(text, /Active Jobs:\s+<none>\n/)
})

t.test('describe statefulset: OnDelete, no claims; claim users by volume and by ephemeral volume', async t => {
  const text = describeStatefulSet({ metadata: { name: 's', namespace: 'default', uid: 'u' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, updateStrategy: { type: 'OnDelete' }, template: { spec: { containers: [] } } } }, [], undefined, NOW)
  t.match(text, /Update Strategy:\s+OnDelete\nPods Status:/)
  t.match(text, /Volume Claims:\s+<none>\n$/)
  const claim: KubeObject = { metadata: { name: 'p-scratch' } }
  const users = podsUsingClaim(claim, [
    { metadata: { name: 'p' }, spec: { volumes: [{ name: 'scratch', ephemeral: { volumeClaimTemplate: {} } }] } },
    { metadata: { name: 'q' }, spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'p-scratch' } }] } },
    { metadata: { name: 'r' }, spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'other' } }] } },
  ])
  t.same(users, ['p', 'q'])
})
