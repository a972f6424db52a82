// get and describe for Jobs, CronJobs and PersistentVolumeClaims against a
// real API server. The Job, CronJob and TTL controllers are switched off: the
// test writes the status a controller (or the volume binder) would, through
// the status subresource. Where kubectl is installed, the describers'
// output must equal kubectl's for the same objects.

import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { ResourceRef } from '../../../control/client/api-client.ts'
import { runCommand } from '../../../dataplane/exec/run-command.ts'
import { startCliCluster } from './cluster.ts'

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0

const MANIFESTS = `apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  completions: 3
  parallelism: 2
  backoffLimit: 4
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: busybox, command: [sh, -c, 'echo 3.14']}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: '*/5 * * * *'
  timeZone: Etc/UTC
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: tick, image: busybox, command: [date]}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: user}
spec:
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
  containers: [{name: u, image: busybox, command: [sleep, '3600']}]
`

t.test('jobs, cronjobs and claims: get and describe', async t => {
  const cluster = await startCliCluster(t, {}, { disable: ['statefulset', 'daemonset', 'job', 'cronjob', 'ttl-after-finished', 'persistentvolume-binder'] })
  const file = join(cluster.dir, 'batch.yaml')
  writeFileSync(file, MANIFESTS)
  t.equal((await cluster.run('apply', '-f', file)).out, 'job.batch/pi created\ncronjob.batch/tick created\npersistentvolumeclaim/data created\npod/user created')
  const status = (ref: ResourceRef, name: string, body: Record<string, unknown>) => cluster.local.patch(ref, 'default', name, { status: body }, 'merge', 'status')

  t.match((await cluster.run('get', 'jobs')).out, /^NAME +STATUS +COMPLETIONS +DURATION +AGE\npi +Running +0\/3 +\d+s$/, 'no start time yet: no duration')
  const started = new Date(Date.now() - 30_000).toISOString().replace(/\.\d+Z$/, 'Z')
  await status(RESOURCES.jobs, 'pi', { startTime: started, active: 2, ready: 1 })
  t.match((await cluster.run('get', 'job', 'pi')).out, /\npi +Running +0\/3 +3\ds +\d+s$/, 'running: the duration so far')
  const done = new Date(Date.parse(started) + 65_000).toISOString().replace(/\.\d+Z$/, 'Z')
  await status(RESOURCES.jobs, 'pi', {
    completionTime: done,
    active: 0,
    ready: 0,
    succeeded: 3,
    conditions: ['SuccessCriteriaMet', 'Complete'].map(type => ({ type, status: 'True', lastProbeTime: done, lastTransitionTime: done })),
  })
  t.match((await cluster.run('get', 'jobs', '-o', 'wide')).out, /^NAME +STATUS +COMPLETIONS +DURATION +AGE +CONTAINERS +IMAGES +SELECTOR\npi +Complete +3\/3 +65s +\d+s +pi +busybox +\S+$/)

  t.match((await cluster.run('get', 'cj')).out, /^NAME +SCHEDULE +TIMEZONE +SUSPEND +ACTIVE +LAST SCHEDULE +AGE\ntick +\*\/5 \* \* \* \* +Etc\/UTC +False +0 +<none> +\d+s$/)
  await status(RESOURCES.cronjobs, 'tick', { lastScheduleTime: new Date(Date.now() - 120_000).toISOString().replace(/\.\d+Z$/, 'Z'), active: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'tick-1', namespace: 'default' }] })
  t.match((await cluster.run('get', 'cronjobs')).out, /\ntick +\*\/5 \* \* \* \* +Etc\/UTC +False +1 +2m(\ds)? +\d+s$/)

  t.match((await cluster.run('get', 'pvc')).out, /^NAME +STATUS +VOLUME +CAPACITY +ACCESS MODES +STORAGECLASS +VOLUMEATTRIBUTESCLASS +AGE\ndata +Pending +local +<unset> +\d+s$/)
  await cluster.local.patch(RESOURCES.persistentvolumeclaims, 'default', 'data', { spec: { volumeName: 'pvc-data' } }, 'merge')
  await status(RESOURCES.persistentvolumeclaims, 'data', { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] })
  t.match((await cluster.run('get', 'pvc', '-o', 'wide')).out, /\ndata +Bound +pvc-data +1Gi +RWO +local +<unset> +\d+s +Filesystem$/)

  const all = (await cluster.run('get', 'all')).out
  t.match(all, /\n\nNAME +SCHEDULE .*\ncronjob\.batch\/tick .*\n\nNAME +STATUS +COMPLETIONS .*\njob\.batch\/pi +Complete /, 'cronjobs, then jobs, last')

  const job = (await cluster.run('describe', 'job', 'pi')).out
  t.match(job, /\nParallelism: +2\nCompletions: +3\nCompletion Mode: +NonIndexed\nSuspend: +false\nBackoff Limit: +4\n/)
  t.match(job, /\nDuration: +65s\nPods Statuses: +0 Active \(0 Ready\) \/ 3 Succeeded \/ 0 Failed\n/)
  t.match((await cluster.run('describe', 'cj', 'tick')).out, /\nLast Schedule Time: +\w{3}, .*\nActive Jobs: +tick-1\n/)
  t.match((await cluster.run('describe', 'pvc', 'data')).out, /\nCapacity: +1Gi\nAccess Modes: +RWO\nVolumeMode: +Filesystem\nUsed By: +user\n/)

  if (hasKubectl) {
    const kubectl = async (args: string[]): Promise<string> => {
      const { stdout, stderr } = await runCommand(['kubectl', '--kubeconfig', cluster.kubeconfig, '--cache-dir', join(cluster.dir, 'kubectl-cache'), ...args], { allowFailure: true })
      return [stdout.replace(/\n$/, ''), stderr.replace(/\n$/, '')].filter(s => s !== '').join('\n')
    }
    for (const args of [['describe', 'job', 'pi'], ['describe', 'cronjob', 'tick'], ['describe', 'pvc', 'data']]) {
      const [verb, ...rest] = args as [string, ...string[]]
      const { out, err } = await cluster.run(verb, ...rest)
      t.equal([out, err].filter(s => s !== '').join('\n'), await kubectl(args), `kubectl ${args.join(' ')}`)
    }
  }
})
