// The kubelet role of a node agent: registers its Node, keeps its Ready
// condition fresh (the heartbeat the node lifecycle controller watches), and
// runs one PodWorker per pod bound to this node, fed by an informer on
// `spec.nodeName=<node>`. On start it adopts pods it already runs (their
// runtime records) and removes sandboxes of pods the API no longer has.
// Events go out through one queue, one write at a time (event-queue.ts).
import { readdirSync } from 'node:fs'
import { cpus, totalmem, release } from 'node:os'
import { join } from 'node:path'
import { isNotFound } from '../api/status-error.ts'
import { type ApiClient, type Informer, type KubeObject, type ListOptions, RESOURCES, type ResourceRef } from '../client/api-client.ts'
import { readJsonFile } from '../../dataplane/util/json-file.ts'
import { stopProcessesInNetns } from '../../dataplane/process/container.ts'
import { EventQueue } from './event-queue.ts'
import type { Pod } from './pod-spec.ts'
import type { PodStatus } from './pod-status.ts'
import { PodWorker, type PodRuntimeRecord, type WorkerApi, type WorkerNode } from './pod-worker.ts'

export const KUBELET_VERSION = 'v1.31.0-kubewire'
export const HEARTBEAT_MS = 10_000

export interface KubeletOptions {
  client: ApiClient
  informer: (ref: ResourceRef, options: ListOptions) => Informer
  node: WorkerNode
  podCIDR: string
  /** Labels and annotations to put on the Node (e.g. overlay leases). */
  nodeLabels?: Record<string, string>
  nodeAnnotations?: Record<string, string>
  capacity?: { cpu: string; memory: string; pods: string }
  heartbeatMs?: number
  log?: (line: string) => void
}

export class Kubelet {
  private readonly workers = new Map<string, PodWorker>()
  private pods: Informer<Pod> | undefined
  private heartbeat: NodeJS.Timeout | undefined
  private readonly log: (line: string) => void
  private readonly events: EventQueue<KubeObject>

  constructor(private readonly options: KubeletOptions) {
    this.log = options.log ?? (() => {})
    this.events = new EventQueue(
      event => this.writeEvent(event),
      dropped => this.log(`event queue full: ${dropped} events dropped`),
    )
  }

  async start(): Promise<void> {
    await this.registerNode()
    const every = this.options.heartbeatMs ?? HEARTBEAT_MS
    this.heartbeat = setInterval(() => void this.postReady().catch(e => this.log(`heartbeat failed: ${(e as Error).message}`)), every)
    const pods = this.options.informer(RESOURCES.pods, { fieldSelector: `spec.nodeName=${this.options.node.nodeName}` }) as Informer<Pod>
    this.pods = pods
    pods.on('add', pod => this.sync(pod))
    pods.on('update', pod => this.sync(pod))
    pods.on('delete', pod => this.workers.get(pod.metadata.uid as string)?.forget())
    await pods.synced
    await this.removeOrphans(new Set(pods.list().map(p => p.metadata.uid as string)))
    this.log(`node ${this.options.node.nodeName} ready, ${this.workers.size} pods`)
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat)
    this.pods?.stop()
  }

  private sync(pod: Pod): void {
    const uid = pod.metadata.uid as string
    const existing = this.workers.get(uid)
    if (existing) return existing.update(pod)
    const phase = (pod.status as { phase?: string } | undefined)?.phase
    if ((phase === 'Succeeded' || phase === 'Failed') && !pod.metadata.deletionTimestamp && !this.hasRecord(uid)) return
    const worker = new PodWorker(pod, this.options.node, this.workerApi())
    this.workers.set(uid, worker)
    void worker.done.then(() => this.workers.delete(uid))
    worker.update(pod)
  }

  private hasRecord(uid: string): boolean {
    return readJsonFile(join(this.options.node.runDir, 'pods', `${uid}.json`)) !== undefined
  }

  /** Sandboxes left from pods that are gone from the API (deleted while the agent was down). */
  private async removeOrphans(known: Set<string>): Promise<void> {
    let files: string[]
    try {
      files = readdirSync(join(this.options.node.runDir, 'pods')).filter(f => f.endsWith('.json'))
    } catch {
      return
    }
    for (const file of files) {
      const record = readJsonFile<PodRuntimeRecord>(join(this.options.node.runDir, 'pods', file))
      if (!record || known.has(record.uid)) continue
      this.log(`removing orphaned pod ${record.namespace}/${record.name} (${record.uid})`)
      await stopProcessesInNetns([record.netns], 2_000)
      const worker = new PodWorker(
        { metadata: { name: record.name, namespace: record.namespace, uid: record.uid, deletionGracePeriodSeconds: 0 }, spec: { containers: [] } },
        this.options.node,
        { ...this.workerApi(), removePod: async () => {} },
      )
      worker.forget()
      await worker.done
    }
  }

  private workerApi(): WorkerApi {
    const { client } = this.options
    return {
      writeStatus: async (pod, status: PodStatus) => {
        try {
          await client.patch(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name as string, { status }, 'merge', 'status')
        } catch (e) {
          if (!isNotFound(e)) throw e
        }
      },
      removePod: async pod => {
        try {
          await client.delete(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name as string, {
            gracePeriodSeconds: 0,
            preconditions: { uid: pod.metadata.uid as string },
          })
        } catch (e) {
          if (!isNotFound(e)) throw e
        }
      },
      configMapData: async (namespace, name) => {
        try {
          const cm = await client.get<KubeObject & { data?: Record<string, string> }>(RESOURCES.configmaps, namespace, name)
          return cm.data ?? {}
        } catch (e) {
          if (isNotFound(e)) return undefined
          throw e
        }
      },
      claim: async (namespace, name) => {
        try {
          const claim = await client.get<KubeObject & { status?: { phase?: string } }>(RESOURCES.persistentvolumeclaims, namespace, name)
          return { phase: claim.status?.phase ?? 'Pending', deleting: !!claim.metadata.deletionTimestamp }
        } catch (e) {
          if (isNotFound(e)) return undefined
          throw e
        }
      },
      event: (pod, type, reason, message) => this.event(pod, type, reason, message),
    }
  }

  private event(pod: Pod, type: string, reason: string, message: string): void {
    const now = new Date().toISOString()
    const name = pod.metadata.name as string
    this.events.push({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${name}.`, namespace: pod.metadata.namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
      reason,
      message,
      type,
      source: { component: 'kubelet', host: this.options.node.nodeName },
      reportingComponent: 'kubelet',
      reportingInstance: this.options.node.nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    })
  }

  private async writeEvent(event: KubeObject): Promise<void> {
    try {
      await this.options.client.create(RESOURCES.events, event.metadata.namespace, event)
    } catch (e) {
      const { reason, involvedObject } = event as { reason?: string; involvedObject?: { name?: string } }
      this.log(`event ${reason} for ${involvedObject?.name} not recorded: ${(e as Error).message}`)
    }
  }

  private nodeObject(): KubeObject {
    const { node } = this.options
    const capacity = this.options.capacity ?? { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '110' }
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: node.nodeName,
        labels: {
          'kubernetes.io/hostname': node.nodeName,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
          ...this.options.nodeLabels,
        },
        annotations: { ...this.options.nodeAnnotations },
      },
      spec: { podCIDR: this.options.podCIDR, podCIDRs: [this.options.podCIDR] },
      status: {
        addresses: [{ type: 'InternalIP', address: node.hostIP }, { type: 'Hostname', address: node.nodeName }],
        capacity,
        allocatable: capacity,
        conditions: this.conditions(),
        nodeInfo: {
          kubeletVersion: KUBELET_VERSION,
          kubeProxyVersion: KUBELET_VERSION,
          containerRuntimeVersion: 'kubewire://0.1.0',
          kernelVersion: release(),
          osImage: 'kubewire emulated node',
          operatingSystem: 'linux',
          architecture: process.arch === 'x64' ? 'amd64' : process.arch,
          machineID: '', systemUUID: '', bootID: '',
        },
      },
    }
  }

  private conditions(): object[] {
    const now = new Date().toISOString()
    const ok = (type: string, reason: string, message: string) => ({
      type, status: 'False', reason, message, lastHeartbeatTime: now, lastTransitionTime: now,
    })
    return [
      ok('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      ok('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      ok('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
    ]
  }

  private async registerNode(): Promise<void> {
    const { client } = this.options
    const wanted = this.nodeObject()
    try {
      await client.create(RESOURCES.nodes, undefined, wanted)
      this.log(`registered node ${this.options.node.nodeName}`)
    } catch (e) {
      if ((e as { code?: string }).code !== 'AlreadyExists') throw e
      // Known already (agent restart): refresh spec, labels and annotations.
      await client.patch(RESOURCES.nodes, undefined, this.options.node.nodeName, {
        metadata: { labels: wanted.metadata.labels, annotations: wanted.metadata.annotations },
        spec: wanted.spec,
      })
    }
    await this.postReady()
  }

  private async postReady(): Promise<void> {
    const node = this.nodeObject()
    const current = await this.options.client.get(RESOURCES.nodes, undefined, this.options.node.nodeName)
    const previous = ((current.status as { conditions?: { type: string; status: string; lastTransitionTime: string }[] } | undefined)?.conditions) ?? []
    const conditions = (node.status as { conditions: { type: string; status: string; lastTransitionTime: string }[] }).conditions.map(c => {
      const before = previous.find(p => p.type === c.type)
      return before && before.status === c.status ? { ...c, lastTransitionTime: before.lastTransitionTime } : c
    })
    await this.options.client.patch(RESOURCES.nodes, undefined, this.options.node.nodeName, { status: { ...(node.status as object), conditions } }, 'merge', 'status')
  }
}
