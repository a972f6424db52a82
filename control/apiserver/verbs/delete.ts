// DELETE of one object, and of a collection (genericregistry.Store.Delete).
//
// How a delete goes, as in Kubernetes:
// 1. Preconditions (uid, resourceVersion) must hold: 409 otherwise.
// 2. Graceful deletion (pods): a pod bound to a node with a grace period > 0
//    gets deletionTimestamp = now + grace and deletionGracePeriodSeconds and
//    stays; a later delete may only shorten the period, and one with 0 (the
//    node agent's, once the processes are gone) removes it.
// 3. Garbage-collection finalizers from propagationPolicy: Orphan adds
//    `orphan`, Foreground adds `foregroundDeletion`, Background (explicit)
//    removes both; the garbage collector acts on them and removes them.
// 4. An object with finalizers (metadata.finalizers, or a Namespace's
//    spec.finalizers) is only marked: deletionTimestamp now, grace 0. It is
//    removed by the update that takes away its last finalizer.
// 5. Otherwise it is removed from the store.
// The answer is the object while it still exists; once removed, the object
// for kinds that return it (pods, services, namespaces) or a Success Status.

import type { FieldSelector } from '../../api/field-selector.ts'
import { fieldSelectorMatchesObject } from '../../api/field-selector.ts'
import type { LabelSelector } from '../../api/label-selector.ts'
import { jsonEqual } from '../../api/merge-patch.ts'
import { conflict, isNotFound, notFound } from '../../api/status-error.ts'
import type { DeleteOptions, KubeObject } from '../../client/api-client.ts'
import type { StoreObject, StoredObject } from '../../store/store.ts'
import { ConflictError, NotFoundError } from '../../store/store.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import { groupResource } from '../resource-definition.ts'
import { listPrefix, objectStorageKey } from '../storage-keys.ts'
import type { HandlerCore } from './core.ts'
import { formatTime, storeFailure, waitForRevision } from './core.ts'

export const FINALIZER_ORPHAN = 'orphan'
export const FINALIZER_FOREGROUND = 'foregroundDeletion'

export interface DeleteResult {
  /** The object as it stands (still there) or as it was when removed. */
  object: StoredObject
  /** Removed from the store by this request. */
  deleted: boolean
}

const MAX_ATTEMPTS = 64

/** Kubernetes names the resource by its Kind in precondition conflicts. */
function preconditionConflict(def: ResourceDefinition, name: string, message: string): Error {
  return conflict({ resource: def.kind, group: def.group }, name, message)
}

function checkPreconditions(def: ResourceDefinition, current: KubeObject, options: DeleteOptions): void {
  const name = current.metadata.name ?? ''
  const pre = options.preconditions
  if (pre?.uid !== undefined && pre.uid !== current.metadata.uid) {
    throw preconditionConflict(
      def,
      name,
      `the UID in the precondition (${pre.uid}) does not match the UID in record (${current.metadata.uid ?? ''}). The object might have been deleted and then recreated`,
    )
  }
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) {
    throw preconditionConflict(
      def,
      name,
      `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${current.metadata.resourceVersion ?? ''}). The object might have been modified`,
    )
  }
}

/** deletionFinalizersForGarbageCollection: the finalizers after applying the propagation policy. */
function gcFinalizers(finalizers: readonly string[], options: DeleteOptions): string[] {
  const policy = options.propagationPolicy
  let orphan = finalizers.includes(FINALIZER_ORPHAN)
  let foreground = finalizers.includes(FINALIZER_FOREGROUND) && !orphan
  if (policy === 'Orphan') [orphan, foreground] = [true, false]
  else if (policy === 'Foreground') [orphan, foreground] = [false, true]
  else if (policy === 'Background') [orphan, foreground] = [false, false]
  const out = finalizers.filter(f => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND)
  if (orphan) out.push(FINALIZER_ORPHAN)
  if (foreground) out.push(FINALIZER_FOREGROUND)
  return out
}

const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000)

type Plan =
  | { kind: 'pending' } // graceful deletion already under way: nothing to do
  | { kind: 'delete' } // remove now
  | { kind: 'update'; next: KubeObject; thenDelete: boolean }

/** rest.BeforeDelete plus updateForGracefulDeletionAndFinalizers: what this delete does to `current`. */
function plan(def: ResourceDefinition, current: StoredObject, options: DeleteOptions, now: Date): Plan {
  const next = structuredClone(current) as KubeObject
  const meta = next.metadata
  let requested = options.gracePeriodSeconds
  if (requested !== undefined && requested < 0) requested = 1
  let graceful = false
  if (def.hooks.gracePeriod !== undefined) {
    if (meta.deletionTimestamp !== undefined) {
      const existing = meta.deletionGracePeriodSeconds
      if (existing !== undefined && existing !== 0) {
        if (requested === undefined || requested >= existing) return { kind: 'pending' }
        // Only a shorter grace period may be given.
        const start = addSeconds(new Date(meta.deletionTimestamp), -existing)
        meta.deletionTimestamp = formatTime(addSeconds(start, requested))
        meta.deletionGracePeriodSeconds = requested
        graceful = true
      }
    } else {
      const period = def.hooks.gracePeriod(current, requested)
      meta.deletionTimestamp = formatTime(addSeconds(now, period))
      meta.deletionGracePeriodSeconds = period
      if ((meta.generation ?? 0) > 0) meta.generation = (meta.generation ?? 0) + 1
      graceful = true
    }
  }
  const before = (current as KubeObject).metadata.finalizers ?? []
  const finalizers = gcFinalizers(before, options)
  const finalizersChanged = finalizers.length !== before.length || finalizers.some(f => !before.includes(f))
  if (finalizersChanged) {
    if (finalizers.length > 0) meta.finalizers = finalizers
    else delete meta.finalizers
  }
  const pendingFinalizers = finalizers.length > 0 || def.hooks.hasSpecFinalizers?.(next) === true
  if (!graceful && !pendingFinalizers && !finalizersChanged) return { kind: 'delete' }
  if (!graceful) {
    if (!pendingFinalizers) return { kind: 'delete' }
    // markAsDeleting
    if (meta.deletionTimestamp === undefined) {
      if ((meta.generation ?? 0) > 0) meta.generation = (meta.generation ?? 0) + 1
      meta.deletionTimestamp = formatTime(now)
    }
    meta.deletionGracePeriodSeconds = 0
    def.hooks.markDeleting?.(next)
    return { kind: 'update', next, thenDelete: false }
  }
  def.hooks.markDeleting?.(next)
  return { kind: 'update', next, thenDelete: !pendingFinalizers && (meta.deletionGracePeriodSeconds ?? 0) === 0 }
}

export async function deleteObject(
  core: HandlerCore,
  def: ResourceDefinition,
  namespace: string | undefined,
  name: string,
  options: DeleteOptions,
  dryRun = false,
): Promise<DeleteResult> {
  const key = objectStorageKey(def, namespace, name)
  const store = core.store
  return await core.serialize(def, async () => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await store.get(key)
      if (current === undefined) throw notFound(groupResource(def), name)
      checkPreconditions(def, current, options)
      def.hooks.beforeDelete?.(current)
      const step = plan(def, current, options, core.now())
      if (step.kind === 'pending') return { object: current, deleted: false }
      try {
        let expectedRevision = Number(current.metadata.resourceVersion)
        if (step.kind === 'update') {
          step.next.metadata.resourceVersion = current.metadata.resourceVersion
          if (!step.thenDelete && jsonEqual(step.next, current)) return { object: current, deleted: false }
          if (dryRun) return { object: step.next as StoredObject, deleted: step.thenDelete }
          const updated = await store.update(key, step.next as StoreObject, { expectedRevision })
          if (!step.thenDelete) return { object: updated, deleted: false }
          expectedRevision = Number(updated.metadata.resourceVersion)
        } else if (dryRun) {
          return { object: current, deleted: true }
        }
        return { object: await store.delete(key, { expectedRevision }), deleted: true }
      } catch (err) {
        if (err instanceof ConflictError) {
          await waitForRevision(core.store, key, err.actualRevision)
          continue
        }
        if (err instanceof NotFoundError) throw notFound(groupResource(def), name)
        throw storeFailure(err, def, name)
      }
    }
    throw conflict(groupResource(def), name)
  })
}

/** DELETE on a collection: each selected object is deleted as above; the answer lists what was selected. */
export async function deleteCollection(
  core: HandlerCore,
  def: ResourceDefinition,
  namespace: string | undefined,
  selectors: { labelSelector: LabelSelector; fieldSelector: FieldSelector },
  options: DeleteOptions,
  dryRun = false,
): Promise<StoredObject[]> {
  const listed = await core.store.list(listPrefix(def, namespace))
  const selected = listed.items.filter(
    item =>
      selectors.labelSelector.matches(item.metadata.labels as Record<string, string> | undefined) &&
      fieldSelectorMatchesObject(selectors.fieldSelector, def.kind, item),
  )
  const out: StoredObject[] = []
  for (const item of selected) {
    try {
      const result = await deleteObject(core, def, item.metadata.namespace as string | undefined, String(item.metadata.name), options, dryRun)
      out.push(result.object)
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }
  return out
}
