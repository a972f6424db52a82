// The Deployment control loop: handlers map ReplicaSet (and, for Recreate,
// pod) changes to their Deployment; one worker applies reconcileDeployment's
// actions in order through the ApiClient and stops at the first failure
// (the key is retried; the next sync recomputes from the caches).
//
// Writes: ReplicaSets are created, updated with PUT (the resourceVersion seen,
// so a scale decision based on a stale ReplicaSet fails with a Conflict and
// is recomputed), adopted and released with merge patches that carry the
// resourceVersion, deleted with a uid precondition. The Deployment's
// revision annotation is a merge patch; its status a PUT on the status
// subresource. A create that hits AlreadyExists is either our own
// ReplicaSet not cached yet (wait for it) or a hash collision: then
// status.collisionCount goes up and the next sync picks another name.

import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isAlreadyExists, isNotFound } from '../api/status-error.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import { adoptPatch, removeOwnerRefsPatch } from './controller-ref.ts'
import { reconcileDeployment } from './deployment.ts'
import type { DeploymentAction } from './deployment.ts'
import { equalIgnoreHash } from './deployment-util.ts'
import type { EventRecorder } from './events.ts'
import { nullRecorder } from './events.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import type { Deployment, Pod, ReplicaSet } from './objects.ts'
import { controllerRefOf, newControllerRef } from './objects.ts'
import { ownersSelecting, resolveControllerRef, specSelectorMatches } from './pod-owner-handlers.ts'
import type { SyncResult } from './work-queue.ts'

export interface DeploymentControllerOptions {
  client: ApiClient
  deployments: Informer<Deployment>
  replicaSets: Informer<ReplicaSet>
  pods: Informer<Pod>
  clock?: Clock
  recorder?: EventRecorder
  logger?: Logger
}

const keyOf = (o: { metadata: { namespace?: string; name?: string } }): string =>
  `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`

export class DeploymentController extends Controller {
  private readonly client: ApiClient
  private readonly deployments: Informer<Deployment>
  private readonly replicaSets: Informer<ReplicaSet>
  private readonly pods: Informer<Pod>
  private readonly recorder: EventRecorder

  constructor(options: DeploymentControllerOptions) {
    super(options.clock ?? systemClock, (options.logger ?? silentLogger).with({ component: 'deployment-controller' }))
    this.client = options.client
    this.deployments = options.deployments
    this.replicaSets = options.replicaSets
    this.pods = options.pods
    this.recorder = options.recorder ?? nullRecorder

    this.deployments.on('add', d => this.queue.add(keyOf(d)))
    this.deployments.on('update', (d, old) => {
      if (!sameVersion(d, old)) this.queue.add(keyOf(d))
    })
    this.deployments.on('delete', d => this.queue.add(keyOf(d)))
    this.replicaSets.on('add', rs => this.replicaSetChanged(rs))
    this.replicaSets.on('update', (rs, old) => {
      if (sameVersion(rs, old)) return
      const ref = controllerRefOf(rs)
      const oldRef = controllerRefOf(old)
      if (oldRef && !jsonEqual(ref ?? null, oldRef)) this.enqueueOwner(old)
      const labelsChanged = !jsonEqual(rs.metadata.labels ?? {}, old.metadata.labels ?? {})
      if (ref || labelsChanged || !jsonEqual(ref ?? null, oldRef ?? null)) this.replicaSetChanged(rs)
    })
    this.replicaSets.on('delete', rs => this.enqueueOwner(rs))
    this.pods.on('delete', pod => this.podDeleted(pod))
  }

  protected informers(): readonly Informer[] {
    return [this.deployments, this.replicaSets, this.pods]
  }

  protected initialKeys(): Iterable<string> {
    return this.deployments.list().map(keyOf)
  }

  // --- handlers ----------------------------------------------------------------

  private ownerOf(rs: ReplicaSet): Deployment | undefined {
    return resolveControllerRef(this.deployments, 'Deployment', rs)
  }

  private enqueueOwner(rs: ReplicaSet): void {
    const d = this.ownerOf(rs)
    if (d) this.queue.add(keyOf(d))
  }

  private replicaSetChanged(rs: ReplicaSet): void {
    if (controllerRefOf(rs)) {
      this.enqueueOwner(rs)
      return
    }
    // An orphan: every deployment that could adopt it.
    for (const d of ownersSelecting(this.deployments, rs, specSelectorMatches)) this.queue.add(keyOf(d))
  }

  // Recreate waits for old pods to be gone: their deletion may be the news it waits for.
  private podDeleted(pod: Pod): void {
    const rs = resolveControllerRef(this.replicaSets, 'ReplicaSet', pod)
    if (!rs) return
    const d = this.ownerOf(rs)
    if (d?.spec?.strategy?.type === 'Recreate') this.queue.add(keyOf(d))
  }

  // --- the worker ----------------------------------------------------------------

  protected async sync(key: string): Promise<SyncResult | void> {
    const started = this.clock.now()
    const d = this.deployments.get(key)
    if (!d) return
    const ns = d.metadata.namespace
    const plan = reconcileDeployment({
      deployment: d,
      replicaSets: this.replicaSets.list().filter(rs => rs.metadata.namespace === ns),
      pods: this.pods.list().filter(p => p.metadata.namespace === ns),
      now: started,
    })
    const applied = await this.apply(d, plan.actions)
    this.logger[applied.count > 0 ? 'info' : 'debug']('synced deployment', {
      deployment: key,
      actions: summarize(plan.actions.slice(0, applied.count)),
      ms: this.clock.now() - started,
    })
    if (applied.requeue) return { requeueAfterMs: 0 }
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined
  }

  // Applies actions in order; returns how many went through.
  private async apply(d: Deployment, actions: DeploymentAction[]): Promise<{ count: number; requeue: boolean }> {
    const ns = d.metadata.namespace
    const name = d.metadata.name ?? ''
    let latest = d
    let checkedOwner = false
    const seen = new Map<string, ReplicaSet>()
    const current = (rsName: string): ReplicaSet | undefined => seen.get(rsName) ?? this.replicaSets.get(`${ns ?? ''}/${rsName}`)
    let count = 0
    for (const a of actions) {
      switch (a.type) {
        case 'adoptReplicaSet': {
          if (!checkedOwner) {
            const fresh = await this.client.get<Deployment>(RESOURCES.deployments, ns, name)
            if (fresh.metadata.uid !== d.metadata.uid || fresh.metadata.deletionTimestamp) return { count, requeue: false }
            checkedOwner = true
          }
          try {
            const rs = await this.client.patch<ReplicaSet>(
              RESOURCES.replicasets, ns, a.replicaSet.metadata.name ?? '',
              adoptPatch(a.replicaSet, newControllerRef(d, 'apps/v1', 'Deployment')), 'merge',
            )
            seen.set(rs.metadata.name ?? '', rs)
          } catch (err) {
            if (!isNotFound(err)) throw err
            return { count, requeue: true }
          }
          break
        }
        case 'releaseReplicaSet':
          try {
            await this.client.patch(RESOURCES.replicasets, ns, a.replicaSet.metadata.name ?? '',
              removeOwnerRefsPatch(a.replicaSet, [d.metadata.uid ?? '']), 'merge')
          } catch (err) {
            if (!isNotFound(err)) throw err
          }
          break
        case 'createReplicaSet':
          try {
            const rs = await this.client.create<ReplicaSet>(RESOURCES.replicasets, ns, a.replicaSet)
            seen.set(rs.metadata.name ?? '', rs)
          } catch (err) {
            if (!isAlreadyExists(err)) throw err
            await this.resolveCollision(latest, a.replicaSet)
            return { count, requeue: false }
          }
          break
        case 'updateReplicaSet': {
          const base = current(a.name)
          if (!base) return { count, requeue: true }
          const next: ReplicaSet = {
            ...base,
            metadata: { ...base.metadata, annotations: a.annotations },
            spec: { ...base.spec, replicas: a.replicas },
          }
          if (a.minReadySeconds !== undefined) next.spec!.minReadySeconds = a.minReadySeconds
          const rs = await this.client.update<ReplicaSet>(RESOURCES.replicasets, ns, next)
          seen.set(a.name, rs)
          break
        }
        case 'deleteReplicaSet':
          try {
            await this.client.delete(RESOURCES.replicasets, ns, a.name, { preconditions: { uid: a.uid } })
          } catch (err) {
            if (!isNotFound(err)) throw err
          }
          break
        case 'patchDeploymentAnnotations':
          latest = await this.client.patch<Deployment>(RESOURCES.deployments, ns, name, { metadata: { annotations: a.annotations } }, 'merge')
          break
        case 'updateDeploymentStatus':
          latest = await this.client.update<Deployment>(RESOURCES.deployments, ns, { ...latest, status: a.status }, 'status')
          break
        case 'event':
          this.recorder.event(d, a.eventType, a.reason, a.message)
          break
      }
      count++
    }
    return { count, requeue: false }
  }

  private async resolveCollision(d: Deployment, wanted: ReplicaSet): Promise<void> {
    const ns = d.metadata.namespace
    const existing = await this.client.get<ReplicaSet>(RESOURCES.replicasets, ns, wanted.metadata.name ?? '')
    if (controllerRefOf(existing)?.uid === d.metadata.uid && equalIgnoreHash(existing.spec?.template, d.spec?.template)) {
      return // ours, not in the cache yet: its ADDED event brings us back
    }
    const collisionCount = (d.status?.collisionCount ?? 0) + 1
    this.logger.warn('pod-template hash collision', { deployment: keyOf(d), replicaSet: wanted.metadata.name, collisionCount })
    await this.client.update(RESOURCES.deployments, ns, { ...d, status: { ...d.status, collisionCount } }, 'status')
  }
}

function summarize(actions: DeploymentAction[]): string {
  const counts = new Map<string, number>()
  for (const a of actions) counts.set(a.type, (counts.get(a.type) ?? 0) + 1)
  return [...counts].map(([k, v]) => `${k}=${v}`).join(' ') || 'none'
}
