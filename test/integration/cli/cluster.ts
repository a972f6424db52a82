// Integration harness for the kubectl-like verbs: a real HTTPS API server on
// 127.0.0.1 (port 0) over a MemoryStore, its kubeconfig, an HttpClient from
// it (what main.ts hands the verbs), the real controllers and scheduler
// in-process (on a clock the test may bring, e.g. a manual one), two Ready nodes, and a stand-in for the node agents that the
// test drives: pods become Running/Ready and terminating pods go away either
// at once or only when the test says so. Verbs run with a capturing io whose
// output can be awaited (no sleeps).

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TapTest as Test } from '../../unit/apiserver/helpers.ts'
import { createApiServer } from '../../../control/apiserver/http/api-server.ts'
import type { ApiServer } from '../../../control/apiserver/http/api-server.ts'
import { generateToken, writeKubeconfig } from '../../../control/apiserver/tls/kubeconfig.ts'
import { HttpDiscovery, kubectlVerbs } from '../../../control/cli/kubectl/index.ts'
import type { KubectlContext, KubectlIo } from '../../../control/cli/kubectl/index.ts'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject, ResourceRef } from '../../../control/client/api-client.ts'
import { HttpClient } from '../../../control/client/http-client.ts'
import { createInformer } from '../../../control/client/informer.ts'
import { LocalClient } from '../../../control/client/local-client.ts'
import type { Clock } from '../../../control/controllers/clock.ts'
import { startControllers } from '../../../control/controllers/controller-manager.ts'
import type { LoopName } from '../../../control/controllers/controller-manager.ts'
import { silentLogger } from '../../../control/controllers/logger.ts'
import { MemoryStore } from '../../../control/store/memory-store.ts'

export interface AgentOptions {
  /** Pods bound to a node turn Running and Ready at once (default true). */
  autoReady?: boolean
  /** Pods marked for deletion are removed at once (default true). */
  autoFinish?: boolean
}

export interface Capture extends KubectlIo {
  readonly stdout: string[]
  readonly stderr: string[]
  /** Resolves once stdout holds a line matching `pattern`. */
  waitForOut(pattern: RegExp): Promise<void>
}

export interface Run {
  code: number
  out: string
  err: string
}

export interface CliCluster {
  server: ApiServer
  kubeconfig: string
  dir: string
  client: HttpClient
  local: LocalClient
  agent: Required<AgentOptions>
  /** Runs a verb: `run('get', 'pods', '-n', 'x')`; `--` splits off a command. */
  run(verb: string, ...args: string[]): Promise<Run>
  /** Starts a verb with a capturing io and an abort signal; returns its handle. */
  start(verb: string, args: string[], options?: { stdin?: string }): { io: Capture; abort(): void; done: Promise<number> }
  runWithStdin(stdin: string, verb: string, ...args: string[]): Promise<Run>
  /** Marks every bound pod Running and Ready (when autoReady is off). */
  readyAll(): Promise<void>
  /** Removes every pod marked for deletion (when autoFinish is off). */
  finishTerminating(): Promise<void>
}

export function capture(): Capture {
  const stdout: string[] = []
  const stderr: string[] = []
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = []
  const check = (): void => {
    for (const w of [...waiters]) {
      if (stdout.some(line => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  return {
    stdout,
    stderr,
    out(text) {
      stdout.push(...text.split('\n'))
      check()
    },
    err(text) {
      stderr.push(...text.split('\n'))
    },
    waitForOut(pattern) {
      return new Promise(resolve => {
        waiters.push({ pattern, resolve })
        check()
      })
    },
  }
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

function runningStatus(pod: KubeObject, ip: string): Record<string, unknown> {
  const t = now()
  const containers = ((pod.spec as { containers?: Array<{ name: string; image?: string }> } | undefined)?.containers ?? [])
  return {
    phase: 'Running',
    hostIP: '198.18.0.11',
    podIP: ip,
    podIPs: [{ ip }],
    startTime: t,
    conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(type => ({ type, status: 'True', lastTransitionTime: t })),
    containerStatuses: containers.map(c => ({
      name: c.name,
      image: c.image ?? '',
      imageID: `kubewire://${c.image ?? ''}`,
      containerID: `kubewire://${c.name}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: t } },
      lastState: {},
    })),
  }
}

export interface ClusterOptions {
  /** Controller loops not to run (the test plays their part); the node lifecycle loop never runs. */
  disable?: readonly LoopName[]
  /** The controllers' clock (default: the real one); the API server keeps real time. */
  clock?: Clock
}

export async function startCliCluster(t: Test, agentOptions: AgentOptions = {}, clusterOptions: ClusterOptions = {}): Promise<CliCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-cli-it-'))
  const store = new MemoryStore()
  const token = generateToken()
  const server = await createApiServer({ store, listen: [{ host: '127.0.0.1', port: 0 }], tlsDir: join(dir, 'tls'), token })
  const kubeconfig = join(dir, 'kubeconfig')
  await writeKubeconfig(kubeconfig, { server: server.url, caCert: server.certificates.caCert, token })
  const client = await HttpClient.fromKubeconfig(kubeconfig)
  const discovery = await HttpDiscovery.fromKubeconfig(kubeconfig)
  const local = new LocalClient(server.handler)

  for (const [i, name] of ['node-1', 'node-2'].entries()) {
    await local.create(RESOURCES.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: { podCIDR: `10.244.${i + 1}.0/24` } })
    await local.patch(RESOURCES.nodes, undefined, name, {
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now(), lastTransitionTime: now() }],
        addresses: [{ type: 'InternalIP', address: `198.18.0.${11 + i}` }, { type: 'Hostname', address: name }],
        capacity: { cpu: '2', memory: '4Gi', pods: '110' },
        nodeInfo: { kubeletVersion: 'v1.33.0-kubewire', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'kubewire://0.1.0', operatingSystem: 'linux', architecture: 'amd64' },
      },
    }, 'merge', 'status')
  }
  const manager = startControllers({
    client: local,
    informerFactory: (ref, options) => createInformer(local, ref, { ...options, onError: () => {} }),
    ...(clusterOptions.clock ? { clock: clusterOptions.clock } : {}),
    options: { logger: silentLogger, disable: ['nodelifecycle', ...(clusterOptions.disable ?? [])] },
  })
  await manager.ready

  // The node agents' part, as the test wants it.
  const agent: Required<AgentOptions> = { autoReady: agentOptions.autoReady ?? true, autoFinish: agentOptions.autoFinish ?? true }
  let nextIp = 2
  const ips = new Map<string, string>()
  const markReady = async (pod: KubeObject): Promise<void> => {
    const key = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`
    let ip = ips.get(key)
    if (ip === undefined) {
      ip = `10.244.1.${nextIp++}`
      ips.set(key, ip)
    }
    await local.patch(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name ?? '', { status: runningStatus(pod, ip) }, 'merge', 'status').catch(() => {})
  }
  const finish = async (pod: KubeObject): Promise<void> => {
    await local.delete(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0 }).catch(() => {})
  }
  const pods = createInformer(local, RESOURCES.pods, { onError: () => {} })
  const onPod = (pod: KubeObject): void => {
    const bound = Boolean((pod.spec as { nodeName?: string } | undefined)?.nodeName)
    const phase = (pod.status as { phase?: string } | undefined)?.phase
    if (pod.metadata.deletionTimestamp) {
      if (agent.autoFinish) void finish(pod)
      return
    }
    if (bound && phase !== 'Running' && agent.autoReady) void markReady(pod)
  }
  pods.on('add', onPod)
  pods.on('update', onPod)
  await pods.synced

  t.teardown(async () => {
    pods.stop()
    await manager.stop()
    client.close()
    await server.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const start: CliCluster['start'] = (verb, argv, options = {}) => {
    const io = capture()
    const controller = new AbortController()
    const dash = argv.indexOf('--')
    const args = dash >= 0 ? argv.slice(0, dash) : argv
    const command = dash >= 0 ? argv.slice(dash + 1) : undefined
    const handler = kubectlVerbs[verb]
    if (handler === undefined) throw new Error(`no verb ${verb}`)
    const ctx: KubectlContext = {
      client,
      discovery,
      signal: controller.signal,
      ...(options.stdin !== undefined ? { stdin: async () => options.stdin ?? '' } : {}),
    }
    return { io, abort: () => controller.abort(), done: handler(args, command, io, ctx) }
  }
  const runCaptured = async (verb: string, args: string[], stdin?: string): Promise<Run> => {
    const { io, done } = start(verb, args, stdin === undefined ? {} : { stdin })
    const code = await done
    return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') }
  }

  return {
    server,
    kubeconfig,
    dir,
    client,
    local,
    agent,
    start,
    run: (verb, ...args) => runCaptured(verb, args),
    runWithStdin: (stdin, verb, ...args) => runCaptured(verb, args, stdin),
    readyAll: async () => {
      for (const pod of (await local.list(RESOURCES.pods, undefined)).items) {
        if ((pod.spec as { nodeName?: string } | undefined)?.nodeName && !pod.metadata.deletionTimestamp) await markReady(pod)
      }
    },
    finishTerminating: async () => {
      for (const pod of (await local.list(RESOURCES.pods, undefined)).items) if (pod.metadata.deletionTimestamp) await finish(pod)
    },
  }
}

/** Resolves with the objects once `predicate` holds (checked on every change of the resource in `namespace`). */
export async function untilObjects<T extends KubeObject>(cluster: CliCluster, ref: ResourceRef, namespace: string, predicate: (objects: T[]) => boolean): Promise<T[]> {
  const informer = createInformer<T>(cluster.local, ref, { namespace, onError: () => {} })
  try {
    await informer.synced
    return await new Promise(resolve => {
      const check = (): void => {
        const objects = informer.list()
        if (predicate(objects)) resolve(objects)
      }
      informer.on('add', check)
      informer.on('update', check)
      informer.on('delete', check)
      check()
    })
  } finally {
    informer.stop()
  }
}

/** Resolves once `predicate` holds for the pods list (checked on every pod change). */
export async function untilPods(cluster: CliCluster, namespace: string, predicate: (pods: KubeObject[]) => boolean): Promise<KubeObject[]> {
  return await untilObjects(cluster, RESOURCES.pods, namespace, predicate)
}
