// kubectl's DeploymentStatusViewer, pure: from a Deployment's spec and status,
// the line `rollout status` prints and whether the rollout is complete.
//
// The order of the checks is kubectl's: nothing counts until the controller
// has observed the current generation; then new replicas being created, old
// ones still terminating, new ones not yet available; a Progressing condition
// with ProgressDeadlineExceeded is an error.

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
