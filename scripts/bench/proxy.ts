// Proxy benchmark (root). Three figures, as the Services issue names them:
//
// 1. ruleset build + apply for 1 000, 5 000 and 10 000 Services with 10
//    endpoints each: the TypeScript build, the full transaction (first sync)
//    as the proxy sends it (one netlink batch) and, as the peer, the same
//    transaction through `nft -f`, and an incremental sync after one
//    Service's endpoints changed, in a scratch node namespace;
// 2. connection latency to a ClusterIP with 10 Services programmed versus
//    10 000 (it must stay flat: the lookup is one verdict map), TCP connects
//    from a client namespace to a server namespace through the node;
// 3. network programming latency on a real 3-node cluster: from an API write
//    (a Service created over running pods; an EndpointSlice changed) to every
//    node's proxy having applied it (each proxy publishes the newest
//    resourceVersion it applied on its Node), p50 / p99.
//
//   npx tsx scripts/bench/proxy.ts [--sizes 1000,5000,10000] [--connects 2000] [--samples 100] [--skip-cluster]
//
// Parts 1 and 2 run in a child process inside the scratch node namespace
// (`--in-node`): the proxy's netlink socket belongs to its process's namespace.
import { spawn } from 'node:child_process'
import { parseArgs } from 'node:util'
import { ipBatch } from '../../dataplane/exec/ip.ts'
import { runCommand } from '../../dataplane/exec/run-command.ts'
import { listNetns } from '../../dataplane/netns/netns.ts'
import { nftScriptApplier, Proxier } from '../../dataplane/proxy/proxier.ts'
import type { ProxyServicePort } from '../../dataplane/proxy/ruleset.ts'

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,5000,10000' },
    connects: { type: 'string', default: '2000' },
    samples: { type: 'string', default: '100' },
    'skip-cluster': { type: 'boolean', default: false },
    'in-node': { type: 'boolean', default: false },
  },
})
const sizes = values.sizes.split(',').map(Number)
const connects = Number(values.connects)
const samples = Number(values.samples)

const NODE = 'kw-pb-node'
const CLIENT = 'kw-pb-client'
const SERVER = 'kw-pb-server'
const TABLE = 'kw-pb-proxy'
const SERVER_IP = '10.244.1.3'
const CLUSTER_IP = '10.96.0.5'

const ms = (n: number): string => `${n.toFixed(1)} ms`
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}


function services(n: number, endpointsEach: number): ProxyServicePort[] {
  const out: ProxyServicePort[] = []
  for (let i = 0; i < n; i++) {
    const endpoints = Array.from({ length: endpointsEach }, (_, j) => ({ ip: `10.244.${(j % 200) + 2}.${(i % 250) + 2}`, port: 8080, local: false }))
    out.push({
      namespace: 'bench', name: `svc-${i}`, portName: 'http', protocol: 'TCP', port: 80,
      clusterIP: `10.${96 + (i >> 16)}.${((i + 16) >> 8) & 255}.${(i + 16) & 255}`,
      loadBalancerIPs: [], externalLocal: false, endpoints,
    })
  }
  return out
}

async function topology(): Promise<void> {
  await teardown()
  await ipBatch(null, [`netns add ${NODE}`, `netns add ${CLIENT}`, `netns add ${SERVER}`])
  await ipBatch(NODE, ['link set lo up', 'link add cni0 type bridge', 'addr add 10.244.1.1/24 dev cni0', 'link set cni0 up'])
  await runCommand(['ip', 'netns', 'exec', NODE, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.icmp_ratelimit=0'])
  for (const [ns, ip, veth] of [[CLIENT, '10.244.1.2', 'vethpbc'], [SERVER, SERVER_IP, 'vethpbs']] as const) {
    await ipBatch(NODE, [`link add ${veth} type veth peer name eth0 netns ${ns}`, `link set ${veth} master cni0 up`])
    await ipBatch(ns, ['link set lo up', `addr add ${ip}/24 dev eth0`, 'link set eth0 up', 'route add default via 10.244.1.1'])
  }
}

async function teardown(): Promise<void> {
  const existing = new Set(listNetns())
  await ipBatch(null, [NODE, CLIENT, SERVER].filter(ns => existing.has(ns)).map(ns => `netns del ${ns}`))
}

async function rulesetFigures(): Promise<void> {
  console.log('# ruleset: build + apply (10 endpoints per Service)')
  console.log('services  build     full apply (netlink)  same via nft -f  change (1 svc)        full sync (build + apply)')
  const config = { clusterCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', localPodCidr: '10.244.1.0/24', podBridge: 'cni0' }
  for (const n of sizes) {
    const ports = services(n, 10)
    const viaNft = await new Proxier(TABLE, config, nftScriptApplier).sync(ports)
    const proxier = new Proxier(TABLE, config)
    const full = await proxier.sync(ports)
    const changed = ports.map((p, i) => (i === Math.floor(n / 2) ? { ...p, endpoints: p.endpoints.slice(1) } : p))
    const change = await proxier.sync(changed)
    fullApplyMs.set(n, full.applyMs)
    console.log(`${String(n).padEnd(8)}  ${ms(full.buildMs).padEnd(8)}  ${ms(full.applyMs).padEnd(20)}  ${`${ms(viaNft.applyMs)} (${(viaNft.applyMs / full.applyMs).toFixed(1)}x)`.padEnd(15)}  ${(ms(change.buildMs) + ' + ' + ms(change.applyMs)).padEnd(20)}  ${ms(full.buildMs + full.applyMs)} (${full.commands} commands)`)
    await proxier.delete()
  }
  // kube-proxy's layout grows much worse than linearly on this kernel: measured at the smallest size.
  await kubeProxyLayout(Math.min(...sizes))
}

// The peer: the same Services in kube-proxy's nftables layout (a chain per
// endpoint, an anonymous `numgen random mod N vmap` per Service), applied the
// same way, in the same run.
async function kubeProxyLayout(n: number): Promise<void> {
  const lines = [`table ip ${TABLE} {`, '  map service-ips {', '    type ipv4_addr . inet_proto . inet_service : verdict', '    elements = {']
  const ports = services(n, 10)
  lines.push(ports.map((p, i) => `      ${p.clusterIP} . tcp . 80 : goto service-${i}`).join(',\n'), '    }', '  }')
  ports.forEach((p, i) => {
    const eps = p.endpoints.map((e, j) => `  chain endpoint-${i}-${j} {\n    ip saddr ${e.ip} meta mark set meta mark | 0x4000\n    meta l4proto tcp dnat ip to ${e.ip}:${e.port}\n  }`)
    lines.push(...eps, `  chain service-${i} {\n    ip saddr != 10.244.0.0/16 meta mark set meta mark | 0x4000\n    numgen random mod ${p.endpoints.length} vmap { ${p.endpoints.map((_, j) => `${j} : goto endpoint-${i}-${j}`).join(', ')} }\n  }`)
  })
  lines.push('  chain nat-prerouting {', '    type nat hook prerouting priority dstnat; policy accept;', '    ip daddr . meta l4proto . th dport vmap @service-ips', '  }', '}', '')
  const started = performance.now()
  await runCommand(['nft', '-f', '-'], { input: lines.join('\n') })
  const applyMs = performance.now() - started
  await runCommand(['nft', 'delete', 'table', 'ip', TABLE])
  console.log(`peer: kube-proxy's layout, ${n} Services x 10 endpoints: full apply ${ms(applyMs)} (ours is measured above; ratio peer/ours printed below)`)
  lastPeerApplyMs = applyMs
}
let lastPeerApplyMs = NaN
const fullApplyMs = new Map<number, number>()

// A client in its own namespace: `connects` TCP connects to the ClusterIP, one at a time.
const CLIENT_SOURCE = `
const net = require('node:net'); const [ip, port, n] = process.argv.slice(1); const out = []
function one(i) { if (i >= +n) { out.sort((a, b) => a - b); console.log(JSON.stringify(out)); return }
  const t = process.hrtime.bigint(); const s = net.connect(+port, ip, () => { out.push(Number(process.hrtime.bigint() - t) / 1e6); s.destroy(); one(i + 1) })
  s.on('error', e => { console.error(e.message); process.exit(1) }) }
one(0)`
const SERVER_SOURCE = `require('node:net').createServer(s => s.destroy()).listen(8080, '${SERVER_IP}', () => console.log('listening'))`

function run(argv: string[]): Promise<string> {
  return runCommand(argv).then(r => r.stdout)
}

async function connectLatency(): Promise<void> {
  console.log(`# ClusterIP connect latency (${connects} TCP connects, same node)`)
  const server = spawn('ip', ['netns', 'exec', SERVER, process.execPath, '-e', SERVER_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout.once('data', () => resolve())
      server.once('exit', code => reject(new Error(`server exited ${code}`)))
    })
    const config = { clusterCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', localPodCidr: '10.244.1.0/24', podBridge: 'cni0' }
    const rows: [number, number, number][] = []
    for (const n of [10, 10_000]) {
      const proxier = new Proxier(TABLE, config)
      const ports = services(n, 10)
      // The measured Service: the one with the lowest ClusterIP looked up among n.
      ports[0] = { ...ports[0] as ProxyServicePort, clusterIP: CLUSTER_IP, endpoints: [{ ip: SERVER_IP, port: 8080, local: true }] }
      await proxier.sync(ports)
      const times = JSON.parse(await run(['ip', 'netns', 'exec', CLIENT, process.execPath, '-e', CLIENT_SOURCE, CLUSTER_IP, '80', String(connects)])) as number[]
      rows.push([n, percentile(times, 50), percentile(times, 99)])
      await proxier.delete()
    }
    for (const [n, p50, p99] of rows) console.log(`${String(n).padEnd(6)} services: p50 ${p50.toFixed(3)} ms  p99 ${p99.toFixed(3)} ms`)
    const [small, large] = rows
    if (small && large) console.log(`ratio 10 000 / 10: p50 ${(large[1] / small[1]).toFixed(2)}x  p99 ${(large[2] / small[2]).toFixed(2)}x`)
  } finally {
    server.kill()
  }
}

/** Parts 1 and 2, in the scratch node namespace. */
async function inNode(): Promise<void> {
  await rulesetFigures()
  const n = Math.min(...sizes)
  console.log(`full apply at ${n} Services: kube-proxy's layout takes ${(lastPeerApplyMs / (fullApplyMs.get(n) ?? NaN)).toFixed(1)}x ours`)
  await connectLatency()
}

async function main(): Promise<void> {
  await topology()
  try {
    const child = spawn('ip', ['netns', 'exec', NODE, process.execPath, ...process.execArgv, process.argv[1] as string, ...process.argv.slice(2), '--in-node'], { stdio: 'inherit' })
    const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
    if (code !== 0) throw new Error(`the in-node part of the benchmark exited ${code}`)
  } finally {
    await teardown()
  }
  if (!values['skip-cluster']) {
    const { programmingLatency } = await import('./proxy-programming.ts')
    await programmingLatency(samples)
  }
}

await (values['in-node'] ? inNode() : main())
