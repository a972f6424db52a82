import t from 'tap'
import {
  completePartialChecksum,
  foldSum,
  internetChecksum,
  ipv4PseudoHeaderSum,
  onesComplementSum,
  verifyIpv4HeaderChecksum,
  verifyTransportChecksum,
  writeIpv4HeaderChecksum,
  writeTransportChecksum,
} from '../../../dataplane/overlay/vxlan/checksum.ts'
import { bytesOf, refChecksum, refIpHeaderOk, refL4Ok, refPseudoHeader, refSum, rng, randomInt } from './fixtures/reference.ts'
import { icmpFrame, tcpFrame, tsOption, udpFrame, patternPayload, TCP_ACK, TCP_PSH } from './fixtures/frames.ts'

t.test('known vectors', async t => {
  const cases: { name: string; bytes: number[]; sum: number }[] = [
    { name: 'empty', bytes: [], sum: 0 },
    { name: 'one byte is the high half', bytes: [0xab], sum: 0xab00 },
    { name: 'RFC 1071 §3 example', bytes: [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7], sum: 0xddf2 },
    { name: 'all ones stays 0xffff', bytes: [0xff, 0xff, 0xff, 0xff], sum: 0xffff },
    { name: 'end-around carry', bytes: [0xff, 0xff, 0x00, 0x02], sum: 0x0002 },
    { name: 'zeros sum to 0', bytes: new Array<number>(64).fill(0), sum: 0 },
  ]
  for (const c of cases) {
    t.equal(onesComplementSum(Buffer.from(c.bytes), 0, c.bytes.length), c.sum, c.name)
    t.equal(refSum(c.bytes), c.sum, `${c.name} (reference agrees)`)
  }
  // The classic IPv4 header example: checksum 0xb861.
  const hdr = Buffer.from('45000073000040004011b861c0a80001c0a800c7', 'hex')
  t.ok(verifyIpv4HeaderChecksum(hdr, 0), 'textbook header verifies')
  hdr.writeUInt16BE(0, 10)
  t.equal(internetChecksum(hdr, 0, 20), 0xb861, 'textbook header checksum')
})

t.test('foldSum', async t => {
  const cases: [number, number][] = [
    [0, 0], [1, 1], [0xffff, 0xffff], [0x10000, 1], [0x1fffe, 0xffff], [0x2fffd, 0xffff],
    [2 ** 40, 256], [2 ** 48, 1], [2 ** 52 + 5, foldSlow(2 ** 52 + 5)],
  ]
  // Around 2^32, where a 32-bit shift would wrap.
  cases.push([2 ** 32 - 1, foldSlow(2 ** 32 - 1)], [2 ** 32, 1], [2 ** 32 + 5, 6], [2 ** 33 - 1, 1], [2 ** 32 + 2 ** 21, foldSlow(2 ** 32 + 2 ** 21)])
  cases.push([2 ** 53 - 1, foldSlow(2 ** 53 - 1)], [0xffff * 0x10001, 0xffff])
  for (const [x, want] of cases) t.equal(foldSum(x), want, `fold ${x.toString(16)}`)
  const r = rng(16)
  let bad = 0
  for (let i = 0; i < 100000; i++) {
    const x = Math.floor(r() * 2 ** [16, 20, 32, 33, 40, 53][i % 6]!)
    if (foldSum(x) !== foldSlow(x)) bad++
  }
  t.equal(bad, 0, '100000 random values fold like the slow loop')
})

function foldSlow(x: number): number {
  while (x > 0xffff) x = (x % 0x10000) + Math.floor(x / 0x10000)
  return x
}

t.test('matches the reference for every length, alignment and initial value', async t => {
  const r = rng(1071)
  // One ArrayBuffer; the data starts 0..3 bytes past a 4-byte boundary, and
  // also inside Buffers whose own byteOffset is odd.
  const backing = Buffer.alloc(70000 + 64)
  for (let i = 0; i < backing.length; i++) backing[i] = randomInt(r, 256)
  const odd = backing.subarray(1) // byteOffset 1
  const three = backing.subarray(3) // byteOffset 3
  const lengths: number[] = []
  for (let n = 0; n <= 300; n++) lengths.push(n)
  lengths.push(1023, 1024, 1025, 1429, 1430, 1431, 1500, 4095, 9000, 65535, 65536, 65537)
  let mismatches = 0
  let checks = 0
  for (const buf of [backing, odd, three]) {
    for (const len of lengths) {
      for (let off = 0; off < 4; off++) {
        const initial = [0, 1, 0xffff, 0x12345][(len + off) & 3]!
        const want = refSum(bytesOf(buf, off, off + len), initial)
        const got = onesComplementSum(buf, off, len, initial)
        checks++
        if (got !== want) {
          mismatches++
          if (mismatches < 5) t.fail(`len ${len} off ${off} byteOffset ${buf.byteOffset}: ${got} != ${want}`)
        }
      }
    }
  }
  t.equal(mismatches, 0, `${checks} sums equal the reference`)
})

t.test('random buffers, random ranges', async t => {
  const r = rng(7)
  let bad = 0
  for (let i = 0; i < 3000; i++) {
    const size = 1 + randomInt(r, 3000)
    const buf = Buffer.allocUnsafeSlow(size + 8).subarray(randomInt(r, 8))
    for (let k = 0; k < buf.length; k++) buf[k] = randomInt(r, 256)
    const off = randomInt(r, buf.length)
    const len = randomInt(r, buf.length - off + 1)
    if (onesComplementSum(buf, off, len) !== refSum(bytesOf(buf, off, off + len))) bad++
    if (internetChecksum(buf, off, len) !== refChecksum(bytesOf(buf, off, off + len))) bad++
  }
  t.equal(bad, 0, 'no mismatches over 3000 random cases')
})

t.test('works on plain Uint8Arrays and SharedArrayBuffers', async t => {
  const data = patternPayload(777)
  const u8 = new Uint8Array(new SharedArrayBuffer(800), 3, 777)
  u8.set(data)
  t.equal(onesComplementSum(u8, 0, 777), refSum(Array.from(data)))
  const plain = Uint8Array.from(data)
  t.equal(onesComplementSum(plain, 2, 700), refSum(Array.from(data.subarray(2, 702))))
})

t.test('pseudo-header sum', async t => {
  const frame = tcpFrame({ src: '192.168.1.1', dst: '10.0.0.255', payload: [1, 2, 3] })
  for (const [proto, len] of [[6, 23], [17, 8], [6, 65515], [1, 0]] as const) {
    t.equal(ipv4PseudoHeaderSum(frame, 14, proto, len), refSum(refPseudoHeader(frame, 14, proto, len)), `proto ${proto} len ${len}`)
  }
})

t.test('completePartialChecksum finishes what the kernel started', async t => {
  const cases: { name: string; frame: Buffer; start: number; field: number }[] = [
    { name: 'TCP, even payload', frame: tcpFrame({ payload: patternPayload(100), checksum: 'pseudo' }), start: 34, field: 16 },
    { name: 'TCP, odd payload', frame: tcpFrame({ payload: patternPayload(1447), checksum: 'pseudo' }), start: 34, field: 16 },
    { name: 'TCP, no payload', frame: tcpFrame({ checksum: 'pseudo' }), start: 34, field: 16 },
    {
      name: 'TCP with IP and TCP options',
      frame: tcpFrame({ ipOptions: [1, 1, 1, 0], tcpOptions: tsOption(99), payload: patternPayload(33), checksum: 'pseudo' }),
      start: 38,
      field: 16,
    },
    { name: 'UDP', frame: udpFrame({ payload: patternPayload(301), checksum: 'pseudo' }), start: 34, field: 6 },
  ]
  for (const c of cases) {
    t.ok(completePartialChecksum(c.frame, c.start, c.field), `${c.name}: accepted`)
    t.ok(refL4Ok(c.frame), `${c.name}: reference verifies`)
    t.ok(verifyTransportChecksum(c.frame, 14), `${c.name}: verifyTransportChecksum agrees`)
  }
  // Inside a larger buffer, at an odd offset.
  const inner = tcpFrame({ payload: patternPayload(999), checksum: 'pseudo' })
  const big = Buffer.alloc(inner.length + 21)
  inner.copy(big, 11)
  t.ok(completePartialChecksum(big, 34, 16, 11, 11 + inner.length))
  t.ok(refL4Ok(big.subarray(11, 11 + inner.length)), 'frame at offset 11 completes')
  t.equal(big[10], 0, 'byte before untouched')
  t.equal(big[11 + inner.length], 0, 'byte after untouched')
})

t.test('completePartialChecksum stores 0xffff instead of 0', async t => {
  // Data whose sum is 0xffff: the checksum would be 0.
  const buf = Buffer.from([0x00, 0x00, 0xff, 0xff])
  t.ok(completePartialChecksum(buf, 0, 0))
  t.same([...buf], [0xff, 0xff, 0xff, 0xff])
})

t.test('completePartialChecksum rejects offsets outside the frame', async t => {
  const cases: [number, number, number, number | undefined][] = [
    [100, 16, 0, undefined], // field past the end
    [34, 16, 0, 40], // frameEnd cuts the field
    [-1, 16, 0, undefined],
    [34, -2, 0, undefined],
    [34, 16, -1, undefined],
    [34, 16, 0, 1000], // frameEnd past the buffer
    [34.5, 16, 0, undefined],
    [34, 16, 0, 50.5],
  ]
  const frame = tcpFrame({ payload: [1, 2, 3], checksum: 'pseudo' })
  const before = Buffer.from(frame)
  for (const [start, off, frameOffset, end] of cases) {
    t.equal(completePartialChecksum(frame, start, off, frameOffset, end), false, `start ${start} off ${off} at ${frameOffset} end ${end}`)
  }
  t.same(frame, before, 'frame unchanged')
})

t.test('IPv4 header checksum write/verify', async t => {
  for (const opts of [[], [1, 1, 1, 0], new Array<number>(40).fill(1)]) {
    const frame = icmpFrame({ ipOptions: opts, id: 0xfffe, ttl: 1 })
    t.ok(verifyIpv4HeaderChecksum(frame, 14), `built with ${opts.length} option bytes verifies`)
    frame[22] = 9 // change TTL
    t.notOk(verifyIpv4HeaderChecksum(frame, 14), 'a changed TTL fails')
    t.ok(writeIpv4HeaderChecksum(frame, 14))
    t.ok(refIpHeaderOk(frame), 'rewritten checksum passes the reference')
  }
  const bad = Buffer.from(tcpFrame())
  bad[14] = 0x44 // IHL 4
  t.notOk(writeIpv4HeaderChecksum(bad, 14), 'IHL below 5 refused')
  t.notOk(verifyIpv4HeaderChecksum(bad, 14))
  t.notOk(verifyIpv4HeaderChecksum(Buffer.alloc(30), 14), 'short buffer')
  t.notOk(verifyIpv4HeaderChecksum(Buffer.alloc(60), -1), 'negative offset')
  const long = Buffer.from(tcpFrame())
  long[14] = 0x4f // IHL 15 = 60 bytes, past the end of a 54-byte frame
  t.notOk(writeIpv4HeaderChecksum(long, 14), 'header past the buffer refused')
})

t.test('transport checksum write/verify', async t => {
  const frames = [
    tcpFrame({ payload: patternPayload(5), flags: TCP_ACK | TCP_PSH, checksum: 'zero' }),
    tcpFrame({ payload: patternPayload(1448), tcpOptions: tsOption(1), checksum: 'bad' }),
    udpFrame({ payload: patternPayload(7), checksum: 'zero' }),
  ]
  for (const f of frames) {
    t.ok(writeTransportChecksum(f, 14))
    t.ok(refL4Ok(f), 'reference verifies')
    t.ok(verifyTransportChecksum(f, 14))
    f[f.length - 1]! ^= 0x10
    t.notOk(verifyTransportChecksum(f, 14), 'corruption detected')
  }
  t.ok(verifyTransportChecksum(udpFrame({ checksum: 'zero' }), 14), 'UDP without checksum accepted')
  t.notOk(writeTransportChecksum(icmpFrame(), 14), 'ICMP refused')
  t.notOk(verifyTransportChecksum(icmpFrame(), 14), 'ICMP refused')
  const cut = tcpFrame({ payload: [1, 2, 3] }).subarray(0, 50)
  t.notOk(writeTransportChecksum(cut, 14), 'total length past the buffer refused')
})
