import t from 'tap'
import { peerEntries, vtepIP, vtepMac, vxlanChanges } from '../../../dataplane/overlay/vtep.ts'
import type { Lease } from '../../../dataplane/overlay/backend.ts'

const lease = (n: number, mac = `0e:00:00:00:00:0${n}`): Lease => ({
  node: `node-${n}`, podCIDR: `10.244.${n}.0/24`, underlayIP: `198.18.0.${10 + n}`, backend: 'vxlan-kernel', data: { vtepMAC: mac },
})

t.test('VTEP MACs are pinned, unicast, locally administered and distinct', async t => {
  const mac = vtepMac('demo', 'node-1')
  t.match(mac, /^0e(:[0-9a-f]{2}){5}$/)
  t.equal(vtepMac('demo', 'node-1'), mac, 'same node, same MAC')
  t.not(vtepMac('demo', 'node-2'), mac)
  t.not(vtepMac('other', 'node-1'), mac)
  t.equal(vtepIP('10.244.7.0/24'), '10.244.7.0')
})

t.test('a new peer gets FDB, neighbour, then route', async t => {
  const peers = peerEntries('node-1', [lease(1), lease(2)])
  t.same(vxlanChanges('kwvx0', peers, { fdb: [], neigh: [], routes: [] }), {
    bridge: ['fdb replace 0e:00:00:00:00:02 dev kwvx0 dst 198.18.0.12'],
    neigh: ['neigh replace 10.244.2.0 lladdr 0e:00:00:00:00:02 dev kwvx0 nud permanent'],
    routes: ['route replace 10.244.2.0/24 via 10.244.2.0 dev kwvx0 onlink'],
    removeIp: [],
    removeBridge: [],
  })
})

t.test('converged state needs nothing; departed and changed peers are removed', async t => {
  const current = {
    fdb: [{ mac: '0e:00:00:00:00:02', dst: '198.18.0.12' }, { mac: '0e:00:00:00:00:03', dst: '198.18.0.13' }, { mac: '00:00:00:00:00:00' }],
    neigh: [{ dst: '10.244.2.0', lladdr: '0e:00:00:00:00:02' }, { dst: '10.244.3.0', lladdr: '0e:00:00:00:00:03' }],
    routes: [{ dst: '10.244.2.0/24', gateway: '10.244.2.0' }, { dst: '10.244.3.0/24', gateway: '10.244.3.0' }],
  }
  const none = vxlanChanges('kwvx0', peerEntries('node-1', [lease(2), lease(3)]), current)
  t.same(none, { bridge: [], neigh: [], routes: [], removeIp: [], removeBridge: [] })

  // node-3 left; node-2 came back with a new MAC (recreated device).
  const changed = vxlanChanges('kwvx0', peerEntries('node-1', [lease(2, '0e:00:00:00:00:22')]), current)
  t.same(changed.removeIp, ['route del 10.244.3.0/24 dev kwvx0', 'neigh del 10.244.2.0 dev kwvx0', 'neigh del 10.244.3.0 dev kwvx0'])
  t.same(changed.removeBridge, ['fdb del 0e:00:00:00:00:02 dev kwvx0 dst 198.18.0.12', 'fdb del 0e:00:00:00:00:03 dev kwvx0 dst 198.18.0.13'])
  t.same(changed.bridge, ['fdb replace 0e:00:00:00:00:22 dev kwvx0 dst 198.18.0.12'])
  t.same(changed.neigh, ['neigh replace 10.244.2.0 lladdr 0e:00:00:00:00:22 dev kwvx0 nud permanent'])
  t.same(changed.routes, [], 'the route to node-2 stays as it was')
})

t.test('peers without VTEP data (another backend) are skipped', async t => {
  const hostGwPeer: Lease = { ...lease(4), backend: 'host-gw', data: {} }
  t.same(peerEntries('node-1', [hostGwPeer]), [])
})
