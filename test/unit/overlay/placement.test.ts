import t from 'tap'
import { PlacementGovernor } from '../../../dataplane/overlay/vxlan/placement.ts'

// A window of `ms` in which the thread slept `sleptMs`; returns what tick() said at its end.
function window(g: PlacementGovernor, clock: { now: number }, ms: number, sleptMs: number) {
  g.slept(sleptMs)
  clock.now += ms
  return g.tick(clock.now)
}

t.test('light traffic stays in latency mode', async t => {
  const clock = { now: 1000 }
  const g = new PlacementGovernor(clock.now)
  t.equal(g.mode, 'latency', 'starts gathered')
  for (let i = 0; i < 10; i++) t.equal(window(g, clock, 100, 97), undefined)
  t.equal(g.mode, 'latency')
  t.ok(Math.abs(g.lastBusy - 0.03) < 1e-9, 'busy is the share not spent asleep')
})

t.test('a busy window spreads, a quiet one gathers again', async t => {
  const clock = { now: 0 }
  const g = new PlacementGovernor(clock.now)
  t.equal(window(g, clock, 100, 40), 'throughput', '60 % busy: spread')
  t.equal(window(g, clock, 100, 0), undefined, 'stays spread while busy')
  t.equal(window(g, clock, 100, 70), undefined, '30 % busy: between the thresholds, no change')
  t.equal(window(g, clock, 100, 90), 'latency', '10 % busy: gather')
  t.equal(window(g, clock, 100, 60), undefined, '40 % busy: between the thresholds, stays gathered')
  t.equal(g.mode, 'latency')
})

t.test('nothing is decided before a window has passed', async t => {
  const g = new PlacementGovernor(0)
  t.equal(g.tick(50), undefined)
  t.equal(g.tick(99.9), undefined)
  t.equal(g.mode, 'latency')
  t.equal(g.tick(100), 'throughput', 'a window without any sleep is fully busy')
  t.equal(g.lastBusy, 1)
})

t.test('a long sleep (the poll timeout) counts as one quiet window', async t => {
  const clock = { now: 0 }
  const g = new PlacementGovernor(clock.now)
  t.equal(window(g, clock, 100, 0), 'throughput')
  t.equal(window(g, clock, 250, 250), 'latency', 'slept through: gathered')
  t.equal(window(g, clock, 250, 300), undefined, 'sleep longer than the window is capped: busy 0, not negative')
  t.equal(g.lastBusy, 0)
})

t.test('options are checked', async t => {
  t.throws(() => new PlacementGovernor(0, { spreadAbove: 0.2, gatherBelow: 0.5 }), /gatherBelow must be below spreadAbove/)
  const g = new PlacementGovernor(0, { windowMs: 10, spreadAbove: 0.9, gatherBelow: 0.1 })
  g.slept(2)
  t.equal(g.tick(10), undefined, '80 % busy is under a 90 % threshold')
})
