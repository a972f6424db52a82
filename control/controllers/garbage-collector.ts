// The garbage collector's decision for one object, pure (Kubernetes'
// pkg/controller/garbagecollector: attemptToDeleteItem, orphanDependents,
// processDeletingDependentsItem), kept small.
//
// Owner references name owners by uid. For an object that is not being
// deleted, each owner is alive (exists with that uid), absent (gone, or a
// new object of the same name with another uid) or waiting for its
// dependents (being deleted in the foreground):
// - with at least one live owner, references to absent or waiting owners
//   are removed and the object stays;
// - with only waiting owners and dependents of its own, it is deleted in the
//   foreground too, so the wait propagates down;
// - otherwise it is garbage: deleted in the background (or with its own
//   orphan/foreground finalizer's policy).
// An object being deleted with the `orphan` finalizer first has its
// dependents' references to it removed, then loses the finalizer. With
// `foregroundDeletion`, its dependents are deleted (foreground if they have
// dependents themselves) and the finalizer goes once no dependent that
// blocks owner deletion (blockOwnerDeletion: true) is left.

import type { KubeObject, ResourceRef } from '../client/api-client.ts'

export const ORPHAN_FINALIZER = 'orphan'
export const FOREGROUND_FINALIZER = 'foregroundDeletion'

export type OwnerState = 'alive' | 'absent' | 'waitingForDependents'

export interface GcItem {
  resource: ResourceRef
  object: KubeObject
}

export interface GcDependent extends GcItem {
  /** The dependent is itself an owner of something. */
  hasDependents: boolean
}

export interface GcInput extends GcItem {
  /** The state of each owner, by uid; an owner missing here counts as alive. */
  owners: ReadonlyMap<string, OwnerState>
  /** Objects whose owner references name this object's uid. */
  dependents: readonly GcDependent[]
}

export type DeletionPolicy = 'Background' | 'Foreground' | 'Orphan'

export type GcAction =
  | { type: 'delete'; target: GcItem; policy: DeletionPolicy }
  | { type: 'removeOwnerReferences'; target: GcItem; ownerUids: string[] }
  | { type: 'removeFinalizer'; target: GcItem; finalizer: string }

const hasFinalizer = (o: KubeObject, f: string): boolean => (o.metadata.finalizers ?? []).includes(f)

/** What to do about one object. */
export function planGarbageCollection(input: GcInput): GcAction[] {
  const { object } = input
  const uid = object.metadata.uid ?? ''
  const self: GcItem = { resource: input.resource, object }

  if (object.metadata.deletionTimestamp) {
    if (hasFinalizer(object, ORPHAN_FINALIZER)) {
      const actions: GcAction[] = input.dependents.map(d => ({
        type: 'removeOwnerReferences',
        target: { resource: d.resource, object: d.object },
        ownerUids: [uid],
      }))
      actions.push({ type: 'removeFinalizer', target: self, finalizer: ORPHAN_FINALIZER })
      return actions
    }
    if (hasFinalizer(object, FOREGROUND_FINALIZER)) {
      const actions: GcAction[] = []
      for (const d of input.dependents) {
        if (d.object.metadata.deletionTimestamp) continue
        actions.push({ type: 'delete', target: { resource: d.resource, object: d.object }, policy: d.hasDependents ? 'Foreground' : 'Background' })
      }
      const blocking = input.dependents.filter(d =>
        (d.object.metadata.ownerReferences ?? []).some(r => r.uid === uid && r.blockOwnerDeletion === true),
      )
      if (blocking.length === 0) actions.push({ type: 'removeFinalizer', target: self, finalizer: FOREGROUND_FINALIZER })
      return actions
    }
    return []
  }

  const refs = object.metadata.ownerReferences ?? []
  if (refs.length === 0) return []
  const state = (u: string): OwnerState => input.owners.get(u) ?? 'alive'
  const solid = refs.filter(r => state(r.uid) === 'alive')
  const dangling = refs.filter(r => state(r.uid) === 'absent')
  const waiting = refs.filter(r => state(r.uid) === 'waitingForDependents')
  if (solid.length > 0) {
    if (dangling.length === 0 && waiting.length === 0) return []
    return [{ type: 'removeOwnerReferences', target: self, ownerUids: [...dangling, ...waiting].map(r => r.uid) }]
  }
  if (waiting.length > 0 && input.dependents.length > 0) return [{ type: 'delete', target: self, policy: 'Foreground' }]
  let policy: DeletionPolicy = 'Background'
  if (hasFinalizer(object, ORPHAN_FINALIZER)) policy = 'Orphan'
  else if (hasFinalizer(object, FOREGROUND_FINALIZER)) policy = 'Foreground'
  return [{ type: 'delete', target: self, policy }]
}
