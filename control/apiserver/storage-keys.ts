// Where objects live in the store: /registry/<group>/<resource>/<namespace>/<name>
// (cluster-scoped kinds: /registry/<group>/<resource>/<name>); the core group
// is spelled `core`.
//
// Why every prefix ends in '/': the store lists by prefix, and
// `/registry/core/pods` would otherwise also match a future `podtemplates`;
// one namespace's prefix must not match a longer namespace's either.

import type { ResourceDefinition } from './resource-definition.ts'

type Keyed = Pick<ResourceDefinition, 'group' | 'resource' | 'namespaced'>

/** Every object of the resource, in all namespaces. */
export function resourcePrefix(def: Keyed): string {
  return `/registry/${def.group === '' ? 'core' : def.group}/${def.resource}/`
}

/** The objects a list or watch in `namespace` covers (all namespaces when undefined or cluster-scoped). */
export function listPrefix(def: Keyed, namespace: string | undefined): string {
  return def.namespaced && namespace ? `${resourcePrefix(def)}${namespace}/` : resourcePrefix(def)
}

export function objectStorageKey(def: Keyed, namespace: string | undefined, name: string): string {
  return def.namespaced ? `${resourcePrefix(def)}${namespace ?? ''}/${name}` : `${resourcePrefix(def)}${name}`
}
