// A minimal OpenAPI v3 surface: /openapi/v3 lists one document per group
// version, and each document has the resource paths with their verbs, the
// group/version/kind extension and the `fieldValidation` query parameter.
//
// Why: `kubectl apply` and `kubectl create -f` validate by default. kubectl
// first checks /openapi/v3 for whether the server validates fields itself
// (a PATCH operation of that kind taking `fieldValidation`); if so it sends
// the object and lets the server judge, otherwise it wants full schemas
// (/openapi/v2), which kubewire does not have. So these documents carry no
// schemas: `kubectl explain` does not work, `kubectl apply` does.
// fieldValidation itself is accepted and ignored (unknown fields are kept).

import type { ResourceDefinition } from '../resource-definition.ts'
import type { ResourceRegistry } from '../resources.ts'
import { KUBERNETES_VERSION } from './discovery.ts'

/** The document path for a group version: 'api/v1', 'apis/apps/v1'. */
export function openApiKey(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`
}

export function openApiRoot(registry: ResourceRegistry): Record<string, unknown> {
  const paths: Record<string, unknown> = {}
  for (const { group, version } of registry.groupVersions()) {
    const key = openApiKey(group, version)
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${KUBERNETES_VERSION.gitVersion.replace(/\W/g, '')}` }
  }
  return { paths }
}

const PARAMETERS = [
  { name: 'fieldValidation', in: 'query', description: 'accepted; unknown fields are kept', schema: { type: 'string', uniqueItems: true } },
  { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
  { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
]

function operation(def: ResourceDefinition, id: string, kind = def.kind, group = def.group, version = def.version): Record<string, unknown> {
  return {
    operationId: id,
    parameters: PARAMETERS,
    responses: { '200': { description: 'OK' } },
    'x-kubernetes-action': id.startsWith('patch') ? 'patch' : id.startsWith('replace') ? 'put' : 'post',
    'x-kubernetes-group-version-kind': { group, version, kind },
  }
}

export function openApiDocument(registry: ResourceRegistry, key: string): Record<string, unknown> | undefined {
  const defs = registry.all().filter(def => openApiKey(def.group, def.version) === key)
  if (defs.length === 0) return undefined
  const paths: Record<string, unknown> = {}
  for (const def of defs) {
    const base = `/${key}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.resource}`
    const verbName = `${def.namespaced ? 'Namespaced' : ''}${def.kind}`
    paths[base] = { post: operation(def, `create${verbName}`) }
    paths[`${base}/{name}`] = { put: operation(def, `replace${verbName}`), patch: operation(def, `patch${verbName}`) }
    if (def.subresources.status) {
      paths[`${base}/{name}/status`] = { put: operation(def, `replace${verbName}Status`), patch: operation(def, `patch${verbName}Status`) }
    }
    if (def.subresources.scale) {
      paths[`${base}/{name}/scale`] = {
        put: operation(def, `replace${verbName}Scale`, 'Scale', 'autoscaling', 'v1'),
        patch: operation(def, `patch${verbName}Scale`, 'Scale', 'autoscaling', 'v1'),
      }
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBERNETES_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  }
}
