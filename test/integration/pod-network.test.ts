// A two-node cluster with the default backend (vxlan) on real namespaces: pods reach each other on one
// node and across nodes, nodes reach pods, the host reaches nodes, and an HTTP
// server in a pod answers curl from a pod on the other node.
import t from 'tap'
import {
  curlFrom, HOSTNAME_SERVER, isolatedHome, kubewire, kubewireOk, leftoversSettled, pingFrom, removeHome, runPod, uniqueClusterName, waitFor,
} from './helpers/cluster.ts'
import { execFileSync } from 'node:child_process'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name

t.before(async () => {
  await kubewireOk(['up', '--nodes', '2'])
})
// Safety net after a failure; the last test checks that down really cleans up.
t.teardown(async () => {
  await kubewire(['down'])
  removeHome(home)
})

const run = (pod: string, node: string, command?: string[]) => runPod(pod, { node, ...(command ? { command } : {}) })

t.test('status shows the nodes with the addressing plan', async t => {
  const out = await kubewireOk(['status'])
  t.match(out, /node-1\s+Ready\s+198\.18\.\d+\.11\s+10\.244\.1\.0\/24\s+vxlan/)
  t.match(out, /node-2\s+Ready\s+198\.18\.\d+\.12\s+10\.244\.2\.0\/24\s+vxlan/)
  t.match(out, /API server: https:\/\/198\.18\.\d+\.1:6443/)
  t.match(out, new RegExp(`${name} \\(current\\)\\s+vxlan`))
})

t.test('pods on one node and across nodes reach each other', async t => {
  const a = await run('a', 'node-1')
  const b = await run('b', 'node-1')
  const c = await run('c', 'node-2')
  t.match(a.ip, /^10\.244\.1\.\d+$/, 'pod on node-1 has a node-1 address')
  t.match(c.ip, /^10\.244\.2\.\d+$/, 'pod on node-2 has a node-2 address')
  t.ok(await pingFrom('a', b.ip), 'pod -> pod on the same node')
  t.ok(await pingFrom('a', c.ip), 'pod -> pod across nodes (node-1 -> node-2)')
  t.ok(await pingFrom('c', a.ip), 'pod -> pod across nodes (node-2 -> node-1)')
  t.ok(await pingFrom('node-1', c.ip), 'node -> pod on another node')
  t.ok(await pingFrom('node-2', c.ip), 'node -> its own pod')
  const route = await kubewireOk(['exec', 'a', '--', 'ip', 'route'])
  t.match(route, /^default via 10\.244\.1\.1 dev eth0/m, 'pod default route via its gateway')
})

t.test('the host reaches every node on the underlay, and pods reach the host', async t => {
  const status = await kubewireOk(['status'])
  const nodeIPs = [...status.matchAll(/^node-\d\s+Ready\s+(198\.18\.\d+\.\d+)/gm)].map(m => m[1] as string)
  t.equal(nodeIPs.length, 2)
  for (const ip of nodeIPs) {
    execFileSync('ping', ['-c', '1', '-W', '2', ip])
    t.pass(`host -> ${ip}`)
  }
  const host = nodeIPs[0]!.replace(/\.\d+$/, '.1')
  t.ok(await pingFrom('c', host), 'pod -> host (masqueraded to its node)')
})

t.test('nothing routes out of the emulated world', async t => {
  const routes = await kubewireOk(['exec', 'node-1', '--', 'ip', 'route'])
  t.notMatch(routes, /^default/m, 'nodes have no default route')
  const forwarding = execFileSync('sysctl', ['-n', 'net.ipv4.ip_forward'], { encoding: 'utf8' }).trim()
  const nodeForwarding = (await kubewireOk(['exec', 'node-1', '--', 'sysctl', '-n', 'net.ipv4.ip_forward'])).trim()
  t.equal(nodeForwarding, '1', 'forwarding is on inside the node')
  t.comment(`root namespace forwarding is ${forwarding} (kubewire never changes it)`)
})

t.test('curl reaches an HTTP server in a pod on another node', async t => {
  const server = await run('web', 'node-1', [process.execPath, HOSTNAME_SERVER, '8080'])
  const body = await waitFor('the server in pod web to answer', () => curlFrom('c', `http://${server.ip}:8080/`))
  t.equal(body.trim(), 'web', 'answered with its own hostname (the pod name)')
  t.equal((await kubewireOk(['exec', 'web', '--', 'hostname'])).trim(), 'web', 'exec enters the pod UTS namespace')
  const ps = await kubewireOk(['exec', 'web', '--', 'ps', '-o', 'pid=,args=', '-p', '1'])
  t.match(ps, /^\s*1 /, 'exec sees the pod PID namespace (pid 1 is the pod init)')
  const logs = await kubewireOk(['logs', 'web'])
  t.match(logs, /serving hostname web on :8080/, 'logs show what the process printed')
})

t.test('deleting a pod stops its process, removes its namespace and frees its address', async t => {
  const before = await run('temp', 'node-2', ['sleep', '300'])
  const del = await kubewireOk(['delete', 'pod', 'temp', '--grace-period', '2'])
  t.match(del, /pod "temp" deleted/)
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  t.notMatch(netns, new RegExp(`kw-${name}-pod-default\\.temp\\b`), 'namespace gone')
  const again = await run('temp2', 'node-2')
  t.equal(again.ip, before.ip, 'the freed address is handed out again')
})

t.test('clear errors for bad requests, and nothing half-applied', async t => {
  const dup = await kubewire(['run', 'a'])
  t.equal(dup.code, 1)
  t.match(dup.stderr, /Error from server \(AlreadyExists\): pods "a" already exists/)
  const unknown = await kubewire(['delete', 'pod', 'nope'])
  t.match(unknown.stderr, /Error from server \(NotFound\): pods "nope" not found/)
  const badName = await kubewire(['run', 'Bad_Name'])
  t.match(badName.stderr, /Error from server \(Invalid\): Pod "Bad_Name" is invalid: \[?metadata\.name: Invalid value: "Bad_Name"/)
  const missing = await kubewire(['status', '--name', 'nosuch'])
  t.match(missing.stderr, /cluster "nosuch" not found/)
  const clash = await kubewire(['up', '--nodes', '1'])
  t.match(clash.stderr, new RegExp(`cluster "${name}" already exists`))
  const status = await kubewireOk(['status'])
  t.notMatch(status, /Bad_Name/, 'the refused pod was not recorded')
})

t.test('concurrent runs never share an address', async t => {
  const names = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']
  const pods = await Promise.all(names.map(n => runPod(n)))
  const ips = pods.map(p => p.ip)
  t.equal(new Set(ips).size, names.length, `distinct addresses: ${ips.join(' ')}`)
  const status = await kubewireOk(['status'])
  for (const n of names) t.match(status, new RegExp(`default\\s+${n}\\s+Running`))
})

t.test('down removes every namespace, link and nft table of the cluster', async t => {
  const out = await kubewireOk(['down'])
  t.match(out, new RegExp(`Deleted cluster "${name}"`))
  t.same(await leftoversSettled(name), [], 'nothing left')
  const again = await kubewireOk(['down', '--name', name])
  t.match(again, /not found; nothing to remove/, 'down twice is harmless')
})
