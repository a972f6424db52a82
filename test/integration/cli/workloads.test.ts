// scale, rollout (status / history / undo / restart / pause / resume), set
// image, label, annotate and delete against a real API server with the real
// Deployment and ReplicaSet controllers. The node agents' part is driven by
// the test, so `rollout status` and `delete` are seen waiting for them.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import type { Deployment } from '../../../control/controllers/objects.ts'
import { startCliCluster, untilPods } from './cluster.ts'

const image = (d: Deployment): string | undefined => d.spec?.template?.spec?.containers?.[0]?.image

t.test('rollout status waits for the agents; history, undo, restart, pause, resume', async t => {
  const cluster = await startCliCluster(t, { autoReady: false })
  t.equal((await cluster.run('create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=3')).code, 0)

  const status = cluster.start('rollout', ['status', 'deployment/web', '--timeout=60s'])
  await status.io.waitForOut(/^Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available\.\.\.$/)
  await untilPods(cluster, 'default', pods => pods.length === 3 && pods.every(p => (p.spec as { nodeName?: string }).nodeName))
  await cluster.readyAll()
  t.equal(await status.done, 0)
  t.equal(status.io.stdout.at(-1), 'deployment "web" successfully rolled out')
  t.same([...new Set(status.io.stdout)], status.io.stdout, 'each line printed once')
  cluster.agent.autoReady = true

  // A new template: revision 2, then back to 1's template as revision 3.
  t.equal((await cluster.run('set', 'image', 'deployment/web', 'nginx=nginx:1.26')).out, 'deployment.apps/web image updated')
  t.equal((await cluster.run('set', 'image', 'deployment/web', 'nginx=nginx:1.26')).out, '', 'nothing to change, nothing printed')
  t.equal((await cluster.run('set', 'image', 'deployment/web', 'nope=x')).err, 'error: unable to find container named "nope"')
  t.equal((await cluster.run('rollout', 'status', 'deployment/web', '--timeout=60s')).out.split('\n').at(-1), 'deployment "web" successfully rolled out')
  t.equal((await cluster.run('rollout', 'history', 'deployment/web')).out, 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n')
  t.match((await cluster.run('rollout', 'history', 'deployment/web', '--revision=1')).out, /^deployment\.apps\/web with revision #1\nPod Template:\n {2}Labels:\tapp=web\n\tpod-template-hash=[a-z0-9]+\n {2}Containers:\n {3}nginx:\n {4}Image:\tnginx:1\.25\n/)

  t.equal((await cluster.run('rollout', 'undo', 'deployment/web')).out, 'deployment.apps/web rolled back')
  t.equal(image(await cluster.client.get<Deployment>(RESOURCES.deployments, 'default', 'web')), 'nginx:1.25')
  await cluster.run('rollout', 'status', 'deployment/web', '--timeout=60s')
  t.equal((await cluster.run('rollout', 'history', 'deploy/web')).out, 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n')
  t.equal((await cluster.run('rollout', 'undo', 'deployment/web', '--to-revision=3')).out, 'deployment.apps/web skipped rollback (current template already matches revision 3)')
  t.same(await cluster.run('rollout', 'undo', 'deployment/web', '--to-revision=9'), { code: 1, out: '', err: 'error: unable to find specified revision 9 in history' })
  t.equal((await cluster.run('rollout', 'undo', 'deployment', 'web', '--to-revision=2')).out, 'deployment.apps/web rolled back')
  t.equal(image(await cluster.client.get<Deployment>(RESOURCES.deployments, 'default', 'web')), 'nginx:1.26')

  t.equal((await cluster.run('rollout', 'pause', 'deployment/web')).out, 'deployment.apps/web paused')
  t.equal((await cluster.run('rollout', 'pause', 'deployment/web')).err, 'error: deployments.apps "web" is already paused')
  t.equal((await cluster.run('rollout', 'restart', 'deployment/web')).err, `error: deployments.apps "web" can't restart paused deployment (run rollout resume first)`)
  t.equal((await cluster.run('rollout', 'undo', 'deployment/web')).err, "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again")
  t.equal((await cluster.run('rollout', 'resume', 'deployment/web')).out, 'deployment.apps/web resumed')
  t.equal((await cluster.run('rollout', 'resume', 'deployment/web')).err, 'error: deployments.apps "web" is not paused')
  t.equal((await cluster.run('rollout', 'restart', 'deployment/web')).out, 'deployment.apps/web restarted')
  const restarted = await cluster.client.get<Deployment>(RESOURCES.deployments, 'default', 'web')
  t.match(restarted.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
  t.equal((await cluster.run('rollout', 'status', 'deployment/web', '--timeout=60s')).code, 0)
  t.equal((await cluster.run('rollout', 'status', 'deployment/web', '--watch=false')).out, 'deployment "web" successfully rolled out')
  t.equal((await cluster.run('rollout', 'status', 'pod/x')).err, 'error: no status viewer has been implemented for Pod')
})

t.test('rollout status: timeout and a deployment that goes away', async t => {
  const cluster = await startCliCluster(t, { autoReady: false })
  await cluster.run('create', 'deployment', 'slow', '--image=nginx')
  const timedOut = await cluster.run('rollout', 'status', 'deployment/slow', '--timeout=1s')
  t.equal(timedOut.code, 1)
  t.equal(timedOut.err, 'error: timed out waiting for the condition')
  t.match(timedOut.out, /Waiting for deployment "slow" rollout to finish/)
  const waiting = cluster.start('rollout', ['status', 'deployment/slow'])
  await waiting.io.waitForOut(/Waiting for deployment "slow"/)
  await cluster.client.delete(RESOURCES.deployments, 'default', 'slow')
  t.equal(await waiting.done, 1)
  t.equal(waiting.io.stderr.join('\n'), 'error: object has been deleted')
  t.equal((await cluster.run('rollout', 'status', 'deployment/gone')).err, 'error: deployments.apps "gone" not found')
})

t.test('scale through the scale subresource', async t => {
  const cluster = await startCliCluster(t)
  await cluster.run('create', 'deployment', 'web', '--image=nginx', '--replicas=1')
  t.equal((await cluster.run('scale', 'deployment/web', '--replicas=4')).out, 'deployment.apps/web scaled')
  await untilPods(cluster, 'default', pods => pods.length === 4)
  t.equal((await cluster.run('scale', '--replicas=2', 'deployment', 'web')).out, 'deployment.apps/web scaled')
  await untilPods(cluster, 'default', pods => pods.filter(p => !p.metadata.deletionTimestamp).length === 2)
  t.equal((await cluster.run('scale', 'deploy/web', '--replicas=3', '--current-replicas=1')).err, 'error: Expected replicas to be 1, was 2')
  const rs = (await cluster.client.list(RESOURCES.replicasets, 'default')).items[0]
  t.equal((await cluster.run('scale', `rs/${rs?.metadata.name ?? ''}`, '--replicas=2')).out, `replicaset.apps/${rs?.metadata.name ?? ''} scaled`)
  t.equal((await cluster.run('scale', 'deployment/web')).err, 'error: required flag(s) "replicas" not set\nSee \'kubewire scale --help\' for usage.')
  t.equal((await cluster.run('scale', 'deployment/nope', '--replicas=1')).err, 'Error from server (NotFound): deployments.apps "nope" not found')
})

t.test('label and annotate', async t => {
  const cluster = await startCliCluster(t)
  await cluster.run('create', 'configmap', 'settings', '--from-literal=a=1')
  t.equal((await cluster.run('label', 'cm', 'settings', 'tier=x')).out, 'configmap/settings labeled')
  t.equal((await cluster.run('label', 'cm', 'settings', 'tier=x')).out, 'configmap/settings not labeled')
  t.same(await cluster.run('label', 'cm', 'settings', 'tier=y'), { code: 1, out: '', err: "error: 'tier' already has a value (x), and --overwrite is false" })
  t.equal((await cluster.run('label', 'configmap/settings', 'tier=y', '--overwrite')).out, 'configmap/settings labeled')
  t.equal((await cluster.run('label', 'cm', 'settings', 'tier-')).out, 'configmap/settings unlabeled')
  t.equal((await cluster.run('label', 'cm', 'settings', 'tier-')).out, 'label "tier" not found.\nconfigmap/settings not labeled')
  t.match((await cluster.run('label', 'cm', 'settings', 'bad key=x')).err, /^error: invalid label value: "bad key=x": /)
  t.equal((await cluster.run('annotate', 'cm', 'settings', 'note=hello world')).out, 'configmap/settings annotated')
  t.equal((await cluster.run('annotate', 'cm', 'settings', 'note=again')).err, "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (hello world)")
  t.equal((await cluster.client.get(RESOURCES.configmaps, 'default', 'settings')).metadata.annotations?.note, 'hello world')
  t.equal((await cluster.run('label', 'cm', '--all', 'team=a')).out, 'configmap/settings labeled')
})

t.test('delete waits until the objects are gone', async t => {
  const cluster = await startCliCluster(t, { autoFinish: false })
  await cluster.run('create', 'deployment', 'web', '--image=nginx', '--replicas=2')
  const pods = await untilPods(cluster, 'default', list => list.length === 2 && list.every(p => (p.status as { phase?: string }).phase === 'Running'))
  const [first, second] = pods.map(p => p.metadata.name ?? '') as [string, string]

  // The pod lingers (terminating) until its agent finishes it; delete waits for that.
  let finished = false
  const deleting = cluster.start('delete', ['pod', first])
  void deleting.done.then(() => (finished = true))
  await deleting.io.waitForOut(new RegExp(`^pod "${first}" deleted$`))
  await untilPods(cluster, 'default', list => list.some(p => p.metadata.name === first && p.metadata.deletionTimestamp !== undefined))
  t.notOk(finished, 'still waiting while the pod terminates')
  await cluster.finishTerminating()
  t.equal(await deleting.done, 0)
  await t.rejects(cluster.client.get(RESOURCES.pods, 'default', first), { code: 'NotFound' })

  // --wait=false returns at once; --timeout bounds the wait.
  t.same(await cluster.run('delete', 'pod', second, '--wait=false'), { code: 0, out: `pod "${second}" deleted`, err: '' })
  const replacement = (await untilPods(cluster, 'default', list => list.some(p => ![first, second].includes(p.metadata.name ?? '') && (p.status as { phase?: string }).phase === 'Running')))
    .find(p => ![first, second].includes(p.metadata.name ?? '')) as KubeObject
  const timedOut = await cluster.run('delete', 'pods', replacement.metadata.name ?? '', '--timeout=1s')
  t.equal(timedOut.code, 1)
  t.equal(timedOut.err, `error: timed out waiting for the condition on pods/${replacement.metadata.name ?? ''}`)
  cluster.agent.autoFinish = true
  await cluster.finishTerminating()

  // By label, everything, force, not found, a file.
  t.equal((await cluster.run('delete', 'deployment', 'web')).out, 'deployment.apps "web" deleted')
  await untilPods(cluster, 'default', list => list.length === 0)
  await cluster.run('create', 'configmap', 'a', '--from-literal=k=v')
  await cluster.run('create', 'configmap', 'b', '--from-literal=k=v')
  await cluster.run('label', 'cm', 'a', 'group=one')
  t.equal((await cluster.run('delete', 'cm', '-l', 'group=one')).out, 'configmap "a" deleted')
  t.equal((await cluster.run('delete', 'cm', '-l', 'group=none')).out, 'No resources found')
  t.same(await cluster.run('delete', 'cm', 'b', '--grace-period=0', '--force'), {
    code: 0,
    out: 'configmap "b" force deleted',
    err: 'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.',
  })
  t.same(await cluster.run('delete', 'cm', 'b'), { code: 1, out: '', err: 'Error from server (NotFound): configmaps "b" not found' })
  t.same(await cluster.run('delete', 'cm', 'b', '--ignore-not-found'), { code: 0, out: '', err: '' })
  t.match((await cluster.run('delete', 'cm')).err, /^error: resource\(s\) were provided, but no name was specified/)

  await cluster.run('create', 'namespace', 'team')
  await cluster.run('create', 'configmap', 'inside', '-n', 'team', '--from-literal=k=v')
  t.equal((await cluster.run('delete', 'namespace', 'team')).out, 'namespace "team" deleted')
  await t.rejects(cluster.client.get(RESOURCES.namespaces, undefined, 'team'), { code: 'NotFound' }, 'gone (emptied first) when delete returns')
})
