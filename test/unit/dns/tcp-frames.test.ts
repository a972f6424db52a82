import t from 'tap'
import { FrameReader } from '../../../dataplane/dns/tcp-frames.ts'

function framed(...msgs: Buffer[]): Buffer {
  return Buffer.concat(msgs.map(m => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])))
}

t.test('whole, split and empty frames come out intact and in order', async t => {
  const msgs = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from('last')]
  const stream = framed(...msgs)
  for (const cut of [1, 2, 3, 7, 64, stream.length]) {
    const r = new FrameReader()
    const got: string[] = []
    for (let i = 0; i < stream.length; i += cut) r.push(stream.subarray(i, i + cut), m => got.push(m.toString('hex')))
    t.same(got, msgs.map(m => m.toString('hex')), `chunks of ${cut}`)
    t.equal(r.buffered, 0)
  }
  const r = new FrameReader()
  r.push(framed(Buffer.alloc(1000)).subarray(0, 501), () => t.fail('not complete'))
  t.equal(r.buffered, 501)
})
