// GET of one object and of a list (optionally across all namespaces),
// filtered by label and field selectors.
//
// Lists are read from the store, not the watch cache: a list without
// resourceVersion must be at least as new as every write that finished
// before it (kube-apiserver's "consistent read"), and the store's revision
// is the resourceVersion a following watch resumes from.

import { fieldSelectorMatchesObject } from '../../api/field-selector.ts'
import { notFound } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import type { StoredObject } from '../../store/store.ts'
import type { ListOptions } from '../request.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import { groupResource, groupVersion } from '../resource-definition.ts'
import { listPrefix, objectStorageKey } from '../storage-keys.ts'
import type { HandlerCore } from './core.ts'
import { storeFailure } from './core.ts'

export async function getObject(core: HandlerCore, def: ResourceDefinition, namespace: string | undefined, name: string): Promise<StoredObject> {
  let object: StoredObject | undefined
  try {
    object = name === '' ? undefined : await core.store.get(objectStorageKey(def, namespace, name))
  } catch (err) {
    throw storeFailure(err, def, name)
  }
  if (object === undefined) throw notFound(groupResource(def), name)
  return object
}

/** Label and field selectors as one predicate. */
export function selectorMatcher(def: ResourceDefinition, options: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>): ((object: KubeObject) => boolean) | undefined {
  const { labelSelector, fieldSelector } = options
  const labels = !labelSelector.empty()
  const fields = !fieldSelector.empty()
  if (!labels && !fields) return undefined
  return object =>
    (!labels || labelSelector.matches(object.metadata.labels)) && (!fields || fieldSelectorMatchesObject(fieldSelector, def.kind, object))
}

export interface ListBody {
  kind: string
  apiVersion: string
  metadata: { resourceVersion: string }
  items: StoredObject[]
}

export async function listObjects(
  core: HandlerCore,
  def: ResourceDefinition,
  namespace: string | undefined,
  options: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>,
): Promise<ListBody> {
  let listed
  try {
    listed = await core.store.list(listPrefix(def, namespace))
  } catch (err) {
    throw storeFailure(err, def, '')
  }
  const matches = selectorMatcher(def, options)
  const items = matches === undefined ? listed.items : listed.items.filter(item => matches(item as KubeObject))
  return { kind: def.listKind, apiVersion: groupVersion(def), metadata: { resourceVersion: String(listed.revision) }, items }
}
