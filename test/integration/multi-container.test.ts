// A pod of several containers on a real 1-node cluster, driven through the
// CLI as a user would: an init container runs to completion first; an HTTP
// server writes its access log into an emptyDir that a sidecar tails; the
// containers reach each other on localhost; each container has its own
// restart count, readiness and log, and `logs -c` / `exec -c` pick one.
import { join } from 'node:path'
import t from 'tap'
import { RESOURCES, type KubeObject } from '../../control/client/api-client.ts'
import { HttpClient } from '../../control/client/http-client.ts'
import { isolatedHome, kubewire, kubewireOk, leftoversSettled, removeHome, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
let client: HttpClient

interface ContainerStatus { name: string; restartCount: number; ready: boolean; state: Record<string, unknown> }
interface Pod extends KubeObject {
  status?: { phase?: string; containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[]; conditions?: { type: string; status: string }[] }
}

// The server appends one line per request to the shared log; `flaky` fails
// its first run (the marker lives in the emptyDir, so it survives the restart).
const SERVER = "require('http').createServer((q, s) => { require('fs').appendFileSync('/var/log/web/access.log', q.method + ' ' + q.url + '\\n'); s.end('hello from web\\n') }).listen(8080)"
const pod = {
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    terminationGracePeriodSeconds: 1,
    volumes: [{ name: 'logs', emptyDir: {} }],
    initContainers: [{
      name: 'prepare', image: 'busybox', command: ['sh', '-c', 'echo prepared; date +%s%N > /var/log/web/prepared'],
      volumeMounts: [{ name: 'logs', mountPath: '/var/log/web' }],
    }],
    containers: [
      {
        name: 'server', image: 'busybox', command: ['node', '-e', SERVER],
        volumeMounts: [{ name: 'logs', mountPath: '/var/log/web' }],
        readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1 },
      },
      {
        name: 'log-reader', image: 'busybox', command: ['sh', '-c', 'test -f /var/log/web/prepared && touch /var/log/web/access.log && exec tail -F /var/log/web/access.log'],
        volumeMounts: [{ name: 'logs', mountPath: '/var/log/web', readOnly: false }],
      },
      {
        name: 'flaky', image: 'busybox', command: ['sh', '-c', 'if [ ! -f /var/log/web/flaky-ran ]; then touch /var/log/web/flaky-ran; echo first run fails; exit 3; fi; echo second run stays; exec sleep infinity'],
        volumeMounts: [{ name: 'logs', mountPath: '/var/log/web' }],
      },
    ],
  },
}

const getPod = () => client.get<Pod>(RESOURCES.pods, 'default', 'web')
const status = (p: Pod, c: string) => p.status?.containerStatuses?.find(s => s.name === c)

t.before(async () => {
  await kubewireOk(['up', '--nodes', '1', '--addons', 'none'])
  client = await HttpClient.fromKubeconfig(join(home, 'clusters', name, 'kubeconfig'))
  await client.create(RESOURCES.pods, 'default', pod as KubeObject)
  await waitFor('pod web Ready with flaky restarted once', async () => {
    const p = await getPod()
    return p.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') && (status(p, 'flaky')?.restartCount ?? 0) >= 1
  }, 60_000)
})
t.teardown(async () => {
  client?.close()
  await kubewire(['down'])
  removeHome(home)
})

t.test('wait: on any condition of the pod, and kubectl\'s errors', async t => {
  t.equal(await kubewireOk(['wait', '--for=condition=ContainersReady', 'pods/web']), 'pod/web condition met\n')
  t.equal(await kubewireOk(['wait', '--for=condition=Initialized=True', 'po/web', '--timeout=5s']), 'pod/web condition met\n')
  const unknown = await kubewire(['wait', '--for=condition=Ready', 'widgets/x'])
  t.match(unknown.stderr, /the server doesn't have a resource type "widgets"/)
})

t.test('the init container ran to completion before the others started', async t => {
  const p = await getPod()
  t.match(p.status?.initContainerStatuses, [{ name: 'prepare', state: { terminated: { reason: 'Completed', exitCode: 0 } } }])
  t.equal(await kubewireOk(['logs', 'web', '-c', 'prepare']), 'prepared\n', 'logs -c picks the init container')
  const started = (c: string) => Date.parse((status(p, c)?.state.running as { startedAt: string } | undefined)?.startedAt ?? '')
  const prepared = Number(await kubewireOk(['exec', 'web', '-c', 'server', '--', 'cat', '/var/log/web/prepared'])) / 1e6
  for (const c of ['server', 'log-reader']) t.ok(started(c) >= Math.floor(prepared / 1000) * 1000, `${c} started after the init container finished`)
})

t.test('containers reach each other on localhost and share the emptyDir', async t => {
  t.equal(await kubewireOk(['exec', 'web', '-c', 'log-reader', '--', 'curl', '-s', 'localhost:8080/from-sidecar']), 'hello from web\n')
  const seen = await waitFor('the sidecar to print the access line', async () => {
    const log = await kubewireOk(['logs', 'web', '-c', 'log-reader'])
    return log.includes('GET /from-sidecar') ? log : undefined
  })
  t.match(seen, /GET \/from-sidecar/, 'what the server wrote, the sidecar read')
  t.equal((await kubewireOk(['exec', 'web', '-c', 'flaky', '--', 'hostname'])).trim(), 'web', 'every container has the pod hostname')
  const ns = async (c: string) => (await kubewireOk(['exec', 'web', '-c', c, '--', 'readlink', '/proc/self/ns/net'])).trim()
  t.equal(await ns('server'), await ns('flaky'), 'one network namespace for the pod')
})

t.test('each container has its own restart count, readiness and logs', async t => {
  const p = await getPod()
  t.equal(status(p, 'flaky')?.restartCount, 1, 'flaky restarted once')
  t.equal(status(p, 'server')?.restartCount, 0, 'the server never restarted')
  t.equal(status(p, 'log-reader')?.restartCount, 0)
  t.equal(status(p, 'server')?.ready, true, 'the server is ready through its own probe')
  t.equal(await kubewireOk(['logs', 'web', '-c', 'flaky']), 'second run stays\n', 'the current run of flaky')
  t.equal(await kubewireOk(['logs', 'web', '-c', 'flaky', '--previous']), 'first run fails\n', 'and the run before the restart')
  const defaulted = await kubewire(['logs', 'web'])
  t.equal(defaulted.code, 0)
  t.equal(defaulted.stderr, 'Defaulted container "server" out of: server, log-reader, flaky, prepare (init)\n', 'without -c: the first container, said on stderr as kubectl does')
  const wrong = await kubewire(['logs', 'web', '-c', 'nope'])
  t.not(wrong.code, 0)
  t.match(wrong.stderr, /container nope is not valid for pod web/)
  const ready = await kubewireOk(['get', 'pod', 'web'])
  t.match(ready, /^web\s+3\/3\s+Running\s+1 \(/m, 'get shows 3/3 ready and one restart in all')
})

t.test('down leaves nothing', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
