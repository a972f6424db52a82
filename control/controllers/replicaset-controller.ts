// The ReplicaSet control loop: handlers record which ReplicaSets to look at
// (and what the pod cache has confirmed, for the expectations); one worker
// applies reconcileReplicaSet's plan through the ApiClient.
//
// As in Kubernetes: creations go out in slow-start batches (1, 2, 4, ...)
// and stop at the first batch with an error; deletions go out together; each
// success and failure is an Event on the ReplicaSet (SuccessfulCreate
// "Created pod: web-abc12", FailedCreate "Error creating: ...",
// SuccessfulDelete "Deleted pod: ...", FailedDelete "Error deleting: ...").
// Adoption first re-reads the ReplicaSet from the API, so a ReplicaSet that
// was deleted meanwhile adopts nothing. The status is written with PUT on
// the status subresource, re-read and retried once on a Conflict.

import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isConflict, isNotFound } from '../api/status-error.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import type { EventRecorder } from './events.ts'
import { nullRecorder } from './events.ts'
import { Expectations } from './expectations.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import type { Pod, ReplicaSet, ReplicaSetStatus } from './objects.ts'
import { controllerRefOf, namespacedName, newControllerRef } from './objects.ts'
import { adoptAndReleasePods, handleOwnedPods, specSelectorMatches } from './pod-owner-handlers.ts'
import { isPodActive } from './pod-util.ts'
import type { ManageError } from './replicaset.ts'
import { calculateReplicaSetStatus, reconcileReplicaSet, replicaSetKey } from './replicaset.ts'
import type { SyncResult } from './work-queue.ts'
import { createPodsInBatches, deletePods, type PodWriter } from './pod-writes.ts'

export interface ReplicaSetControllerOptions {
  client: ApiClient
  replicaSets: Informer<ReplicaSet>
  pods: Informer<Pod>
  clock?: Clock
  recorder?: EventRecorder
  logger?: Logger
  burstReplicas?: number
}

/** Creates no more than this many pods at once at first, doubling per batch. */

export class ReplicaSetController extends Controller {
  readonly expectations: Expectations
  private readonly client: ApiClient
  private readonly replicaSets: Informer<ReplicaSet>
  private readonly pods: Informer<Pod>
  private readonly recorder: EventRecorder

  constructor(private readonly options: ReplicaSetControllerOptions) {
    const clock = options.clock ?? systemClock
    super(clock, (options.logger ?? silentLogger).with({ component: 'replicaset-controller' }))
    this.client = options.client
    this.replicaSets = options.replicaSets
    this.pods = options.pods
    this.recorder = options.recorder ?? nullRecorder
    this.expectations = new Expectations(clock)

    this.replicaSets.on('add', rs => this.queue.add(replicaSetKey(rs)))
    this.replicaSets.on('update', (rs, old) => {
      if (!sameVersion(rs, old)) this.queue.add(replicaSetKey(rs))
    })
    this.replicaSets.on('delete', rs => {
      this.expectations.delete(replicaSetKey(rs))
      this.queue.add(replicaSetKey(rs))
    })
    handleOwnedPods({
      pods: this.pods,
      owners: this.replicaSets,
      kind: 'ReplicaSet',
      keyOf: replicaSetKey,
      expectations: this.expectations,
      enqueue: key => this.queue.add(key),
      selects: specSelectorMatches,
      updates: 'labels',
    })
  }

  private get writer(): PodWriter {
    return { client: this.client, recorder: this.recorder, expectations: this.expectations }
  }

  protected informers(): readonly Informer[] {
    return [this.replicaSets, this.pods]
  }

  protected initialKeys(): Iterable<string> {
    return this.replicaSets.list().map(replicaSetKey)
  }

  // --- the worker ------------------------------------------------------------

  // Pods of every ReplicaSet controlled by the same owner (getIndirectlyRelatedPods).
  private relatedPods(rs: ReplicaSet, podsInNamespace: readonly Pod[]): Pod[] {
    const owner = controllerRefOf(rs)
    const uids = new Set<string>([rs.metadata.uid ?? ''])
    if (owner) {
      for (const other of this.replicaSets.list()) {
        if (other.metadata.namespace === rs.metadata.namespace && controllerRefOf(other)?.uid === owner.uid) {
          uids.add(other.metadata.uid ?? '')
        }
      }
    }
    return podsInNamespace.filter(p => isPodActive(p) && uids.has(controllerRefOf(p)?.uid ?? ''))
  }

  protected async sync(key: string): Promise<SyncResult | void> {
    const started = this.clock.now()
    const rs = this.replicaSets.get(key)
    if (!rs) {
      this.expectations.delete(key)
      return
    }
    const ns = rs.metadata.namespace
    const pods = this.pods.list().filter(p => p.metadata.namespace === ns)
    const plan = reconcileReplicaSet({
      replicaSet: rs,
      pods,
      relatedPods: this.relatedPods(rs, pods),
      now: started,
      expectationsSatisfied: this.expectations.satisfied(key),
      burstReplicas: this.options.burstReplicas,
    })

    // Claim: adopt and release.
    const ref = newControllerRef(rs, 'apps/v1', 'ReplicaSet')
    if (!(await adoptAndReleasePods(this.client, RESOURCES.replicasets, rs, ref, plan.adopt, plan.release))) return { requeueAfterMs: 0 }

    let manageError: ManageError | undefined
    let created = 0
    let deleted = 0
    if (plan.create.length > 0) {
      const result = await this.createPods(key, rs, plan.create)
      created = result.created
      manageError = result.error
    } else if (plan.delete.length > 0) {
      const result = await this.deletePods(key, rs, plan.delete)
      deleted = result.deleted
      manageError = result.error
    }

    let status = plan.status
    if (manageError) status = calculateReplicaSetStatus(rs, plan.owned, started, manageError)
    if (status) await this.writeStatus(rs, status)

    const changed = created + deleted + plan.adopt.length + plan.release.length > 0 || status !== undefined
    this.logger[changed ? 'info' : 'debug']('synced replicaset', {
      replicaSet: key,
      desired: rs.spec?.replicas ?? 1,
      owned: plan.owned.length,
      adopted: plan.adopt.length,
      released: plan.release.length,
      created,
      deleted,
      statusUpdated: status !== undefined,
      ms: this.clock.now() - started,
    })
    if (manageError) throw new Error(manageError.message)
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined
  }

  private async createPods(key: string, rs: ReplicaSet, pods: Pod[]): Promise<{ created: number; error?: ManageError }> {
    this.expectations.expectCreations(key, pods.length)
    const { created, error } = await createPodsInBatches(this.writer, key, rs, pods)
    return error === undefined ? { created } : { created, error: { reason: 'FailedCreate', message: error } }
  }

  private async deletePods(key: string, rs: ReplicaSet, pods: Pod[]): Promise<{ deleted: number; error?: ManageError }> {
    this.expectations.expectDeletions(key, pods.map(namespacedName))
    const { deleted, error } = await deletePods(this.writer, key, rs, pods)
    return error === undefined ? { deleted } : { deleted, error: { reason: 'FailedDelete', message: error } }
  }

  private async writeStatus(rs: ReplicaSet, status: ReplicaSetStatus): Promise<void> {
    const ns = rs.metadata.namespace
    try {
      await this.client.update(RESOURCES.replicasets, ns, { ...rs, status }, 'status')
    } catch (err) {
      if (!isConflict(err)) throw err
      const fresh = await this.client.get<ReplicaSet>(RESOURCES.replicasets, ns, rs.metadata.name ?? '')
      if (fresh.metadata.uid !== rs.metadata.uid) return
      await this.client.update(RESOURCES.replicasets, ns, { ...fresh, status }, 'status')
    }
  }
}

