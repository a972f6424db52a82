// The scheduler loop: pods without a node (a watch with fieldSelector
// spec.nodeName=) are queued; one worker decides with schedule() over the
// nodes and the bound pods (a second watch, spec.nodeName!=) and binds.
//
// Binding: a merge patch of spec.nodeName carrying the resourceVersion the
// decision was made on (a pod changed meanwhile is a Conflict and is
// decided again), then PodScheduled=True on the status, and a Scheduled
// event "Successfully assigned default/web-x to node-1". Kubernetes binds
// through the pods/binding subresource; the ApiClient contract has no
// binding subresource, so the API server must accept setting spec.nodeName
// once on an unbound pod.
// Bound pods are "assumed" until the bound-pods watch shows them (or 30 s
// pass), so the next decision already counts them: three replicas spread
// over two nodes even when the watch lags.
// Unschedulable: a FailedScheduling event with Kubernetes' message, the
// PodScheduled=False condition (reason Unschedulable), and the pod waits
// until something that could help happens (a node added or changed in
// labels, taints, allocatable, readiness or unschedulable; a bound pod
// deleted or finished), or 5 minutes pass (podMaxInUnschedulablePodsDuration).
// Only pods for "default-scheduler" (or without schedulerName) are taken.

import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES, objectKey } from '../client/api-client.ts'
import { isConflict, isNotFound } from '../api/status-error.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import type { Clock } from '../controllers/clock.ts'
import { formatTime, systemClock } from '../controllers/clock.ts'
import { Controller, sameVersion } from '../controllers/controller.ts'
import type { EventRecorder } from '../controllers/events.ts'
import { nullRecorder } from '../controllers/events.ts'
import type { Logger } from '../controllers/logger.ts'
import { silentLogger } from '../controllers/logger.ts'
import type { Condition, Node, Pod } from '../controllers/objects.ts'
import { getCondition } from '../controllers/objects.ts'
import { isPodTerminal } from '../controllers/pod-util.ts'
import type { SyncResult } from '../controllers/work-queue.ts'
import { groupPodsByNode, schedule } from './schedule.ts'

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler'
const ASSUMED_TTL_MS = 30_000
const UNSCHEDULABLE_RETRY_MS = 5 * 60 * 1000

export interface SchedulerOptions {
  client: ApiClient
  /** Pods with fieldSelector spec.nodeName= (unbound). */
  unscheduledPods: Informer<Pod>
  /** Pods with fieldSelector spec.nodeName!= (bound). */
  scheduledPods: Informer<Pod>
  nodes: Informer<Node>
  clock?: Clock
  recorder?: EventRecorder
  logger?: Logger
  schedulerName?: string
  /** How long an unschedulable pod waits at most before another try (default 5 min). */
  unschedulableRetryMs?: number
}

export class Scheduler extends Controller {
  private readonly client: ApiClient
  private readonly unscheduled: Informer<Pod>
  private readonly scheduled: Informer<Pod>
  private readonly nodes: Informer<Node>
  private readonly recorder: EventRecorder
  private readonly name: string
  /** Pods bound by us, not yet seen bound by the watch: key → (pod as bound, when). */
  private readonly assumed = new Map<string, { pod: Pod; at: number }>()
  /** Pods that fit nowhere, waiting for a change. */
  private readonly unschedulable = new Set<string>()

  constructor(private readonly options: SchedulerOptions) {
    super(options.clock ?? systemClock, (options.logger ?? silentLogger).with({ component: 'scheduler' }))
    this.client = options.client
    this.unscheduled = options.unscheduledPods
    this.scheduled = options.scheduledPods
    this.nodes = options.nodes
    this.recorder = options.recorder ?? nullRecorder
    this.name = options.schedulerName ?? DEFAULT_SCHEDULER_NAME

    this.unscheduled.on('add', p => this.podPending(p))
    this.unscheduled.on('update', (p, old) => {
      if (!sameVersion(p, old)) this.podPending(p)
    })
    this.unscheduled.on('delete', p => this.unschedulable.delete(objectKey(p)))
    this.scheduled.on('add', p => this.assumed.delete(objectKey(p)))
    this.scheduled.on('update', (p, old) => {
      this.assumed.delete(objectKey(p))
      if ((!isPodTerminal(old) && isPodTerminal(p)) || (!old.metadata.deletionTimestamp && p.metadata.deletionTimestamp)) {
        this.retryUnschedulable()
      }
    })
    this.scheduled.on('delete', p => {
      this.assumed.delete(objectKey(p))
      this.retryUnschedulable()
    })
    this.nodes.on('add', () => this.retryUnschedulable())
    this.nodes.on('update', (n, old) => {
      if (schedulingChanged(n, old)) this.retryUnschedulable()
    })
  }

  protected informers(): readonly Informer[] {
    return [this.unscheduled, this.scheduled, this.nodes]
  }

  protected initialKeys(): Iterable<string> {
    return this.unscheduled.list().filter(p => this.responsibleFor(p)).map(objectKey)
  }

  private responsibleFor(pod: Pod): boolean {
    const name = pod.spec?.schedulerName
    return (name === undefined || name === '' || name === this.name) && !pod.spec?.nodeName
  }

  private podPending(pod: Pod): void {
    if (!this.responsibleFor(pod)) return
    const key = objectKey(pod)
    // An unschedulable pod that merely changed status waits for the cluster to change.
    if (this.unschedulable.has(key)) return
    this.queue.add(key)
  }

  private retryUnschedulable(): void {
    for (const key of this.unschedulable) this.queue.add(key)
    this.unschedulable.clear()
  }

  // Bound pods as the scheduler sees them: the watch's, plus those it just bound.
  private boundPods(): Map<string, Pod[]> {
    const now = this.clock.now()
    const pods = new Map<string, Pod>()
    for (const p of this.scheduled.list()) pods.set(objectKey(p), p)
    for (const [key, a] of this.assumed) {
      if (now - a.at > ASSUMED_TTL_MS) this.assumed.delete(key)
      else if (!pods.has(key)) pods.set(key, a.pod)
    }
    return groupPodsByNode(pods.values())
  }

  protected async sync(key: string): Promise<SyncResult | void> {
    const pod = this.unscheduled.get(key)
    if (!pod || !this.responsibleFor(pod) || pod.metadata.deletionTimestamp || isPodTerminal(pod) || this.assumed.has(key)) {
      this.unschedulable.delete(key)
      return
    }
    const ns = pod.metadata.namespace
    const name = pod.metadata.name ?? ''
    const result = schedule(pod, this.nodes.list(), this.boundPods())
    const now = this.clock.now()

    if ('unschedulable' in result) {
      this.unschedulable.add(key)
      this.logger.info('unschedulable', { pod: key, reason: result.unschedulable })
      this.recorder.event(pod, 'Warning', 'FailedScheduling', result.unschedulable)
      await this.setScheduledCondition(pod, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: result.unschedulable }, now)
      return { requeueAfterMs: this.options.unschedulableRetryMs ?? UNSCHEDULABLE_RETRY_MS }
    }

    const node = result.node
    // The binding cycle runs apart from the scheduling cycle, as in
    // kube-scheduler: the pod is assumed on its node at once (the next pod is
    // scheduled against it) while one write through pods/binding sets
    // spec.nodeName and the PodScheduled condition.
    this.assumed.set(key, { pod: { ...pod, spec: { ...pod.spec, nodeName: node } } as Pod, at: now })
    this.unschedulable.delete(key)
    void this.bind(pod, key, node, result.scores?.length ?? 0)
  }

  private async bind(pod: Pod, key: string, node: string, candidates: number): Promise<void> {
    const ns = pod.metadata.namespace
    const name = pod.metadata.name ?? ''
    try {
      await this.client.create(RESOURCES.pods, ns, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, ...(ns ? { namespace: ns } : {}), ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      }, 'binding')
    } catch (err) {
      this.assumed.delete(key)
      if (isNotFound(err)) return
      this.logger.warn('binding failed; will retry', { pod: key, node, err })
      this.queue.add(key)
      return
    }
    this.logger.info('scheduled', { pod: key, node, candidates })
    this.recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns ?? ''}/${name} to ${node}`)
  }

  // PodScheduled on the pod's status, written only when it changes. The
  // patch replaces the conditions array, so it carries the resourceVersion
  // it was computed from (the node agent may write conditions right after
  // the bind); on a Conflict it is recomputed once from a fresh read.
  private async setScheduledCondition(pod: Pod, wanted: Condition, now: number): Promise<void> {
    let current = pod
    for (let attempt = 0; attempt < 2; attempt++) {
      const conditions = current.status?.conditions ?? []
      const existing = getCondition(conditions, 'PodScheduled')
      if (existing && existing.status === wanted.status && existing.reason === wanted.reason && existing.message === wanted.message) return
      const condition: Condition = {
        ...wanted,
        lastProbeTime: null,
        lastTransitionTime: existing?.status === wanted.status && existing.lastTransitionTime ? existing.lastTransitionTime : formatTime(now),
      }
      const next = [...conditions.filter(c => c.type !== 'PodScheduled'), condition]
      try {
        await this.client.patch(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name ?? '', {
          metadata: { resourceVersion: current.metadata.resourceVersion },
          status: { conditions: next },
        }, 'merge', 'status')
        return
      } catch (err) {
        if (isNotFound(err)) return
        if (!isConflict(err)) throw err
        current = await this.client.get<Pod>(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name ?? '')
      }
    }
    this.logger.debug('PodScheduled not written: the pod keeps changing', { pod: objectKey(pod) })
  }
}

// Node changes that can make an unschedulable pod fit (heartbeats are not among them).
function schedulingChanged(n: Node, old: Node): boolean {
  return (
    !jsonEqual(n.metadata.labels ?? {}, old.metadata.labels ?? {}) ||
    !jsonEqual(n.spec?.taints ?? [], old.spec?.taints ?? []) ||
    (n.spec?.unschedulable ?? false) !== (old.spec?.unschedulable ?? false) ||
    !jsonEqual(n.status?.allocatable ?? n.status?.capacity ?? {}, old.status?.allocatable ?? old.status?.capacity ?? {}) ||
    getCondition(n.status?.conditions, 'Ready')?.status !== getCondition(old.status?.conditions, 'Ready')?.status
  )
}
