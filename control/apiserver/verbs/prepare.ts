// Turning a client's object into the object to store, for create and for
// update (main resource or status): system metadata, generation, status
// carry-over, defaulting, the kind's hooks and validation.
//
// Why as Kubernetes does it (rest.BeforeCreate / BeforeUpdate):
// - create: uid and creationTimestamp are the server's, a generateName gets a
//   random 5-character suffix, status is whatever the kind says it starts as.
// - update of the main resource: status is carried over from the stored
//   object (for kinds with a status subresource), generation grows only when
//   spec changes, a stale metadata.resourceVersion is a Conflict and an empty
//   one means "unconditional".
// - update of /status: only status is taken from the client.

import { cloneJson, jsonEqual } from '../../api/merge-patch.ts'
import { badRequest, conflict, fieldForbidden, internalError, invalid } from '../../api/status-error.ts'
import type { KubeObject, ObjectMeta } from '../../client/api-client.ts'
import { isRecord } from '../kinds/json-fields.ts'
import type { JsonRecord } from '../kinds/json-fields.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import { groupResource, groupVersion } from '../resource-definition.ts'
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/object-meta.ts'
import { formatTime } from './core.ts'

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
const MAX_GENERATE_NAME_BASE = 63 - 5

/** generateName plus 5 random characters (names.SimpleNameGenerator). */
export function generateName(base: string): string {
  let suffix = ''
  for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)]
  return base.slice(0, MAX_GENERATE_NAME_BASE) + suffix
}

const META_ORDER: ReadonlyArray<keyof ObjectMeta | 'selfLink'> = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
]

/** Kubernetes' field order: kind, apiVersion, metadata (its own order), then the rest. */
export function normalizeOrder(object: KubeObject): KubeObject {
  const meta: JsonRecord = {}
  const source = object.metadata as JsonRecord
  for (const key of META_ORDER) if (source[key] !== undefined) meta[key] = source[key]
  for (const [key, value] of Object.entries(source)) if (!(key in meta) && value !== undefined) meta[key] = value
  const out: KubeObject = { kind: object.kind, apiVersion: object.apiVersion, metadata: meta as ObjectMeta }
  for (const [key, value] of Object.entries(object)) {
    if (key !== 'kind' && key !== 'apiVersion' && key !== 'metadata' && value !== undefined) out[key] = value
  }
  return out
}

function checkKind(def: ResourceDefinition, body: JsonRecord): void {
  const gv = groupVersion(def)
  if (body.apiVersion !== undefined && body.apiVersion !== '' && body.apiVersion !== gv) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${gv})`)
  }
  if (body.kind !== undefined && body.kind !== '' && body.kind !== def.kind) {
    throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${def.kind})`)
  }
}

/** A private, mutable copy of a request body that must be an object of `def`'s kind. */
function copyBody(def: ResourceDefinition, body: unknown): KubeObject {
  if (!isRecord(body)) throw badRequest(`the body of the request must be a ${def.kind} object`)
  checkKind(def, body)
  let copy: JsonRecord
  try {
    copy = cloneJson(body) as JsonRecord
  } catch (err) {
    throw badRequest((err as Error).message)
  }
  if (copy.metadata === undefined || copy.metadata === null) copy.metadata = {}
  if (!isRecord(copy.metadata)) throw badRequest('metadata must be an object')
  return copy as KubeObject
}

function checkNamespace(def: ResourceDefinition, meta: ObjectMeta, namespace: string | undefined): void {
  if (!def.namespaced) {
    delete meta.namespace
    return
  }
  if (meta.namespace && namespace && meta.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
  }
  if (namespace) meta.namespace = namespace
}

function validationFailure(def: ResourceDefinition, object: KubeObject, errs: ReturnType<typeof validateObjectMeta>): void {
  if (errs.length > 0) throw invalid({ kind: def.kind, group: def.group }, object.metadata.name ?? '', errs)
}

/** rest.BeforeCreate: the object to store for a create in `namespace`. */
export function prepareCreate(def: ResourceDefinition, body: unknown, namespace: string | undefined, now: Date): KubeObject {
  const object = copyBody(def, body)
  const meta = object.metadata
  if (meta.resourceVersion) throw internalError('resourceVersion should not be set on objects to be created')
  checkNamespace(def, meta, namespace)
  object.apiVersion = groupVersion(def)
  object.kind = def.kind
  for (const key of ['uid', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'managedFields']) {
    delete (meta as JsonRecord)[key]
  }
  if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName)
  // Before the kind's hooks: a Job's generated selector is made from its uid.
  meta.uid = crypto.randomUUID()
  def.hooks.defaults?.(object)
  def.hooks.prepareForCreate?.(object)
  meta.resourceVersion = '' // keeps its place in the field order; the store fills it in
  meta.creationTimestamp = formatTime(now)
  if (def.tracksGeneration) meta.generation = 1
  validationFailure(def, object, [...validateObjectMeta(object, def), ...(def.hooks.validate?.(object) ?? [])])
  return normalizeOrder(object)
}

/** The name and namespace the URL addressed. */
export interface Target {
  namespace: string | undefined
  name: string
}

function checkTarget(def: ResourceDefinition, meta: ObjectMeta, target: Target): void {
  if (meta.name && meta.name !== target.name) {
    throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${target.name})`)
  }
  meta.name = target.name
  checkNamespace(def, meta, target.namespace)
}

/** The client's resourceVersion, if any, must be the stored one (optimistic concurrency). */
export function checkResourceVersion(def: ResourceDefinition, candidate: KubeObject, current: KubeObject): void {
  const wanted = candidate.metadata.resourceVersion
  if (wanted && wanted !== current.metadata.resourceVersion) throw conflict(groupResource(def), current.metadata.name ?? '')
}

/** rest.BeforeUpdate for the main resource: `body` replaces `current` except for what the server owns. */
export function prepareUpdate(def: ResourceDefinition, body: unknown, current: KubeObject, target: Target): KubeObject {
  const object = copyBody(def, body)
  const meta = object.metadata
  checkTarget(def, meta, target)
  checkResourceVersion(def, object, current)
  const before = current.metadata
  object.apiVersion = groupVersion(def)
  object.kind = def.kind
  if (!meta.uid) meta.uid = before.uid
  meta.resourceVersion = before.resourceVersion
  meta.creationTimestamp = before.creationTimestamp
  for (const key of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
    if (before[key] === undefined) delete meta[key]
    else (meta as JsonRecord)[key] = before[key]
  }
  for (const key of ['selfLink', 'managedFields']) delete (meta as JsonRecord)[key]
  if (def.subresources.status) {
    if (current.status === undefined) delete object.status
    else object.status = structuredClone(current.status)
  }
  def.hooks.defaults?.(object)
  if (def.tracksGeneration && !jsonEqual(object.spec, current.spec)) meta.generation = (before.generation ?? 0) + 1
  def.hooks.prepareForUpdate?.(object, current)
  const errs = [
    ...validateObjectMeta(object, def),
    ...(def.hooks.validate?.(object) ?? []),
    ...validateObjectMetaUpdate(object, current),
    ...(def.hooks.validateUpdate?.(object, current) ?? []),
  ]
  if (before.deletionTimestamp !== undefined) {
    const added = (meta.finalizers ?? []).filter(f => !(before.finalizers ?? []).includes(f))
    if (added.length > 0) {
      errs.push(fieldForbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`))
    }
  }
  validationFailure(def, object, errs)
  return normalizeOrder(object)
}

/** The status subresource's update: `current` with the status of `body`, nothing else. */
export function prepareStatusUpdate(def: ResourceDefinition, body: unknown, current: KubeObject, target: Target): KubeObject {
  const candidate = copyBody(def, body)
  checkTarget(def, candidate.metadata, target)
  checkResourceVersion(def, candidate, current)
  const object = structuredClone(current) as KubeObject
  if (candidate.status === undefined) delete object.status
  else object.status = candidate.status
  def.hooks.defaults?.(object)
  return object
}

/** After this update the object is gone: being deleted, no finalizer left, grace period over. */
export function deletesOnUpdate(def: ResourceDefinition, object: KubeObject): boolean {
  const meta = object.metadata
  if (meta.deletionTimestamp === undefined) return false
  if ((meta.finalizers?.length ?? 0) > 0 || def.hooks.hasSpecFinalizers?.(object) === true) return false
  return (meta.deletionGracePeriodSeconds ?? 0) === 0
}
