// Pods (core/v1): defaulting, validation, graceful deletion, status on create.
//
// Why graceful deletion lives here: a pod bound to a node is not removed by a
// DELETE; it gets metadata.deletionTimestamp and deletionGracePeriodSeconds,
// the node agent sees that, stops the processes (SIGTERM, then SIGKILL after
// the grace period) and only then deletes it for good with
// gracePeriodSeconds=0 — exactly the kubelet's part of the protocol.

import { jsonEqual } from '../../api/merge-patch.ts'
import { cpuMillis, memoryBytes } from '../../api/quantity.ts'
import { fieldForbidden } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { defineResource } from '../resource-definition.ts'
import { ensureRecord, isRecord, numberAt, recordAt, recordsAt, stringAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'
import { defaultPodSpec, validatePodSpec } from './pod-spec.ts'

const UPDATABLE_POD_SPEC_FIELDS =
  '`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,' +
  '`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'

/** DefaultTolerationSeconds admission: pods ride out a NotReady or unreachable node for 5 minutes (configurable). */
const defaultTolerations = (seconds: number) => [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds },
]

function spec(object: KubeObject): JsonRecord {
  return ensureRecord(object as JsonRecord, 'spec')
}

/** If limits are given but requests are not, requests default to limits (pods only). */
function defaultRequestsToLimits(podSpec: JsonRecord): void {
  for (const key of ['containers', 'initContainers']) {
    for (const [container] of recordsAt(podSpec, key)) {
      const resources = recordAt(container, 'resources')
      const limits = recordAt(resources, 'limits')
      if (resources === undefined || limits === undefined) continue
      const requests = ensureRecord(resources, 'requests')
      for (const [name, value] of Object.entries(limits)) if (requests[name] === undefined) requests[name] = value
    }
  }
}

function sameQuantity(name: string, a: unknown, b: unknown): boolean {
  try {
    if (name === 'cpu') return cpuMillis(String(a)) === cpuMillis(String(b))
    return memoryBytes(String(a)) === memoryBytes(String(b))
  } catch {
    return String(a) === String(b)
  }
}

/** The pod's QoS class (GetPodQOS), from its containers' cpu and memory requests and limits. */
export function qosClass(podSpec: JsonRecord): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  let any = false
  let guaranteed = true
  for (const key of ['containers', 'initContainers']) {
    for (const [container] of recordsAt(podSpec, key)) {
      const resources = recordAt(container, 'resources')
      const requests = recordAt(resources, 'requests') ?? {}
      const limits = recordAt(resources, 'limits') ?? {}
      for (const name of ['cpu', 'memory']) {
        if (requests[name] !== undefined || limits[name] !== undefined) any = true
        if (limits[name] === undefined) guaranteed = false
        else if (requests[name] !== undefined && !sameQuantity(name, requests[name], limits[name])) guaranteed = false
      }
    }
  }
  if (!any) return 'BestEffort'
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

function validatePodUpdate(object: KubeObject, old: KubeObject): FieldError[] {
  const next = isRecord(object.spec) ? object.spec : {}
  const before = isRecord(old.spec) ? old.spec : {}
  // Take over from the old spec what an update may change, then compare the rest.
  const munged: JsonRecord = structuredClone(next)
  for (const key of ['containers', 'initContainers']) {
    const oldContainers = recordsAt(before, key)
    const newContainers = recordsAt(munged, key)
    if (oldContainers.length !== newContainers.length) continue
    newContainers.forEach(([container, i]) => {
      const previous = oldContainers[i]
      if (previous !== undefined) container.image = previous[0].image
    })
  }
  for (const key of ['activeDeadlineSeconds', 'tolerations', 'terminationGracePeriodSeconds']) {
    if (before[key] === undefined) delete munged[key]
    else munged[key] = before[key]
  }
  // kubewire: binding by writing spec.nodeName once (the binding subresource does the same).
  if (!stringAt(before, 'nodeName')) {
    if (before.nodeName === undefined) delete munged.nodeName
    else munged.nodeName = before.nodeName
  }
  if (jsonEqual(munged, before)) return []
  const changed = [...new Set([...Object.keys(munged), ...Object.keys(before)])]
    .filter(key => !jsonEqual(munged[key], before[key]))
    .map(key => `spec.${key}`)
  return [fieldForbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS}\n  changed: ${changed.join(', ')}`)]
}

export const pods = defineResource({
  group: '',
  version: 'v1',
  resource: 'pods',
  kind: 'Pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  tracksGeneration: true,
  returnDeletedObject: true,
  subresources: { status: true, binding: true },
  hooks: {
    defaults(object) {
      const podSpec = spec(object)
      defaultPodSpec(podSpec)
      defaultRequestsToLimits(podSpec)
      // Set by the Priority admission plugin; defaulted on every write so a
      // PUT of a manifest that leaves them out does not count as a spec change.
      if (podSpec.priority === undefined) podSpec.priority = 0
      if (podSpec.preemptionPolicy === undefined) podSpec.preemptionPolicy = 'PreemptLowerPriority'
    },
    prepareForCreate(object) {
      object.status = { phase: 'Pending', qosClass: qosClass(spec(object)) }
    },
    async admit(object, old, context) {
      if (old) return
      const podSpec = spec(object)
      const tolerations = Array.isArray(podSpec.tolerations) ? [...podSpec.tolerations] : []
      for (const toleration of defaultTolerations(context.settings.defaultTolerationSeconds ?? 300)) {
        const present = tolerations.some(t => isRecord(t) && t.key === toleration.key && (t.effect ?? toleration.effect) === toleration.effect)
        if (!present) tolerations.push({ ...toleration })
      }
      podSpec.tolerations = tolerations
    },
    validate(object) {
      return validatePodSpec(object.spec, 'spec')
    },
    validateUpdate: validatePodUpdate,
    gracePeriod(object, requested) {
      // podStrategy.CheckGracefulDelete
      let period = requested ?? numberAt(object.spec, 'terminationGracePeriodSeconds') ?? 0
      if (!stringAt(object.spec, 'nodeName')) period = 0
      const phase = stringAt(object.status, 'phase')
      if (phase === 'Failed' || phase === 'Succeeded') period = 0
      return period < 0 ? 1 : period
    },
  },
})
