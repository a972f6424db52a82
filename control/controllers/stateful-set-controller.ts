// The StatefulSet control loop: handlers record which StatefulSets to look
// at; one worker settles the set's ControllerRevisions (creating the update
// revision, or renumbering an equal older one on a rollback, with
// collisionCount on a hash collision), applies reconcileStatefulSet's plan
// through the ApiClient, writes the status and prunes the history beyond
// revisionHistoryLimit.
//
// As in Kubernetes, no expectations: pod and claim names are fixed, so a
// create that the cache had not seen yet fails with AlreadyExists and a
// delete of a pod already gone with NotFound, and both are harmless. Claims
// are made before their pod. Events on the set as Kubernetes words them:
// SuccessfulCreate "create Pod web-0 in StatefulSet web successful",
// SuccessfulDelete "delete Pod web-2 in StatefulSet web successful",
// SuccessfulCreate "create Claim data-web-0 Pod web-0 in StatefulSet web
// success", and Failed* "... failed error: <why>".

import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isAlreadyExists, isConflict, isNotFound } from '../api/status-error.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import type { ControllerRevision } from './controller-history.ts'
import { adoptPatch, removeOwnerRefsPatch } from './controller-ref.ts'
import type { EventRecorder } from './events.ts'
import { nullRecorder } from './events.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import type { Pod } from './objects.ts'
import { controllerRefOf } from './objects.ts'
import type { PersistentVolumeClaim, StatefulSet, StatefulSetPlan, StatefulSetStatus } from './stateful-set.ts'
import {
  planRevisions,
  reconcileStatefulSet,
  revisionsToTruncate,
  setControllerRef,
  statefulSetKey,
  statefulSetStatusEqual,
} from './stateful-set.ts'
import { ownersSelecting, resolveControllerRef, specSelectorMatches } from './pod-owner-handlers.ts'
import type { SyncResult } from './work-queue.ts'
import { errorMessage } from './objects.ts'

export interface StatefulSetControllerOptions {
  client: ApiClient
  statefulSets: Informer<StatefulSet>
  pods: Informer<Pod>
  claims: Informer<PersistentVolumeClaim>
  revisions: Informer<ControllerRevision>
  clock?: Clock
  recorder?: EventRecorder
  logger?: Logger
}

type Outcome = { error: unknown } | { restart?: boolean }

/** Hash collisions tolerated in one sync before giving up until the next. */
const MAX_COLLISIONS = 5

export class StatefulSetController extends Controller {
  private readonly client: ApiClient
  private readonly sets: Informer<StatefulSet>
  private readonly pods: Informer<Pod>
  private readonly claims: Informer<PersistentVolumeClaim>
  private readonly revisions: Informer<ControllerRevision>
  private readonly recorder: EventRecorder

  constructor(options: StatefulSetControllerOptions) {
    const clock = options.clock ?? systemClock
    super(clock, (options.logger ?? silentLogger).with({ component: 'statefulset-controller' }))
    this.client = options.client
    this.sets = options.statefulSets
    this.pods = options.pods
    this.claims = options.claims
    this.revisions = options.revisions
    this.recorder = options.recorder ?? nullRecorder

    this.sets.on('add', set => this.queue.add(statefulSetKey(set)))
    this.sets.on('update', (set, old) => {
      if (!sameVersion(set, old)) this.queue.add(statefulSetKey(set))
    })
    this.sets.on('delete', set => this.queue.add(statefulSetKey(set)))
    this.pods.on('add', pod => this.podChanged(pod))
    this.pods.on('update', (pod, old) => {
      if (sameVersion(pod, old)) return
      this.podChanged(pod)
      if (!jsonEqual(controllerRefOf(pod) ?? null, controllerRefOf(old) ?? null)) this.podChanged(old)
    })
    this.pods.on('delete', pod => this.podChanged(pod))
    // A claim that goes (or comes) may be one a pod of a set needs.
    const claimChanged = (claim: PersistentVolumeClaim): void => {
      for (const set of this.sets.list()) {
        if (set.metadata.namespace === claim.metadata.namespace && (set.spec?.volumeClaimTemplates?.length ?? 0) > 0) this.queue.add(statefulSetKey(set))
      }
    }
    this.claims.on('add', claimChanged)
    this.claims.on('delete', claimChanged)
    this.revisions.on('delete', revision => {
      const ref = controllerRefOf(revision)
      if (ref?.kind === 'StatefulSet') this.queue.add(`${revision.metadata.namespace ?? ''}/${ref.name}`)
    })
  }

  protected informers(): readonly Informer[] {
    return [this.sets, this.pods, this.claims, this.revisions]
  }

  protected initialKeys(): Iterable<string> {
    return this.sets.list().map(statefulSetKey)
  }

  // --- handlers: only enqueue ----------------------------------------------

  private podChanged(pod: Pod): void {
    const ref = controllerRefOf(pod)
    if (ref) {
      const set = resolveControllerRef(this.sets, 'StatefulSet', pod, ref)
      if (set) this.queue.add(statefulSetKey(set))
      return
    }
    // An orphan: the sets that might adopt it.
    for (const set of ownersSelecting(this.sets, pod, specSelectorMatches)) this.queue.add(statefulSetKey(set))
  }

  // --- the worker ------------------------------------------------------------

  protected async sync(key: string): Promise<SyncResult | void> {
    const started = this.clock.now()
    const set = this.sets.get(key)
    if (!set) return
    const ns = set.metadata.namespace
    const owned = (o: { metadata: { namespace?: string; ownerReferences?: Array<{ uid: string; controller?: boolean }> } }): boolean =>
      o.metadata.namespace === ns && controllerRefOf(o as Pod)?.uid === set.metadata.uid
    const revisions = this.revisions.list().filter(owned)
    const { current, update, collisionCount, created } = await this.settleRevisions(set, revisions)

    const plan = reconcileStatefulSet({
      set,
      pods: this.pods.list().filter(p => p.metadata.namespace === ns),
      claims: this.claims.list().filter(c => c.metadata.namespace === ns),
      currentRevision: current,
      updateRevision: update,
      now: started,
    })

    // The status goes out even when an action fails: it carries collisionCount.
    let outcome: Outcome
    try {
      outcome = await this.apply(set, plan)
    } catch (err) {
      outcome = { error: err }
    }

    const status: StatefulSetStatus = { ...plan.status, collisionCount }
    const statusChanged = !statefulSetStatusEqual(set.status, status)
    if (statusChanged) await this.writeStatus(set, status)

    const all = created ? [...revisions, created] : revisions
    const prune = revisionsToTruncate(set, plan.owned, all, status.currentRevision ?? '', status.updateRevision ?? '')
    for (const revision of prune) {
      await ignoreNotFound(this.client.delete(RESOURCES.controllerrevisions, ns, revision.metadata.name ?? '', { preconditions: { uid: revision.metadata.uid } }))
    }

    const changed = plan.create.length + plan.delete.length + plan.adopt.length + plan.release.length + plan.claimCreates.length + plan.claimPatches.length + prune.length > 0 || statusChanged
    this.logger[changed ? 'info' : 'debug']('synced statefulset', {
      statefulSet: key,
      desired: set.spec?.replicas ?? 1,
      owned: plan.owned.length,
      created: plan.create.map(c => c.pod.metadata.name),
      deleted: plan.delete.map(p => p.metadata.name),
      currentRevision: status.currentRevision,
      updateRevision: status.updateRevision,
      pruned: prune.length,
      ms: this.clock.now() - started,
    })
    if ('error' in outcome) throw outcome.error
    if (outcome.restart) return { requeueAfterMs: 0 }
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined
  }

  /** Carries out the plan: adoption, claims, pods. */
  private async apply(set: StatefulSet, plan: StatefulSetPlan): Promise<Outcome> {
    const ns = set.metadata.namespace
    if (plan.adopt.length > 0) {
      const fresh = await this.client.get<StatefulSet>(RESOURCES.statefulsets, ns, set.metadata.name ?? '')
      if (fresh.metadata.uid !== set.metadata.uid || fresh.metadata.deletionTimestamp) return { restart: true }
      for (const pod of plan.adopt) {
        try {
          await this.client.patch(RESOURCES.pods, ns, pod.metadata.name ?? '', adoptPatch(pod, setControllerRef(set)), 'merge')
        } catch (err) {
          if (!isNotFound(err)) throw err
          return { restart: true } // the plan counted this pod: start over
        }
      }
    }
    for (const pod of plan.release) {
      await ignoreNotFound(this.client.patch(RESOURCES.pods, ns, pod.metadata.name ?? '', removeOwnerRefsPatch(pod, [set.metadata.uid ?? '']), 'merge'))
    }
    for (const { claim, ownerReferences } of plan.claimPatches) {
      const patch = { metadata: { resourceVersion: claim.metadata.resourceVersion, ownerReferences: ownerReferences.length > 0 ? ownerReferences : null } }
      await ignoreNotFound(this.client.patch(RESOURCES.persistentvolumeclaims, ns, claim.metadata.name ?? '', patch, 'merge'))
    }
    for (const { pod, patch } of plan.podPatches) {
      await ignoreNotFound(this.client.patch(RESOURCES.pods, ns, pod.metadata.name ?? '', patch, 'merge'))
    }
    let failure: string | undefined
    for (const { claim, pod } of plan.claimCreates) failure ??= await this.createClaim(set, pod, claim)
    // Parallel creations go out together; OrderedReady has at most one.
    const creations = await Promise.all(plan.create.map(async ({ pod, claims }) => {
      for (const claim of claims) {
        const err = await this.createClaim(set, pod, claim)
        if (err) return err
      }
      return await this.podAction(set, pod, 'create')
    }))
    const deletions = await Promise.all(plan.delete.map(async pod => await this.podAction(set, pod, 'delete')))
    failure ??= [...creations, ...deletions].find(e => e !== undefined)
    return failure ? { error: new Error(failure) } : {}
  }

  /** The current and update revisions, made or renumbered as planned (getStatefulSetRevisions). */
  private async settleRevisions(set: StatefulSet, revisions: ControllerRevision[]): Promise<{
    current: ControllerRevision
    update: ControllerRevision
    collisionCount: number
    created?: ControllerRevision
  }> {
    let collisionCount = set.status?.collisionCount ?? 0
    for (let attempt = 0; attempt <= MAX_COLLISIONS; attempt++) {
      const plan = planRevisions(set, revisions, collisionCount)
      let update = plan.update
      let created: ControllerRevision | undefined
      if (plan.renumber) {
        const { revision, to } = plan.renumber
        update = await this.client.patch<ControllerRevision>(RESOURCES.controllerrevisions, set.metadata.namespace, revision.metadata.name ?? '', { revision: to }, 'merge')
      } else if (plan.create) {
        try {
          update = created = await this.client.create<ControllerRevision>(RESOURCES.controllerrevisions, set.metadata.namespace, plan.create)
        } catch (err) {
          if (!isAlreadyExists(err)) throw err
          const existing = await this.client.get<ControllerRevision>(RESOURCES.controllerrevisions, set.metadata.namespace, plan.create.metadata.name ?? '')
          if (!jsonEqual(existing.data, plan.create.data) || controllerRefOf(existing)?.uid !== set.metadata.uid) {
            collisionCount++ // same hash, other content: hash again with the next count
            continue
          }
          update = existing
        }
      }
      if (!update) throw new Error('no update revision')
      return { current: plan.current ?? update, update, collisionCount, ...(created ? { created } : {}) }
    }
    throw new Error(`ControllerRevision hash collided ${MAX_COLLISIONS} times`)
  }

  /** Creates one claim of `pod`; returns the failure message, if any (AlreadyExists is fine). */
  private async createClaim(set: StatefulSet, pod: Pod, claim: PersistentVolumeClaim): Promise<string | undefined> {
    const name = claim.metadata.name ?? ''
    try {
      await this.client.create(RESOURCES.persistentvolumeclaims, set.metadata.namespace, claim)
      this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} success`)
      return undefined
    } catch (err) {
      if (isAlreadyExists(err)) return undefined
      const message = `create Claim ${name} for Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''} failed error: ${errorMessage(err)}`
      this.recorder.event(set, 'Warning', 'FailedCreate', message)
      return message
    }
  }

  /** Creates or deletes one pod with its Event; returns the failure message, if any. */
  private async podAction(set: StatefulSet, pod: Pod, verb: 'create' | 'delete'): Promise<string | undefined> {
    const what = `${verb} Pod ${pod.metadata.name ?? ''} in StatefulSet ${set.metadata.name ?? ''}`
    const reason = verb === 'create' ? 'Create' : 'Delete'
    try {
      if (verb === 'create') await this.client.create(RESOURCES.pods, set.metadata.namespace, pod)
      else await this.client.delete(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name ?? '', { preconditions: { uid: pod.metadata.uid } })
      this.recorder.event(set, 'Normal', `Successful${reason}`, `${what} successful`)
      return undefined
    } catch (err) {
      if ((verb === 'create' && isAlreadyExists(err)) || (verb === 'delete' && isNotFound(err))) return undefined
      const message = `${what} failed error: ${errorMessage(err)}`
      this.recorder.event(set, 'Warning', `Failed${reason}`, message)
      return message
    }
  }

  private async writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    const ns = set.metadata.namespace
    try {
      await this.client.update(RESOURCES.statefulsets, ns, { ...set, status }, 'status')
    } catch (err) {
      if (isNotFound(err)) return
      if (!isConflict(err)) throw err
      const fresh = await this.client.get<StatefulSet>(RESOURCES.statefulsets, ns, set.metadata.name ?? '')
      if (fresh.metadata.uid !== set.metadata.uid) return
      // Computed from a stale cache, it must not take back a collision counted meanwhile.
      const collisionCount = Math.max(fresh.status?.collisionCount ?? 0, status.collisionCount ?? 0)
      await this.client.update(RESOURCES.statefulsets, ns, { ...fresh, status: { ...status, collisionCount } }, 'status')
    }
  }
}

async function ignoreNotFound(promise: Promise<unknown>): Promise<void> {
  try {
    await promise
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
}

