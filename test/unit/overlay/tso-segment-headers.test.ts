// segmentHeaders() (headers in the arena, payload left in the frame) must
// describe exactly the segments segment() copies out.
import t from 'tap'
import { TsoSegmenter } from '../../../dataplane/overlay/vxlan/tso-segment.ts'
import { VirtioNetHeader } from '../../../dataplane/overlay/vxlan/virtio-net-header.ts'
import { icmpFrame, patternPayload, tsOption, tsoFrame } from './fixtures/frames.ts'
import { randomInt, rng } from './fixtures/reference.ts'

function both(frame: Buffer, vnet: Partial<VirtioNetHeader>, headroom = 8, maxSegments?: number) {
  const v = Object.assign(new VirtioNetHeader(), vnet)
  const copied: Buffer[] = []
  const a = new TsoSegmenter({ headroom, ...(maxSegments ? { maxSegments } : {}) })
  const ra = a.segment(v, Buffer.from(frame), 0, frame.length, (b, o, l) => copied.push(Buffer.from(b.subarray(o, o + l))))
  const gathered: Buffer[] = []
  const headers: { offset: number; length: number }[] = []
  const input = Buffer.from(frame)
  const b = new TsoSegmenter({ headroom, ...(maxSegments ? { maxSegments } : {}) })
  const rb = b.segmentHeaders(v, input, 0, input.length, (h, ho, hl, p, po, pl) => {
    if (p !== input) throw new Error('payload must be the input frame')
    headers.push({ offset: ho, length: hl })
    gathered.push(Buffer.concat([h.subarray(ho, ho + hl), p.subarray(po, po + pl)]))
  })
  return { ra, rb, copied, gathered, headers }
}

t.test('random TSO frames: same segments, headers at a fixed stride', async t => {
  const r = rng(7)
  for (let i = 0; i < 60; i++) {
    const mss = 1 + randomInt(r, 1500)
    const size = randomInt(r, 3) === 0 ? randomInt(r, mss + 1) : randomInt(r, 65000)
    const { frame, vnet } = tsoFrame({
      payload: patternPayload(size, i), seq: randomInt(r, 2 ** 32), id: randomInt(r, 65536), flags: 0x10 | (randomInt(r, 2) ? 0x08 : 0) | (randomInt(r, 4) === 0 ? 0x81 : 0),
      ...(randomInt(r, 2) ? { tcpOptions: tsOption(i) } : {}),
      ...(randomInt(r, 4) === 0 ? { ipOptions: [1, 1, 1, 0] } : {}),
    }, mss, randomInt(r, 4) === 0)
    const { ra, rb, copied, gathered, headers } = both(frame, vnet, randomInt(r, 3) * 8)
    if (ra !== rb || copied.length !== gathered.length || copied.some((c, k) => !c.equals(gathered[k]!))) {
      t.fail(`frame ${i} (mss ${mss}, payload ${size}): ${String(ra)} vs ${String(rb)}`)
      continue
    }
    const stride = headers.length > 1 ? headers[1]!.offset - headers[0]!.offset : 0
    if (headers.some((h, k) => h.offset !== headers[0]!.offset + k * stride)) t.fail(`frame ${i}: headers not at a fixed stride`)
  }
  t.pass('60 frames')
})

t.test('plain frames, drops and limits behave as in segment()', async t => {
  const plain = both(icmpFrame(), {})
  t.equal(plain.rb, 1)
  t.same(plain.gathered, plain.copied)
  const { frame, vnet } = tsoFrame({ payload: patternPayload(5000) }, 100)
  t.equal(both(frame, vnet, 8, 10).rb, 'too-many-segments')
  t.equal(both(frame, { ...vnet, gsoType: 3 }).rb, 'unsupported-gso')
  t.equal(both(frame, { ...vnet, gsoSize: 0 }).rb, 'bad-gso-size')
  const seg = new TsoSegmenter({ headroom: 8 })
  t.equal(seg.segmentHeaders(new VirtioNetHeader(), frame, 10, frame.length, () => {}), 'too-short')
})
