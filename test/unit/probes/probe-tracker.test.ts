import t from 'tap'
import { ProbeTracker } from '../../../dataplane/probes/probe-tracker.ts'

const s = (n: number) => n * 1000

t.test('defaults as Kubernetes has them', async t => {
  const p = new ProbeTracker({}, 0)
  t.same(p.timing, { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 })
  t.equal(p.timeoutMs, 1000)
  t.equal(p.result, 'unknown')
})

t.test('initial delay, then one run per period, never two at once', async t => {
  const p = new ProbeTracker({ initialDelaySeconds: 5, periodSeconds: 2 }, s(100))
  t.notOk(p.due(s(104)), 'not before the initial delay')
  t.equal(p.msUntilDue(s(104)), 1000)
  t.ok(p.due(s(105)))
  p.begin(s(105))
  t.notOk(p.due(s(108)), 'not while a run is in flight')
  p.record(true)
  t.notOk(p.due(s(106)), 'next one a period after the previous start')
  t.ok(p.due(s(107)))
})

t.test('thresholds: consecutive results flip the outcome', async t => {
  const rows: { name: string; timing: object; runs: boolean[]; results: (string | undefined)[] }[] = [
    { name: 'one success is enough by default', timing: {}, runs: [true], results: ['success'] },
    { name: 'three failures by default', timing: {}, runs: [false, false, false], results: [undefined, undefined, 'failure'] },
    { name: 'a success resets the failure count', timing: {}, runs: [false, false, true, false, false, false], results: [undefined, undefined, 'success', undefined, undefined, 'failure'] },
    { name: 'successThreshold 2 after failure', timing: { successThreshold: 2, failureThreshold: 1 }, runs: [false, true, false, true, true], results: ['failure', undefined, undefined, undefined, 'success'] },
    { name: 'no change reported twice', timing: { failureThreshold: 1 }, runs: [false, false], results: ['failure', undefined] },
  ]
  for (const row of rows) {
    const p = new ProbeTracker(row.timing, 0)
    const seen = row.runs.map((ok, i) => {
      p.begin(s(i * 10))
      return p.record(ok, ok ? '' : `fail ${i}`)
    })
    t.same(seen, row.results, row.name)
  }
  const p = new ProbeTracker({ failureThreshold: 1 }, 0)
  p.begin(0)
  p.record(false, 'HTTP probe failed with statuscode: 500')
  t.equal(p.lastFailure, 'HTTP probe failed with statuscode: 500')
})

t.test('an initial result (readiness starts as failure)', async t => {
  const p = new ProbeTracker({}, 0, 'failure')
  t.equal(p.result, 'failure')
  p.begin(0)
  t.equal(p.record(true), 'success')
})
