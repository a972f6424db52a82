// The scale subresource (autoscaling/v1 Scale) of Deployments and
// ReplicaSets: `kubectl scale`, the client's read/replace/patchNamespacedDeploymentScale.
//
// A Scale is a view: spec.replicas is the object's spec.replicas,
// status.replicas its status.replicas, status.selector its selector as text,
// metadata its name, namespace, uid, resourceVersion and creationTimestamp.
// Writing it changes spec.replicas only (so generation grows), with the same
// resourceVersion precondition as any update.

import { badRequest, fieldInvalid, invalid } from '../../api/status-error.ts'
import type { KubeObject, PatchType } from '../../client/api-client.ts'
import { ensureRecord, isRecord, numberAt, recordAt } from '../kinds/json-fields.ts'
import type { JsonRecord } from '../kinds/json-fields.ts'
import { applyPatch } from '../patch/apply-patch.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import type { HandlerCore } from './core.ts'
import { guaranteedUpdate } from './guaranteed-update.ts'
import { checkResourceVersion, prepareUpdate } from './prepare.ts'
import { getObject } from './read.ts'

export function scaleOf(def: ResourceDefinition, object: KubeObject): KubeObject {
  const meta = object.metadata
  const metadata: KubeObject['metadata'] = { name: meta.name }
  if (meta.namespace !== undefined) metadata.namespace = meta.namespace
  metadata.uid = meta.uid
  metadata.resourceVersion = meta.resourceVersion
  metadata.creationTimestamp = meta.creationTimestamp
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata,
    spec: { replicas: numberAt(object.spec, 'replicas') ?? 0 },
    status: { replicas: numberAt(object.status, 'replicas') ?? 0, selector: def.subresources.scale?.selector(object) ?? '' },
  }
}

export async function getScale(core: HandlerCore, def: ResourceDefinition, namespace: string | undefined, name: string): Promise<KubeObject> {
  return scaleOf(def, await getObject(core, def, namespace, name))
}

/** The object with the Scale's replicas, for the update path. */
function applyScale(def: ResourceDefinition, scale: unknown, current: KubeObject, name: string): KubeObject {
  if (!isRecord(scale)) throw badRequest('the body of the request must be a Scale object')
  if (scale.kind !== undefined && scale.kind !== 'Scale') {
    throw badRequest(`the kind in the data (${String(scale.kind)}) does not match the expected kind (Scale)`)
  }
  const meta = recordAt(scale, 'metadata') ?? {}
  if (typeof meta.name === 'string' && meta.name !== '' && meta.name !== name) {
    throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`)
  }
  const replicas = recordAt(scale, 'spec')?.replicas ?? 0
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw invalid({ kind: 'Scale', group: 'autoscaling' }, name, [fieldInvalid('spec.replicas', replicas, 'must be greater than or equal to 0')])
  }
  const rv = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined
  checkResourceVersion(def, { metadata: { resourceVersion: rv } }, current)
  const next = structuredClone(current) as KubeObject
  ensureRecord(next as JsonRecord, 'spec').replicas = replicas
  return next
}

export async function updateScale(
  core: HandlerCore,
  def: ResourceDefinition,
  namespace: string | undefined,
  name: string,
  body: unknown,
  options: { dryRun?: boolean } = {},
): Promise<KubeObject> {
  const result = await guaranteedUpdate(
    core,
    def,
    namespace,
    name,
    current => prepareUpdate(def, applyScale(def, body, current, name), current, { namespace, name }),
    options,
  )
  return scaleOf(def, result.object)
}

export async function patchScale(
  core: HandlerCore,
  def: ResourceDefinition,
  namespace: string | undefined,
  name: string,
  type: PatchType,
  patch: unknown,
  options: { dryRun?: boolean } = {},
): Promise<KubeObject> {
  const result = await guaranteedUpdate(
    core,
    def,
    namespace,
    name,
    current => {
      const patched = applyPatch(type, scaleOf(def, current), patch)
      return prepareUpdate(def, applyScale(def, patched, current, name), current, { namespace, name })
    },
    options,
  )
  return scaleOf(def, result.object)
}
