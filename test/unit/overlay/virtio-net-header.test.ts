import t from 'tap'
import {
  decodeVirtioNetHeader,
  encodeVirtioNetHeader,
  VirtioNetHeader,
  VNET_F_DATA_VALID,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_ECN,
  VNET_GSO_NONE,
  VNET_GSO_TCPV4,
  VNET_GSO_TCPV6,
  VNET_GSO_UDP,
  VNET_HDR_LEN,
} from '../../../dataplane/overlay/vxlan/virtio-net-header.ts'

t.test('constants match uapi/linux/virtio_net.h', async t => {
  t.same(
    [VNET_HDR_LEN, VNET_F_NEEDS_CSUM, VNET_F_DATA_VALID, VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_GSO_UDP, VNET_GSO_TCPV6, VNET_GSO_ECN],
    [10, 1, 2, 0, 1, 3, 4, 0x80],
  )
})

type Fields = Pick<VirtioNetHeader, 'flags' | 'gsoType' | 'hdrLen' | 'gsoSize' | 'csumStart' | 'csumOffset'>

const cases: { name: string; hex: string; fields: Fields }[] = [
  {
    name: 'plain frame',
    hex: '00000000000000000000',
    fields: { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 },
  },
  {
    name: 'partial TCP checksum, no GSO',
    hex: '01000000000022001000',
    fields: { flags: 1, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 34, csumOffset: 16 },
  },
  {
    name: 'TSO4 with timestamps',
    hex: '0101420070052200' + '1000',
    fields: { flags: 1, gsoType: 1, hdrLen: 66, gsoSize: 1392, csumStart: 34, csumOffset: 16 },
  },
  {
    name: 'TSO4 with ECN, large fields',
    hex: '0181ffff3412cdab0100',
    fields: { flags: 1, gsoType: 0x81, hdrLen: 0xffff, gsoSize: 0x1234, csumStart: 0xabcd, csumOffset: 1 },
  },
  {
    name: 'data valid only',
    hex: '02000000000000000000',
    fields: { flags: 2, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 },
  },
]

t.test('decode fixed bytes (little-endian u16s)', async t => {
  const out = new VirtioNetHeader()
  for (const c of cases) {
    const buf = Buffer.concat([Buffer.from([0xaa, 0xbb]), Buffer.from(c.hex, 'hex'), Buffer.from([0xcc])])
    t.equal(decodeVirtioNetHeader(buf, 2, buf.length - 2, out), out, `${c.name}: returns the object`)
    t.same({ ...out }, c.fields, c.name)
  }
})

t.test('encode gives the same bytes and round-trips', async t => {
  for (const c of cases) {
    const hdr = Object.assign(new VirtioNetHeader(), c.fields)
    const buf = Buffer.alloc(14, 0xee)
    t.equal(encodeVirtioNetHeader(hdr, buf, 3), 13, `${c.name}: returns the frame offset`)
    t.equal(buf.subarray(3, 13).toString('hex'), c.hex, `${c.name}: bytes`)
    t.same([buf[2], buf[13]], [0xee, 0xee], `${c.name}: neighbours untouched`)
    const back = new VirtioNetHeader()
    decodeVirtioNetHeader(buf, 3, 11, back)
    t.same({ ...back }, c.fields, `${c.name}: round trip`)
  }
})

t.test('decode refuses short input without touching the object', async t => {
  const out = new VirtioNetHeader()
  out.gsoSize = 77
  const buf = Buffer.alloc(10, 1)
  const bad: [string, Buffer, number, number][] = [
    ['empty', Buffer.alloc(0), 0, 0],
    ['nine bytes', Buffer.alloc(9), 0, 9],
    ['length says nine', buf, 0, 9],
    ['offset leaves nine', buf, 1, 10],
    ['negative offset', buf, -1, 10],
    ['NaN offset', buf, NaN, 10],
    ['fractional offset', Buffer.alloc(20), 0.5, 11],
  ]
  for (const [name, b, off, len] of bad) t.equal(decodeVirtioNetHeader(b, off, len, out), 'too-short', name)
  t.equal(out.gsoSize, 77)
})

t.test('encode refuses what does not fit', async t => {
  const ok = new VirtioNetHeader()
  t.throws(() => encodeVirtioNetHeader(ok, Buffer.alloc(9), 0), { code: 'ENOSPACE', name: 'VirtioNetHeaderError' })
  t.throws(() => encodeVirtioNetHeader(ok, Buffer.alloc(12), 3), { code: 'ENOSPACE' })
  t.throws(() => encodeVirtioNetHeader(ok, Buffer.alloc(12), -1), { code: 'ENOSPACE' })
  const fields: [keyof Fields, number][] = [
    ['flags', 256], ['gsoType', -1], ['hdrLen', 65536], ['gsoSize', 1.5], ['csumStart', NaN], ['csumOffset', 70000],
  ]
  for (const [k, v] of fields) {
    const h = new VirtioNetHeader()
    h[k] = v
    t.throws(() => encodeVirtioNetHeader(h, Buffer.alloc(10), 0), { code: 'EBADFIELD' }, `${k} = ${v}`)
  }
})

t.test('reset zeroes every field', async t => {
  const h = Object.assign(new VirtioNetHeader(), cases[3]!.fields)
  t.equal(h.reset(), h)
  t.same({ ...h }, cases[0]!.fields)
})
