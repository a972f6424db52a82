import t from 'tap'
import { planGsoSends, segmentsPerSend, UDP_GSO_MAX_SEGMENTS, UDP_MAX_PAYLOAD } from '../../../dataplane/overlay/vxlan/gso-batch.ts'

function plan(count: number, size: number, gso: boolean): [number, number, number][] {
  const sends: [number, number, number][] = []
  const n = planGsoSends(count, size, gso, (first, c, g) => sends.push([first, c, g]))
  if (n !== sends.length) throw new Error('count of sends differs')
  return sends
}

t.test('segments per send: 64 at most, 65 507 bytes at most, at least 1', async t => {
  // MTU 1500: a VXLAN datagram of 1472 bytes (+ 28 IP/UDP = 1500).
  t.equal(segmentsPerSend(1472), 44)
  t.ok(44 * 1472 <= UDP_MAX_PAYLOAD && 45 * 1472 > UDP_MAX_PAYLOAD)
  t.equal(segmentsPerSend(100), UDP_GSO_MAX_SEGMENTS)
  t.equal(segmentsPerSend(UDP_MAX_PAYLOAD), 1)
  t.equal(segmentsPerSend(70000), 1, 'oversized: one per send (the kernel will refuse it, counted there)')
  t.equal(segmentsPerSend(0), 1)
  t.equal(segmentsPerSend(1472, 8), 8)
})

t.test('a 64 KiB TSO frame (47 segments of 1472) takes two sends', async t => {
  t.same(plan(47, 1472, true), [[0, 44, 1472], [44, 3, 1472]])
})

t.test('a lone datagram carries no segment size', async t => {
  t.same(plan(1, 1472, true), [[0, 1, 0]])
  t.same(plan(45, 1472, true), [[0, 44, 1472], [44, 1, 0]], 'also when it is the rest of a run')
})

t.test('without GSO every datagram is its own send', async t => {
  t.same(plan(3, 1472, false), [[0, 1, 0], [1, 1, 0], [2, 1, 0]])
})

t.test('nothing to send', async t => {
  t.same(plan(0, 1472, true), [])
})

t.test('every datagram is sent exactly once, in order', async t => {
  for (const [count, size] of [[1, 60], [64, 100], [65, 100], [200, 1000], [2048, 32]] as const) {
    const sends = plan(count, size, true)
    let next = 0
    for (const [first, c, g] of sends) {
      t.equal(first, next)
      t.ok(c >= 1 && c <= UDP_GSO_MAX_SEGMENTS && c * size <= Math.max(UDP_MAX_PAYLOAD, size))
      t.equal(g, c > 1 ? size : 0)
      next += c
    }
    t.equal(next, count, `${count} datagrams of ${size}`)
  }
})
