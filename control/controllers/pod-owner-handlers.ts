// What the pod-owning loops (ReplicaSet, Job, DaemonSet) share: the pod
// informer's handlers, which resolve a pod's controller reference (or, for an
// orphan, the owners that could adopt it), tell the expectations what the
// cache shows and enqueue the owner; and the claim step of the worker, which
// adopts and releases the pods the plan names.
//
// What differs stays with each loop and is passed in: the owner kind, which
// owners select a pod (an unreadable selector selects nothing; a DaemonSet's
// empty selector selects nothing either) and which pod updates count.

import type { ApiClient, Informer, KubeObject, OwnerReference, ResourceRef } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isNotFound } from '../api/status-error.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import type { LabelSelectorObject } from '../api/label-selector.ts'
import { labelSelectorFromObject } from '../api/label-selector.ts'
import { sameVersion } from './controller.ts'
import { adoptPatch, removeOwnerRefsPatch } from './controller-ref.ts'
import type { Expectations } from './expectations.ts'
import type { Pod } from './objects.ts'
import { controllerRefOf, namespacedName } from './objects.ts'

/** The owner of `kind` in `owners` that `ref` (the object's controller reference) names, same uid. */
export function resolveControllerRef<T extends KubeObject>(
  owners: Informer<T>,
  kind: string,
  object: KubeObject,
  ref = controllerRefOf(object),
): T | undefined {
  if (!ref || ref.kind !== kind) return undefined
  const owner = owners.get(`${object.metadata.namespace ?? ''}/${ref.name}`)
  return owner && owner.metadata.uid === ref.uid ? owner : undefined
}

/** The owners in the object's namespace that `selects` says could adopt it. */
export function ownersSelecting<T extends KubeObject>(
  owners: Informer<T>,
  object: KubeObject,
  selects: (owner: T, object: KubeObject) => boolean,
): T[] {
  return owners.list().filter(owner => {
    if ((owner.metadata.namespace ?? '') !== (object.metadata.namespace ?? '')) return false
    return selects(owner, object)
  })
}

/** Whether the owner's spec.selector matches the object's labels; an unreadable selector matches nothing. */
export function specSelectorMatches(owner: { spec?: { selector?: LabelSelectorObject | null } }, object: KubeObject): boolean {
  try {
    return labelSelectorFromObject(owner.spec?.selector).matches(object.metadata.labels)
  } catch {
    return false
  }
}

export interface PodOwnerHandlersOptions<T extends KubeObject> {
  pods: Informer<Pod>
  owners: Informer<T>
  /** The controller reference kind of the owners (ReplicaSet, Job, DaemonSet). */
  kind: string
  keyOf: (owner: T) => string
  expectations: Expectations
  enqueue: (key: string) => void
  /** Whether an owner (same namespace as the pod) could adopt the orphan pod. */
  selects: (owner: T, pod: KubeObject) => boolean
  /**
   * How a pod update is read. 'labels' (ReplicaSet, DaemonSet, as
   * Kubernetes' updatePod): a pod being deleted whose labels changed also
   * counts as a deletion of its old version, and an orphan's possible
   * adopters are enqueued only when its labels or controller reference
   * changed. 'every' (Job): neither; every orphan update enqueues them.
   */
  updates: 'labels' | 'every'
}

/** Registers the pod informer's add, update and delete handlers for a pod-owning loop. */
export function handleOwnedPods<T extends KubeObject>(options: PodOwnerHandlersOptions<T>): void {
  const { pods, owners, kind, keyOf, expectations, enqueue, selects } = options
  const ownerOf = (pod: Pod, ref = controllerRefOf(pod)): T | undefined => resolveControllerRef(owners, kind, pod, ref)
  const enqueueAdopters = (pod: Pod): void => {
    for (const owner of ownersSelecting(owners, pod, selects)) enqueue(keyOf(owner))
  }

  const podDeleted = (pod: Pod): void => {
    const owner = ownerOf(pod)
    if (!owner) return
    expectations.deletionObserved(keyOf(owner), namespacedName(pod))
    enqueue(keyOf(owner))
  }

  const podAdded = (pod: Pod): void => {
    if (pod.metadata.deletionTimestamp) {
      podDeleted(pod)
      return
    }
    const ref = controllerRefOf(pod)
    if (ref) {
      const owner = ownerOf(pod, ref)
      if (!owner) return
      expectations.creationObserved(keyOf(owner))
      enqueue(keyOf(owner))
      return
    }
    enqueueAdopters(pod)
  }

  const podUpdated = (pod: Pod, old: Pod): void => {
    if (sameVersion(pod, old)) return
    const labelsMatter = options.updates === 'labels'
    const labelsChanged = labelsMatter && !jsonEqual(pod.metadata.labels ?? {}, old.metadata.labels ?? {})
    if (pod.metadata.deletionTimestamp) {
      podDeleted(pod)
      if (labelsChanged) podDeleted(old)
      return
    }
    const ref = controllerRefOf(pod)
    const oldRef = controllerRefOf(old)
    const refChanged = !jsonEqual(ref ?? null, oldRef ?? null)
    if (refChanged && oldRef) {
      const previous = ownerOf(old, oldRef)
      if (previous) enqueue(keyOf(previous))
    }
    if (ref) {
      const owner = ownerOf(pod, ref)
      if (owner) enqueue(keyOf(owner))
      return
    }
    if (!labelsMatter || labelsChanged || refChanged) enqueueAdopters(pod)
  }

  pods.on('add', podAdded)
  pods.on('update', podUpdated)
  pods.on('delete', podDeleted)
}

/**
 * An uncached read (canAdopt): the owner still exists with this uid and is
 * not being deleted.
 */
export async function ownerStillCurrent(client: ApiClient, resource: ResourceRef, owner: KubeObject): Promise<boolean> {
  const fresh = await client.get(resource, owner.metadata.namespace, owner.metadata.name ?? '')
  return fresh.metadata.uid === owner.metadata.uid && !fresh.metadata.deletionTimestamp
}

/**
 * The claim step: adopts `adopt` (after re-reading the owner from the API)
 * and releases `release`. False when the sync must start over: the owner
 * changed underneath, or a pod to adopt is gone (the counts assumed it). A
 * pod to release that is gone is fine.
 */
export async function adoptAndReleasePods(
  client: ApiClient,
  resource: ResourceRef,
  owner: KubeObject,
  ref: OwnerReference,
  adopt: readonly Pod[],
  release: readonly Pod[],
): Promise<boolean> {
  const ns = owner.metadata.namespace
  if (adopt.length > 0) {
    if (!(await ownerStillCurrent(client, resource, owner))) return false
    for (const pod of adopt) {
      try {
        await client.patch(RESOURCES.pods, ns, pod.metadata.name ?? '', adoptPatch(pod, ref), 'merge')
      } catch (err) {
        if (!isNotFound(err)) throw err
        return false
      }
    }
  }
  for (const pod of release) {
    try {
      await client.patch(RESOURCES.pods, ns, pod.metadata.name ?? '', removeOwnerRefsPatch(pod, [owner.metadata.uid ?? '']), 'merge')
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }
  return true
}
