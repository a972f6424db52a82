// pods/binding: POST a Binding to assign a pod to a node, as kube-scheduler
// does. Sets spec.nodeName (only when unset) and the PodScheduled condition
// in one write; a pod already bound or being deleted is a Conflict, with
// Kubernetes' texts.

import { badRequest, conflict, fieldRequired, invalid } from '../../api/status-error.ts'
import type { Status } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { ensureRecord, isRecord, recordAt, stringAt } from '../kinds/json-fields.ts'
import type { JsonRecord } from '../kinds/json-fields.ts'
import type { ResourceDefinition } from '../resource-definition.ts'
import type { HandlerCore } from './core.ts'
import { formatTime } from './core.ts'
import { guaranteedUpdate } from './guaranteed-update.ts'

export async function bindPod(
  core: HandlerCore,
  def: ResourceDefinition,
  namespace: string | undefined,
  name: string,
  body: unknown,
): Promise<Status> {
  if (!isRecord(body)) throw badRequest('the body of the request must be a Binding object')
  const node = stringAt(recordAt(body, 'target'), 'name') ?? ''
  if (node === '') throw invalid('Binding', name, [fieldRequired('target.name', '')])
  const bindingResource = { resource: 'pods/binding', group: '' }
  await guaranteedUpdate(core, def, namespace, name, current => {
    const assigned = stringAt(current.spec, 'nodeName')
    if (assigned) throw conflict(bindingResource, name, `pod ${name} is already assigned to node ${JSON.stringify(assigned)}`)
    if (current.metadata.deletionTimestamp !== undefined) {
      throw conflict(bindingResource, name, `pod ${name} is being deleted, cannot be assigned to a host`)
    }
    const next = structuredClone(current) as KubeObject
    ensureRecord(next as JsonRecord, 'spec').nodeName = node
    const status = ensureRecord(next as JsonRecord, 'status')
    const conditions = Array.isArray(status.conditions) ? status.conditions.filter(c => !(isRecord(c) && c.type === 'PodScheduled')) : []
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: formatTime(core.now()) })
    status.conditions = conditions
    return next
  })
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }
}
