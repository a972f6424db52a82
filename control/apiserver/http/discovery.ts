// Discovery documents: /api, /apis, /api/v1, /apis/<group>, /apis/<group>/<version>
// and /version, built from the resource registry.
//
// Why these shapes: kubectl and client libraries find resources, short names
// (`po`, `deploy`), verbs and subresources (`deployments/scale`) from them.
// Only the classic (unaggregated) form is served; kubectl asks for the
// aggregated form first and falls back to this one when the server answers
// plain application/json.

import type { ResourceDefinition } from '../resource-definition.ts'
import { groupVersion } from '../resource-definition.ts'
import type { ResourceRegistry } from '../resources.ts'

export const KUBERNETES_VERSION = { major: '1', minor: '33', gitVersion: 'v1.33.0+kubewire' }

export function versionDocument(): Record<string, string> {
  return {
    major: KUBERNETES_VERSION.major,
    minor: KUBERNETES_VERSION.minor,
    gitVersion: KUBERNETES_VERSION.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'kubewire',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  }
}

/** APIVersions at /api. */
export function coreVersionsDocument(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  }
}

function groupEntry(registry: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  const versions = registry
    .groupVersions()
    .filter(gv => gv.group === group)
    .map(gv => ({ groupVersion: groupVersion(gv), version: gv.version }))
  const preferred = versions[0]
  if (preferred === undefined) return undefined
  return { name: group, versions, preferredVersion: preferred }
}

/** APIGroupList at /apis (the named groups; the core group is at /api). */
export function groupListDocument(registry: ResourceRegistry): Record<string, unknown> {
  const groups = [...new Set(registry.groupVersions().map(gv => gv.group))].filter(g => g !== '')
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(g => groupEntry(registry, g)) }
}

/** APIGroup at /apis/<group>, or undefined for an unknown group. */
export function groupDocument(registry: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  if (group === '') return undefined
  const entry = groupEntry(registry, group)
  return entry === undefined ? undefined : { kind: 'APIGroup', apiVersion: 'v1', ...entry }
}

function resourceEntries(def: ResourceDefinition): Array<Record<string, unknown>> {
  const main: Record<string, unknown> = {
    name: def.resource,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: [...def.verbs],
  }
  if (def.shortNames.length > 0) main.shortNames = [...def.shortNames]
  if (def.categories.length > 0) main.categories = [...def.categories]
  const out = [main]
  const sub = { singularName: '', namespaced: def.namespaced, verbs: ['get', 'patch', 'update'] }
  if (def.subresources.status) out.push({ name: `${def.resource}/status`, ...sub, kind: def.kind })
  if (def.subresources.scale) out.push({ name: `${def.resource}/scale`, ...sub, group: 'autoscaling', version: 'v1', kind: 'Scale' })
  if (def.subresources.binding) out.push({ name: `${def.resource}/binding`, singularName: '', namespaced: def.namespaced, kind: 'Binding', verbs: ['create'] })
  return out
}

/** APIResourceList at /api/v1 or /apis/<group>/<version>, or undefined when nothing is served there. */
export function resourceListDocument(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const defs = registry.all().filter(def => def.group === group && def.version === version)
  if (defs.length === 0) return undefined
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion({ group, version }),
    resources: defs.flatMap(resourceEntries),
  }
}

/** The index at `/`. */
export function rootPathsDocument(registry: ResourceRegistry): Record<string, unknown> {
  const paths = ['/api', '/api/v1', '/apis', '/healthz', '/livez', '/readyz', '/version']
  for (const { group, version } of registry.groupVersions()) {
    if (group === '') continue
    paths.push(`/apis/${group}`, `/apis/${group}/${version}`)
  }
  return { paths: [...new Set(paths)].sort() }
}
