// Cluster DNS on a real 2-node cluster, asked by real clients from inside pods
// (dig, getent, curl) through the kube-dns Service's ClusterIP 10.96.0.10 and
// every node's nftables proxy: `up` deploys it in kube-system; Services
// (ClusterIP A, SRV, PTR), headless Services (A per ready endpoint, endpoint
// hostnames from hostname+subdomain), ExternalName, pod A records,
// dns-version, NXDOMAIN versus NODATA, TCP, REFUSED outside the cluster (no
// upstream: nothing is sent anywhere), short names through the search path,
// another namespace, the pods' resolv.conf and hosts files, and how fast a new
// Service resolves.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseResolvConf, resolvConfContent } from '../../control/agent/pod-dns.ts'
import { RESOURCES, type KubeObject } from '../../control/client/api-client.ts'
import { HttpClient } from '../../control/client/http-client.ts'
import { CLI, isolatedHome, kubewire, kubewireOk, leftoversSettled, removeHome, runPod, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
let client: HttpClient
let clientIP = ''

const NETEXEC = 'registry.k8s.io/e2e-test-images/agnhost:2.53'
const DNS_IP = '10.96.0.10'
interface Pod extends KubeObject {
  spec: { nodeName?: string }
  status?: { podIP?: string; conditions?: { type: string; status: string }[] }
}
const ready = (p: Pod) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True')
const clusterIP = (s: KubeObject) => (s.spec as { clusterIP: string }).clusterIP

function netexecPod(podName: string, labels: Record<string, string>, extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}, namespace = 'default'): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: podName, namespace, labels },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'netexec', image: NETEXEC, args: ['netexec', '--http-port=8080'], ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 }, ...container,
      }],
      ...extra,
    },
  }
}

function service(svc: string, spec: Record<string, unknown>, namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: svc, namespace }, spec }
}

interface Dig {
  status: string
  answers: string[][]
  authority: string[][]
  server: string
}

/** dig from a pod: status, answer and authority rows (name, ttl, class, type, data...). */
async function dig(args: string[], pod = 'client'): Promise<Dig> {
  const r = await kubewire(['exec', pod, '--', 'dig', '+time=2', '+tries=1', ...args])
  const out = r.stdout
  const section = (title: string) => {
    const at = out.indexOf(`;; ${title} SECTION:\n`)
    if (at === -1) return []
    const body = out.slice(at).split('\n').slice(1)
    const end = body.indexOf('')
    return body.slice(0, end === -1 ? undefined : end).map(l => l.split(/\s+/))
  }
  return {
    status: /status: (\w+)/.exec(out)?.[1] ?? `no answer (dig exited ${r.code}): ${out}${r.stderr}`,
    answers: section('ANSWER'),
    authority: section('AUTHORITY'),
    server: /;; SERVER: (.*)/.exec(out)?.[1] ?? '',
  }
}
const data = (d: Dig, type: string) => d.answers.filter(r => r[3] === type).map(r => r.slice(4).join(' ')).sort()
const exec = (pod: string, ...command: string[]) => kubewireOk(['exec', pod, '--', ...command])

t.before(async () => {
  await kubewireOk(['up', '--nodes', '2'])
  client = await HttpClient.fromKubeconfig(join(home, 'clusters', name, 'kubeconfig'))
  await client.create(RESOURCES.deployments, 'default', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: {
      replicas: 2, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: netexecPod('x', {}).spec },
    },
  } as KubeObject)
  await client.create(RESOURCES.services, 'default', service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }))
  // Headless: two pods with hostname+subdomain, one without a hostname, one never ready.
  await client.create(RESOURCES.services, 'default', service('db', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'http', port: 8080 }] }))
  await client.create(RESOURCES.pods, 'default', netexecPod('db-0', { app: 'db' }, { hostname: 'db-0', subdomain: 'db', nodeName: 'node-1' }))
  await client.create(RESOURCES.pods, 'default', netexecPod('db-1', { app: 'db' }, { hostname: 'db-1', subdomain: 'db', nodeName: 'node-2' }))
  await client.create(RESOURCES.pods, 'default', netexecPod('db-plain', { app: 'db' }))
  await client.create(RESOURCES.pods, 'default', netexecPod('db-unready', { app: 'db' }, {}, { readinessProbe: { httpGet: { path: '/healthz', port: 9999 }, periodSeconds: 1 } }))
  await client.create(RESOURCES.services, 'default', service('search', { type: 'ExternalName', externalName: 'search.example.com' }))
  await client.create(RESOURCES.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } })
  await client.create(RESOURCES.pods, 'team', netexecPod('api-0', { app: 'api' }, {}, {}, 'team'))
  await client.create(RESOURCES.services, 'team', service('api', { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }, 'team'))
  await client.create(RESOURCES.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'custom' },
    spec: {
      dnsPolicy: 'None',
      dnsConfig: { nameservers: [DNS_IP], searches: ['team.svc.cluster.local', 'example.internal'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'] }],
    },
  } as KubeObject)
  clientIP = (await runPod('client', { node: 'node-2' })).ip
  await waitFor('the DNS, the apps and the custom pod ready', async () => {
    const dns = (await client.list<Pod>(RESOURCES.pods, 'kube-system', { labelSelector: 'k8s-app=kube-dns' })).items
    const apps = (await client.list<Pod>(RESOURCES.pods, 'default')).items.filter(p => p.metadata.name !== 'db-unready')
    const team = (await client.list<Pod>(RESOURCES.pods, 'team')).items
    return dns.length >= 1 && dns.every(ready) && apps.length === 7 && apps.every(ready) && team.every(ready)
  }, 60_000)
  await waitFor('the kube-dns Service to answer from a pod', async () => (await dig(['kubernetes.default.svc.cluster.local'])).status === 'NOERROR', 20_000)
})
t.teardown(async () => {
  client?.close()
  await kubewire(['down'])
  removeHome(home)
})

t.test('up deploys it like CoreDNS: Deployment and Service kube-dns in kube-system at 10.96.0.10', async t => {
  const svc = await client.get(RESOURCES.services, 'kube-system', 'kube-dns')
  t.equal(clusterIP(svc), DNS_IP)
  t.same((svc.spec as { ports: { name: string; port: number; protocol: string }[] }).ports.filter(p => p.port === 53).map(p => `${p.name} ${p.port}/${p.protocol}`), ['dns 53/UDP', 'dns-tcp 53/TCP'])
  const deployment = await client.get(RESOURCES.deployments, 'kube-system', 'kube-dns')
  t.equal((deployment.spec as { template: { spec: { dnsPolicy: string } } }).template.spec.dnsPolicy, 'Default')
  const d = await dig(['kube-dns.kube-system.svc.cluster.local'])
  t.same([d.status, data(d, 'A'), d.server], ['NOERROR', [DNS_IP], `${DNS_IP}#53(${DNS_IP}) (UDP)`], 'answered by 10.96.0.10 through the proxy')
})

t.test('ClusterIP Service: A, SRV per named port, PTR of the ClusterIP', async t => {
  const ip = clusterIP(await client.get(RESOURCES.services, 'default', 'web'))
  t.same(data(await dig(['web.default.svc.cluster.local']), 'A'), [ip])
  t.same(data(await dig(['SRV', '_http._tcp.web.default.svc.cluster.local']), 'SRV'), ['0 100 80 web.default.svc.cluster.local.'])
  t.same(data(await dig(['-x', ip]), 'PTR'), ['web.default.svc.cluster.local.'])
})

t.test('headless Service: an A per ready endpoint, endpoint hostnames from hostname+subdomain', async t => {
  const pods = new Map((await client.list<Pod>(RESOURCES.pods, 'default', { labelSelector: 'app=db' })).items.map(p => [p.metadata.name, p.status?.podIP as string]))
  const readyIPs = ['db-0', 'db-1', 'db-plain'].map(n => pods.get(n) as string).sort()
  await waitFor('every ready db pod in the answer', async () => data(await dig(['db.default.svc.cluster.local']), 'A').join() === readyIPs.join(), 10_000)
  t.same(data(await dig(['db.default.svc.cluster.local']), 'A'), readyIPs, 'the unready pod is not published')
  t.same(data(await dig(['db-0.db.default.svc.cluster.local']), 'A'), [pods.get('db-0')])
  t.same(data(await dig(['db-1.db.default.svc.cluster.local']), 'A'), [pods.get('db-1')])
  const plain = (pods.get('db-plain') as string).replaceAll('.', '-')
  t.same(data(await dig([`${plain}.db.default.svc.cluster.local`]), 'A'), [pods.get('db-plain')], 'no hostname: its address with dashes')
  t.same(data(await dig(['SRV', '_http._tcp.db.default.svc.cluster.local']), 'SRV').map(r => r.split(' ').pop()).sort(),
    ['db-0.db.default.svc.cluster.local.', 'db-1.db.default.svc.cluster.local.', `${plain}.db.default.svc.cluster.local.`].sort())
  t.same(data(await dig(['-x', pods.get('db-0') as string]), 'PTR'), ['db-0.db.default.svc.cluster.local.'])
  t.equal((await exec('db-0', 'hostname')).trim(), 'db-0')
  t.match(await exec('db-0', 'cat', '/etc/hosts'), new RegExp(`\n${pods.get('db-0')?.replaceAll('.', '\\.')}\tdb-0\\.db\\.default\\.svc\\.cluster\\.local\tdb-0\n`), 'the FQDN in the managed hosts file')
})

t.test('ExternalName: a CNAME, not followed outside', async t => {
  const d = await dig(['search.default.svc.cluster.local'])
  t.same([d.status, data(d, 'CNAME'), data(d, 'A')], ['NOERROR', ['search.example.com.'], []])
})

t.test('pod A records, dns-version', async t => {
  const d = await dig([`${clientIP.replaceAll('.', '-')}.default.pod.cluster.local`])
  t.same(data(d, 'A'), [clientIP])
  t.same(data(await dig(['TXT', 'dns-version.cluster.local']), 'TXT'), ['"1.1.0"'])
})

t.test('NXDOMAIN versus NODATA, both with the SOA; AAAA is NODATA; TCP', async t => {
  const nx = await dig(['nope.default.svc.cluster.local'])
  t.same([nx.status, nx.answers.length, nx.authority[0]?.[3]], ['NXDOMAIN', 0, 'SOA'], 'no such Service: NXDOMAIN, SOA in authority')
  const nodata = await dig(['TXT', 'web.default.svc.cluster.local'])
  t.same([nodata.status, nodata.answers.length, nodata.authority[0]?.[3]], ['NOERROR', 0, 'SOA'], 'the name exists without that type: NODATA')
  const aaaa = await dig(['AAAA', 'web.default.svc.cluster.local'])
  t.same([aaaa.status, aaaa.answers.length, aaaa.authority[0]?.[3]], ['NOERROR', 0, 'SOA'], 'IPv4-only cluster: AAAA NODATA')
  const empty = await dig(['team.svc.cluster.local'])
  t.same([empty.status, empty.answers.length], ['NOERROR', 0], 'a namespace is an empty non-terminal')
  const tcp = await dig(['+tcp', 'web.default.svc.cluster.local'])
  t.same([tcp.status, tcp.server], ['NOERROR', `${DNS_IP}#53(${DNS_IP}) (TCP)`])
  t.equal(data(tcp, 'A').length, 1)
})

t.test('outside cluster.local: REFUSED, nothing forwarded', async t => {
  for (const args of [['example.com'], ['+tcp', 'example.com'], ['-x', '192.0.2.1']]) {
    t.equal((await dig(args)).status, 'REFUSED', `dig ${args.join(' ')}`)
  }
  const dnsPod = (await client.list<Pod>(RESOURCES.pods, 'kube-system', { labelSelector: 'k8s-app=kube-dns' })).items[0]
  const metrics = await exec('client', 'curl', '-s', '--max-time', '2', `http://${dnsPod?.status?.podIP}:9153/metrics`)
  t.match(metrics, /\nkubewire_dns_forwarded_total 0\n/, 'the server sent nothing upstream')
  t.match(metrics, /\nkubewire_dns_refused_total [1-9]\d*\n/)
})

t.test('short names through the search path: getent and curl', async t => {
  const ip = clusterIP(await client.get(RESOURCES.services, 'default', 'web'))
  t.match(await exec('client', 'getent', 'hosts', 'web'), new RegExp(`^${ip.replaceAll('.', '\\.')}\\s+web\\.default\\.svc\\.cluster\\.local\\n`))
  const names = (await client.list<Pod>(RESOURCES.pods, 'default', { labelSelector: 'app=web' })).items.map(p => p.metadata.name)
  t.ok(names.includes(await exec('client', 'curl', '-sS', '--max-time', '2', 'http://web/hostname')), 'curl http://web/hostname reached a web pod')
})

t.test('a Service in another namespace by svc.ns', async t => {
  const ip = clusterIP(await client.get(RESOURCES.services, 'team', 'api'))
  t.match(await exec('client', 'getent', 'hosts', 'api.team'), new RegExp(`^${ip.replaceAll('.', '\\.')}\\s+api\\.team\\.svc\\.cluster\\.local\\n`))
  t.equal(await exec('client', 'curl', '-sS', '--max-time', '2', 'http://api.team/hostname'), 'api-0')
  t.equal((await kubewire(['exec', 'client', '--', 'getent', 'hosts', 'api'])).code, 2, 'nor through default\'s search path')
})

t.test('resolv.conf: ClusterFirst, None with dnsConfig, Default for the DNS pod', async t => {
  const host = parseResolvConf(readFileSync('/etc/resolv.conf', 'utf8'))
  const searches = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', ...host.searches.filter(s => !['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'].includes(s))]
  t.equal(await exec('client', 'cat', '/etc/resolv.conf'), `search ${searches.join(' ')}\nnameserver ${DNS_IP}\noptions ndots:5\n`)
  t.equal(await exec('custom', 'cat', '/etc/resolv.conf'), `search team.svc.cluster.local example.internal\nnameserver ${DNS_IP}\noptions ndots:2 edns0\n`)
  t.match(await exec('custom', 'getent', 'hosts', 'api'), /\sapi\.team\.svc\.cluster\.local\n/, 'its own search path finds api in team')
  const dnsPod = (await client.list<Pod>(RESOURCES.pods, 'kube-system', { labelSelector: 'k8s-app=kube-dns' })).items[0]?.metadata.name as string
  t.equal((await kubewireOk(['exec', '-n', 'kube-system', dnsPod, '--', 'cat', '/etc/resolv.conf'])), resolvConfContent(host), 'the DNS pod has the host\'s resolver (dnsPolicy Default)')
  t.match(await exec('client', 'cat', '/etc/hosts'), new RegExp(`^# Kubernetes-managed hosts file\\.\\n127\\.0\\.0\\.1\\tlocalhost\\n[^]*\\n${clientIP.replaceAll('.', '\\.')}\\tclient\\n$`))
})

/** From the create request until dig in the client pod answers the new Service (dig in a loop inside the pod). */
async function programmingLatency(svc: string): Promise<{ sinceRequest: number; sinceCreated: number }> {
  const loop = spawn(process.execPath, [CLI, 'exec', 'client', '--', 'sh', '-c',
    `echo go; while [ -z "$(dig +short +time=1 +tries=1 ${svc}.default.svc.cluster.local)" ]; do :; done; date +%s%3N`], { env: process.env })
  let out = ''
  loop.stdout.on('data', b => (out += b))
  const done = new Promise<void>(resolve => loop.on('close', () => resolve()))
  await waitFor('the dig loop to run', () => out.startsWith('go\n'), 20_000)
  await new Promise(r => setTimeout(r, 100))
  const t0 = Date.now()
  await client.create(RESOURCES.services, 'default', service(svc, { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }))
  const t1 = Date.now()
  const killer = setTimeout(() => loop.kill(), 10_000)
  await done
  clearTimeout(killer)
  const answeredAt = Number(out.split('\n')[1])
  return { sinceRequest: answeredAt - t0, sinceCreated: answeredAt - t1 }
}

t.test('a new Service resolves within a second', async t => {
  const samples: number[] = []
  for (let i = 0; i < 5; i++) {
    const { sinceRequest, sinceCreated } = await programmingLatency(`late-${i}`)
    t.ok(sinceRequest > 0 && sinceRequest < 1000, `late-${i}: dig answered ${sinceRequest} ms after the create request (${sinceCreated} ms after it returned)`)
    samples.push(sinceRequest)
  }
  samples.sort((a, b) => a - b)
  t.comment(`DNS programming latency seen from a pod (Service create -> dig answers, one dig every ~25 ms): median ${samples[2]} ms, max ${samples[4]} ms`)
  // The server's own part: from the watch event until every thread serves it (its log line per sync).
  const dnsPod = (await client.list<Pod>(RESOURCES.pods, 'kube-system', { labelSelector: 'k8s-app=kube-dns' })).items[0]?.metadata.name as string
  const log = await kubewireOk(['logs', '-n', 'kube-system', dnsPod])
  const served = [...log.matchAll(/zone: 1 Service\(s\) updated, 0 removed, [1-9]\d* source\(s\) changed; served ([\d.]+) ms/g)].slice(-5).map(m => Number(m[1]))
  t.comment(`inside the DNS server, watch event -> served on every thread: ${served.map(ms => `${ms} ms`).join(', ')}`)
})

t.test('down leaves nothing', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
