import t from 'tap'
import type { Lease } from '../../../dataplane/overlay/backend.ts'
import { getBackend } from '../../../dataplane/overlay/backends.ts'
import { defaultRunDir, LEASE_PARTIAL_CSUM, tapDeviceLines, vxlanPeers } from '../../../dataplane/overlay/vxlan.ts'
import { vxlanPaths } from '../../../dataplane/overlay/vxlan/control.ts'
import { snapshotCounters, localCounters, RX_DROP, TX } from '../../../dataplane/overlay/vxlan/counters.ts'

const MAC = '0e:12:34:56:78:9a'
const tap = (over: Record<string, unknown> = {}) => ({
  ifname: 'kwvx0', address: MAC, mtu: 1450,
  linkinfo: { info_kind: 'tun', info_data: { type: 'tap', pi: false, vnet_hdr: true } },
  ...over,
})

t.test('the TAP device: made when missing, kept when right, fixed or replaced otherwise', async t => {
  t.same(tapDeviceLines(undefined, MAC, 1450, '10.244.1.0'), [
    'tuntap add dev kwvx0 mode tap vnet_hdr',
    `link set dev kwvx0 address ${MAC} mtu 1450`,
    'addr replace 10.244.1.0/32 dev kwvx0',
    'link set dev kwvx0 up',
  ])
  t.same(tapDeviceLines(tap(), MAC, 1450, '10.244.1.0'), ['addr replace 10.244.1.0/32 dev kwvx0', 'link set dev kwvx0 up'], 'kept as it is: routes and neighbours stay')
  t.same(tapDeviceLines(tap({ mtu: 1500 }), MAC, 1450, '10.244.1.0')[0], `link set dev kwvx0 address ${MAC} mtu 1450`)
  t.same(tapDeviceLines(tap({ address: '0e:00:00:00:00:01' }), MAC, 1450, '10.244.1.0')[0], `link set dev kwvx0 address ${MAC} mtu 1450`)
  const kernel = { ifname: 'kwvx0', address: MAC, mtu: 1450, linkinfo: { info_kind: 'vxlan' } }
  t.same(tapDeviceLines(kernel, MAC, 1450, '10.244.1.0').slice(0, 2), ['link del kwvx0', 'tuntap add dev kwvx0 mode tap vnet_hdr'], 'a kernel vxlan device is replaced')
  t.same(tapDeviceLines(tap({ linkinfo: { info_kind: 'tun', info_data: { type: 'tap', pi: false, vnet_hdr: false } } }), MAC, 1450, '10.244.1.0')[0], 'link del kwvx0', 'a TAP without vnet header is replaced')
})

t.test('peers from leases: everyone else with a VTEP MAC, both VXLAN backends alike', async t => {
  const lease = (n: number, backend: string, data: Record<string, string> = { vtepMAC: `0e:00:00:00:00:0${n}` }): Lease => ({
    node: `node-${n}`, podCIDR: `10.244.${n}.0/24`, underlayIP: `198.18.0.${10 + n}`, backend, data,
  })
  const ours = { vtepMAC: '0e:00:00:00:00:02', [LEASE_PARTIAL_CSUM]: 'true' }
  t.same(vxlanPeers('node-1', [lease(1, 'vxlan'), lease(2, 'vxlan', ours), lease(3, 'vxlan-kernel'), lease(4, 'host-gw', {})]), [
    { node: 'node-2', mac: '0e:00:00:00:00:02', underlayIP: '198.18.0.12', partialChecksums: true },
    { node: 'node-3', mac: '0e:00:00:00:00:03', underlayIP: '198.18.0.13', partialChecksums: false },
  ], 'only our own encapsulator takes partial checksums')
})

t.test('the backend is registered, with the kernel backend\'s pod MTU', async t => {
  const b = getBackend('vxlan', { cluster: 'demo' })
  t.equal(b.type, 'vxlan')
  t.equal(b.podMtu(1500), 1450)
  t.equal(b.podMtu(1500), getBackend('vxlan-kernel', { cluster: 'demo' }).podMtu(1500), 'so the two can be mixed')
})

t.test('files under the run directory', async t => {
  const saved = process.env.KUBEWIRE_RUN
  delete process.env.KUBEWIRE_RUN
  t.equal(defaultRunDir('demo'), '/run/kubewire/demo')
  process.env.KUBEWIRE_RUN = '/tmp/x'
  t.equal(defaultRunDir('demo'), '/tmp/x/demo')
  if (saved === undefined) delete process.env.KUBEWIRE_RUN
  else process.env.KUBEWIRE_RUN = saved
  t.same(vxlanPaths('/run/kubewire/demo', 'node-2'), {
    dir: '/run/kubewire/demo/vxlan',
    socket: '/run/kubewire/demo/vxlan/node-2.sock',
    peers: '/run/kubewire/demo/vxlan/node-2.peers.json',
    pid: '/run/kubewire/demo/vxlan/node-2.pid',
    log: '/run/kubewire/demo/vxlan/node-2.log',
  })
})

t.test('counters render by name', async t => {
  const c = localCounters()
  c[TX.frames] = 3
  c[RX_DROP['wrong-vni']] = 2
  const s = snapshotCounters(c)
  t.equal(s.tx.frames, 3)
  t.equal(s.drops.rx['wrong-vni'], 2)
  t.equal(s.drops.tx['no-peers'], 0)
  t.same(Object.keys(s.drops.rx).sort(), ['internal-error', 'no-i-flag', 'recv-error', 'tap-write-error', 'too-short', 'truncated', 'unknown-source', 'wrong-vni'])
})
