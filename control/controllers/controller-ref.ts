// Adoption and release (Kubernetes' ControllerRefManager), as a pure decision
// plus the merge patches that carry it out.
//
// Why: a ReplicaSet owns exactly the pods that carry its controller
// reference; a Deployment the same for ReplicaSets. Orphans that match the
// selector are adopted, owned objects that stopped matching are released, and
// objects controlled by someone else are never touched. The patches carry the
// resourceVersion they were computed from, so a concurrent change of the
// owner references turns into a Conflict (and a requeue) instead of a lost
// update (merge patches replace arrays whole).

import type { KubeObject, OwnerReference } from '../client/api-client.ts'
import type { LabelSelector } from '../api/label-selector.ts'
import { controllerRefOf, isDeleting } from './objects.ts'

export interface ClaimResult<T extends KubeObject> {
  /** What the owner controls after the claim, adopted objects included. */
  owned: T[]
  /** Orphans to adopt (add the controller reference). */
  adopt: T[]
  /** Owned objects that no longer match (remove the reference). */
  release: T[]
}

/**
 * Sorts `objects` (same namespace as `owner`) into owned, to adopt and to
 * release, as ClaimObject does: an owner being deleted neither adopts nor
 * releases; an object being deleted is not adopted.
 */
export function claimObjects<T extends KubeObject>(
  owner: KubeObject,
  selector: LabelSelector,
  objects: readonly T[],
): ClaimResult<T> {
  const result: ClaimResult<T> = { owned: [], adopt: [], release: [] }
  const ownerUid = owner.metadata.uid
  const ownerDeleting = isDeleting(owner)
  for (const object of objects) {
    if ((object.metadata.namespace ?? '') !== (owner.metadata.namespace ?? '')) continue
    const matches = selector.matches(object.metadata.labels)
    const ref = controllerRefOf(object)
    if (ref) {
      if (ref.uid !== ownerUid) continue
      if (matches) result.owned.push(object)
      else if (!ownerDeleting) result.release.push(object)
      continue
    }
    if (ownerDeleting || !matches || isDeleting(object)) continue
    result.adopt.push(object)
    result.owned.push(object)
  }
  return result
}

/** The merge patch that adds `ref` to an object's owner references. */
export function adoptPatch(object: KubeObject, ref: OwnerReference): unknown {
  return {
    metadata: {
      resourceVersion: object.metadata.resourceVersion,
      ownerReferences: [...(object.metadata.ownerReferences ?? []), ref],
    },
  }
}

/** The merge patch that removes the references to `ownerUids`. */
export function removeOwnerRefsPatch(object: KubeObject, ownerUids: readonly string[]): unknown {
  const kept = (object.metadata.ownerReferences ?? []).filter(r => !ownerUids.includes(r.uid))
  return {
    metadata: {
      resourceVersion: object.metadata.resourceVersion,
      ownerReferences: kept.length > 0 ? kept : null,
    },
  }
}
