// PUT of an object or of its status subresource.
//
// The main resource: the body replaces the object, except what the server
// owns (uid, creationTimestamp, generation, deletion fields) and, for kinds
// with a status subresource, status. /status: only status is taken.
// metadata.resourceVersion in the body is a precondition (stale → 409 with
// Kubernetes' text); an empty one makes the update unconditional.

import type { KubeObject } from '../../client/api-client.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import type { HandlerCore } from './core.ts'
import { admissionContext } from './create.ts'
import { guaranteedUpdate } from './guaranteed-update.ts'
import type { UpdateResult } from './guaranteed-update.ts'
import { prepareStatusUpdate, prepareUpdate } from './prepare.ts'

export async function updateObject(
  core: HandlerCore,
  def: ResourceDefinition,
  namespace: string | undefined,
  name: string,
  body: unknown,
  subresource: 'status' | undefined,
  options: { dryRun?: boolean } = {},
): Promise<UpdateResult> {
  const target = { namespace, name }
  return await guaranteedUpdate(
    core,
    def,
    namespace,
    name,
    async current => {
      if (subresource === 'status') return prepareStatusUpdate(def, body, current, target)
      const next = prepareUpdate(def, body, current, target)
      await def.hooks.admit?.(next, current as KubeObject, admissionContext(core, def))
      return next
    },
    options,
  )
}
