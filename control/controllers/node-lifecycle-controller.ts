// The node lifecycle loop: silence is not an event, so besides node and pod
// changes a monitor tick (every 5 s, Kubernetes' node-monitor-period)
// enqueues every node; each sync asks reconcileNode what the node's health
// means and writes it: Ready=Unknown on the status subresource, taints on
// the node (PUT with the resourceVersion seen: a heartbeat in between wins
// and the sync runs again), pods marked not ready, evictions (the
// DisruptionTarget condition, a TaintManagerEviction event on the pod, then
// DELETE). Pod condition patches replace the conditions array, so they carry
// the resourceVersion they were computed from. A deleted Node's pods still
// bound to it are deleted at once (the pod garbage collector's part), so
// Terminating pods of a node that is gone do not linger.

import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isNotFound } from '../api/status-error.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import type { EventRecorder } from './events.ts'
import { nullRecorder } from './events.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import type { NodeHealth, NodeLifecycleOptions } from './node-lifecycle.ts'
import { disruptionConditions, notReadyConditions, reconcileNode } from './node-lifecycle.ts'
import type { Node, NodeSpec, Pod } from './objects.ts'
import { getCondition, namespacedName } from './objects.ts'
import type { SyncResult } from './work-queue.ts'

export interface NodeLifecycleControllerOptions {
  client: ApiClient
  nodes: Informer<Node>
  pods: Informer<Pod>
  clock?: Clock
  recorder?: EventRecorder
  logger?: Logger
  /** Grace periods and toleration (defaults: 40 s, 60 s, 300 s). */
  lifecycle?: Partial<NodeLifecycleOptions>
  /** How often every node is looked at (default 5 s). */
  monitorPeriodMs?: number
}

export class NodeLifecycleController extends Controller {
  private readonly client: ApiClient
  private readonly nodes: Informer<Node>
  private readonly pods: Informer<Pod>
  private readonly recorder: EventRecorder
  private readonly health = new Map<string, NodeHealth>()
  private cancelMonitor: (() => void) | undefined

  constructor(private readonly options: NodeLifecycleControllerOptions) {
    super(options.clock ?? systemClock, (options.logger ?? silentLogger).with({ component: 'node-lifecycle-controller' }))
    this.client = options.client
    this.nodes = options.nodes
    this.pods = options.pods
    this.recorder = options.recorder ?? nullRecorder

    this.nodes.on('add', n => this.queue.add(n.metadata.name ?? ''))
    this.nodes.on('update', (n, old) => {
      if (!sameVersion(n, old)) this.queue.add(n.metadata.name ?? '')
    })
    this.nodes.on('delete', n => {
      this.health.delete(n.metadata.name ?? '')
      this.queue.add(n.metadata.name ?? '')
    })
    this.pods.on('add', p => this.podChanged(p))
    this.pods.on('update', (p, old) => {
      if (!sameVersion(p, old)) this.podChanged(p)
    })
  }

  protected informers(): readonly Informer[] {
    return [this.nodes, this.pods]
  }

  protected initialKeys(): Iterable<string> {
    return this.nodes.list().map(n => n.metadata.name ?? '')
  }

  override async start(): Promise<void> {
    await super.start()
    const period = this.options.monitorPeriodMs ?? 5000
    const tick = (): void => {
      if (this.queue.isShuttingDown()) return
      for (const n of this.nodes.list()) this.queue.add(n.metadata.name ?? '')
      this.cancelMonitor = this.clock.setTimer(period, tick)
    }
    if (!this.queue.isShuttingDown()) this.cancelMonitor = this.clock.setTimer(period, tick)
  }

  override async stop(): Promise<void> {
    this.cancelMonitor?.()
    await super.stop()
  }

  // A pod arriving on a tainted or silent node may need evicting or marking.
  private podChanged(pod: Pod): void {
    const name = pod.spec?.nodeName
    if (!name) return
    const node = this.nodes.get(name)
    if (!node) return
    const noExecute = (node.spec?.taints ?? []).some(t => t.effect === 'NoExecute')
    if (noExecute || getCondition(node.status?.conditions, 'Ready')?.status === 'Unknown') this.queue.add(name)
  }

  protected async sync(name: string): Promise<SyncResult | void> {
    const node = this.nodes.get(name)
    if (!node) {
      this.health.delete(name)
      await this.deleteOrphanedPods(name)
      return
    }
    const now = this.clock.now()
    const pods = this.pods.list().filter(p => p.spec?.nodeName === name)
    const plan = reconcileNode({ node, health: this.health.get(name), pods, now, options: this.options.lifecycle })
    this.health.set(name, plan.health)

    let latest = node
    if (plan.conditions) {
      latest = await this.client.update<Node>(RESOURCES.nodes, undefined, { ...latest, status: { ...latest.status, conditions: plan.conditions } }, 'status')
    }
    if (plan.taints) {
      const spec: NodeSpec = { ...latest.spec, taints: plan.taints }
      if (plan.taints.length === 0) delete spec.taints
      latest = await this.client.update<Node>(RESOURCES.nodes, undefined, { ...latest, spec })
    }
    for (const e of plan.events) this.recorder.event(node, 'Normal', e.reason, e.message)
    for (const pod of plan.markNotReady) {
      await this.ignoreNotFound(this.client.patch(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name ?? '',
        { metadata: { resourceVersion: pod.metadata.resourceVersion }, status: { conditions: notReadyConditions(pod, now) } }, 'merge', 'status'))
    }
    for (const { pod, gracePeriodSeconds } of plan.evict) {
      if (!pod.metadata.deletionTimestamp) {
        await this.ignoreNotFound(this.client.patch(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name ?? '',
          { metadata: { resourceVersion: pod.metadata.resourceVersion }, status: { conditions: disruptionConditions(pod, now) } }, 'merge', 'status'))
        this.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${namespacedName(pod)}`)
      }
      await this.ignoreNotFound(this.client.delete(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name ?? '',
        gracePeriodSeconds === undefined ? { preconditions: { uid: pod.metadata.uid } } : { gracePeriodSeconds, preconditions: { uid: pod.metadata.uid } }))
    }
    if (plan.conditions || plan.taints || plan.markNotReady.length > 0 || plan.evict.length > 0) {
      this.logger.info('synced node', {
        node: name,
        ready: getCondition((plan.conditions ?? node.status?.conditions), 'Ready')?.status ?? 'missing',
        taints: (plan.taints ?? node.spec?.taints ?? []).map(t => `${t.key}:${t.effect}`),
        markedNotReady: plan.markNotReady.length,
        evicted: plan.evict.map(e => namespacedName(e.pod)),
      })
    }
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined
  }

  // Pods bound to a Node that no longer exists: no agent will finish them,
  // so they are deleted at once (the pod garbage collector's gcOrphaned),
  // and their controllers stop counting them.
  private async deleteOrphanedPods(name: string): Promise<void> {
    const orphaned = this.pods.list().filter(p => p.spec?.nodeName === name)
    for (const pod of orphaned) {
      await this.ignoreNotFound(this.client.delete(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } }))
    }
    if (orphaned.length > 0) this.logger.info('deleted pods of a deleted node', { node: name, pods: orphaned.map(namespacedName) })
  }

  private async ignoreNotFound(p: Promise<unknown>): Promise<void> {
    try {
      await p
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }
}
