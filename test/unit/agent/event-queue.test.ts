import t from 'tap'
import { EventQueue } from '../../../control/agent/event-queue.ts'

const tick = () => new Promise(r => setTimeout(r, 0))

t.test('events are written one at a time, in order', async t => {
  const sent: number[] = []
  let inFlight = 0
  let most = 0
  const release: (() => void)[] = []
  const queue = new EventQueue<number>(async n => {
    inFlight++
    most = Math.max(most, inFlight)
    await new Promise<void>(r => release.push(r))
    sent.push(n)
    inFlight--
  })
  for (const n of [1, 2, 3]) queue.push(n)
  await tick()
  t.equal(release.length, 1, 'only the first is in flight')
  t.equal(queue.length, 2)
  while (sent.length < 3) {
    release.shift()?.()
    await tick()
  }
  t.same(sent, [1, 2, 3])
  t.equal(most, 1)
  t.equal(queue.length, 0)
})

t.test('a failed write does not stop the queue', async t => {
  const sent: string[] = []
  const queue = new EventQueue<string>(async e => {
    if (e === 'bad') throw new Error('refused')
    sent.push(e)
  })
  for (const e of ['a', 'bad', 'b']) queue.push(e)
  for (let i = 0; i < 5; i++) await tick()
  t.same(sent, ['a', 'b'])
})

t.test('a full queue drops new events and counts them', async t => {
  const dropped: number[] = []
  let release = () => {}
  const queue = new EventQueue<number>(() => new Promise<void>(r => (release = r)), n => dropped.push(n), 2)
  for (const n of [1, 2, 3, 4]) queue.push(n) // 1 in flight, 2 and 3 queued, 4 dropped
  t.same(dropped, [1])
  t.equal(queue.length, 2)
  release()
})
