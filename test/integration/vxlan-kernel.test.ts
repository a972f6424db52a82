// The vxlan-kernel backend: pods on different nodes talk through Linux's vxlan
// device, and what crosses the underlay is VXLAN (UDP 8472, VNI 1) carrying
// the pods' own addresses.
import { spawn } from 'node:child_process'
import t from 'tap'
import { isolatedHome, kubewire, kubewireOk, leftoversSettled, pingFrom, removeHome, runPod, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
t.teardown(async () => {
  await kubewire(['down'])
  removeHome(home)
})

t.test('pods across nodes over kernel VXLAN', async t => {
  await kubewireOk(['up', '--nodes', '3', '--backend', 'vxlan-kernel', '--addons', 'none'])
  await runPod('a', { node: 'node-1' })
  await runPod('b', { node: 'node-3' })
  const mtu = await kubewireOk(['exec', 'a', '--', 'cat', '/sys/class/net/eth0/mtu'])
  t.equal(mtu.trim(), '1450', 'pod MTU leaves room for the 50-byte VXLAN overhead')
  const routes = await kubewireOk(['exec', 'node-1', '--', 'ip', 'route'])
  t.match(routes, /10\.244\.3\.0\/24 via 10\.244\.3\.0 dev kwvx0 onlink/)

  // Capture on the underlay bridge while pod a pings pod b.
  const capture = spawn('tcpdump', ['-l', '-n', '-v', '-T', 'vxlan', '-i', `kw-${name}`, '-c', '2', 'udp port 8472'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let captured = ''
  let listening = false
  capture.stdout.on('data', b => (captured += b))
  capture.stderr.on('data', b => (listening ||= String(b).includes('listening on')))
  const done = new Promise(r => capture.on('close', r))
  await waitFor('tcpdump to listen', () => listening)
  t.ok(await pingFrom('a', '10.244.3.2'), 'pod a (node-1) reaches pod b (node-3)')
  await Promise.race([done, waitFor('two VXLAN packets', () => (captured.match(/VXLAN/g) ?? []).length >= 2, 5_000)])
  capture.kill()
  t.match(captured, /VXLAN, flags \[I\] \(0x08\), vni 1/, 'decodes as VXLAN with VNI 1')
  t.match(captured, /10\.244\.1\.2 > 10\.244\.3\.2: ICMP echo request/, 'inner packet carries the pod addresses')
  t.match(captured, /198\.18\.\d+\.11\.\d+ > 198\.18\.\d+\.13\.8472/, 'outer packet goes node-1 -> node-3, port 8472')
})

t.test('down removes everything', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
