import t from 'tap'
import { getLinkRequest, message, podSideRequests, readAnswer } from '../../../dataplane/network/pod-side.ts'
import { attribute } from '../../../dataplane/netlink/writer.ts'

const header = (b: Buffer) => ({ length: b.readUInt32LE(0), type: b.readUInt16LE(4), flags: b.readUInt16LE(6), seq: b.readUInt32LE(8) })

t.test('attributes are length, type, value padded to 4 bytes', async t => {
  t.same([...attribute(3, Buffer.from('eth0\0'))], [9, 0, 3, 0, 0x65, 0x74, 0x68, 0x30, 0, 0, 0, 0])
  t.same([...attribute(5, Buffer.from([10, 244, 1, 1]))], [8, 0, 5, 0, 10, 244, 1, 1])
})

t.test('every message asks for an acknowledgement', async t => {
  t.same(header(message(16, 0, 7, Buffer.alloc(16))), { length: 32, type: 16, flags: 0x5, seq: 7 })
  const get = getLinkRequest('eth0')
  t.equal(get.step, 'link show eth0')
  t.same(header(get.bytes), { length: 16 + 16 + 12, type: 18, flags: 0x5, seq: 1 })
})

t.test('the pod side as ip does it: lo up, addrgenmode none, address, eth0 up, default route', async t => {
  const requests = podSideRequests({ ip: '10.244.1.5', prefixLength: 24, gateway: '10.244.1.1' }, 2)
  t.same(requests.map(r => r.step), [
    'link set lo up',
    'link set eth0 addrgenmode none',
    'addr replace 10.244.1.5/24 dev eth0',
    'link set eth0 up',
    'route replace default via 10.244.1.1 dev eth0',
  ])
  const [lo, genmode, addr, up, route] = requests.map(r => r.bytes) as [Buffer, Buffer, Buffer, Buffer, Buffer]
  t.same(header(lo), { length: 32, type: 16, flags: 0x5, seq: 2 })
  t.same([lo.readInt32LE(20), lo.readUInt32LE(24), lo.readUInt32LE(28)], [1, 1, 1], 'index 1, IFF_UP set and changed')
  t.same([genmode.readInt32LE(20), genmode.readUInt32LE(28)], [2, 0], 'eth0, flags untouched')
  t.same([...genmode.subarray(32)], [16, 0, 26, 0x80, 12, 0, 10, 0, 5, 0, 8, 0, 1, 0, 0, 0], 'IFLA_AF_SPEC { AF_INET6 { ADDR_GEN_MODE none } }')
  t.same(header(addr), { length: 16 + 8 + 8 + 8, type: 20, flags: 0x505, seq: 4 })
  t.same([...addr.subarray(16, 24)], [2, 24, 0, 0, 2, 0, 0, 0], 'AF_INET /24 on index 2')
  t.same([...addr.subarray(24)], [8, 0, 2, 0, 10, 244, 1, 5, 8, 0, 1, 0, 10, 244, 1, 5], 'IFA_LOCAL and IFA_ADDRESS')
  t.same([up.readInt32LE(20), up.readUInt32LE(24), up.readUInt32LE(28)], [2, 1, 1])
  t.same(header(route), { length: 16 + 12 + 8 + 8, type: 24, flags: 0x505, seq: 6 })
  t.same([...route.subarray(16, 28)], [2, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0], 'default, main table, proto boot, unicast')
  t.same([...route.subarray(28)], [8, 0, 5, 0, 10, 244, 1, 1, 8, 0, 4, 0, 2, 0, 0, 0], 'RTA_GATEWAY and RTA_OIF')
  t.throws(() => podSideRequests({ ip: '10.244.1', prefixLength: 24, gateway: '10.244.1.1' }, 2), /not an IPv4 address/)
})

t.test('answers: an error number, and the index of a described link', async t => {
  const error = (errno: number) => {
    const b = Buffer.alloc(36)
    b.writeUInt32LE(36, 0)
    b.writeUInt16LE(2, 4)
    b.writeInt32LE(-errno, 16)
    return b
  }
  const link = Buffer.alloc(32)
  link.writeUInt32LE(32, 0)
  link.writeUInt16LE(16, 4)
  link.writeInt32LE(7, 20)
  t.same(readAnswer(error(0), 36), { errno: 0, linkIndex: undefined })
  t.same(readAnswer(error(19), 36), { errno: 19, linkIndex: undefined })
  const both = Buffer.concat([link, error(0)])
  t.same(readAnswer(both, both.length), { errno: 0, linkIndex: 7 })
  t.same(readAnswer(link, 32), { errno: undefined, linkIndex: 7 }, 'the acknowledgement may come in the next read')
})
