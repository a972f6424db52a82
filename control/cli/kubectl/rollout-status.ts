// kubectl's status viewers (DeploymentStatusViewer, StatefulSetStatusViewer,
// DaemonSetStatusViewer), pure: from an object's spec and status, the line
// `rollout status` prints and whether the rollout is complete.
//
// The order of the checks is kubectl's: nothing counts until the controller
// has observed the current generation; then new replicas being created, old
// ones still terminating, new ones not yet available; a Progressing condition
// with ProgressDeadlineExceeded is an error.

import type { KubeObject } from '../../client/api-client.ts'
import type { Deployment } from '../../controllers/objects.ts'
import { revisionOf } from '../../controllers/deployment-util.ts'
import { KubectlError } from './errors.ts'

export interface RolloutState {
  message: string
  done: boolean
}

/** Throws KubectlError for a rollout that cannot finish (deadline exceeded, wrong revision). */
export function deploymentRolloutStatus(d: Deployment, revision = 0): RolloutState {
  const name = d.metadata.name ?? ''
  if (revision > 0) {
    const current = revisionOf(d)
    if (current === undefined) throw new KubectlError('EINVALID', `cannot get the revision of deployment "${name}"`)
    if (current !== revision) throw new KubectlError('EINVALID', `desired revision (${revision}) is different from the running revision (${current})`)
  }
  const status = d.status ?? {}
  if ((d.metadata.generation ?? 0) <= (status.observedGeneration ?? 0)) {
    const progressing = status.conditions?.find(c => c.type === 'Progressing')
    if (progressing?.reason === 'ProgressDeadlineExceeded') throw new KubectlError('EINVALID', `deployment "${name}" exceeded its progress deadline`)
    const desired = d.spec?.replicas
    const updated = status.updatedReplicas ?? 0
    const total = status.replicas ?? 0
    const available = status.availableReplicas ?? 0
    if (desired !== undefined && updated < desired) {
      return { message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${desired} new replicas have been updated...`, done: false }
    }
    if (total > updated) {
      return { message: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...`, done: false }
    }
    if (available < updated) {
      return { message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`, done: false }
    }
    return { message: `deployment "${name}" successfully rolled out`, done: true }
  }
  return { message: 'Waiting for deployment spec update to be observed...', done: false }
}

type Json = Record<string, unknown>
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {})
const count = (v: unknown): number => (typeof v === 'number' ? v : 0)

function requireRollingUpdate(strategy: unknown): void {
  if (obj(strategy).type !== 'RollingUpdate') throw new KubectlError('EINVALID', 'rollout status is only available for RollingUpdate strategy type')
}

/**
 * kubectl's StatefulSetStatusViewer. A RollingUpdate strategy with a
 * rollingUpdate block (apps/v1 always defaults one, partition 0) reports the
 * partitioned roll out; only without one does it compare the revisions.
 */
export function statefulSetRolloutStatus(set: KubeObject): RolloutState {
  const spec = obj(set.spec)
  const status = obj(set.status)
  requireRollingUpdate(spec.updateStrategy)
  const observed = count(status.observedGeneration)
  if (observed === 0 || (set.metadata.generation ?? 0) > observed) return { message: 'Waiting for statefulset spec update to be observed...', done: false }
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : undefined
  const ready = count(status.readyReplicas)
  if (replicas !== undefined && ready < replicas) return { message: `Waiting for ${replicas - ready} pods to be ready...`, done: false }
  const updated = count(status.updatedReplicas)
  const rollingUpdate = obj(spec.updateStrategy).rollingUpdate
  if (rollingUpdate !== undefined && rollingUpdate !== null) {
    const partition = obj(rollingUpdate).partition
    if (replicas !== undefined && typeof partition === 'number' && updated < replicas - partition) {
      return { message: `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`, done: false }
    }
    return { message: `partitioned roll out complete: ${updated} new pods have been updated...`, done: true }
  }
  if (status.updateRevision !== status.currentRevision) {
    return { message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${String(status.updateRevision ?? '')}...`, done: false }
  }
  return { message: `statefulset rolling update complete ${count(status.currentReplicas)} pods at revision ${String(status.currentRevision ?? '')}...`, done: true }
}

/** kubectl's DaemonSetStatusViewer. */
export function daemonSetRolloutStatus(set: KubeObject): RolloutState {
  const name = set.metadata.name ?? ''
  const spec = obj(set.spec)
  const status = obj(set.status)
  requireRollingUpdate(spec.updateStrategy)
  if ((set.metadata.generation ?? 0) > count(status.observedGeneration)) return { message: 'Waiting for daemon set spec update to be observed...', done: false }
  const desired = count(status.desiredNumberScheduled)
  const updated = count(status.updatedNumberScheduled)
  const available = count(status.numberAvailable)
  if (updated < desired) return { message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`, done: false }
  if (available < desired) return { message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`, done: false }
  return { message: `daemon set "${name}" successfully rolled out`, done: true }
}
