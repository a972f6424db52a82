// Read-modify-write of one object with optimistic concurrency
// (storage.GuaranteedUpdate): read the stored object, compute its successor,
// write it conditioned on the revision that was read, and start over when
// another writer got there first. A successor equal to the stored object is
// not written (no new resourceVersion, no watch event), and one that ends the
// object's life (deleting, no finalizers left, grace period over) deletes it.
//
// Why retry here: a PUT without resourceVersion, a patch, a status write by
// the node agent, all mean "apply this to whatever is current"; only a
// client-supplied resourceVersion (checked inside `compute`) turns a race into
// a 409 for the client.

import { jsonEqual } from '../../api/merge-patch.ts'
import { conflict, notFound } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import type { StoreObject, StoredObject } from '../../store/store.ts'
import { ConflictError, NotFoundError } from '../../store/store.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import { groupResource } from '../resource-definition.ts'
import { objectStorageKey } from '../storage-keys.ts'
import type { HandlerCore } from './core.ts'
import { storeFailure, waitForRevision } from './core.ts'
import { deletesOnUpdate } from './prepare.ts'

const MAX_ATTEMPTS = 64

export interface UpdateResult {
  object: StoredObject
  /** The update removed the object (last finalizer gone while deleting). */
  deleted: boolean
}

/**
 * Updates namespace/name with `compute(current)`: its result (a private
 * object) replaces current, or undefined leaves it as it is. Runs under the
 * kind's write lock when the kind serializes writes.
 */
export async function guaranteedUpdate(
  core: HandlerCore,
  def: ResourceDefinition,
  namespace: string | undefined,
  name: string,
  compute: (current: StoredObject) => Promise<KubeObject | undefined> | KubeObject | undefined,
  options: { dryRun?: boolean } = {},
): Promise<UpdateResult> {
  const key = objectStorageKey(def, namespace, name)
  return await core.serialize(def, async () => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await core.store.get(key)
      if (current === undefined) throw notFound(groupResource(def), name)
      const next = await compute(current)
      if (next === undefined) return { object: current, deleted: false }
      next.metadata.resourceVersion = current.metadata.resourceVersion
      if (jsonEqual(next, current)) return { object: current, deleted: false }
      if (options.dryRun === true) return { object: next as StoredObject, deleted: deletesOnUpdate(def, next) }
      const expectedRevision = Number(current.metadata.resourceVersion)
      try {
        if (deletesOnUpdate(def, next)) {
          return { object: await core.store.delete(key, { expectedRevision }), deleted: true }
        }
        return { object: await core.store.update(key, next as StoreObject, { expectedRevision }), deleted: false }
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
