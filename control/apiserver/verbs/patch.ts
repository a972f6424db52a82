// PATCH of an object or of its status: the patch applies to the whole stored
// object, then the result goes through the same update path as a PUT (for
// /status only the patched status is kept). A patch that sets
// metadata.resourceVersion makes it conditional (409 when stale); otherwise it
// applies to whatever is current, retried on write conflicts.

import type { KubeObject, PatchType } from '../../client/api-client.ts'
import { applyPatch } from '../patch/apply-patch.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import type { HandlerCore } from './core.ts'
import { admissionContext } from './create.ts'
import { guaranteedUpdate } from './guaranteed-update.ts'
import type { UpdateResult } from './guaranteed-update.ts'
import { prepareStatusUpdate, prepareUpdate } from './prepare.ts'

export async function patchObject(
  core: HandlerCore,
  def: ResourceDefinition,
  namespace: string | undefined,
  name: string,
  type: PatchType,
  patch: unknown,
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
      const patched = applyPatch(type, current, patch)
      if (subresource === 'status') return prepareStatusUpdate(def, patched, current, target)
      const next = prepareUpdate(def, patched, current, target)
      await def.hooks.admit?.(next, current as KubeObject, admissionContext(core, def))
      return next
    },
    options,
  )
}
