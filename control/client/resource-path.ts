// URL paths of the Kubernetes API for a resource, shared by the HTTPS client
// and tests: /api/v1/namespaces/{ns}/pods/{name}/status,
// /apis/apps/v1/deployments (all namespaces), /api/v1/nodes/{name}.

import type { ResourceRef } from './api-client.ts'

export function groupVersionPath(ref: Pick<ResourceRef, 'group' | 'version'>): string {
  return ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`
}

export function resourcePath(ref: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  let path = groupVersionPath(ref)
  if (namespace) path += `/namespaces/${encodeURIComponent(namespace)}`
  path += `/${ref.resource}`
  if (name !== undefined) path += `/${encodeURIComponent(name)}`
  if (subresource) path += `/${subresource}`
  return path
}

/** `?a=1&b=2` from the defined entries ('' when none). */
export function queryString(query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}
