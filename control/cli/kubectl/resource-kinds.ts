// Which resource a user means: `po`, `pods`, `pod`, `Pod`, `deploy`,
// `deployments.apps`, `pod/web`, `pods,svc` and `all`, resolved against the
// API server's resource registry (the same definitions discovery serves), and
// the names kubectl prints for them (`deployment.apps/web`, `deployments.apps "web"`).
//
// Why the registry rather than a discovery round trip per command: the CLI is
// built from the same tree as the server, so the built-in kinds are known
// statically; `api-resources` still asks the server when it can.

import type { ResourceRef } from '../../client/api-client.ts'
import type { ResourceDefinition } from '../../apiserver/resource-definition.ts'
import { ResourceRegistry } from '../../apiserver/resources.ts'
import { KubectlError } from './errors.ts'

export type Kind = ResourceDefinition

export const registry = new ResourceRegistry()

/** The resource a user typed, or kubectl's error for an unknown one. */
export function lookupResource(name: string): Kind {
  const def = registry.resolve(name)
  if (def === undefined) throw new KubectlError('ENOTFOUND', `the server doesn't have a resource type "${name}"`)
  return def
}

/** The definition of a manifest's apiVersion + kind, if the server serves it. */
export function kindOf(apiVersion: string, kind: string): Kind | undefined {
  const slash = apiVersion.indexOf('/')
  const group = slash < 0 ? '' : apiVersion.slice(0, slash)
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1)
  const def = registry.byKind(group, kind)
  return def !== undefined && def.version === version ? def : undefined
}

export function refOf(def: Kind): ResourceRef {
  return { group: def.group, version: def.version, resource: def.resource }
}

export function apiVersionOf(def: Kind): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`
}

/** How kubectl names a kind in `deployment.apps/web created`: lower-case kind, then the group. */
export function qualifiedKind(def: Kind): string {
  const kind = def.kind.toLowerCase()
  return def.group === '' ? kind : `${kind}.${def.group}`
}

/** How kubectl names a resource in `deployments.apps "web" ...` messages. */
export function qualifiedResource(def: Kind): string {
  return def.group === '' ? def.resource : `${def.resource}.${def.group}`
}

/** The kinds of `kubectl get all`. */
export function categoryKinds(category: string): Kind[] {
  return registry.all().filter(def => def.categories.includes(category))
}

export interface ResourceTarget {
  def: Kind
  /** Empty: every object (of the namespace or selector). */
  names: string[]
}

/**
 * kubectl's resource arguments: `TYPE[,TYPE...] [NAME...]` or `TYPE/NAME...`,
 * with `all` standing for its category. Targets keep the order typed.
 */
export function parseResourceArgs(args: readonly string[]): ResourceTarget[] {
  if (args.length === 0) return []
  const slashed = args.filter(a => a.includes('/'))
  if (slashed.length > 0) {
    if (slashed.length !== args.length) {
      throw new KubectlError(
        'EUSAGE',
        "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubewire get resource/<resource_name>' instead of 'kubewire get resource resource/<resource_name>'",
      )
    }
    const targets: ResourceTarget[] = []
    for (const arg of args) {
      const slash = arg.indexOf('/')
      const type = arg.slice(0, slash)
      const name = arg.slice(slash + 1)
      if (type === '' || name === '') throw new KubectlError('EUSAGE', `arguments in resource/name form must have a single resource and name`)
      const def = lookupResource(type)
      const existing = targets.find(t => t.def === def)
      if (existing) existing.names.push(name)
      else targets.push({ def, names: [name] })
    }
    return targets
  }
  const [types, ...names] = args as [string, ...string[]]
  const defs: Kind[] = []
  for (const type of types.split(',').filter(t => t !== '')) {
    for (const def of type === 'all' ? categoryKinds('all') : [lookupResource(type)]) if (!defs.includes(def)) defs.push(def)
  }
  return defs.map(def => ({ def, names: [...names] }))
}
