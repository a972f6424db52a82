import t from 'tap'
import {
  ipv4ToU32, messageBlockBytes, MMSGHDR_SIZE, RecvVector, SendVector, u32ToIpv4,
} from '../../../dataplane/overlay/vxlan/mmsg.ts'

// A fake native block: a plain buffer and a made-up address above 4 GiB, so
// pointer halves are exercised.
const BASE = 0x7f12_3456_7000
const block = (bytes: number) => ({ buf: Buffer.alloc(bytes), address: BASE })

const u64 = (b: Buffer, at: number) => b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 2 ** 32

t.test('IPv4 text and u32', async t => {
  t.equal(ipv4ToU32('198.18.0.12'), 0xc6120_00c)
  t.equal(ipv4ToU32('255.255.255.255'), 0xffffffff)
  t.equal(u32ToIpv4(0xc612000c), '198.18.0.12')
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.x', '', '1.2.3.-1']) t.throws(() => ipv4ToU32(bad), RangeError, bad)
})

t.test('block size and layout checks', async t => {
  t.equal(messageBlockBytes(2, 24), 2 * (64 + 16 + 24) + 2 * 16)
  t.equal(SendVector.bytes(2, 10), 2 * (64 + 16 + 24) + 10 * 16)
  t.throws(() => new SendVector(block(10), 2), RangeError)
  t.throws(() => new SendVector({ buf: Buffer.alloc(1000), address: BASE + 4 }, 2), RangeError, 'unaligned')
  t.throws(() => new SendVector(block(1000), 0), RangeError)
  t.throws(() => new SendVector(block(SendVector.bytes(4, 2)), 4, 2), RangeError, 'fewer iovecs than messages')
})

t.test('send vector: struct mmsghdr as sendmmsg reads it', async t => {
  const b = block(SendVector.bytes(4, 8))
  const v = new SendVector(b, 4, 8)
  t.equal(v.address, BASE)
  t.equal(v.messageAddress(2), BASE + 2 * MMSGHDR_SIZE)
  v.set(0, BASE + 0x1_0000_0010, 106, ipv4ToU32('198.18.0.12'), 8472, 0)
  v.begin(1, ipv4ToU32('198.18.0.13'), 8472, 1472)
  v.addPart(1, BASE + 100, 58)
  v.addPart(1, BASE + 200, 1414)
  t.same(v.describe(0), { parts: [{ data: BASE + 0x1_0000_0010, length: 106 }], length: 106, ip: ipv4ToU32('198.18.0.12'), port: 8472, gsoSize: 0 })
  t.same(v.describe(1), {
    parts: [{ data: BASE + 100, length: 58 }, { data: BASE + 200, length: 1414 }], length: 1472, ip: ipv4ToU32('198.18.0.13'), port: 8472, gsoSize: 1472,
  })
  t.equal(v.iovFree, 5)

  // The raw bytes, as the kernel reads them.
  const m1 = MMSGHDR_SIZE
  const iovs = 4 * MMSGHDR_SIZE
  const names = iovs + 8 * 16
  const controls = names + 4 * 16
  t.equal(u64(b.buf, m1 + 0), BASE + names + 16, 'msg_name')
  t.equal(b.buf.readUInt32LE(m1 + 8), 16, 'msg_namelen')
  t.equal(u64(b.buf, m1 + 16), BASE + iovs + 16, 'msg_iov: after message 0\'s iovec')
  t.equal(u64(b.buf, m1 + 24), 2, 'msg_iovlen')
  t.equal(u64(b.buf, m1 + 32), BASE + controls + 24, 'msg_control')
  t.equal(u64(b.buf, m1 + 40), 24, 'msg_controllen: CMSG_SPACE(2)')
  t.equal(u64(b.buf, 40), 0, 'no control message without GSO')
  t.same([...b.buf.subarray(names + 16, names + 32)], [2, 0, 0x21, 0x18, 198, 18, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0], 'sockaddr_in')
  t.equal(u64(b.buf, controls + 24), 18, 'cmsg_len: CMSG_LEN(2)')
  t.equal(b.buf.readInt32LE(controls + 24 + 8), 17, 'SOL_UDP')
  t.equal(b.buf.readInt32LE(controls + 24 + 12), 103, 'UDP_SEGMENT')
  t.equal(b.buf.readUInt16LE(controls + 24 + 16), 1472, 'segment size')
  t.equal(u64(b.buf, iovs + 16), BASE + 100, 'iov_base')
  t.equal(u64(b.buf, iovs + 24), 58, 'iov_len')
})

t.test('send vector: the iovec pool runs out, and reset() frees it', async t => {
  const v = new SendVector(block(SendVector.bytes(2, 3)), 2, 3)
  v.set(0, BASE, 10, 1, 1, 0)
  v.begin(1, 1, 1, 0)
  v.addPart(1, BASE, 1)
  v.addPart(1, BASE, 1)
  t.equal(v.iovFree, 0)
  t.throws(() => v.addPart(1, BASE, 1), RangeError)
  v.reset()
  t.equal(v.iovFree, 3)
  v.set(0, BASE + 8, 20, 2, 2, 0)
  t.same(v.describe(0).parts, [{ data: BASE + 8, length: 20 }])
})

t.test('receive vector: slots, reset fields, source and GRO size', async t => {
  const slots = 0x5555_0000_0000
  const b = block(RecvVector.bytes(3))
  const v = new RecvVector(b, 3, slots + 2, 65600, 65598)
  const iovs = 3 * MMSGHDR_SIZE
  t.equal(u64(b.buf, iovs + 16), slots + 2 + 65600, 'message 1 receives into slot 1')
  t.equal(u64(b.buf, iovs + 16 + 8), 65598)
  t.throws(() => new RecvVector(block(RecvVector.bytes(1)), 1, slots, 100, 200), RangeError, 'slot larger than its stride')

  v.simulate(0, 106, ipv4ToU32('198.18.0.12'), 8472, 0)
  v.simulate(1, 64768, ipv4ToU32('198.18.0.13'), 40000, 1472)
  v.simulate(2, 70000, ipv4ToU32('198.18.0.1'), 9, 0, 0x20)
  t.equal(v.messageLength(0), 106)
  t.equal(v.sourceIp(0), ipv4ToU32('198.18.0.12'))
  t.equal(v.groSize(0), 0)
  t.equal(v.groSize(1), 1472)
  t.equal(v.sourcePort(1), 40000)
  t.equal(v.flags(2), 0x20, 'MSG_TRUNC')

  v.prepare(3)
  t.equal(b.buf.readUInt32LE(MMSGHDR_SIZE + 8), 16, 'namelen reset')
  t.equal(u64(b.buf, MMSGHDR_SIZE + 40), 64, 'controllen reset')
  t.equal(v.flags(2), 0, 'flags reset')
  v.simulate(1, 100, ipv4ToU32('198.18.0.13'), 40000, 0)
  t.equal(v.groSize(1), 0, 'a later message without GRO does not see the old control data')
})

t.test('receive vector: a GRO message after another control message; junk control data', async t => {
  const b = block(RecvVector.bytes(1))
  const v = new RecvVector(b, 1, 0x1000, 2000, 2000)
  const controls = MMSGHDR_SIZE + 16 + 16
  // cmsg 1: SOL_IP/IP_TOS (len 17, padded to 24), then SOL_UDP/UDP_GRO.
  b.buf.writeUInt32LE(17, controls)
  b.buf.writeInt32LE(0, controls + 8)
  b.buf.writeInt32LE(1, controls + 12)
  b.buf.writeUInt32LE(20, controls + 24)
  b.buf.writeInt32LE(17, controls + 32)
  b.buf.writeInt32LE(104, controls + 36)
  b.buf.writeInt32LE(1400, controls + 40)
  b.buf.writeUInt32LE(48, MMSGHDR_SIZE - 64 + 40)
  t.equal(v.groSize(0), 1400)
  b.buf.writeUInt32LE(3, controls) // cmsg_len shorter than a header: stop, no GRO size
  t.equal(v.groSize(0), 0)
  b.buf.writeUInt32LE(60, MMSGHDR_SIZE - 64 + 40)
  b.buf.writeUInt32LE(0xffffffff, controls)
  t.equal(v.groSize(0), 0, 'a huge cmsg_len ends the walk')
  b.buf.writeUInt16LE(10, MMSGHDR_SIZE + 16 + 0) // sa_family not AF_INET
  t.equal(v.sourceIp(0), -1)
})
