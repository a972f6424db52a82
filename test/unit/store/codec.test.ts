// CRC-32, framing and the torn-tail-versus-corruption rule, on bytes alone.
import t from 'tap'
import { crc32 } from '../../../control/store/crc32.ts'
import { encodeFrame, readFrame } from '../../../control/store/frame.ts'
import { encodeRecord } from '../../../control/store/wal-record.ts'
import type { WalRecord } from '../../../control/store/wal-record.ts'
import { scanSegment } from '../../../control/store/wal-scan.ts'

t.test('crc32 matches the standard check values', async t => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926)
  t.equal(crc32(Buffer.alloc(0)), 0)
  t.equal(crc32(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339)
  const bytes = Buffer.from('hello, world')
  t.equal(crc32(bytes, 5), crc32(bytes.subarray(5)), 'range')
  t.equal(crc32(bytes, 5, bytes.length, crc32(bytes, 0, 5)), crc32(bytes), 'continued with a seed')
})

t.test('frames round-trip and reject damage', async t => {
  const frame = encodeFrame(Buffer.from('{"a":1}'))
  t.equal(frame.length, 8 + 7)
  const ok = readFrame(frame, 0)
  t.equal(ok.kind, 'ok')
  t.equal(ok.kind === 'ok' && ok.payload.toString(), '{"a":1}')
  t.equal(readFrame(frame.subarray(0, 5), 0).kind, 'short')
  t.equal(readFrame(frame.subarray(0, 12), 0).kind, 'short')
  t.match(readFrame(Buffer.alloc(16), 0), { kind: 'bad', detail: /zero/ })
  const damaged = Buffer.from(frame)
  damaged[10] = 0x41
  t.match(readFrame(damaged, 0), { kind: 'bad', detail: /checksum/ })
  const huge = Buffer.from(frame)
  huge.writeUInt32LE(0xffffffff, 0)
  t.match(readFrame(huge, 0), { kind: 'bad', detail: /exceeds/ })
  t.throws(() => encodeFrame(Buffer.alloc(0)))
})

const put = (revision: number): WalRecord => ({
  revision, op: 'put', key: `/k/${revision}`, object: { metadata: { resourceVersion: String(revision) } }
})
const segment = (...revisions: number[]): Buffer => Buffer.concat(revisions.map(r => encodeRecord(put(r))))

t.test('scanSegment reads whole records and cuts a torn tail of the newest segment', async t => {
  const good = segment(2, 3, 4)
  const all = scanSegment('wal', good, { newest: true })
  t.same(all.records.map(r => [r.record.revision, r.offset]), [[2, 0], [3, encodeRecord(put(2)).length], [4, encodeRecord(put(2)).length * 2]])
  t.equal(all.validBytes, good.length)
  t.equal(all.torn, undefined)
  for (let cut = 1; cut < encodeRecord(put(5)).length; cut++) {
    const torn = Buffer.concat([good, encodeRecord(put(5)).subarray(0, cut)])
    const scan = scanSegment('wal', torn, { newest: true })
    if (scan.records.length !== 3 || scan.validBytes !== good.length || scan.torn?.offset !== good.length) {
      t.fail(`cut at ${cut}`)
      return
    }
  }
  t.pass('every partial length of the last record is a torn tail')
  t.throws(() => scanSegment('wal', Buffer.concat([good, Buffer.from([1, 0])]), { newest: false }),
    { code: 'Corrupt', message: /sealed segment/ }, 'never in a sealed segment')
})

t.test('scanSegment: a bad record followed by a good one is corruption', async t => {
  const bytes = segment(2, 3, 4)
  const second = encodeRecord(put(2)).length
  bytes[second + 12] = (bytes[second + 12] ?? 0) ^ 1
  t.throws(() => scanSegment('wal-x', bytes, { newest: true }),
    { code: 'Corrupt', file: 'wal-x', offset: second, message: /checksum.*valid record follows at offset/ })
  const zeros = segment(2, 3)
  zeros.fill(0, second, second + 8) // a zeroed header with a record after it
  t.throws(() => scanSegment('wal-x', Buffer.concat([zeros, encodeRecord(put(4))]), { newest: true }), { code: 'Corrupt' })
})

t.test('scanSegment: a CRC-valid frame that is not a record is corruption', async t => {
  const frame = encodeFrame(Buffer.from('{"revision":"x"}'))
  t.throws(() => scanSegment('wal', frame, { newest: true }), { code: 'Corrupt', message: /malformed record/ })
  const noVersion = encodeFrame(Buffer.from(JSON.stringify({ revision: 2, op: 'put', key: '/k', object: { metadata: {} } })))
  t.throws(() => scanSegment('wal', noVersion, { newest: true }), { code: 'Corrupt', message: /resourceVersion/ })
})
