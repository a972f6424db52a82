// The resource registry: every kind the API server serves, looked up by URL
// (group, version, plural), by kind, or by any name a user types (`po`,
// `deploy`, `deployments.apps`).
//
// Adding a kind (StatefulSet, Job, Ingress...) is one definition in
// kinds/<kind>.ts (defineResource plus optional hooks) and one line in
// BUILTIN_RESOURCES; keys, verbs, watch, discovery and the clients need
// nothing else.

import type { ResourceRef } from '../client/api-client.ts'
import { configMaps } from './kinds/config-map.ts'
import { controllerRevisions } from './kinds/controller-revision.ts'
import { cronJobs } from './kinds/cron-job.ts'
import { daemonSets } from './kinds/daemon-set.ts'
import { deployments } from './kinds/deployment.ts'
import { endpointSlices } from './kinds/endpoint-slice.ts'
import { endpoints } from './kinds/endpoints.ts'
import { events } from './kinds/event.ts'
import { ingressClasses } from './kinds/ingress-class.ts'
import { ingresses } from './kinds/ingress.ts'
import { jobs } from './kinds/job.ts'
import { namespaces } from './kinds/namespace.ts'
import { nodes } from './kinds/node.ts'
import { persistentVolumeClaims } from './kinds/persistent-volume-claim.ts'
import { pods } from './kinds/pod.ts'
import { replicaSets } from './kinds/replica-set.ts'
import { services } from './kinds/service.ts'
import { statefulSets } from './kinds/stateful-set.ts'
import type { ResourceDefinition } from './resource-definition.ts'

export const BUILTIN_RESOURCES: readonly ResourceDefinition[] = [
  namespaces,
  nodes,
  pods,
  services,
  endpoints,
  events,
  configMaps,
  persistentVolumeClaims,
  daemonSets,
  deployments,
  replicaSets,
  statefulSets,
  controllerRevisions,
  cronJobs,
  jobs,
  endpointSlices,
  ingresses,
  ingressClasses,
]

const refKey = (group: string, version: string, resource: string): string => `${group}/${version}/${resource}`

export class ResourceRegistry {
  readonly #byRef = new Map<string, ResourceDefinition>()
  readonly #all: ResourceDefinition[] = []

  constructor(definitions: readonly ResourceDefinition[] = BUILTIN_RESOURCES) {
    for (const def of definitions) this.register(def)
  }

  register(def: ResourceDefinition): void {
    const key = refKey(def.group, def.version, def.resource)
    if (this.#byRef.has(key)) throw new Error(`resource ${key} is already registered`)
    this.#byRef.set(key, def)
    this.#all.push(def)
  }

  /** The definition served at group/version/resource. */
  get(ref: ResourceRef): ResourceDefinition | undefined {
    return this.#byRef.get(refKey(ref.group, ref.version, ref.resource))
  }

  /** Every definition, in registration order. */
  all(): readonly ResourceDefinition[] {
    return this.#all
  }

  /** A kind in a group ('' for core): ('apps', 'Deployment'). */
  byKind(group: string, kind: string): ResourceDefinition | undefined {
    return this.#all.find(def => def.group === group && def.kind === kind)
  }

  /** The groups and their versions, core first, in registration order. */
  groupVersions(): Array<{ group: string; version: string }> {
    const seen = new Set<string>()
    const out: Array<{ group: string; version: string }> = []
    for (const def of this.#all) {
      const key = `${def.group}/${def.version}`
      if (seen.has(key)) continue
      seen.add(key)
      out.push({ group: def.group, version: def.version })
    }
    return out
  }

  /** What a user may type: plural, singular, short name or kind, optionally `.group`. */
  resolve(name: string): ResourceDefinition | undefined {
    const lower = name.toLowerCase()
    const dot = lower.indexOf('.')
    const bare = dot < 0 ? lower : lower.slice(0, dot)
    const group = dot < 0 ? undefined : lower.slice(dot + 1)
    return this.#all.find(
      def =>
        (group === undefined || def.group === group) &&
        (def.resource === bare || def.singular === bare || def.kind.toLowerCase() === bare || def.shortNames.includes(bare)),
    )
  }
}
