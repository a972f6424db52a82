// POST: create an object (rest.BeforeCreate, admission, store.Create).
//
// Namespaced objects need their namespace to exist and not be terminating,
// the two checks of Kubernetes' NamespaceLifecycle admission, with its texts:
// `namespaces "x" not found` and `unable to create new content in namespace x
// because it is being terminated`.

import { alreadyExists, forbidden, notFound } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import type { StoreObject, StoredObject } from '../../store/store.ts'
import { AlreadyExistsError } from '../../store/store.ts'
import { isRecord } from '../kinds/json-fields.ts'
import { namespaces } from '../kinds/namespace.ts'
import type { AdmissionContext, ResourceDefinition } from '../resource-definition.ts'
import { groupResource } from '../resource-definition.ts'
import { objectStorageKey, resourcePrefix } from '../storage-keys.ts'
import type { HandlerCore } from './core.ts'
import { storeFailure } from './core.ts'
import { prepareCreate } from './prepare.ts'

/** Attempts when a generated name is already taken (5 random characters rarely collide twice). */
const GENERATE_ATTEMPTS = 8

export function admissionContext(core: HandlerCore, def: ResourceDefinition): AdmissionContext {
  return {
    store: core.store,
    settings: core.settings,
    now: core.now(),
    listAll: async () => (await core.store.list(resourcePrefix(def))).items as KubeObject[],
  }
}

/** NamespaceLifecycle: the namespace must exist and must not be terminating. */
export async function checkNamespaceAccepts(core: HandlerCore, def: ResourceDefinition, object: KubeObject): Promise<void> {
  if (!def.namespaced) return
  const namespace = object.metadata.namespace ?? ''
  const stored = await core.store.get(objectStorageKey(namespaces, undefined, namespace))
  if (stored === undefined) throw notFound('namespaces', namespace)
  if (stored.metadata.deletionTimestamp !== undefined || (isRecord(stored.status) && stored.status.phase === 'Terminating')) {
    throw forbidden(
      groupResource(def),
      object.metadata.name ?? '',
      `unable to create new content in namespace ${namespace} because it is being terminated`,
    )
  }
}

export async function createObject(
  core: HandlerCore,
  def: ResourceDefinition,
  namespace: string | undefined,
  body: unknown,
  options: { dryRun?: boolean } = {},
): Promise<StoredObject> {
  const bodyNamespace = isRecord(body) && isRecord(body.metadata) && typeof body.metadata.namespace === 'string' ? body.metadata.namespace : undefined
  const targetNamespace = def.namespaced ? (namespace || bodyNamespace) : undefined
  for (let attempt = 1; ; attempt++) {
    const object = prepareCreate(def, body, targetNamespace, core.now())
    const generated = isRecord(body) && isRecord(body.metadata) && !body.metadata.name
    await checkNamespaceAccepts(core, def, object)
    const name = object.metadata.name ?? ''
    const key = objectStorageKey(def, object.metadata.namespace, name)
    try {
      return await core.serialize(def, async () => {
        await def.hooks.admit?.(object, undefined, admissionContext(core, def))
        if (options.dryRun === true) return object as StoredObject
        return await core.store.create(key, object as StoreObject)
      })
    } catch (err) {
      if (err instanceof AlreadyExistsError) {
        if (generated && attempt < GENERATE_ATTEMPTS) continue
        throw alreadyExists(groupResource(def), name)
      }
      throw storeFailure(err, def, name)
    }
  }
}
