// The agent's PodWorker on real namespaces and real processes, with the API
// replaced by a recorder: init containers in order, containers sharing a
// volume and localhost, restarts with back-off, probes, graceful termination.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { clusterDown, clusterUp } from '../../control/cluster/lifecycle.ts'
import { SandboxBatcher } from '../../control/agent/sandbox-batcher.ts'
import { PodWorker, type WorkerApi } from '../../control/agent/pod-worker.ts'
import type { Pod } from '../../control/agent/pod-spec.ts'
import type { PodStatus } from '../../control/agent/pod-status.ts'
import { ClusterNames } from '../../dataplane/names.ts'
import { isolatedHome, leftoversSettled, removeHome, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const cluster = uniqueClusterName()
const home = isolatedHome()
const names = new ClusterNames(cluster)
let sandboxes: SandboxBatcher
const runDir = join(home, 'run')

t.before(async () => {
  const state = await clusterUp({ name: cluster, nodes: 1, backend: 'host-gw', addons: [] })
  const node = state.nodes[0]!
  sandboxes = new SandboxBatcher({
    nodeNetns: node.netns, podCIDR: node.podCIDR, podPrefixLength: 24, podGateway: node.podGateway, podMtu: 1500,
    ipamPath: join(home, 'ipam-node-1.json'),
  })
  mkdirSync(runDir, { recursive: true })
  // The agent probes pods from its node's namespace; this test runs the worker in
  // the root namespace, so it routes to the node's pods (gone with the bridge).
  execFileSync('ip', ['route', 'replace', node.podCIDR, 'via', node.underlayIP, 'dev', names.underlayBridge])
})
t.teardown(async () => {
  await clusterDown(cluster).catch(() => {})
  removeHome(home)
})

class Recorder implements WorkerApi {
  statuses: PodStatus[] = []
  events: string[] = []
  removed = false
  async writeStatus(_pod: Pod, status: PodStatus) {
    this.statuses.push(structuredClone(status))
  }
  async removePod() {
    this.removed = true
  }
  async configMapData(_ns: string, name: string) {
    return name === 'site' ? { 'index.html': 'hello from a configmap\n' } : undefined
  }
  event(_pod: Pod, type: string, reason: string, message: string) {
    this.events.push(`${type} ${reason}: ${message}`)
  }
  get last(): PodStatus | undefined {
    return this.statuses.at(-1)
  }
  container(name: string) {
    return this.last?.containerStatuses.find(c => c.name === name)
  }
}

let uidCounter = 0
function makeWorker(spec: Pod['spec'], name: string): { worker: PodWorker; api: Recorder; pod: Pod } {
  const api = new Recorder()
  const pod: Pod = { metadata: { name, namespace: 'default', uid: `uid-${process.pid}-${++uidCounter}` }, spec: { nodeName: 'node-1', ...spec } }
  const worker = new PodWorker(pod, {
    cluster, nodeName: 'node-1', hostIP: '198.18.0.11', stateDir: home, runDir,
    mountLedger: join(runDir, 'mountpoints'), podNetns: (ns, n) => names.podNetns(ns, n), sandboxes,
  }, api)
  worker.update(pod)
  return { worker, api, pod }
}

async function remove(worker: PodWorker, pod: Pod, graceSeconds = 2): Promise<void> {
  worker.update({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: graceSeconds } })
  await worker.done
}

const inPod = (podName: string, ...argv: string[]) =>
  execFileSync('ip', ['netns', 'exec', names.podNetns('default', podName), ...argv], { encoding: 'utf8' })

t.test('init containers in order, then a sidecar sharing a volume and localhost', async t => {
  const { worker, api, pod } = makeWorker({
    volumes: [{ name: 'shared', emptyDir: {} }, { name: 'site', configMap: { name: 'site' } }],
    initContainers: [
      { name: 'first', image: 'busybox', command: ['sh', '-c', 'echo first >> /shared/order'], volumeMounts: [{ name: 'shared', mountPath: '/shared' }] },
      { name: 'second', image: 'busybox', command: ['sh', '-c', 'echo second >> /shared/order'], volumeMounts: [{ name: 'shared', mountPath: '/shared' }] },
    ],
    containers: [
      { name: 'web', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'], volumeMounts: [{ name: 'shared', mountPath: '/shared' }] },
      {
        name: 'sidecar', image: 'busybox',
        command: ['sh', '-c', 'while :; do curl -s localhost:8080/hostname > /shared/seen && cp /site/index.html /shared/site; sleep 0.2; done'],
        volumeMounts: [{ name: 'shared', mountPath: '/shared' }, { name: 'site', mountPath: '/site', readOnly: true }],
      },
    ],
  }, 'sidecar')
  await waitFor('pod Running and Ready', () => api.last?.phase === 'Running' && api.last.conditions.find(c => c.type === 'Ready')?.status === 'True', 15_000)
  const volume = join(home, 'pods', `default_sidecar_${pod.metadata.uid}`, 'volumes', 'empty-dir', 'shared')
  t.equal(readFileSync(join(volume, 'order'), 'utf8'), 'first\nsecond\n', 'init containers ran once each, in order')
  await waitFor('the sidecar to reach the web container on localhost', () => existsSync(join(volume, 'site')) && readFileSync(join(volume, 'seen'), 'utf8') === 'sidecar')
    .catch(e => { throw new Error(`${e.message}\nsidecar log:\n${readFileSync(worker.logPath('sidecar'), 'utf8')}\nweb log:\n${readFileSync(worker.logPath('web'), 'utf8')}\nstatus: ${JSON.stringify(api.last)}\nseen: ${existsSync(join(volume, 'seen')) ? JSON.stringify(readFileSync(join(volume, 'seen'), 'utf8')) : 'none'}`) })
  t.pass('sidecar reached localhost:8080 and wrote the answer (the pod hostname) into the shared emptyDir')
  t.equal(readFileSync(join(volume, 'site'), 'utf8'), 'hello from a configmap\n', 'configMap volume mounted')
  t.match(api.last?.podIP, /^10\.244\.1\.\d+$/)
  t.same(api.last?.initContainerStatuses?.map(c => 'terminated' in c.state && c.state.terminated.reason), ['Completed', 'Completed'])
  t.equal(inPod('sidecar', 'curl', '-s', 'localhost:8080/hostname'), 'sidecar', 'reachable in the pod namespace')
  t.ok(api.events.some(e => e.startsWith('Normal Started: Started container web')))
  await remove(worker, pod)
  t.ok(api.removed, 'pod object removed at the end')
  t.notOk(existsSync(`/run/netns/${names.podNetns('default', 'sidecar')}`), 'sandbox gone')
  t.notOk(existsSync(volume), 'emptyDir gone')
})

t.test('a crashing container restarts with back-off; restartPolicy Never fails the pod', async t => {
  const crash = makeWorker({ containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo bye; exit 3'] }] }, 'crasher')
  await waitFor('a restart', () => (crash.api.container('c')?.restartCount ?? 0) >= 1, 20_000)
  const status = crash.api.container('c')!
  t.match(status.lastState, { terminated: { exitCode: 3, reason: 'Error' } })
  await waitFor('CrashLoopBackOff', () => { const s = crash.api.container('c')?.state; return s !== undefined && 'waiting' in s && s.waiting.reason === 'CrashLoopBackOff' }, 15_000)
  t.ok(crash.api.events.some(e => e.startsWith('Warning BackOff: Back-off restarting failed container c')))
  t.equal(crash.api.last?.phase, 'Running', 'a crash-looping pod stays Running')
  await remove(crash.worker, crash.pod)

  const never = makeWorker({ restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 2'] }] }, 'once')
  await waitFor('phase Failed', () => never.api.last?.phase === 'Failed', 10_000)
  t.match(never.api.container('c')?.state, { terminated: { exitCode: 2 } })
  t.equal(never.api.container('c')?.restartCount, 0)
  await remove(never.worker, never.pod)

  const ok = makeWorker({ restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] }, 'job')
  await waitFor('phase Succeeded', () => ok.api.last?.phase === 'Succeeded', 10_000)
  await remove(ok.worker, ok.pod)
})

t.test('probes: readiness gates Ready, a failing liveness probe restarts the container', async t => {
  const { worker, api, pod } = makeWorker({
    terminationGracePeriodSeconds: 1,
    containers: [{
      name: 'app', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['liveness'],
      // agnhost liveness: /healthz is 200 for 10 s, then 500.
      livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 1 },
      readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
    }],
  }, 'probed')
  await waitFor('ready through the readiness probe', () => api.container('app')?.ready === true, 10_000)
    .catch(e => { throw new Error(`${e.message}\nlog: ${readFileSync(worker.logPath('app'), 'utf8')}\nevents: ${api.events.join('\n')}\nstatus: ${JSON.stringify(api.last?.containerStatuses)}`) })
  await waitFor('a restart by the liveness probe', () => (api.container('app')?.restartCount ?? 0) >= 1, 30_000)
  t.ok(api.events.some(e => e.startsWith('Warning Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500')), 'Unhealthy event')
  t.ok(api.events.some(e => e === 'Normal Killing: Container app failed liveness probe, will be restarted'), 'Killing event')
  await remove(worker, pod)
})

t.test('graceful termination: SIGTERM first, SIGKILL only after the grace period', async t => {
  // Each waits until its shell has set its trap (it says so), as a signal before that would take the default action.
  const trapped = (worker: { logPath(c: string): string }) => () => existsSync(worker.logPath('c')) && readFileSync(worker.logPath('c'), 'utf8').includes('trap set')
  const graceful = makeWorker({ containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo trap set; while :; do sleep 0.1; done'] }] }, 'graceful')
  await waitFor('running with its trap', trapped(graceful.worker))
  const logPath = graceful.worker.logPath('c')
  const started = Date.now()
  await remove(graceful.worker, graceful.pod, 10)
  t.ok(Date.now() - started < 5_000, `a process that exits on TERM does not wait for the grace period (${Date.now() - started} ms)`)
  t.notOk(existsSync(logPath), 'pod files removed')

  const stubborn = makeWorker({ containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'trap "" TERM; echo trap set; while :; do sleep 0.1; done'] }] }, 'stubborn')
  await waitFor('running with its trap', trapped(stubborn.worker))
  const t0 = Date.now()
  await remove(stubborn.worker, stubborn.pod, 1)
  const took = Date.now() - t0
  t.ok(took >= 1000 && took < 6000, `ignoring TERM ends in SIGKILL after the 1 s grace (${took} ms)`)
})

t.test('an unknown image without a command fails clearly', async t => {
  const { worker, api, pod } = makeWorker({ containers: [{ name: 'c', image: 'example.com/cart:7' }] }, 'noimage')
  await waitFor('a waiting reason', () => { const s = api.container('c')?.state; return s !== undefined && 'waiting' in s && s.waiting.reason === 'ErrImagePull' })
  t.match(api.container('c')?.state, { waiting: { message: /no built-in runtime for image "example\.com\/cart:7"/ } })
  t.equal(api.last?.phase, 'Pending')
  await remove(worker, pod)
})

t.test('cleanup', async t => {
  await clusterDown(cluster)
  t.same(await leftoversSettled(cluster), [])
})
