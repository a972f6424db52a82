// The DaemonSet control loop: handlers enqueue the DaemonSets a change may
// concern (a node joining, leaving or changing labels or taints; a daemon
// pod or ControllerRevision changing); one worker builds the history,
// applies reconcileDaemonSet's plan through the ApiClient and prunes old
// revisions.
//
// As in Kubernetes: the current template is one ControllerRevision named
// `<ds>-<hash>` (created when missing; an AlreadyExists with other content is
// a hash collision: status.collisionCount is raised and the sync retried);
// creations go out in slow-start batches (1, 2, 4, ...) and stop at the
// first batch with an error; deletions go out together; Events on the
// DaemonSet: SuccessfulCreate "Created pod: x", FailedCreate "Error
// creating: ...", SuccessfulDelete "Deleted pod: x", FailedDelete "Error
// deleting: ...", FailedDaemonPod. The status goes to the status
// subresource, re-read and retried once on a Conflict.

import type { ApiClient, Informer, KubeObject } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isAlreadyExists, isConflict, isNotFound } from '../api/status-error.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import type { LabelSelector } from '../api/label-selector.ts'
import { labelSelectorFromObject } from '../api/label-selector.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import type { ControllerRevision } from './controller-history.ts'
import { CONTROLLER_REVISION_HASH_LABEL } from './controller-history.ts'
import { adoptPatch, claimObjects, removeOwnerRefsPatch } from './controller-ref.ts'
import type { BackoffEntry } from './daemon-set.ts'
import { historyToPrune, planHistory, reconcileDaemonSet, revisionHashOf } from './daemon-set.ts'
import type { DaemonSet, DaemonSetStatus, NodeFit } from './daemon-set-util.ts'
import { daemonSetKey, nodeShouldRunDaemonPod } from './daemon-set-util.ts'
import type { EventRecorder } from './events.ts'
import { nullRecorder } from './events.ts'
import { Expectations } from './expectations.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import type { Node, Pod } from './objects.ts'
import { controllerRefOf, namespacedName, newControllerRef } from './objects.ts'
import { adoptAndReleasePods, handleOwnedPods, ownersSelecting, ownerStillCurrent, resolveControllerRef } from './pod-owner-handlers.ts'
import type { SyncResult } from './work-queue.ts'
import { createPodsInBatches, deletePods, type PodWriter } from './pod-writes.ts'

export interface DaemonSetControllerOptions {
  client: ApiClient
  daemonSets: Informer<DaemonSet>
  pods: Informer<Pod>
  nodes: Informer<Node>
  revisions: Informer<ControllerRevision>
  clock?: Clock
  recorder?: EventRecorder
  logger?: Logger
  burstReplicas?: number
}


export class DaemonSetController extends Controller {
  readonly expectations: Expectations
  private readonly client: ApiClient
  private readonly daemonSets: Informer<DaemonSet>
  private readonly pods: Informer<Pod>
  private readonly nodes: Informer<Node>
  private readonly revisions: Informer<ControllerRevision>
  private readonly recorder: EventRecorder
  /** Failed-pod back-off: DaemonSet key → node name → entry. */
  private readonly backoff = new Map<string, Map<string, BackoffEntry>>()

  constructor(private readonly options: DaemonSetControllerOptions) {
    const clock = options.clock ?? systemClock
    super(clock, (options.logger ?? silentLogger).with({ component: 'daemonset-controller' }))
    this.client = options.client
    this.daemonSets = options.daemonSets
    this.pods = options.pods
    this.nodes = options.nodes
    this.revisions = options.revisions
    this.recorder = options.recorder ?? nullRecorder
    this.expectations = new Expectations(clock)

    this.daemonSets.on('add', ds => this.queue.add(daemonSetKey(ds)))
    this.daemonSets.on('update', (ds, old) => {
      if (!sameVersion(ds, old)) this.queue.add(daemonSetKey(ds))
    })
    this.daemonSets.on('delete', ds => this.queue.add(daemonSetKey(ds)))
    handleOwnedPods({
      pods: this.pods,
      owners: this.daemonSets,
      kind: 'DaemonSet',
      keyOf: daemonSetKey,
      expectations: this.expectations,
      enqueue: key => this.queue.add(key),
      selects: selectsObject,
      updates: 'labels',
    })
    this.nodes.on('add', node => this.nodeAdded(node))
    this.nodes.on('update', (node, old) => this.nodeUpdated(node, old))
    // Kubernetes leaves this to the pods' deletion; enqueueing keeps the status current at once.
    this.nodes.on('delete', () => this.enqueueAll())
    this.revisions.on('add', r => this.revisionChanged(r))
    this.revisions.on('update', (r, old) => {
      if (!sameVersion(r, old)) this.revisionChanged(r)
    })
    this.revisions.on('delete', r => this.revisionChanged(r))
  }

  private get writer(): PodWriter {
    return { client: this.client, recorder: this.recorder, expectations: this.expectations }
  }

  protected informers(): readonly Informer[] {
    return [this.daemonSets, this.pods, this.nodes, this.revisions]
  }

  protected initialKeys(): Iterable<string> {
    return this.daemonSets.list().map(daemonSetKey)
  }

  // --- handlers: only record and enqueue -----------------------------------

  private enqueueAll(): void {
    for (const ds of this.daemonSets.list()) this.queue.add(daemonSetKey(ds))
  }

  private ownerOf(object: ControllerRevision, ref = controllerRefOf(object)): DaemonSet | undefined {
    return resolveControllerRef(this.daemonSets, 'DaemonSet', object, ref)
  }

  private matching(object: ControllerRevision): DaemonSet[] {
    return ownersSelecting(this.daemonSets, object, selectsObject)
  }

  private nodeAdded(node: Node): void {
    for (const ds of this.daemonSets.list()) {
      if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.queue.add(daemonSetKey(ds))
    }
  }

  // Heartbeats change only condition timestamps: those are ignored (shouldIgnoreNodeUpdate).
  private nodeUpdated(node: Node, old: Node): void {
    if (sameVersion(node, old) || sameNodeButHeartbeat(node, old)) return
    for (const ds of this.daemonSets.list()) {
      if (!sameFit(nodeShouldRunDaemonPod(old, ds), nodeShouldRunDaemonPod(node, ds))) this.queue.add(daemonSetKey(ds))
    }
  }

  private revisionChanged(revision: ControllerRevision): void {
    const ref = controllerRefOf(revision)
    if (ref) {
      const ds = this.ownerOf(revision, ref)
      if (ds) this.queue.add(daemonSetKey(ds))
      return
    }
    for (const ds of this.matching(revision)) this.queue.add(daemonSetKey(ds))
  }

  // --- the worker ------------------------------------------------------------

  protected async sync(key: string): Promise<SyncResult | void> {
    const started = this.clock.now()
    const ds = this.daemonSets.get(key)
    if (!ds) {
      this.expectations.delete(key)
      this.backoff.delete(key)
      return
    }
    if (ds.metadata.deletionTimestamp) return
    const selector = selectorOf(ds)
    if (!selector || selector.empty()) {
      this.recorder.event(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.')
      return
    }
    const ns = ds.metadata.namespace
    const history = await this.constructHistory(ds, selector)
    if (!history) return { requeueAfterMs: 0 }
    const pods = this.pods.list().filter(p => p.metadata.namespace === ns)
    const backoff = this.backoff.get(key) ?? new Map<string, BackoffEntry>()
    const satisfied = this.expectations.satisfied(key)
    const plan = reconcileDaemonSet({
      daemonSet: ds,
      nodes: this.nodes.list(),
      pods,
      hash: history.hash,
      now: started,
      expectationsSatisfied: satisfied,
      backoff,
      burstReplicas: this.options.burstReplicas,
    })

    // Claim: adopt and release; start over when the DaemonSet changed underneath.
    const ref = newControllerRef(ds, 'apps/v1', 'DaemonSet')
    if (!(await adoptAndReleasePods(this.client, RESOURCES.daemonsets, ds, ref, plan.adopt, plan.release))) return { requeueAfterMs: 0 }
    for (const e of plan.events) this.recorder.event(ds, e.type, e.reason, e.message)
    for (const [node, entry] of plan.backoff) backoff.set(node, entry)
    if (backoff.size > 0) this.backoff.set(key, backoff)

    const errors: string[] = []
    if (plan.create.length + plan.delete.length > 0) {
      this.expectations.expectCreationsAndDeletions(key, plan.create.length, plan.delete.map(namespacedName))
      const [created, deleted] = await Promise.all([createPodsInBatches(this.writer, key, ds, plan.create), deletePods(this.writer, key, ds, plan.delete)])
      if (created.error !== undefined) errors.push(created.error)
      if (deleted.error !== undefined) errors.push(deleted.error)
    }
    if (plan.status) await this.writeStatus(ds, plan.status)
    if (satisfied) {
      const toPrune = historyToPrune(ds, history.old, plan.owned)
      for (const revision of toPrune) await this.ignoreNotFound(this.client.delete(RESOURCES.controllerrevisions, ns, revision.metadata.name ?? ''))
    }

    const changed = plan.create.length + plan.delete.length + plan.adopt.length + plan.release.length > 0 || plan.status !== undefined
    this.logger[changed ? 'info' : 'debug']('synced daemonset', {
      daemonSet: key,
      hash: history.hash,
      owned: plan.owned.length,
      created: plan.create.length,
      deleted: plan.delete.map(namespacedName),
      statusUpdated: plan.status !== undefined,
      ms: this.clock.now() - started,
    })
    if (errors.length > 0) throw new Error(errors.join('; '))
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined
  }

  /**
   * constructHistory: claims the DaemonSet's ControllerRevisions, makes sure
   * one holds the current template (numbered above the others) and returns
   * its hash and the old ones; undefined to start over.
   */
  private async constructHistory(ds: DaemonSet, selector: LabelSelector): Promise<{ hash: string; old: ControllerRevision[] } | undefined> {
    const ns = ds.metadata.namespace
    const cached = this.revisions.list().filter(r => r.metadata.namespace === ns)
    const claim = claimObjects(ds, selector, cached)
    if (claim.adopt.length > 0) {
      if (!(await ownerStillCurrent(this.client, RESOURCES.daemonsets, ds))) return undefined
      const ref = newControllerRef(ds, 'apps/v1', 'DaemonSet')
      for (const r of claim.adopt) await this.client.patch(RESOURCES.controllerrevisions, ns, r.metadata.name ?? '', adoptPatch(r, ref), 'merge')
    }
    for (const r of claim.release) {
      await this.ignoreNotFound(this.client.patch(RESOURCES.controllerrevisions, ns, r.metadata.name ?? '', removeOwnerRefsPatch(r, [ds.metadata.uid ?? '']), 'merge'))
    }
    const plan = planHistory(ds, claim.owned)
    let current = plan.current
    if (plan.create) current = await this.snapshot(ds, plan.create)
    if (current && plan.duplicates.length > 0) await this.dropDuplicates(ds, current, plan.duplicates)
    if (current && plan.renumber !== undefined) {
      current = await this.client.update<ControllerRevision>(RESOURCES.controllerrevisions, ns, { ...current, revision: plan.renumber })
    }
    if (!current) return undefined
    return { hash: revisionHashOf(current), old: plan.old }
  }

  // dedupCurHistories: pods labelled with a duplicate's hash move to the kept
  // revision's hash first (here only those, where Kubernetes relabels every
  // pod of the set), then the duplicates go.
  private async dropDuplicates(ds: DaemonSet, keep: ControllerRevision, duplicates: readonly ControllerRevision[]): Promise<void> {
    const ns = ds.metadata.namespace
    const hash = revisionHashOf(keep)
    const dupHashes = new Set(duplicates.map(revisionHashOf))
    for (const pod of this.pods.list()) {
      if (pod.metadata.namespace !== ns || controllerRefOf(pod)?.uid !== ds.metadata.uid) continue
      if (!dupHashes.has(pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '')) continue
      await this.ignoreNotFound(this.client.patch(RESOURCES.pods, ns, pod.metadata.name ?? '', { metadata: { labels: { [CONTROLLER_REVISION_HASH_LABEL]: hash } } }, 'merge'))
    }
    for (const dup of duplicates) await this.ignoreNotFound(this.client.delete(RESOURCES.controllerrevisions, ns, dup.metadata.name ?? ''))
  }

  // Creates the revision; on a name collision with other content, raises collisionCount and fails the sync.
  private async snapshot(ds: DaemonSet, revision: ControllerRevision): Promise<ControllerRevision> {
    const ns = ds.metadata.namespace
    try {
      return await this.client.create<ControllerRevision>(RESOURCES.controllerrevisions, ns, revision)
    } catch (err) {
      if (!isAlreadyExists(err)) throw err
      const existing = await this.client.get<ControllerRevision>(RESOURCES.controllerrevisions, ns, revision.metadata.name ?? '')
      if (jsonEqual(existing.data, revision.data)) return existing
      const fresh = await this.client.get<DaemonSet>(RESOURCES.daemonsets, ns, ds.metadata.name ?? '')
      if ((fresh.status?.collisionCount ?? undefined) !== (ds.status?.collisionCount ?? undefined)) {
        throw new Error(`found a stale collision count (${ds.status?.collisionCount ?? 'nil'}, expected ${fresh.status?.collisionCount ?? 'nil'}) of DaemonSet "${ds.metadata.name ?? ''}" while processing; will retry until it is updated`)
      }
      const collisionCount = (fresh.status?.collisionCount ?? 0) + 1
      await this.client.update(RESOURCES.daemonsets, ns, { ...fresh, status: { ...fresh.status, collisionCount } }, 'status')
      this.logger.info('hash collision: raised collisionCount', { daemonSet: daemonSetKey(ds), collisionCount })
      throw err
    }
  }

  private async writeStatus(ds: DaemonSet, status: DaemonSetStatus): Promise<void> {
    const ns = ds.metadata.namespace
    try {
      await this.client.update(RESOURCES.daemonsets, ns, { ...ds, status }, 'status')
    } catch (err) {
      if (!isConflict(err)) throw err
      const fresh = await this.client.get<DaemonSet>(RESOURCES.daemonsets, ns, ds.metadata.name ?? '')
      if (fresh.metadata.uid !== ds.metadata.uid) return
      // collisionCount may have been raised meanwhile: keep the stored one.
      await this.client.update(RESOURCES.daemonsets, ns, { ...fresh, status: { ...status, collisionCount: fresh.status?.collisionCount } }, 'status')
    }
  }

  private async ignoreNotFound(p: Promise<unknown>): Promise<void> {
    try {
      await p
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }
}

// A DaemonSet's empty (or unreadable) selector selects nothing.
function selectsObject(ds: DaemonSet, object: KubeObject): boolean {
  const selector = selectorOf(ds)
  return selector !== undefined && !selector.empty() && selector.matches(object.metadata.labels)
}

function selectorOf(ds: DaemonSet): LabelSelector | undefined {
  try {
    return labelSelectorFromObject(ds.spec?.selector)
  } catch {
    return undefined
  }
}

const sameFit = (a: NodeFit, b: NodeFit): boolean => a.shouldRun === b.shouldRun && a.shouldContinueRunning === b.shouldContinueRunning

// Equal but for resourceVersion and condition timestamps (nodeInSameCondition + DeepEqual).
function sameNodeButHeartbeat(node: Node, old: Node): boolean {
  const conditions = (n: Node): Array<[string, string]> => (n.status?.conditions ?? []).map(c => [c.type, c.status])
  if (!jsonEqual(conditions(node), conditions(old))) return false
  const strip = (n: Node): unknown => ({
    ...n,
    metadata: { ...n.metadata, resourceVersion: undefined },
    status: { ...n.status, conditions: undefined },
  })
  return jsonEqual(strip(node), strip(old))
}

