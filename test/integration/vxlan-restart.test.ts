// Restarts and live peer changes: the TAP is persistent and the peer table
// lives in the encapsulator (and its peers file), so
//   - killing a node's encapsulator and starting it again (register() does
//     that when none answers) loses only the packets in flight: the device,
//     its routes and neighbours stay, and a TCP transfer across it completes;
//   - sync() with a peer removed and added back changes forwarding at once,
//     with no restart and no new device.
import { execFile } from 'node:child_process'
import t from 'tap'
import type { BackendNode, Lease } from '../../dataplane/overlay/backend.ts'
import { getBackend } from '../../dataplane/overlay/backends.ts'
import { LEASE_VTEP_MAC, vtepMac } from '../../dataplane/overlay/vtep.ts'
import { createVxlanBackend, defaultRunDir, readVxlanStats } from '../../dataplane/overlay/vxlan.ts'
import {
  curlFrom, HOSTNAME_SERVER, isolatedHome, kubewire, kubewireOk, leftoversSettled, pingFrom, removeHome, uniqueClusterName, waitFor,
} from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
const runDir = defaultRunDir(name)
t.teardown(async () => {
  await kubewire(['down'])
  removeHome(home)
})

// What the control plane hands the backend, rebuilt from what the encapsulators report.
async function backendNode(node: string): Promise<BackendNode> {
  const { local } = await readVxlanStats(runDir, node)
  const index = Number(node.split('-')[1])
  return {
    name: node, netns: `kw-${name}-${node}`, underlayDevice: 'eth0', underlayIP: local, underlayMtu: 1500,
    podCIDR: `10.244.${index}.0/24`, clusterCidr: '10.244.0.0/16',
  }
}

async function leaseOf(node: string): Promise<Lease> {
  const n = await backendNode(node)
  return { node, podCIDR: n.podCIDR, underlayIP: n.underlayIP, backend: 'vxlan', data: { [LEASE_VTEP_MAC]: vtepMac(name, node) } }
}

function ifindex(node: string): Promise<number> {
  return kubewireOk(['exec', node, '--', 'cat', '/sys/class/net/kwvx0/ifindex']).then(Number)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function exec(argv: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise(resolve => {
    execFile(argv[0]!, argv.slice(1), { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }))
  })
}

t.test('setup', async t => {
  await kubewireOk(['up', '--nodes', '2', '--backend', 'vxlan', '--addons', 'none'])
  await kubewireOk(['run', 'a', '--node', 'node-1', '--', process.execPath, HOSTNAME_SERVER, '80'])
  await kubewireOk(['run', 'b', '--node', 'node-2'])
  await kubewireOk(['run', 'sink', '--node', 'node-1', '--', 'iperf3', '-s'])
  t.ok(await pingFrom('b', '10.244.1.2'))
})

t.test('an encapsulator killed and started again: only in-flight packets are lost', async t => {
  const node1 = await backendNode('node-1')
  const backend = getBackend('vxlan', { cluster: name })
  const index = await ifindex('node-1')
  const { pid } = await readVxlanStats(runDir, 'node-1')

  // A TCP transfer that will have to cross the restart.
  const transfer = exec(['ip', 'netns', 'exec', `kw-${name}-pod-default.b`, 'iperf3', '-c', '10.244.1.3', '-t', '6', '-J'])
  await new Promise(r => setTimeout(r, 1500))
  process.kill(pid, 'SIGKILL')
  await waitFor('the encapsulator to be gone', () => !alive(pid))
  t.notOk(await pingFrom('b', '10.244.1.2'), 'nothing crosses while no encapsulator runs')
  const routes = await kubewireOk(['exec', 'node-1', '--', 'ip', 'route'])
  t.match(routes, /10\.244\.2\.0\/24 via 10\.244\.2\.0 dev kwvx0 onlink/, 'routes stay with the device')

  // Start it again the way `up` does, without a sync: the peers file has the table.
  await backend.register(node1)
  const restarted = await waitFor('the new encapsulator to answer', () => readVxlanStats(runDir, 'node-1').catch(() => undefined))
  t.not(restarted.pid, pid, 'a new process')
  t.equal(restarted.peers.length, 1, 'with its peers, read back from the peers file')
  t.equal(await ifindex('node-1'), index, 'the same device: not recreated')
  t.ok(await waitFor('pods to talk again', () => pingFrom('b', '10.244.1.2')), 'traffic flows again')

  const done = await transfer
  t.equal(done.code, 0, 'the TCP transfer across the restart completed')
  const report = JSON.parse(done.stdout) as { end: { sum_sent: { bytes: number; retransmits: number } } }
  t.ok(report.end.sum_sent.bytes > 0, `${report.end.sum_sent.bytes} bytes, ${report.end.sum_sent.retransmits} segments retransmitted`)

  // register() again while it runs changes nothing.
  await backend.register(node1)
  t.equal((await readVxlanStats(runDir, 'node-1')).pid, restarted.pid, 'a running encapsulator is kept')
})

t.test('a peer removed and added back by sync(), live', async t => {
  const node1 = await backendNode('node-1')
  const node2 = await leaseOf('node-2')
  const backend = getBackend('vxlan', { cluster: name })
  const { pid } = await readVxlanStats(runDir, 'node-1')
  const index = await ifindex('node-1')

  await backend.sync(node1, [])
  t.equal((await readVxlanStats(runDir, 'node-1')).peers.length, 0, 'node-1 forgot node-2')
  t.notMatch(await kubewireOk(['exec', 'node-1', '--', 'ip', 'route']), /10\.244\.2\.0\/24/, 'and its route')
  t.notOk(await pingFrom('a', '10.244.2.2'), 'node-1\'s pod cannot reach node-2\'s')

  await backend.sync(node1, [node2])
  t.ok(await pingFrom('a', '10.244.2.2'), 'back after the next sync')
  t.equal((await curlFrom('b', 'http://10.244.1.2/'))?.trim(), 'a')
  const s = await readVxlanStats(runDir, 'node-1')
  t.equal(s.pid, pid, 'no restart')
  t.equal(await ifindex('node-1'), index, 'no new device')
})

t.test('without offloads (the fallback when the kernel refuses them) traffic still flows', async t => {
  const node1 = await backendNode('node-1')
  const { pid } = await readVxlanStats(runDir, 'node-1')
  process.kill(pid, 'SIGTERM')
  await waitFor('the encapsulator to stop', () => !alive(pid))
  await createVxlanBackend({ cluster: name, offloads: false }).register(node1)
  const plain = await waitFor('the plain encapsulator', () => readVxlanStats(runDir, 'node-1').catch(() => undefined))
  t.same(plain.offloads, { vnetHdr: false, csum: false, tso4: false, tsoEcn: false, udpGso: false, udpGro: false, coalesce: false, verifyChecksums: false })
  t.ok(await waitFor('pods to talk', () => pingFrom('b', '10.244.1.2')), 'ping, to a peer that still uses offloads')
  const done = await exec(['ip', 'netns', 'exec', `kw-${name}-pod-default.b`, 'iperf3', '-c', '10.244.1.3', '-n', '10M', '-J'])
  t.equal(done.code, 0, 'a bulk transfer completes')
  const after = await readVxlanStats(runDir, 'node-1')
  t.ok(after.rx.frames > 5000 && after.rx.coalesced === 0 && after.rx.peerGso === 0, 'frame by frame, nothing merged')
  t.same(Object.entries({ ...after.drops.tx, ...after.drops.rx }).filter(([, v]) => v > 0), [], 'no drops')
})

t.test('down removes everything', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
