// The CLI verbs that need more than the API: `run` builds a Pod like kubectl
// run, `exec` and `logs` reach the container's namespaces and log files on
// this machine (what kubectl gets from the kubelet through the API server),
// `wait` polls a condition.
import { createReadStream, existsSync, readFileSync, statSync, watch } from 'node:fs'
import { KubewireError } from '../../dataplane/errors.ts'
import { containerInitPid } from '../../dataplane/process/container.ts'
import { RESOURCES, type ApiClient, type KubeObject } from '../client/api-client.ts'
import { clusterFiles } from '../cluster/cluster-files.ts'
import type { ClusterState } from '../cluster/cluster-state.ts'
import { isNodeReady } from '../controllers/objects.ts'
import { containerLogPath, podDirOf, podRecordPath, type PodRuntimeRecord } from '../agent/pod-worker.ts'
import { readJsonFile } from '../../dataplane/util/json-file.ts'
import { humanAge, renderTable } from './table.ts'

export interface PodObject extends KubeObject {
  spec: { nodeName?: string; containers: { name: string; image: string }[]; initContainers?: { name: string }[] }
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] }
}

export interface RunRequest {
  name: string
  namespace: string
  image?: string
  node?: string
  command?: string[]
  /** Arguments to the image's entrypoint (kubectl run --image X -- ARGS). */
  args?: string[]
  labels?: Record<string, string>
  restartPolicy?: string
}

/** `kubewire run NAME [--image IMG] [--node N] [-- CMD]`: a bare Pod, like kubectl run. */
export async function runPod(client: ApiClient, req: RunRequest): Promise<KubeObject> {
  // Without an image: a host command runs as if in busybox; nothing at all makes a pause pod.
  const image = req.image ?? (req.command ? 'busybox' : 'registry.k8s.io/pause:3.10')
  return client.create(RESOURCES.pods, req.namespace, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: req.name, namespace: req.namespace, labels: req.labels ?? { run: req.name } },
    spec: {
      ...(req.node ? { nodeName: req.node } : {}),
      restartPolicy: req.restartPolicy ?? 'Always',
      containers: [{ name: req.name, image, ...(req.command ? { command: req.command } : {}), ...(req.args ? { args: req.args } : {}) }],
    },
  })
}

async function getPod(client: ApiClient, namespace: string, name: string): Promise<PodObject> {
  return client.get<PodObject>(RESOURCES.pods, namespace, name)
}

/** The pod annotation naming the container kubectl picks without -c. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container'

/**
 * The container a verb acts on: -c, else the annotated default, else the
 * first one; `notice` is kubectl's stderr line when it chose among several.
 */
export function pickContainer(pod: PodObject, container: string | undefined): { name: string; notice?: string } {
  const init = (pod.spec.initContainers ?? []).map(c => c.name)
  const names = [...init, ...pod.spec.containers.map(c => c.name)]
  const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION]
  const chosen = container ?? (annotated && names.includes(annotated) ? annotated : pod.spec.containers[0]?.name)
  if (!chosen || !names.includes(chosen)) {
    throw new KubewireError('ENOTFOUND', `container ${container} is not valid for pod ${pod.metadata.name}`)
  }
  if (container !== undefined || names.length === 1 || annotated === chosen) return { name: chosen }
  const all = [...pod.spec.containers.map(c => c.name), ...init.map(n => `${n} (init)`)]
  return { name: chosen, notice: `Defaulted container "${chosen}" out of: ${all.join(', ')}` }
}

/**
 * argv that runs `command` in a node's network namespace, or inside a pod's
 * container: its network, UTS, mount and PID namespaces (nsenter on its init).
 */
export async function execArgv(client: ApiClient, state: ClusterState, target: string, namespace: string | undefined, container: string | undefined, command: string[], notice: (text: string) => void = () => {}): Promise<string[]> {
  const node = state.nodes.find(n => n.name === target)
  if (node && !namespace) return ['ip', 'netns', 'exec', node.netns, ...command]
  const pod = await getPod(client, namespace ?? 'default', target)
  const picked = pickContainer(pod, container)
  if (picked.notice) notice(picked.notice)
  const chosen = picked.name
  const nodeName = pod.spec.nodeName
  const record = nodeName ? readJsonFile<PodRuntimeRecord>(podRecordPath(clusterFiles(state.name).nodeRun(nodeName), pod.metadata.uid as string)) : undefined
  const pid = record?.containers[chosen]?.pid
  const init = pid ? containerInitPid(pid) : undefined
  if (init === undefined) {
    throw new KubewireError('ENOTRUNNING', `unable to upgrade connection: container not found ("${chosen}")`)
  }
  return ['nsenter', '--target', String(init), '--net', '--uts', '--mount', '--pid', '--', ...command]
}

function logFile(state: ClusterState, pod: PodObject, container: string, previous: boolean): string {
  const dir = podDirOf(clusterFiles(state.name).state, pod.metadata.namespace ?? 'default', pod.metadata.name as string, pod.metadata.uid as string)
  return containerLogPath(dir, container) + (previous ? '.previous' : '')
}

export async function readLog(client: ApiClient, state: ClusterState, namespace: string, name: string, container: string | undefined, previous: boolean, notice: (text: string) => void = () => {}): Promise<{ path: string; text: string }> {
  const pod = await getPod(client, namespace, name)
  const picked = pickContainer(pod, container)
  if (picked.notice) notice(picked.notice)
  const chosen = picked.name
  const path = logFile(state, pod, chosen, previous)
  if (!existsSync(path)) {
    if (previous) throw new KubewireError('ENOTFOUND', `previous terminated container "${chosen}" in pod "${name}" not found`)
    throw new KubewireError('ENOTFOUND', `container "${chosen}" in pod "${name}" is waiting to start: ContainerCreating`)
  }
  return { path, text: readFileSync(path, 'utf8') }
}

/** Print what is appended to the log until the process is interrupted (`logs -f`). */
export function followLog(path: string, from: number, write: (text: string) => void): Promise<never> {
  let offset = from
  const pump = () => {
    const size = statSync(path).size
    if (size < offset) offset = 0 // rotated by a restart
    if (size === offset) return
    const stream = createReadStream(path, { start: offset, end: size - 1 })
    offset = size
    stream.on('data', chunk => write(chunk.toString()))
  }
  watch(path, pump)
  setInterval(pump, 1000)
  return new Promise(() => {})
}

/** Poll `check` until it is true; the error names what was awaited. */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (await check()) return
    if (Date.now() > deadline) throw new KubewireError('ETIMEDOUT', `timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, delay))
  }
}

/** Whether an object's status has the condition (type matched without case, as kubectl wait does) with that status. */
export function hasCondition(object: KubeObject, type: string, status = 'True'): boolean {
  const conditions = (object.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? []
  return conditions.some(c => c.type?.toLowerCase() === type.toLowerCase() && c.status?.toLowerCase() === status.toLowerCase())
}

export async function nodeTable(client: ApiClient, state: ClusterState): Promise<string> {
  const nodes = (await client.list(RESOURCES.nodes, undefined)).items
  return renderTable(
    ['NAME', 'STATUS', 'INTERNAL-IP', 'POD-CIDR', 'BACKEND', 'AGE'],
    state.nodes.map(n => {
      const live = nodes.find(o => o.metadata.name === n.name)
      const status = !live ? 'NotRegistered' : isNodeReady(live) ? 'Ready' : 'NotReady'
      return [n.name, status, n.underlayIP, n.podCIDR, n.backend, live?.metadata.creationTimestamp ? humanAge(live.metadata.creationTimestamp) : '']
    }),
  )
}

export async function podSummary(client: ApiClient): Promise<string> {
  const pods = (await client.list<PodObject>(RESOURCES.pods, undefined)).items
  if (pods.length === 0) return 'No pods yet.'
  return renderTable(
    ['NAMESPACE', 'NAME', 'STATUS', 'IP', 'NODE', 'AGE'],
    pods.map(p => [
      p.metadata.namespace ?? '',
      p.metadata.name ?? '',
      p.metadata.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Pending'),
      p.status?.podIP ?? '<none>',
      p.spec.nodeName ?? '<none>',
      p.metadata.creationTimestamp ? humanAge(p.metadata.creationTimestamp) : '',
    ]),
  )
}

