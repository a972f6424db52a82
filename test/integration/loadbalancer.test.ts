// LoadBalancer addresses announced on the underlay like MetalLB's L2 mode, on
// a real 3-node cluster: the host (root namespace) reaches a Service of type
// LoadBalancer at its pool address; exactly one node holds the address and
// answers ARP for it; when that node fails (its eth0 down: its agent loses the
// API, its Node turns NotReady after the grace period) another node takes the
// address over and the host reaches it again at once (gratuitous ARP, no
// flush of the host's neighbour cache); when the failed node is back it wins
// the address again and the host follows it. Failover times are measured.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { HttpClient } from '../../control/client/http-client.ts'
import { RESOURCES, type KubeObject } from '../../control/client/api-client.ts'
import { clusterFiles } from '../../control/cluster/cluster-files.ts'
import { isolatedHome, kubewire, kubewireOk, leftoversSettled, removeHome, waitFor } from './helpers/cluster.ts'

const run = promisify(execFile)
// A fixed short name (no other test uses it) so that node namespaces read kw-lbt-node-N.
const name = 'lbt'
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
const NODES = ['node-1', 'node-2', 'node-3']
const netns = (node: string) => `kw-${name}-${node}`
const BRIDGE = `kw-${name}`
let client: HttpClient

t.before(async () => {
  await kubewireOk(['up', '--nodes', '3', '--node-monitor-grace-period', '4s'])
  client = await HttpClient.fromKubeconfig(join(home, 'clusters', name, 'kubeconfig'))
})
t.teardown(async () => {
  client?.close()
  await kubewire(['down'])
  removeHome(home)
})

/** `curl` from the root namespace; the body, or undefined when it does not answer. */
async function curlFromHost(url: string): Promise<string | undefined> {
  try {
    return (await run('curl', ['-sS', '--connect-timeout', '0.5', '--max-time', '2', url])).stdout
  } catch {
    return undefined
  }
}

/** The nodes whose eth0 holds `ip`/32. */
async function holders(ip: string): Promise<string[]> {
  const out: string[] = []
  for (const node of NODES) {
    const { stdout } = await run('ip', ['-n', netns(node), '-j', 'addr', 'show', 'dev', 'eth0'])
    const addrs = (JSON.parse(stdout) as { addr_info: { local: string; prefixlen: number }[] }[])[0]?.addr_info ?? []
    if (addrs.some(a => a.local === ip && a.prefixlen === 32)) out.push(node)
  }
  return out
}

async function macOf(node: string): Promise<string> {
  const { stdout } = await run('ip', ['-n', netns(node), '-j', 'link', 'show', 'dev', 'eth0'])
  return (JSON.parse(stdout) as { address: string }[])[0]?.address ?? ''
}

/** The MAC the host's neighbour cache holds for `ip` on the underlay bridge. */
async function hostNeighbour(ip: string): Promise<string | undefined> {
  const { stdout } = await run('ip', ['-j', 'neigh', 'show', ip, 'dev', BRIDGE])
  return (JSON.parse(stdout) as { lladdr?: string }[])[0]?.lladdr
}

/** The MACs answering one ARP request for `ip` sent from the host onto the underlay. */
async function arpAnswers(ip: string): Promise<string[]> {
  const { stdout } = await run('arping', ['-c', '1', '-I', BRIDGE, ip]).catch(e => e as { stdout: string })
  return [...stdout.matchAll(/reply from \S+ \[([0-9a-f:]+)\]/gi)].map(m => (m[1] ?? '').toLowerCase())
}

/** The announcer's lines in a node agent's log. */
function lbLog(node: string): string[] {
  return readFileSync(clusterFiles(name).agentLog(node), 'utf8').split('\n').filter(l => l.includes(' lb: '))
}

async function nodeReady(node: string): Promise<boolean> {
  const n = await client.get(RESOURCES.nodes, undefined, node)
  return ((n.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True')
}

let ip = ''
let first = ''

t.test('a LoadBalancer Service answers the host at its pool address; exactly one node holds it', async t => {
  await client.create(RESOURCES.deployments, 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{
            name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['serve-hostname'],
            readinessProbe: { httpGet: { path: '/', port: 9376 }, periodSeconds: 1 },
          }],
        },
      },
    },
  })
  await client.create(RESOURCES.services, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 9376 }] },
  })
  ip = await waitFor('the LoadBalancer address', async () => {
    const s = await client.get<KubeObject & { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>(RESOURCES.services, 'default', 'web')
    return s.status?.loadBalancer?.ingress?.[0]?.ip
  }, 30_000)
  t.match(ip, /^198\.18\.\d+\.2[0-5]\d$/, `address ${ip} from the pool`)
  const answer = await waitFor('the host to reach the Service', () => curlFromHost(`http://${ip}/`), 60_000)
  const pods = (await client.list(RESOURCES.pods, 'default', { labelSelector: 'app=web' })).items.map(p => p.metadata.name)
  t.ok(pods.includes(answer), `answered by pod ${answer}`)

  const held = await holders(ip)
  t.equal(held.length, 1, `exactly one node holds ${ip}/32: ${held.join(', ')}`)
  first = held[0] as string
  t.same(await arpAnswers(ip), [await macOf(first)], `only ${first} answers ARP for it`)
  for (const node of NODES) {
    const { stdout } = await run('ip', ['netns', 'exec', netns(node), 'sysctl', '-n', 'net.ipv4.conf.eth0.arp_ignore', 'net.ipv4.conf.eth0.arp_announce'])
    t.same(stdout.trim().split('\n'), ['1', '2'], `${node}: eth0 arp_ignore=1 arp_announce=2`)
  }
})

t.test('the announcing node fails: another takes the address over and the host reaches it again', async t => {
  t.ok(ip && first, 'the first test found the address and its node')
  t.equal(await hostNeighbour(ip), await macOf(first), `the host's neighbour cache points at ${first}`)
  const down = Date.now()
  await run('ip', ['-n', netns(first), 'link', 'set', 'eth0', 'down'])
  // Watch the steps on the way while waiting for the host's first answer.
  let notReadyMs: number | undefined
  let takenOverMs: number | undefined
  let failoverMs = 0
  const answer = await waitFor('the host to reach the Service again', async () => {
    const body = await curlFromHost(`http://${ip}/`)
    const at = Date.now() - down
    if (notReadyMs === undefined && !(await nodeReady(first))) notReadyMs = at
    if (takenOverMs === undefined && (await holders(ip)).some(n => n !== first)) takenOverMs = at
    failoverMs = at
    return body
  }, 60_000)
  t.ok(answer, `answered by ${answer}`)
  const now = (await holders(ip)).filter(n => n !== first)
  t.equal(now.length, 1, `exactly one other node holds it now: ${now.join(', ')}`)
  const second = now[0] as string
  t.equal(await hostNeighbour(ip), await macOf(second), `the host's neighbour cache points at ${second} (gratuitous ARP, no flush)`)
  t.same(await arpAnswers(ip), [await macOf(second)], `only ${second} answers ARP`)
  t.comment(`failover (eth0 down -> first answer): ${failoverMs} ms; seen by then: ${first} NotReady at ${notReadyMs} ms, ${second} holding ${ip} at ${takenOverMs} ms (grace period 4 s)`)

  // Back: the first node wins the address again (hash order is fixed) and the host must follow.
  const seen = lbLog(first).length
  const up = Date.now()
  await run('ip', ['-n', netns(first), 'link', 'set', 'eth0', 'up'])
  const firstMac = await macOf(first)
  await waitFor(`${first} to hold ${ip} alone and the host to follow`, async () => {
    const held = await holders(ip)
    return held.length === 1 && held[0] === first && (await hostNeighbour(ip)) === firstMac && (await curlFromHost(`http://${ip}/`)) !== undefined
  }, 60_000)
  t.pass(`${first} back: it alone holds ${ip}, the host reaches it through it (after ${Date.now() - up} ms)`)
  t.same(await arpAnswers(ip), [firstMac], `only ${first} answers ARP`)
  t.ok(await nodeReady(first), `${first} Ready`)
  // Either it saw itself NotReady first (withdraw, then announce: a gratuitous ARP with the add) or
  // it came back Ready without seeing that (it kept the address: it re-sends the gratuitous ARP).
  t.ok(lbLog(first).slice(seen).some(l => l.includes(`lb: announcing ${ip} for default/web`)), `${first} announced ${ip} again when back`)
  for (const node of NODES) for (const line of lbLog(node)) t.comment(line)
})

t.test('down leaves nothing', async t => {
  client.close()
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
