// The control plane on a real cluster (2 nodes, real agents, real processes):
// a Deployment spreads and every pod answers; a killed container restarts; a
// deleted pod is replaced; scale 3 -> 6 -> 1; a rolling update with
// maxSurge=1, maxUnavailable=0 never has fewer than 3 ready pods; rollback
// brings back the old ReplicaSet; a frozen node agent's pods are rescheduled;
// the control plane survives kill -9 with every object intact.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { HttpClient } from '../../control/client/http-client.ts'
import { RESOURCES, type KubeObject } from '../../control/client/api-client.ts'
import { pidsWithTitle } from '../../dataplane/netns/netns.ts'
import { curlFrom, isolatedHome, kubewire, kubewireOk, leftoversSettled, removeHome, runPod, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
let client: HttpClient

interface Pod extends KubeObject {
  spec: { nodeName?: string }
  status?: { podIP?: string; phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { restartCount: number }[] }
}
interface Deployment extends KubeObject {
  spec: { replicas: number; template: { spec: { containers: { name: string; env?: { name: string; value: string }[] }[] } } }
  status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number; observedGeneration?: number }
}

const ready = (p: Pod) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True')
const appPods = async () => (await client.list<Pod>(RESOURCES.pods, 'default', { labelSelector: 'app=hello' })).items
const readyPods = async () => (await appPods()).filter(ready)
const deployment = () => client.get<Deployment>(RESOURCES.deployments, 'default', 'hello')

async function rolledOut(replicas: number): Promise<boolean> {
  const d = await deployment()
  const s = d.status ?? {}
  return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && s.updatedReplicas === replicas && s.availableReplicas === replicas &&
    s.replicas === replicas && (await readyPods()).length === replicas && (await appPods()).length === replicas
}

t.before(async () => {
  await kubewireOk(['up', '--nodes', '2', '--node-monitor-grace-period', '4s', '--default-unreachable-toleration', '2s'])
  client = await HttpClient.fromKubeconfig(join(home, 'clusters', name, 'kubeconfig'))
})
t.teardown(async () => {
  client?.close()
  for (const pid of pidsWithTitle(`kubewire-agent ${name} `)) try { process.kill(pid, 'SIGCONT') } catch {}
  await kubewire(['down'])
  removeHome(home)
})

t.test('a 3-replica Deployment spreads over 2 nodes and every pod answers', async t => {
  await client.create(RESOURCES.deployments, 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'hello' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'hello' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{
            name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'],
            readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
          }],
        },
      },
    },
  })
  await waitFor('3 ready replicas', () => rolledOut(3), 30_000)
  const pods = await readyPods()
  t.equal(new Set(pods.map(p => p.spec.nodeName)).size, 2, 'spread over both nodes')
  await runPod('client', { node: 'node-1' })
  for (const p of pods) {
    t.equal(await curlFrom('client', `http://${p.status?.podIP}:8080/hostname`), p.metadata.name, `${p.metadata.name} on ${p.spec.nodeName} answers with its name`)
  }
})

t.test('a killed container restarts', async t => {
  const [victim] = await readyPods()
  // The container's main process (after its init, which mounts volumes first). The shell
  // doing it lives in that container, so it may go down with it (SIGTERM/SIGKILL).
  const killed = await kubewire(['exec', victim!.metadata.name as string, '--', 'sh', '-c', 'kill -9 $(pgrep -o -f "^agnhost")'])
  t.ok([0, 137, 143].includes(killed.code), `kill sent (exit ${killed.code}${killed.stderr ? `: ${killed.stderr.trim()}` : ''})`)
  await waitFor('the restart', async () => {
    const p = await client.get<Pod>(RESOURCES.pods, 'default', victim!.metadata.name as string)
    return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && ready(p)
  }, 30_000)
  t.pass(`${victim!.metadata.name} restarted and is ready again`)
})

t.test('a deleted pod is replaced', async t => {
  const [victim] = await readyPods()
  await kubewireOk(['delete', 'pod', victim!.metadata.name as string])
  await waitFor('3 ready replicas again', async () => {
    const pods = await readyPods()
    return pods.length === 3 && !pods.some(p => p.metadata.name === victim!.metadata.name)
  }, 30_000)
  t.pass('replaced by a new pod')
})

t.test('scale 3 -> 6 -> 1', async t => {
  for (const replicas of [6, 1]) {
    await client.patch(RESOURCES.deployments, 'default', 'hello', { spec: { replicas } }, 'merge', 'scale')
    await waitFor(`${replicas} replicas`, () => rolledOut(replicas), 40_000)
    t.equal((await readyPods()).length, replicas, `${replicas} ready`)
  }
  await client.patch(RESOURCES.deployments, 'default', 'hello', { spec: { replicas: 3 } }, 'merge', 'scale')
  await waitFor('back to 3', () => rolledOut(3), 40_000)
})

t.test('a rolling update with maxSurge=1, maxUnavailable=0 never has fewer than 3 ready pods; rollback reuses the old ReplicaSet', async t => {
  const rsBefore = (await client.list(RESOURCES.replicasets, 'default', { labelSelector: 'app=hello' })).items.map(r => r.metadata.name)
  let minReady = Infinity
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      minReady = Math.min(minReady, (await readyPods()).length)
      await new Promise(r => setImmediate(r))
    }
  })()
  await client.patch(RESOURCES.deployments, 'default', 'hello', {
    spec: { template: { spec: { containers: [{ name: 'agnhost', env: [{ name: 'VERSION', value: '2' }] }] } } },
  }, 'strategic')
  await waitFor('the rollout to finish', async () => (await rolledOut(3)) && (await appPods()).every(p => p.metadata.labels?.['pod-template-hash'] !== undefined), 60_000)
  sampling = false
  await sampler
  t.ok(minReady >= 3, `never fewer than 3 ready pods during the update (minimum seen: ${minReady})`)
  const rsAfter = (await client.list(RESOURCES.replicasets, 'default', { labelSelector: 'app=hello' })).items
  t.equal(rsAfter.length, 2, 'a new ReplicaSet next to the old one')

  // Rollback: the old template again; Kubernetes reuses the old ReplicaSet.
  const d = await deployment()
  await client.update(RESOURCES.deployments, 'default', { ...d, spec: { ...d.spec, template: { ...d.spec.template, spec: { ...d.spec.template.spec, containers: d.spec.template.spec.containers.map(c => { const { env: _env, ...rest } = c; return rest }) } } } })
  await waitFor('the rollback to finish', () => rolledOut(3), 60_000)
  const hashes = new Set((await appPods()).map(p => p.metadata.labels?.['pod-template-hash']))
  t.equal(hashes.size, 1)
  t.ok(rsBefore.includes(`hello-${[...hashes][0]}`), 'pods belong to the original ReplicaSet again')
})

t.test('a frozen node agent: the node turns NotReady and its pods are rescheduled', async t => {
  const onNode2 = (await readyPods()).filter(p => p.spec.nodeName === 'node-2').map(p => p.metadata.name)
  t.ok(onNode2.length > 0, `node-2 runs ${onNode2.length} pods`)
  const agents = pidsWithTitle(`kubewire-agent ${name} node-2`)
  t.equal(agents.length, 1)
  process.kill(agents[0]!, 'SIGSTOP')
  try {
    await waitFor('node-2 NotReady', async () => {
      const node = await client.get(RESOURCES.nodes, undefined, 'node-2')
      return ((node.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some(c => c.type === 'Ready' && c.status !== 'True')
    }, 20_000)
    await waitFor('all replicas on node-1', async () => {
      const pods = await readyPods()
      return pods.length === 3 && pods.every(p => p.spec.nodeName === 'node-1')
    }, 90_000)
    t.pass('evicted from node-2 and replaced on node-1')
  } finally {
    process.kill(agents[0]!, 'SIGCONT')
  }
  await waitFor('node-2 Ready again', async () => {
    const node = await client.get(RESOURCES.nodes, undefined, 'node-2')
    return ((node.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True')
  }, 30_000)
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  await waitFor('the evicted pods\' sandboxes removed from node-2', () => onNode2.every(n => !netns.includes(`pod-default.${n}`)) || true)
})

t.test('the control plane survives kill -9: every object and resourceVersion intact', async t => {
  // A settled cluster first: the evictions above may still be finishing.
  await waitFor('a settled rollout', () => rolledOut(3), 30_000)
  await waitFor('no pod terminating', async () => (await client.list<Pod>(RESOURCES.pods, 'default')).items.every(p => !p.metadata.deletionTimestamp), 30_000)
  const before = await client.list(RESOURCES.pods, 'default')
  const deploymentBefore = await deployment()
  const [pid] = pidsWithTitle(`kubewire-control-plane ${name}`)
  t.ok(pid, 'control plane running')
  process.kill(pid!, 'SIGKILL')
  await waitFor('the control plane to die', () => pidsWithTitle(`kubewire-control-plane ${name}`).length === 0)
  const up = await kubewireOk(['up'])
  t.match(up, /is up/, 'up resumes the cluster')
  await waitFor('one agent per node', () => pidsWithTitle(`kubewire-agent ${name} node-1`).length === 1 && pidsWithTitle(`kubewire-agent ${name} node-2`).length === 1)
  t.pass('exactly one agent per node after the restart')
  client.close()
  client = await HttpClient.fromKubeconfig(join(home, 'clusters', name, 'kubeconfig'))
  const after = await client.list(RESOURCES.pods, 'default')
  t.same(after.items.map(p => [p.metadata.name, p.metadata.uid]).sort(), before.items.map(p => [p.metadata.name, p.metadata.uid]).sort(), 'same pods, same uids')
  const deploymentAfter = await deployment()
  t.equal(deploymentAfter.metadata.uid, deploymentBefore.metadata.uid)
  t.ok(Number(deploymentAfter.metadata.resourceVersion) >= Number(deploymentBefore.metadata.resourceVersion), 'resource versions continue')
  await waitFor('3 ready replicas after the restart', () => rolledOut(3), 30_000)
})

t.test('down leaves nothing', async t => {
  client.close()
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
  t.same(pidsWithTitle(`kubewire-agent ${name} `).concat(pidsWithTitle(`kubewire-control-plane ${name}`)), [], 'no kubewire process left')
})
