// Services on a real 3-node cluster, through every node's nftables proxy:
// ClusterIP from pods on every node to endpoints on every node, each endpoint
// answering; hairpin; an unready pod leaving; no endpoints -> refused at once;
// session affinity; UDP; NodePort from the host (policy Cluster and Local);
// a Service in another namespace; and not one failed request through a
// rolling update, a scale-down and a pod deletion.
import { join } from 'node:path'
import t from 'tap'
import { HttpClient } from '../../control/client/http-client.ts'
import { RESOURCES, type KubeObject } from '../../control/client/api-client.ts'
import { runCommand } from '../../dataplane/exec/run-command.ts'
import { isolatedHome, kubewire, kubewireOk, leftoversSettled, nodeInternalIP, removeHome, runPod, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
let client: HttpClient

interface Pod extends KubeObject {
  spec: { nodeName?: string }
  status?: { podIP?: string; conditions?: { type: string; status: string }[] }
}
interface Service extends KubeObject {
  spec: { clusterIP: string; ports: { name?: string; port: number; nodePort?: number }[] }
}

const NETEXEC = 'registry.k8s.io/e2e-test-images/agnhost:2.53'
const ready = (p: Pod) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True')

function deployment(app: string, replicas: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app },
    spec: {
      replicas,
      selector: { matchLabels: { app } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app } },
        spec: {
          terminationGracePeriodSeconds: 2,
          volumes: [{ name: 'state', emptyDir: {} }],
          containers: [{
            name: 'netexec', image: NETEXEC, args: ['netexec', '--http-port=8080', '--udp-port=8081'],
            ports: [{ name: 'http', containerPort: 8080 }, { name: 'udp', containerPort: 8081, protocol: 'UDP' }],
            volumeMounts: [{ name: 'state', mountPath: '/state' }],
            // Ready once it serves, until someone writes /state/down: how a test turns one pod unready.
            readinessProbe: { exec: { command: ['sh', '-c', 'test ! -f /state/down && curl -sf -o /dev/null http://127.0.0.1:8080/healthz'] }, periodSeconds: 1 },
            ...extra,
          }],
        },
      },
    },
  }
}

function service(svc: string, spec: Record<string, unknown>, namespace = 'default'): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name: svc, namespace },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'udp', port: 81, targetPort: 'udp', protocol: 'UDP' }], ...spec },
  }
}

const pods = async (app: string, namespace = 'default') => (await client.list<Pod>(RESOURCES.pods, namespace, { labelSelector: `app=${app}` })).items
const readyPods = async (app: string, namespace = 'default') => (await pods(app, namespace)).filter(ready)
const getService = (svc: string, namespace = 'default') => client.get<Service>(RESOURCES.services, namespace, svc)

/** Ready endpoint addresses of a Service, from its EndpointSlices. */
async function endpointIPs(svc: string, namespace = 'default'): Promise<string[]> {
  const slices = await client.list(RESOURCES.endpointslices, namespace, { labelSelector: `kubernetes.io/service-name=${svc}` })
  return slices.items.flatMap(s => ((s as { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }).endpoints ?? [])
    .filter(e => e.conditions?.ready !== false).map(e => e.addresses[0] as string)).sort()
}

/** `n` requests from a pod, one shell loop: the answers, one per line ('' for a failure). */
async function requests(from: string, url: string, n: number): Promise<string[]> {
  const script = `for i in $(seq ${n}); do curl -s --max-time 2 ${url} || printf FAILED; echo; done`
  const out = await kubewireOk(['exec', from, '--', 'sh', '-c', script])
  return out.split('\n').slice(0, n)
}

/** Waits until every node's proxy has applied the Service's current endpoints (their slices' version). */
async function programmed(svc: string, namespace = 'default'): Promise<void> {
  await waitFor(`every proxy to apply ${namespace}/${svc}`, async () => {
    const slices = await client.list(RESOURCES.endpointslices, namespace, { labelSelector: `kubernetes.io/service-name=${svc}` })
    const needed = Math.max(0, ...slices.items.map(s => Number(s.metadata.resourceVersion)))
    const nodes = await client.list(RESOURCES.nodes, undefined)
    return nodes.items.every(n => Number(n.metadata.annotations?.['kubewire.dev/proxy-synced-version'] ?? 0) >= needed)
  }, 10_000)
}

const nodeIP = (node: string) => nodeInternalIP(client, node)

t.before(async () => {
  await kubewireOk(['up', '--nodes', '3'])
  client = await HttpClient.fromKubeconfig(join(home, 'clusters', name, 'kubeconfig'))
  await client.create(RESOURCES.deployments, 'default', deployment('web', 3))
  await client.create(RESOURCES.services, 'default', service('web', {}))
  for (const n of [1, 2, 3]) await runPod(`client-${n}`, { node: `node-${n}`, image: NETEXEC, command: ['netexec', '--http-port=8080', '--udp-port=8081'] })
  await waitFor('3 ready web pods on 3 nodes', async () => {
    const r = await readyPods('web')
    return r.length === 3 && new Set(r.map(p => p.spec.nodeName)).size === 3
  }, 60_000)
  await waitFor('3 endpoints', async () => (await endpointIPs('web')).length === 3, 20_000)
  await programmed('web')
})
t.teardown(async () => {
  client?.close()
  await kubewire(['down'])
  removeHome(home)
})

t.test('ClusterIP: from pods on every node, every endpoint on every node answers within 60 requests', async t => {
  const { spec } = await getService('web')
  const names = new Set((await readyPods('web')).map(p => p.metadata.name))
  for (const n of [1, 2, 3]) {
    const answers = await requests(`client-${n}`, `http://${spec.clusterIP}/hostname`, 60)
    t.notOk(answers.includes('FAILED'), `no request from node-${n} failed`)
    t.same(new Set(answers), names, `all 3 endpoints answered a client on node-${n}`)
  }
  const fromNode = await kubewireOk(['exec', 'node-2', '--', 'curl', '-s', '--max-time', '2', `http://${spec.clusterIP}/hostname`])
  t.ok(names.has(fromNode), 'a node itself reaches the ClusterIP')
})

t.test('hairpin: a pod reaches itself through its Service', async t => {
  const { spec } = await getService('web')
  const [self] = await readyPods('web')
  const podName = self?.metadata.name as string
  const answers = await requests(podName, `http://${spec.clusterIP}/hostname`, 60)
  t.notOk(answers.includes('FAILED'))
  t.ok(answers.includes(podName), 'among the answers, the pod itself')
  // The same-node masquerade: the pod sees its node's bridge address, so it can answer.
  const clientIPs = await requests(podName, `http://${spec.clusterIP}/clientip`, 30)
  t.ok(clientIPs.every(a => /^10\.244\.\d+\.\d+:\d+$/.test(a)), 'every answer came back')
})

t.test('a pod that turns unready leaves the endpoints and gets no new connections', async t => {
  const { spec } = await getService('web')
  const [victim] = await readyPods('web')
  const victimName = victim?.metadata.name as string
  await kubewireOk(['exec', victimName, '--', 'touch', '/state/down'])
  await waitFor('the unready pod to leave the endpoints', async () => !(await endpointIPs('web')).includes(victim?.status?.podIP as string), 15_000)
  await programmed('web')
  const answers = await requests('client-1', `http://${spec.clusterIP}/hostname`, 40)
  t.notOk(answers.includes(victimName), 'no answer from the unready pod')
  t.notOk(answers.includes('FAILED'))
  await kubewireOk(['exec', victimName, '--', 'rm', '/state/down'])
  await waitFor('it to come back', async () => (await endpointIPs('web')).length === 3, 15_000)
  await programmed('web')
})

t.test('a Service with no endpoints refuses at once (ICMP port unreachable), not a time-out', async t => {
  await client.create(RESOURCES.services, 'default', { ...service('nobody', {}), spec: { selector: { app: 'nobody' }, ports: [{ port: 80 }] } })
  const { spec } = await getService('nobody')
  await programmed('nobody')
  const r = await kubewire(['exec', 'client-1', '--', 'curl', '-sS', '--max-time', '3', '-o', '/dev/null', '-w', '%{time_total}', `http://${spec.clusterIP}/`])
  t.equal(r.code, 7, `curl: could not connect (${r.stderr.trim()})`)
  t.ok(Number(r.stdout) < 0.5, `refused after ${r.stdout} s, no time-out`)
  const udp = await kubewireOk(['exec', 'client-1', '--', 'curl', '-s', `http://localhost:8080/dial?request=hostname&protocol=udp&host=${spec.clusterIP}&port=80&tries=1`])
  t.match(udp, /refused|error/i, 'UDP to it is refused too')
})

t.test('sessionAffinity ClientIP pins a client to one endpoint', async t => {
  await client.create(RESOURCES.services, 'default', service('sticky', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }))
  const { spec } = await getService('sticky')
  await waitFor('3 endpoints', async () => (await endpointIPs('sticky')).length === 3, 20_000)
  await programmed('sticky')
  for (const n of [1, 2]) {
    const answers = await requests(`client-${n}`, `http://${spec.clusterIP}/hostname`, 20)
    t.equal(new Set(answers).size, 1, `client-${n}: 20 requests, one endpoint (${answers[0]})`)
  }
})

t.test('UDP: a UDP Service port reaches every endpoint', async t => {
  const { spec } = await getService('web')
  const names = new Set((await readyPods('web')).map(p => p.metadata.name))
  const answer = await kubewireOk(['exec', 'client-3', '--', 'curl', '-s', `http://localhost:8080/dial?request=hostname&protocol=udp&host=${spec.clusterIP}&port=81&tries=60`])
  const responses = (JSON.parse(answer) as { responses: string[] }).responses
  t.equal(responses.length, 60)
  t.same(new Set(responses), names, 'every endpoint answered over UDP')
})

t.test('NodePort: from the host on every node\'s address; policy Local keeps the client address', async t => {
  await client.create(RESOURCES.services, 'default', service('web-np', { type: 'NodePort' }))
  const svc = await getService('web-np')
  const nodePort = svc.spec.ports.find(p => p.name === 'http')?.nodePort as number
  // The host holds .1 of the underlay (DESIGN.md).
  const hostIP = (await nodeIP('node-1')).replace(/\.\d+$/, '.1')
  t.ok(nodePort >= 30000 && nodePort <= 32767, `node port ${nodePort}`)
  await waitFor('3 endpoints', async () => (await endpointIPs('web-np')).length === 3, 20_000)
  await programmed('web-np')
  const names = new Set((await readyPods('web')).map(p => p.metadata.name))
  for (const n of [1, 2, 3]) {
    const { stdout } = await runCommand(['curl', '-s', '--max-time', '2', `http://${await nodeIP(`node-${n}`)}:${nodePort}/hostname`])
    t.ok(names.has(stdout), `node-${n}:${nodePort} from the host answers (${stdout})`)
  }
  const masqueraded = (await runCommand(['curl', '-s', '--max-time', '2', `http://${await nodeIP('node-1')}:${nodePort}/clientip`])).stdout
  t.notMatch(masqueraded, new RegExp(`^${hostIP.replaceAll('.', '\\.')}:`), 'policy Cluster: the source is masqueraded')

  await client.patch(RESOURCES.services, 'default', 'web-np', { spec: { externalTrafficPolicy: 'Local' } })
  await waitFor('policy Local programmed', async () => (await runCommand(['curl', '-s', '--max-time', '2', `http://${await nodeIP('node-1')}:${nodePort}/clientip`])).stdout.startsWith(`${hostIP}:`), 10_000)
  const local = (await readyPods('web')).find(p => p.spec.nodeName === 'node-2')?.metadata.name
  const answers = await Promise.all([1, 2, 3, 4, 5].map(async () => (await runCommand(['curl', '-s', '--max-time', '2', `http://${await nodeIP('node-2')}:${nodePort}/hostname`])).stdout))
  t.same(new Set(answers), new Set([local]), 'policy Local: only node-2\'s own endpoint answers on node-2')
  t.pass('policy Local: the host\'s own address reached the pod')
})

t.test('a Service without a selector gets its backends from Endpoints the user writes (mirrored into EndpointSlices)', async t => {
  const backends = (await readyPods('web')).slice(0, 2)
  await client.create(RESOURCES.services, 'default', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  })
  await client.create(RESOURCES.endpoints, 'default', {
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual' },
    subsets: [{ addresses: backends.map(p => ({ ip: p.status?.podIP as string })), ports: [{ name: 'http', port: 8080 }] }],
  })
  await waitFor('the mirrored slice', async () => (await endpointIPs('manual')).length === 2, 10_000)
  await programmed('manual')
  const { spec } = await getService('manual')
  const answers = await requests('client-1', `http://${spec.clusterIP}/hostname`, 40)
  t.notOk(answers.includes('FAILED'), 'no request failed')
  t.same(new Set(answers), new Set(backends.map(p => p.metadata.name)), 'exactly the two addresses written answer')
  await client.delete(RESOURCES.endpoints, 'default', 'manual')
  await waitFor('the mirrored slice to go', async () => (await endpointIPs('manual')).length === 0, 10_000)
  await client.delete(RESOURCES.services, 'default', 'manual')
})

t.test('a Service in another namespace', async t => {
  await client.create(RESOURCES.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } })
  await client.create(RESOURCES.deployments, 'shop', deployment('web', 1))
  await client.create(RESOURCES.services, 'shop', service('cart', {}, 'shop'))
  await waitFor('the shop pod ready', async () => (await readyPods('web', 'shop')).length === 1, 30_000)
  await waitFor('its endpoint', async () => (await endpointIPs('cart', 'shop')).length === 1, 10_000)
  await programmed('cart', 'shop')
  const { spec } = await getService('cart', 'shop')
  const [pod] = await readyPods('web', 'shop')
  t.equal((await requests('client-2', `http://${spec.clusterIP}/hostname`, 3))[0], pod?.metadata.name, 'reached from the default namespace')
})

t.test('not one request fails through a rolling update, a scale-down and a pod deletion', async t => {
  const { spec } = await getService('web')
  // A client on each of two nodes, sending requests back to back until told to stop.
  const loop = (from: string) => kubewireOk(['exec', from, '--', 'sh', '-c',
    `n=0; f=0; codes=; while [ ! -f /tmp/kw-${name}-stop ]; do n=$((n+1)); curl -s --max-time 2 -o /dev/null http://${spec.clusterIP}/hostname; c=$?; [ $c = 0 ] || { f=$((f+1)); codes="$codes $c@$(date +%s.%N)"; }; done; echo "$n $f$codes"`])
  const loops = [loop('client-1'), loop('client-3')]
  const rolled = async (replicas: number) => {
    const d = await client.get<KubeObject & { status?: { updatedReplicas?: number; availableReplicas?: number; replicas?: number; observedGeneration?: number } }>(RESOURCES.deployments, 'default', 'web')
    const s = d.status ?? {}
    return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && s.updatedReplicas === replicas && s.availableReplicas === replicas && s.replicas === replicas && (await pods('web')).length === replicas
  }
  try {
    await client.patch(RESOURCES.deployments, 'default', 'web', { spec: { template: { metadata: { annotations: { restartedAt: new Date().toISOString() } } } } })
    await waitFor('the rolling update', () => rolled(3), 90_000)
    await client.patch(RESOURCES.deployments, 'default', 'web', { spec: { replicas: 2 } })
    await waitFor('the scale-down', () => rolled(2), 60_000)
    const [victim] = await readyPods('web')
    await client.delete(RESOURCES.pods, 'default', victim?.metadata.name as string)
    await waitFor('the replacement', async () => (await readyPods('web')).length === 2 && (await pods('web')).length === 2, 60_000)
  } finally {
    await runCommand(['touch', `/tmp/kw-${name}-stop`])
  }
  try {
    for (const [i, result] of (await Promise.all(loops)).entries()) {
      const [sent, failed, ...codes] = result.trim().split(' ')
      t.ok(Number(sent) > 20, `client ${i}: ${sent} requests sent`)
      t.equal(Number(failed), 0, `client ${i}: none failed${codes.length ? ` (curl exit codes at times: ${codes.join(' ')})` : ''}`)
    }
  } finally {
    await runCommand(['rm', '-f', `/tmp/kw-${name}-stop`])
  }
})

t.test('down leaves nothing', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
