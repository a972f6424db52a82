import t from 'tap'
import { hostGwRouteLines } from '../../../dataplane/overlay/host-gw.ts'
import type { BackendNode, Lease } from '../../../dataplane/overlay/backend.ts'
import { renderMasqueradeTable } from '../../../dataplane/network/masquerade.ts'

const node: BackendNode = {
  name: 'node-1', netns: 'kw-t-node-1', underlayDevice: 'eth0', underlayIP: '198.18.0.11',
  underlayMtu: 1500, podCIDR: '10.244.1.0/24', clusterCidr: '10.244.0.0/16',
}
const lease = (n: number): Lease => ({ node: `node-${n}`, podCIDR: `10.244.${n}.0/24`, underlayIP: `198.18.0.${10 + n}`, backend: 'host-gw', data: {} })
const connected = [
  { dst: '10.244.1.0/24', dev: 'cni0' },
  { dst: '198.18.0.0/24', dev: 'eth0' },
]

t.test('adds a route per peer, none for itself', async t => {
  t.same(hostGwRouteLines(node, [lease(1), lease(2), lease(3)], connected), [
    'route replace 10.244.2.0/24 via 198.18.0.12 dev eth0',
    'route replace 10.244.3.0/24 via 198.18.0.13 dev eth0',
  ])
})

t.test('converges: keeps what is right, removes departed peers, fixes moved ones', async t => {
  const current = [
    ...connected,
    { dst: '10.244.2.0/24', gateway: '198.18.0.12', dev: 'eth0' },
    { dst: '10.244.3.0/24', gateway: '198.18.0.13', dev: 'eth0' },
    { dst: '10.244.4.0/24', gateway: '198.18.0.99', dev: 'eth0' },
  ]
  const moved = { ...lease(4), underlayIP: '198.18.0.14' }
  t.same(hostGwRouteLines(node, [lease(2), moved], current), [
    'route del 10.244.3.0/24',
    'route del 10.244.4.0/24',
    'route replace 10.244.4.0/24 via 198.18.0.14 dev eth0',
  ])
  t.same(hostGwRouteLines(node, [lease(2), lease(3)], current.slice(0, 4)), [], 'nothing to do when converged')
})

t.test('masquerade table: only cluster traffic leaving through the underlay', async t => {
  t.equal(
    renderMasqueradeTable('kw-t-masq', '10.244.0.0/16', 'eth0'),
    `table ip kw-t-masq
delete table ip kw-t-masq
table ip kw-t-masq {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 oifname "eth0" masquerade
  }
}
`,
  )
})
