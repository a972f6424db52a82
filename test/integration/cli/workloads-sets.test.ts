// get, describe, scale and rollout (status / history / undo / restart) for
// StatefulSets and DaemonSets against a real API server. The StatefulSet and
// DaemonSet controllers are switched off: the test plays their part, writing
// the ControllerRevisions (controller-history.ts) and the status through the
// status subresource, so every line `rollout status` prints is one the test
// caused. Where kubectl is installed, the read-only commands are also run by
// kubectl against the same server and must print the same text.

import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject, OwnerReference } from '../../../control/client/api-client.ts'
import { newRevision } from '../../../control/controllers/controller-history.ts'
import type { RevisionOwner } from '../../../control/controllers/controller-history.ts'
import { runCommand } from '../../../dataplane/exec/run-command.ts'
import { startCliCluster } from './cluster.ts'
import type { CliCluster } from './cluster.ts'

const DISABLED = ['statefulset', 'daemonset', 'job', 'cronjob'] as const
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0

const MANIFESTS = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 3
  serviceName: web
  selector: {matchLabels: {app: web}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: 'nginx:1.25', ports: [{containerPort: 80}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      containers: [{name: agent, image: busybox, command: [sleep, '3600']}]
`

const ownerRef = (o: KubeObject): OwnerReference => ({ apiVersion: 'apps/v1', kind: o.kind ?? '', name: o.metadata.name ?? '', uid: o.metadata.uid ?? '', controller: true, blockOwnerDeletion: true })
const image = (o: KubeObject): string | undefined => (o.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } }).template?.spec?.containers?.[0]?.image

/** What the set's controller would do on a template change: store the template as the next revision. */
async function recordRevision(cluster: CliCluster, ref: typeof RESOURCES.statefulsets, name: string, number: number, changeCause?: string): Promise<string> {
  const owner = (await cluster.local.get(ref, 'default', name)) as RevisionOwner
  const labels = (owner.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {}
  const revision = newRevision(owner, ownerRef(owner), labels, number)
  if (changeCause !== undefined) revision.metadata.annotations = { 'kubernetes.io/change-cause': changeCause }
  await cluster.local.create(RESOURCES.controllerrevisions, 'default', revision)
  return revision.metadata.name ?? ''
}

const setStatus = async (cluster: CliCluster, ref: typeof RESOURCES.statefulsets, name: string, status: Record<string, unknown>): Promise<void> => {
  await cluster.local.patch(ref, 'default', name, { status }, 'merge', 'status')
}

t.test('statefulsets and daemonsets: get, describe, scale, rollout status / history / undo / restart', async t => {
  const cluster = await startCliCluster(t, {}, { disable: [...DISABLED] })
  const file = join(cluster.dir, 'sets.yaml')
  writeFileSync(file, MANIFESTS)
  t.equal((await cluster.run('apply', '-f', file)).out, 'statefulset.apps/web created\ndaemonset.apps/agent created')
  const sts = RESOURCES.statefulsets
  const ds = RESOURCES.daemonsets
  const kubectl = async (args: string[]): Promise<string> => {
    const { stdout, stderr } = await runCommand(['kubectl', '--kubeconfig', cluster.kubeconfig, '--cache-dir', join(cluster.dir, 'kubectl-cache'), ...args], { allowFailure: true })
    return [stdout.replace(/\n$/, ''), stderr.replace(/\n$/, '')].filter(s => s !== '').join('\n')
  }
  const ours = async (args: string[]): Promise<string> => {
    const [verb, ...rest] = args as [string, ...string[]]
    const { out, err } = await cluster.run(verb, ...rest)
    return [out, err].filter(s => s !== '').join('\n')
  }
  /** The same commands, by kubectl and by us, must print the same text (where kubectl is installed). */
  const sameAsKubectl = async (commands: string[][]): Promise<void> => {
    if (!hasKubectl) return
    for (const args of commands) t.equal(await ours(args), await kubectl(args), `kubectl ${args.join(' ')}`)
  }
  const rev1 = await recordRevision(cluster, sts, 'web', 1, 'first')
  await setStatus(cluster, sts, 'web', { observedGeneration: 1, replicas: 3, readyReplicas: 1, currentReplicas: 3, updatedReplicas: 3, currentRevision: rev1, updateRevision: rev1 })

  // get: kubectl's columns; `get all` has the sets in its order.
  t.match((await cluster.run('get', 'sts')).out, /^NAME {3}READY {3}AGE\nweb {4}1\/3 {5}\d+s$/)
  t.match((await cluster.run('get', 'statefulsets', '-o', 'wide')).out, /^NAME {3}READY {3}AGE {3}CONTAINERS {3}IMAGES\nweb {4}1\/3 {5}\d+s {4}nginx {8}nginx:1\.25$/)
  t.match((await cluster.run('get', 'ds')).out, /^NAME {4}DESIRED {3}CURRENT {3}READY {3}UP-TO-DATE {3}AVAILABLE {3}NODE SELECTOR {12}AGE\nagent {3}0 {9}0 {9}0 {7}0 {12}0 {11}kubernetes\.io\/os=linux {3}\d+s$/)
  const all = (await cluster.run('get', 'all')).out
  t.match(all, /^NAME +TYPE .*\nservice\/kubernetes .*\n\nNAME +DESIRED .*\ndaemonset\.apps\/agent .*\n\nNAME +READY +AGE\nstatefulset\.apps\/web +1\/3 /, 'services, daemonsets, statefulsets')
  t.ok(all.indexOf('daemonset.apps/agent') < all.indexOf('statefulset.apps/web'), 'statefulsets after daemonsets')
  t.match((await cluster.run('get', 'controllerrevisions')).out, new RegExp(`^NAME +CONTROLLER +REVISION +AGE\n${rev1} +statefulset\\.apps/web +1 +\\d+s$`))

  // rollout status: the partition holds back pod 0, so 2 updated pods complete the roll out.
  t.equal((await cluster.run('rollout', 'status', 'sts/web', '--watch=false')).out, 'Waiting for 2 pods to be ready...')
  const status = cluster.start('rollout', ['status', 'statefulset/web', '--timeout=60s'])
  await status.io.waitForOut(/^Waiting for 2 pods to be ready\.\.\.$/)
  await setStatus(cluster, sts, 'web', { readyReplicas: 3, updatedReplicas: 1 })
  await status.io.waitForOut(/^Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated\.\.\.$/)
  await setStatus(cluster, sts, 'web', { updatedReplicas: 2 })
  t.equal(await status.done, 0)
  t.same(status.io.stdout.filter(l => l !== ''), [
    'Waiting for 2 pods to be ready...',
    'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...',
    'partitioned roll out complete: 2 new pods have been updated...',
  ])

  // scale: through the scale subresource.
  t.equal((await cluster.run('scale', 'statefulset', 'web', '--replicas=4')).out, 'statefulset.apps/web scaled')
  t.equal((await cluster.local.get<KubeObject & { spec?: { replicas?: number } }>(sts, 'default', 'web')).spec?.replicas, 4)
  t.equal((await cluster.run('scale', 'sts/web', '--replicas=3', '--current-replicas=2')).err, 'error: Expected replicas to be 2, was 4')
  t.equal((await cluster.run('scale', 'sts/web', '--replicas=3')).code, 0)

  // A new template: revision 2.
  t.equal((await cluster.run('set', 'image', 'statefulset/web', 'nginx=nginx:1.26')).out, 'statefulset.apps/web image updated')
  const rev2 = await recordRevision(cluster, sts, 'web', 2)
  await setStatus(cluster, sts, 'web', { observedGeneration: 3, updatedReplicas: 0, updateRevision: rev2 })
  t.equal((await cluster.run('rollout', 'history', 'sts/web')).out, 'statefulset.apps/web \nREVISION  CHANGE-CAUSE\n1         first\n2         <none>\n')
  t.match((await cluster.run('rollout', 'history', 'sts/web', '--revision=1')).out, /^statefulset\.apps\/web with revision #1\nPod Template:\n {2}Labels:\tapp=web\n {2}Containers:\n {3}nginx:\n {4}Image:\tnginx:1\.25\n/)
  t.same(await cluster.run('rollout', 'history', 'sts/web', '--revision=9'), { code: 1, out: '', err: 'error: unable to find the specified revision' })

  await sameAsKubectl([
    ['rollout', 'history', 'sts/web'],
    ['rollout', 'history', 'sts/web', '--revision=1'],
    ['rollout', 'history', 'sts/web', '--revision=9'],
    ['rollout', 'status', 'sts/web', '--watch=false'],
    ['describe', 'sts', 'web'],
    ['describe', 'ds', 'agent'],
  ])

  // undo: back to revision 1's template, then nothing to do, then errors.
  t.equal((await cluster.run('rollout', 'undo', 'sts/web')).out, 'statefulset.apps/web rolled back')
  t.equal(image(await cluster.local.get(sts, 'default', 'web')), 'nginx:1.25')
  t.equal((await cluster.run('rollout', 'undo', 'sts/web', '--to-revision=1')).out, 'statefulset.apps/web skipped rollback (current template already matches revision 1)')
  t.same(await cluster.run('rollout', 'undo', 'sts/web', '--to-revision=9'), { code: 1, out: '', err: 'error: unable to find specified revision 9 in history' })
  t.equal((await cluster.run('rollout', 'undo', 'statefulset', 'web', '--to-revision=2')).out, 'statefulset.apps/web rolled back')
  t.equal(image(await cluster.local.get(sts, 'default', 'web')), 'nginx:1.26')

  // restart stamps the template.
  t.equal((await cluster.run('rollout', 'restart', 'sts/web')).out, 'statefulset.apps/web restarted')
  const restarted = await cluster.local.get(sts, 'default', 'web')
  t.match((restarted.spec as { template?: { metadata?: { annotations?: Record<string, string> } } }).template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
  t.equal((await cluster.run('rollout', 'pause', 'sts/web')).err, 'error: statefulsets.apps "web" pausing is not supported')
  t.equal((await cluster.run('rollout', 'restart', 'sts/nope')).err, 'Error from server (NotFound): statefulsets.apps "nope" not found')

  // DaemonSet: one revision, the status lines, the describe text.
  await recordRevision(cluster, ds, 'agent', 1)
  t.equal((await cluster.run('rollout', 'history', 'ds/agent')).out, 'daemonset.apps/agent \nREVISION  CHANGE-CAUSE\n1         <none>\n')
  t.same(await cluster.run('rollout', 'undo', 'ds/agent'), { code: 1, out: '', err: 'error: no last revision to roll back to' })
  await setStatus(cluster, ds, 'agent', { observedGeneration: 1, desiredNumberScheduled: 2, currentNumberScheduled: 2, updatedNumberScheduled: 1, numberReady: 1, numberAvailable: 1 })
  const dsStatus = cluster.start('rollout', ['status', 'daemonset/agent', '--timeout=60s'])
  await dsStatus.io.waitForOut(/^Waiting for daemon set "agent" rollout to finish: 1 out of 2 new pods have been updated\.\.\.$/)
  await setStatus(cluster, ds, 'agent', { updatedNumberScheduled: 2 })
  await dsStatus.io.waitForOut(/^Waiting for daemon set "agent" rollout to finish: 1 of 2 updated pods are available\.\.\.$/)
  await setStatus(cluster, ds, 'agent', { numberReady: 2, numberAvailable: 2 })
  t.equal(await dsStatus.done, 0)
  t.equal(dsStatus.io.stdout.filter(l => l !== '').at(-1), 'daemon set "agent" successfully rolled out')
  t.match((await cluster.run('get', 'ds', 'agent', '-o', 'wide')).out, /\nagent {3}2 {9}2 {9}2 {7}2 {12}2 {11}kubernetes\.io\/os=linux {3}\d+s {4}agent {8}busybox {3}app=agent$/)
  const described = (await cluster.run('describe', 'ds', 'agent')).out
  t.match(described, /^Name: {11}agent\nNamespace: {6}default\nSelector: {7}app=agent\nNode-Selector: {2}kubernetes\.io\/os=linux\n/)
  t.match(described, /\nDesired Number of Nodes Scheduled: 2\nCurrent Number of Nodes Scheduled: 2\n/)

  // OnDelete: no rollout status; restart still stamps the template.
  await cluster.local.patch(ds, 'default', 'agent', { spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } } }, 'merge')
  t.same(await cluster.run('rollout', 'status', 'ds/agent'), { code: 1, out: '', err: 'error: rollout status is only available for RollingUpdate strategy type' })
  await sameAsKubectl([
    ['rollout', 'status', 'ds/agent', '--watch=false'],
    ['rollout', 'undo', 'ds/agent'],
    ['rollout', 'pause', 'sts/web'],
    ['rollout', 'restart', 'sts/nope'],
    ['rollout', 'history', 'sts/nope'],
    ['rollout', 'history', 'ds/agent'],
  ])
  t.equal((await cluster.run('rollout', 'restart', 'ds/agent')).out, 'daemonset.apps/agent restarted')
  t.equal((await cluster.run('describe', 'sts', 'web')).out.split('\n').find(l => l.startsWith('Replicas:')), 'Replicas:           3 desired | 3 total')
})
