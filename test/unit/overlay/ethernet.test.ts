import t from 'tap'
import {
  dstMacEquals,
  etherType,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  formatMac,
  isBroadcastMac,
  isMulticastMac,
  MacError,
  macEquals,
  macKey,
  parseMac,
  srcMacEquals,
  writeEthernetHeader,
} from '../../../dataplane/overlay/vxlan/ethernet.ts'
import { arpFrame, ipv6TcpFrame, tcpFrame } from './fixtures/frames.ts'

t.test('parseMac accepts six hex pairs', async t => {
  const cases: [string, number[]][] = [
    ['00:00:00:00:00:00', [0, 0, 0, 0, 0, 0]],
    ['ff:ff:ff:ff:ff:ff', [255, 255, 255, 255, 255, 255]],
    ['02:42:AC:11:00:02', [2, 0x42, 0xac, 0x11, 0, 2]],
    ['0a:1B:2c:3D:4e:5F', [0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f]],
  ]
  for (const [text, bytes] of cases) {
    const mac = parseMac(text)
    t.same([...mac], bytes, text)
    t.equal(formatMac(mac), text.toLowerCase(), `${text} formats back in lower case`)
  }
})

t.test('parseMac rejects everything else with EBADMAC', async t => {
  const bad: unknown[] = [
    '', '00:00:00:00:00', '00:00:00:00:00:00:00', '0:0:0:0:0:0', '000:00:00:00:00:00',
    '00-00-00-00-00-00', '0000.0000.0000', 'gg:00:00:00:00:00', '00:00:00:00:00:00 ', ' 00:00:00:00:00:00',
    '00:00:00:00:00:0', '00::00:00:00:00', '00:00:00:00:00:00\n', 'ff:ff:ff:ff:ff:fff', 42, undefined, null,
  ]
  for (const text of bad) {
    t.throws(() => parseMac(text as string), { code: 'EBADMAC', name: 'MacError' }, JSON.stringify(text) ?? String(text))
  }
  t.ok(new MacError('x') instanceof Error)
})

t.test('formatMac', async t => {
  const buf = Buffer.from([9, 0x02, 0x00, 0xab, 0x0c, 0xd0, 0x01, 9])
  t.equal(formatMac(buf, 1), '02:00:ab:0c:d0:01', 'zero-pads each byte')
  t.throws(() => formatMac(buf, 3), { code: 'EBADMAC' }, 'range past the end')
  t.throws(() => formatMac(buf, -1), { code: 'EBADMAC' }, 'negative offset')
})

t.test('in-place comparisons', async t => {
  const frame = tcpFrame()
  const a = parseMac('02:00:00:00:00:0a')
  const b = parseMac('02:00:00:00:00:0b')
  t.ok(dstMacEquals(frame, 0, b), 'dst is B')
  t.ok(srcMacEquals(frame, 0, a), 'src is A')
  t.notOk(dstMacEquals(frame, 0, a))
  t.notOk(srcMacEquals(frame, 0, b))
  const shifted = Buffer.concat([Buffer.alloc(3), frame])
  t.ok(dstMacEquals(shifted, 3, b), 'frame at an offset')
  t.notOk(macEquals(frame, frame.length - 3, b), 'range past the end is not equal')
  t.notOk(macEquals(frame, -1, b), 'negative offset is not equal')
  t.notOk(macEquals(frame, 0, Buffer.alloc(5)), 'short MAC is not equal')
  t.ok(macEquals(frame, 0, Buffer.concat([Buffer.alloc(2), b]), 2), 'MAC at an offset')
})

t.test('macKey', async t => {
  const cases: [string, number][] = [
    ['00:00:00:00:00:00', 0],
    ['00:00:00:00:00:01', 1],
    ['01:00:00:00:00:00', 2 ** 40],
    ['ff:ff:ff:ff:ff:ff', 2 ** 48 - 1],
    ['02:42:ac:11:00:02', 0x0242ac110002],
    ['00:00:80:00:00:00', 0x80000000],
    ['00:00:ff:ff:ff:ff', 0xffffffff],
  ]
  for (const [text, key] of cases) t.equal(macKey(parseMac(text), 0), key, text)
  t.equal(macKey(Buffer.alloc(5), 0), -1, 'short buffer')
})

t.test('broadcast and multicast', async t => {
  const cases: [string, boolean, boolean][] = [
    ['ff:ff:ff:ff:ff:ff', true, true],
    ['01:00:5e:00:00:01', false, true],
    ['33:33:00:00:00:01', false, true],
    ['02:00:00:00:00:0a', false, false],
    ['ff:ff:ff:ff:ff:fe', false, true],
  ]
  for (const [text, bc, mc] of cases) {
    t.equal(isBroadcastMac(parseMac(text), 0), bc, `${text} broadcast`)
    t.equal(isMulticastMac(parseMac(text), 0), mc, `${text} multicast`)
  }
  t.notOk(isBroadcastMac(Buffer.alloc(3, 0xff), 0), 'short')
  t.notOk(isMulticastMac(Buffer.alloc(0), 0), 'empty')
})

t.test('etherType', async t => {
  t.equal(etherType(tcpFrame(), 0), ETHERTYPE_IPV4)
  t.equal(etherType(arpFrame(), 0), ETHERTYPE_ARP)
  t.equal(etherType(ipv6TcpFrame(), 0), ETHERTYPE_IPV6)
  t.equal(etherType(Buffer.alloc(13), 0), -1, 'short frame')
  t.equal(etherType(Buffer.alloc(20), 7), -1, 'offset leaves no header')
})

t.test('writeEthernetHeader', async t => {
  const buf = Buffer.alloc(20, 0xee)
  const next = writeEthernetHeader(buf, 3, parseMac('ff:ff:ff:ff:ff:ff'), parseMac('02:00:00:00:00:0a'), ETHERTYPE_ARP)
  t.equal(next, 17)
  t.equal(buf.toString('hex'), 'eeeeeeffffffffffff02000000000a0806eeeeee')
  t.throws(() => writeEthernetHeader(buf, 0, Buffer.alloc(5), Buffer.alloc(6), 0x800), { code: 'EBADMAC' })
  t.throws(() => writeEthernetHeader(buf, 10, Buffer.alloc(6), Buffer.alloc(6), 0x800), RangeError)
})
