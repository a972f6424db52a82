import t from 'tap'
import { parseMac } from '../../../dataplane/overlay/vxlan/ethernet.ts'
import {
  FLOOD, MAX_PEERS, PeerTable, publishedSequence, publishPeers, readPublishedPeers, sharedPeerMemory,
} from '../../../dataplane/overlay/vxlan/peer-table.ts'
import { ipv4ToU32 } from '../../../dataplane/overlay/vxlan/mmsg.ts'

const peers = [
  { node: 'node-2', mac: '0e:00:00:00:00:02', underlayIP: '198.18.0.12' },
  { node: 'node-3', mac: '0E:00:00:00:00:03', underlayIP: '198.18.0.13', partialChecksums: true },
]

// An Ethernet frame to `dst`, at `offset` of a larger buffer.
function frameTo(dst: string | Buffer, offset = 0): Buffer {
  const b = Buffer.alloc(offset + 60)
  ;(typeof dst === 'string' ? parseMac(dst) : dst).copy(b, offset)
  return b
}

t.test('unicast to a known VTEP MAC goes to that peer only', async t => {
  const table = PeerTable.from(peers)
  t.equal(table.size, 2)
  t.equal(table.destination(frameTo('0e:00:00:00:00:02'), 0), 0)
  t.equal(table.destination(frameTo('0e:00:00:00:00:03', 7), 7), 1, 'MAC case and frame offset do not matter')
  t.equal(table.ips[1], ipv4ToU32('198.18.0.13'))
})

t.test('broadcast, multicast and unknown MACs are flooded', async t => {
  const table = PeerTable.from(peers)
  t.equal(table.destination(frameTo('ff:ff:ff:ff:ff:ff'), 0), FLOOD, 'broadcast (ARP requests)')
  t.equal(table.destination(frameTo('01:00:5e:00:00:01'), 0), FLOOD, 'IPv4 multicast')
  t.equal(table.destination(frameTo('33:33:00:00:00:01'), 0), FLOOD, 'IPv6 multicast')
  t.equal(table.destination(frameTo('0e:00:00:00:00:09'), 0), FLOOD, 'a MAC nobody has')
  t.equal(PeerTable.empty().destination(frameTo('0e:00:00:00:00:02'), 0), FLOOD, 'empty table')
})

t.test('only peer underlay addresses are accepted as sources', async t => {
  const table = PeerTable.from(peers)
  t.ok(table.isPeerAddress(ipv4ToU32('198.18.0.12')))
  t.ok(table.isPeerAddress(ipv4ToU32('198.18.0.13')))
  t.notOk(table.isPeerAddress(ipv4ToU32('198.18.0.1')), 'the host')
  t.notOk(table.isPeerAddress(ipv4ToU32('198.18.0.11')), 'ourselves')
  t.notOk(table.isPeerAddress(-1), 'not IPv4')
})

t.test('entries round-trip; bad input throws before anything changes', async t => {
  t.same(PeerTable.from(peers).entries(), [
    { mac: '0e:00:00:00:00:02', underlayIP: '198.18.0.12', partialChecksums: false },
    { mac: '0e:00:00:00:00:03', underlayIP: '198.18.0.13', partialChecksums: true },
  ])
  t.throws(() => PeerTable.from([{ mac: 'nope', underlayIP: '198.18.0.12' }]), { code: 'EBADMAC' })
  t.throws(() => PeerTable.from([{ mac: '0e:00:00:00:00:02', underlayIP: '198.18.0.256' }]), RangeError)
  t.throws(() => PeerTable.from([{ mac: '0e:00:00:00:00:02', underlayIP: '10.1.2' }]), RangeError)
})

t.test('who takes partial checksums', async t => {
  const table = PeerTable.from(peers)
  t.same([...table.partial], [0, 1])
  t.equal(table.allPartial, false, 'a flooded frame must carry full checksums')
  t.equal(PeerTable.from(peers.slice(1)).allPartial, true)
  t.equal(PeerTable.empty().allPartial, false)
})

t.test('a duplicate MAC keeps its first peer', async t => {
  const table = PeerTable.from([...peers, { mac: '0e:00:00:00:00:02', underlayIP: '198.18.0.99' }])
  t.equal(table.destination(frameTo('0e:00:00:00:00:02'), 0), 0)
})

t.test('publishing through shared memory (the seqlock)', async t => {
  const shared = sharedPeerMemory()
  const empty = readPublishedPeers(shared)
  t.equal(empty?.table.size, 0, 'starts empty and stable')
  const s0 = publishedSequence(shared)
  publishPeers(shared, PeerTable.from(peers))
  const s1 = publishedSequence(shared)
  t.not(s1, s0, 'sequence moves on publish')
  t.equal(s1 % 2, 0, 'and is even when stable')
  const read = readPublishedPeers(shared)
  t.equal(read?.sequence, s1)
  t.same(read?.table.entries(), PeerTable.from(peers).entries())
  t.equal(read?.table.destination(frameTo('0e:00:00:00:00:03'), 0), 1)

  // Shrinking leaves no stale entry visible.
  publishPeers(shared, PeerTable.from(peers.slice(1)))
  t.same(readPublishedPeers(shared)?.table.entries(), [{ mac: '0e:00:00:00:00:03', underlayIP: '198.18.0.13', partialChecksums: true }])

  // A reader that sees a write in progress (odd sequence) gets nothing.
  Atomics.add(shared, 0, 1)
  t.equal(readPublishedPeers(shared), undefined)
  Atomics.add(shared, 0, 1)
  t.ok(readPublishedPeers(shared))

  // MACs with the high bit set survive the int32 storage.
  publishPeers(shared, PeerTable.from([{ mac: 'fe:ff:ff:ff:ff:fe', underlayIP: '255.255.255.254' }]))
  t.same(readPublishedPeers(shared)?.table.entries(), [{ mac: 'fe:ff:ff:ff:ff:fe', underlayIP: '255.255.255.254', partialChecksums: false }])
})

t.test('the shared table has a size limit', async t => {
  const many = Array.from({ length: MAX_PEERS + 1 }, (_, i) => ({
    mac: `0e:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
    underlayIP: `10.0.${(i >> 8) & 0xff}.${i & 0xff}`,
  }))
  t.throws(() => publishPeers(sharedPeerMemory(), PeerTable.from(many)), RangeError)
})
