// Wire compatibility: a node on our TypeScript encapsulator (`vxlan`) and a
// node on Linux's vxlan device (`vxlan-kernel`) in one cluster. Pods talk
// both ways, in bulk too, and what crosses the underlay decodes as VXLAN,
// VNI 1, carrying the pods' own addresses, in both directions.
import { spawn } from 'node:child_process'
import t from 'tap'
import { defaultRunDir, readVxlanStats } from '../../dataplane/overlay/vxlan.ts'
import {
  curlFrom, HOSTNAME_SERVER, isolatedHome, kubewire, kubewireOk, leftoversSettled, pingFrom, removeHome, uniqueClusterName, waitFor,
} from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
t.teardown(async () => {
  await kubewire(['down'])
  removeHome(home)
})

async function iperf(client: string, server: string): Promise<number> {
  return waitFor(`iperf3 ${client} -> ${server}`, async () => {
    const r = await kubewire(['exec', client, '--', 'iperf3', '-c', server, '-n', '30M', '-J'])
    if (r.code !== 0) return undefined
    return (JSON.parse(r.stdout) as { end: { sum_sent: { bytes: number } } }).end.sum_sent.bytes
  }, 30_000)
}

t.test('a vxlan node and a vxlan-kernel node talk', async t => {
  const out = await kubewireOk(['up', '--nodes', '2', '--backend', 'vxlan', '--node-backend', 'node-2=vxlan-kernel', '--addons', 'none'])
  t.match(out, /node-1\s+Ready\s+\S+\s+10\.244\.1\.0\/24\s+vxlan\s/)
  t.match(out, /node-2\s+Ready\s+\S+\s+10\.244\.2\.0\/24\s+vxlan-kernel\s/)
  const kinds = await Promise.all(['node-1', 'node-2'].map(async n =>
    (JSON.parse(await kubewireOk(['exec', n, '--', 'ip', '-d', '-j', 'link', 'show', 'kwvx0'])) as { linkinfo: { info_kind: string } }[])[0]!.linkinfo.info_kind))
  t.same(kinds, ['tun', 'vxlan'], 'a TAP on node-1, a kernel vxlan device on node-2')

  await kubewireOk(['run', 'a', '--node', 'node-1', '--', process.execPath, HOSTNAME_SERVER, '80'])
  await kubewireOk(['run', 'b', '--node', 'node-2', '--', process.execPath, HOSTNAME_SERVER, '80'])

  // Capture on the underlay bridge while the pods ping each other.
  const capture = spawn('tcpdump', ['-l', '-n', '-v', '-T', 'vxlan', '-i', `kw-${name}`, '-c', '4', 'udp port 8472'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let captured = ''
  let listening = false
  capture.stdout.on('data', b => (captured += b))
  capture.stderr.on('data', b => (listening ||= String(b).includes('listening on')))
  const done = new Promise(r => capture.on('close', r))
  await waitFor('tcpdump to listen', () => listening)
  t.ok(await pingFrom('a', '10.244.2.2'), 'pod on vxlan reaches pod on vxlan-kernel')
  t.ok(await pingFrom('b', '10.244.1.2'), 'and the other way')
  await Promise.race([done, waitFor('four VXLAN packets', () => (captured.match(/VXLAN/g) ?? []).length >= 4, 5_000)])
  capture.kill()
  t.match(captured, /VXLAN, flags \[I\] \(0x08\), vni 1/, 'decodes as VXLAN with VNI 1')
  t.match(captured, /198\.18\.\d+\.11\.8472 > 198\.18\.\d+\.12\.8472: VXLAN/, 'ours: node-1 -> node-2, port 8472')
  t.match(captured, /198\.18\.\d+\.12\.\d+ > 198\.18\.\d+\.11\.8472: VXLAN/, 'the kernel\'s: node-2 -> node-1, port 8472')
  t.match(captured, /10\.244\.1\.2 > 10\.244\.2\.2: ICMP echo request/, 'inner packets carry the pod addresses')
  t.match(captured, /10\.244\.2\.2 > 10\.244\.1\.2: ICMP echo reply/)
  t.match(captured, /10\.244\.2\.2 > 10\.244\.1\.2: ICMP echo request/)

  t.equal((await waitFor('curl a -> b', () => curlFrom('a', 'http://10.244.2.2/')))?.trim(), 'b', 'HTTP from vxlan to vxlan-kernel')
  t.equal((await waitFor('curl b -> a', () => curlFrom('b', 'http://10.244.1.2/')))?.trim(), 'a', 'HTTP from vxlan-kernel to vxlan')

  // Bulk both ways: TSO and UDP GSO from us, unsegmented GSO and partial
  // checksums from the kernel's device (see decap-path.ts).
  await kubewireOk(['run', 'sa', '--node', 'node-1', '--', 'iperf3', '-s'])
  await kubewireOk(['run', 'sb', '--node', 'node-2', '--', 'iperf3', '-s'])
  t.ok(await iperf('a', '10.244.2.3') >= 30 * 1024 * 1024, '30 MiB vxlan -> vxlan-kernel')
  t.ok(await iperf('b', '10.244.1.3') >= 30 * 1024 * 1024, '30 MiB vxlan-kernel -> vxlan')

  const s = await readVxlanStats(defaultRunDir(name), 'node-1')
  t.ok(s.tx.gsoFrames > 0 && s.tx.datagrams > s.tx.sends, 'we sent with TSO and UDP GSO')
  t.ok(s.rx.peerGso > 0, 'and took the kernel\'s unsegmented GSO frames whole')
  t.same(Object.entries({ ...s.drops.tx, ...s.drops.rx }).filter(([, v]) => v > 0), [], 'no drops')
  t.equal(s.rx.oversized, 0, 'nothing too big for the node')
})

t.test('down removes everything', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
