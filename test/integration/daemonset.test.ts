// DaemonSets on a real cluster that starts with 2 nodes: one Ready pod on
// every node; `node add` gets one on the new node; a rolling update with
// maxUnavailable 1 replaces every pod, never leaving more than one node
// without an available pod (watched event by event); `node remove` takes
// that node's pod away without a replacement elsewhere; a nodeSelector
// follows `kubewire label node`.
import { join } from 'node:path'
import t from 'tap'
import { HttpClient } from '../../control/client/http-client.ts'
import { RESOURCES, type KubeObject, type WatchHandle } from '../../control/client/api-client.ts'
import { isolatedHome, kubewire, kubewireOk, leftoversSettled, removeHome, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
let client: HttpClient

interface Pod extends KubeObject {
  spec: { nodeName?: string }
  status?: { phase?: string; conditions?: { type: string; status: string }[] }
}
interface DaemonSet extends KubeObject {
  status?: Record<string, number>
}

const WAIT_MS = 60_000

function daemonSet(app: string, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: app },
    spec: {
      selector: { matchLabels: { app } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }],
          ...podSpec,
        },
      },
    },
  }
}

const ready = (p: Pod): boolean => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True')
const pods = async (app: string): Promise<Pod[]> => (await client.list<Pod>(RESOURCES.pods, 'default', { labelSelector: `app=${app}` })).items
const live = async (app: string): Promise<Pod[]> => (await pods(app)).filter(p => !p.metadata.deletionTimestamp)
const nodesOf = (list: readonly Pod[]): string[] => list.map(p => p.spec.nodeName ?? '(unbound)').sort()
const status = async (app: string): Promise<Record<string, number>> => (await client.get<DaemonSet>(RESOURCES.daemonsets, 'default', app)).status ?? {}

/** Resolves with the pods once exactly one Ready pod runs on each of `nodes` and nowhere else. */
async function onePodPerNode(app: string, nodes: readonly string[]): Promise<Pod[]> {
  return await waitFor(`one Ready ${app} pod on each of ${nodes.join(', ')}`, async () => {
    const list = await pods(app)
    return list.length === nodes.length && list.every(ready) && nodesOf(list).join() === [...nodes].sort().join() ? list : undefined
  }, WAIT_MS)
}

t.before(async () => {
  await kubewireOk(['up', '--nodes', '2', '--addons', 'none'])
  client = await HttpClient.fromKubeconfig(join(home, 'clusters', name, 'kubeconfig'))
})

t.teardown(async () => {
  client?.close()
  await kubewire(['down'])
  removeHome(home)
})

t.test('one Ready pod on each node, labelled and owned as Kubernetes does it', async t => {
  const ds = await client.create(RESOURCES.daemonsets, 'default', daemonSet('agent'))
  const list = await onePodPerNode('agent', ['node-1', 'node-2'])
  for (const p of list) {
    t.match(p.metadata.name, /^agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
    t.match(p.metadata.labels, { app: 'agent', 'pod-template-generation': '1', 'controller-revision-hash': /.+/ })
    t.match(p.metadata.ownerReferences, [{ kind: 'DaemonSet', name: 'agent', uid: ds.metadata.uid, controller: true }])
  }
  const revisions = (await client.list(RESOURCES.controllerrevisions, 'default')).items
  t.equal(revisions.length, 1, 'one ControllerRevision')
  t.equal(revisions[0]?.metadata.name, `agent-${list[0]?.metadata.labels?.['controller-revision-hash']}`)
  const s = await waitFor('the status to count both', async () => {
    const st = await status('agent')
    return st.numberAvailable === 2 ? st : undefined
  }, WAIT_MS)
  t.match(s, { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, numberAvailable: 2, numberMisscheduled: 0, observedGeneration: 1 })
})

t.test('node add: the new node gets its pod', async t => {
  await kubewireOk(['node', 'add'])
  await onePodPerNode('agent', ['node-1', 'node-2', 'node-3'])
  t.pass('node-3 runs a Ready agent pod')
  await waitFor('desiredNumberScheduled 3', async () => (await status('agent')).desiredNumberScheduled === 3, WAIT_MS)
})

t.test('a rolling update with maxUnavailable 1 replaces every pod, one node at a time', async t => {
  const before = await onePodPerNode('agent', ['node-1', 'node-2', 'node-3'])
  const oldHash = before[0]?.metadata.labels?.['controller-revision-hash']
  // Every node's available pods, from the watch; the worst moment is recorded.
  const byName = new Map<string, Pod>()
  for (const p of before) byName.set(p.metadata.name ?? '', p)
  let worst = 0
  const unavailableNodes = (): number => {
    const available = new Set([...byName.values()].filter(ready).map(p => p.spec.nodeName))
    return ['node-1', 'node-2', 'node-3'].filter(n => !available.has(n)).length
  }
  const list = await client.list<Pod>(RESOURCES.pods, 'default', { labelSelector: 'app=agent' })
  const watch: WatchHandle = await client.watch<Pod>(RESOURCES.pods, 'default', { labelSelector: 'app=agent', resourceVersion: list.metadata.resourceVersion }, e => {
    if (e.type === 'DELETED') byName.delete(e.object.metadata.name ?? '')
    else if (e.type === 'ADDED' || e.type === 'MODIFIED') byName.set(e.object.metadata.name ?? '', e.object)
    worst = Math.max(worst, unavailableNodes())
  })
  t.teardown(() => watch.stop())

  await client.patch(RESOURCES.daemonsets, 'default', 'agent', { spec: { template: { metadata: { annotations: { rollout: '2' } } } } })
  const after = await waitFor('every agent pod replaced and Ready', async () => {
    const cur = await pods('agent')
    const done = cur.length === 3 && cur.every(p => ready(p) && p.metadata.labels?.['controller-revision-hash'] !== oldHash)
    return done && nodesOf(cur).join() === 'node-1,node-2,node-3' ? cur : undefined
  }, WAIT_MS)
  watch.stop()
  const oldNames = new Set(before.map(p => p.metadata.name))
  t.ok(after.every(p => !oldNames.has(p.metadata.name)), 'every pod is new')
  t.ok(after.every(p => p.metadata.labels?.['pod-template-generation'] === '2'), 'labelled with template generation 2')
  t.ok(worst <= 1, `never more than one node without an available pod (worst: ${worst})`)
  t.ok(worst >= 1, 'the watch saw the replacements')
  t.equal((await client.list(RESOURCES.controllerrevisions, 'default')).items.length, 2, 'two ControllerRevisions')
  const s = await waitFor('status after the update', async () => {
    const st = await status('agent')
    return st.updatedNumberScheduled === 3 && st.numberAvailable === 3 ? st : undefined
  }, WAIT_MS)
  t.match(s, { desiredNumberScheduled: 3, observedGeneration: 2 })
})

t.test('node remove: that node loses its pod, no replacement appears elsewhere', async t => {
  await kubewireOk(['node', 'remove', 'node-3'])
  await onePodPerNode('agent', ['node-1', 'node-2'])
  await waitFor('desiredNumberScheduled 2', async () => {
    const st = await status('agent')
    return st.desiredNumberScheduled === 2 && st.currentNumberScheduled === 2
  }, WAIT_MS)
  // Nothing queued to create: another round of the loop (a status write) leaves two pods.
  await client.patch(RESOURCES.daemonsets, 'default', 'agent', { spec: { minReadySeconds: 0, revisionHistoryLimit: 5 } })
  await waitFor('observedGeneration 3', async () => (await status('agent')).observedGeneration === 3, WAIT_MS)
  t.same(nodesOf(await pods('agent')), ['node-1', 'node-2'], 'still one pod on each remaining node')
})

t.test('a nodeSelector follows the node labels', async t => {
  await client.create(RESOURCES.daemonsets, 'default', daemonSet('edge', { nodeSelector: { role: 'edge' } }))
  await waitFor('the edge DaemonSet observed, with nothing to run', async () => {
    const st = await status('edge')
    return st.observedGeneration === 1 && st.desiredNumberScheduled === 0
  }, WAIT_MS)
  t.same(await pods('edge'), [], 'no labelled node, no pod')

  await kubewireOk(['label', 'node', 'node-2', 'role=edge'])
  await onePodPerNode('edge', ['node-2'])
  t.pass('labelling node-2 puts a pod there')
  await kubewireOk(['label', 'node', 'node-1', 'role=edge'])
  await onePodPerNode('edge', ['node-1', 'node-2'])
  t.pass('and node-1')
  await kubewireOk(['label', 'node', 'node-2', 'role-'])
  await waitFor('the edge pod on node-2 gone', async () => {
    const list = await pods('edge')
    return list.length === 1 && list[0]?.spec.nodeName === 'node-1'
  }, WAIT_MS)
  t.same(nodesOf(await live('edge')), ['node-1'], 'unlabelling node-2 takes its pod away')
  t.match(await status('edge'), { desiredNumberScheduled: 1, currentNumberScheduled: 1 })
})

t.test('down leaves nothing', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
