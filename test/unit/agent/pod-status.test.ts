import t from 'tap'
import { type ObservedContainer, type ObservedPod, podConditions, podPhase, podStatus } from '../../../control/agent/pod-status.ts'
import { RestartBackoff, shouldRestart } from '../../../control/agent/restart-backoff.ts'

const running = (name: string, ready = true): ObservedContainer => ({
  name, image: 'nginx', state: { running: { startedAt: 'T0' } }, ready, started: true, restartCount: 0, willRestart: true,
})
const exited = (name: string, code: number, willRestart = false, restartCount = 0): ObservedContainer => ({
  name, image: 'busybox', state: { terminated: { exitCode: code, reason: code ? 'Error' : 'Completed', finishedAt: 'T1' } },
  ready: false, started: false, restartCount, willRestart,
})
const waiting = (name: string, reason = 'ContainerCreating'): ObservedContainer => ({
  name, image: 'nginx', state: { waiting: { reason } }, ready: false, started: false, restartCount: 0, willRestart: true,
})
const pod = (containers: ObservedContainer[], initContainers: ObservedContainer[] = [], restartPolicy: ObservedPod['restartPolicy'] = 'Always'): ObservedPod =>
  ({ restartPolicy, containers, initContainers, hostIP: '198.18.0.11', podIP: '10.244.1.2' })

t.test('phase rules', async t => {
  const rows: [string, ObservedPod, string][] = [
    ['creating', pod([waiting('a')]), 'Pending'],
    ['one running', pod([running('a'), waiting('b')]), 'Running'],
    ['init container still running', pod([waiting('a')], [running('init')]), 'Pending'],
    ['init container failed, will retry', pod([waiting('a')], [exited('init', 1, true)]), 'Pending'],
    ['init container failed for good', pod([waiting('a')], [exited('init', 1, false)], 'Never'), 'Failed'],
    ['all succeeded (Never)', pod([exited('a', 0), exited('b', 0)], [], 'Never'), 'Succeeded'],
    ['one failed for good', pod([exited('a', 0), exited('b', 2)], [], 'Never'), 'Failed'],
    ['crash looping is still Running', pod([{ ...exited('a', 1, true, 3), state: { waiting: { reason: 'CrashLoopBackOff' } } }]), 'Running'],
    ['exited, about to restart', pod([exited('a', 1, true, 1)]), 'Running'],
    ['no runtime for the image', { ...pod([waiting('a', 'ErrImagePull')]), failure: { reason: 'ErrImagePull', message: 'x' } }, 'Pending'],
  ]
  for (const [name, p, phase] of rows) t.equal(podPhase(p), phase, name)
})

t.test('conditions with Kubernetes reasons', async t => {
  const p = pod([running('a'), running('b', false)])
  const c = podConditions(p, 'Running', [], 'NOW')
  t.same(c.map(x => [x.type, x.status, x.reason ?? '', x.message ?? '']), [
    ['Initialized', 'True', '', ''],
    ['Ready', 'False', 'ContainersNotReady', 'containers with unready status: [b]'],
    ['ContainersReady', 'False', 'ContainersNotReady', 'containers with unready status: [b]'],
    ['PodScheduled', 'True', '', ''],
  ])
  const later = podConditions(pod([running('a'), running('b')]), 'Running', c, 'LATER')
  t.equal(later.find(x => x.type === 'Ready')?.lastTransitionTime, 'LATER', 'a flip takes the new time')
  t.equal(later.find(x => x.type === 'Initialized')?.lastTransitionTime, 'NOW', 'an unchanged condition keeps its time')
  const init = podConditions(pod([waiting('a')], [running('setup')]), 'Pending', [], 'NOW')
  t.match(init[0], { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [setup]' })
  const done = podConditions(pod([exited('a', 0)], [], 'Never'), 'Succeeded', [], 'NOW')
  t.match(done[1], { type: 'Ready', status: 'False', reason: 'PodCompleted' })
})

t.test('status carries IPs, statuses and the phase', async t => {
  const s = podStatus(pod([running('a')], [exited('init', 0)]), [], 'NOW')
  t.equal(s.phase, 'Running')
  t.same(s.podIPs, [{ ip: '10.244.1.2' }])
  t.equal(s.containerStatuses[0]?.containerID, 'kubewire://a')
  t.equal(s.initContainerStatuses?.[0]?.state && 'terminated' in s.initContainerStatuses[0].state, true)
  const w = podStatus(pod([waiting('a')]), [], 'NOW')
  t.notOk('containerID' in (w.containerStatuses[0] ?? {}), 'no container id while waiting')
})

t.test('restart back-off: 10s doubling to 5m, reset after 10 minutes of running', async t => {
  const b = new RestartBackoff()
  t.same([1, 1, 1, 1, 1, 1, 1].map(() => b.next(1000)), [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000])
  t.equal(b.next(600_000), 10_000, 'a long run resets it')
  t.ok(shouldRestart('Always', 0))
  t.ok(shouldRestart('OnFailure', 1))
  t.notOk(shouldRestart('OnFailure', 0))
  t.notOk(shouldRestart('Never', 1))
})
