// From an HTTP method and URL to what the server must do: a discovery
// document, a health check, or an API request for the handler core.
//
// The paths are Kubernetes': /api/v1/namespaces/{ns}/pods/{name}/status,
// /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale, cluster-wide lists
// such as /api/v1/pods, cluster-scoped objects such as /api/v1/nodes/{name},
// the namespace itself at /api/v1/namespaces/{name}[/status], and the legacy
// watch paths /api/v1/watch/... . Methods map to verbs as kube-apiserver
// maps them: GET get/list/watch, POST create, PUT update, PATCH patch,
// DELETE delete (an object) or deletecollection (a list).

import { StatusError } from '../../api/status-error.ts'
import { resourceNotFound } from '../api-handler.ts'
import type { ApiRequest, ApiVerb } from '../request.ts'
import { isWatchRequest } from '../request.ts'
import type { ResourceRegistry } from '../resources.ts'
import {
  coreVersionsDocument,
  groupDocument,
  groupListDocument,
  resourceListDocument,
  rootPathsDocument,
  versionDocument,
} from './discovery.ts'
import { openApiDocument, openApiRoot } from './openapi.ts'

export type Route =
  | { type: 'document'; body: unknown }
  | { type: 'health'; check: string }
  | { type: 'api'; request: ApiRequest; watch: boolean }
  | { type: 'error'; error: StatusError }

const HEALTH = new Set(['healthz', 'livez', 'readyz'])

/** Paths anyone may read without a token (kube-apiserver's system:public-info-viewer). */
export function isPublicPath(pathname: string): boolean {
  const first = pathname.split('/')[1] ?? ''
  return HEALTH.has(first) || pathname === '/version' || pathname === '/version/'
}

function methodNotAllowed(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server does not allow this method on the requested resource',
    reason: 'MethodNotAllowed',
    details: {},
    code: 405,
  })
}

function segmentsOf(pathname: string): string[] | undefined {
  try {
    return pathname
      .split('/')
      .filter(s => s !== '')
      .map(s => decodeURIComponent(s))
  } catch {
    return undefined
  }
}

export function route(method: string, url: URL, registry: ResourceRegistry, serverAddress: string): Route {
  const segments = segmentsOf(url.pathname)
  if (segments === undefined) return { type: 'error', error: resourceNotFound() }
  const [first, second, third] = segments
  if (first !== undefined && HEALTH.has(first)) return { type: 'health', check: first }
  const isRead = method === 'GET' || method === 'HEAD'
  const document = (body: unknown): Route =>
    body === undefined ? { type: 'error', error: resourceNotFound() } : isRead ? { type: 'document', body } : { type: 'error', error: methodNotAllowed() }
  if (first === undefined) return document(rootPathsDocument(registry))
  if (first === 'version' && segments.length === 1) return document(versionDocument())
  if (first === 'openapi' && second === 'v3') {
    if (segments.length === 2) return document(openApiRoot(registry))
    return document(openApiDocument(registry, segments.slice(2).join('/')))
  }
  let group: string
  let version: string
  let rest: string[]
  if (first === 'api') {
    if (second === undefined) return document(coreVersionsDocument(serverAddress))
    group = ''
    version = second
    rest = segments.slice(2)
  } else if (first === 'apis') {
    if (second === undefined) return document(groupListDocument(registry))
    if (third === undefined) return document(groupDocument(registry, second))
    group = second
    version = third
    rest = segments.slice(3)
  } else {
    return { type: 'error', error: resourceNotFound() }
  }
  if (rest.length === 0) return document(resourceListDocument(registry, group, version))

  let legacyWatch = false
  if (rest[0] === 'watch') {
    legacyWatch = true
    rest = rest.slice(1)
  }
  let namespace: string | undefined
  let resource: string | undefined
  let name: string | undefined
  let subresource: string | undefined
  const namespaceSubresource = group === '' && rest[0] === 'namespaces' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize')
  if (rest[0] === 'namespaces' && rest.length >= 3 && !namespaceSubresource) {
    if (rest.length > 5) return { type: 'error', error: resourceNotFound() }
    ;[, namespace, resource, name, subresource] = rest
  } else {
    if (rest.length > 3) return { type: 'error', error: resourceNotFound() }
    ;[resource, name, subresource] = rest
  }
  if (resource === undefined || registry.get({ group, version, resource }) === undefined) {
    return { type: 'error', error: resourceNotFound() }
  }
  const query = Object.fromEntries(url.searchParams)
  const watch = legacyWatch || (isRead && isWatchRequest(query))
  let verb: ApiVerb
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = watch ? 'watch' : name === undefined ? 'list' : 'get'
      break
    case 'POST':
      if (name !== undefined && subresource !== 'binding') return { type: 'error', error: methodNotAllowed() }
      verb = 'create'
      break
    case 'PUT':
      if (name === undefined) return { type: 'error', error: methodNotAllowed() }
      verb = 'update'
      break
    case 'PATCH':
      if (name === undefined) return { type: 'error', error: methodNotAllowed() }
      verb = 'patch'
      break
    case 'DELETE':
      verb = name === undefined ? 'deletecollection' : 'delete'
      break
    default:
      return { type: 'error', error: methodNotAllowed() }
  }
  if (legacyWatch && verb !== 'watch') return { type: 'error', error: methodNotAllowed() }
  if (verb === 'watch' && subresource !== undefined) return { type: 'error', error: resourceNotFound() }
  return {
    type: 'api',
    watch: verb === 'watch',
    request: { verb, ref: { group, version, resource }, namespace, name, subresource, query },
  }
}
