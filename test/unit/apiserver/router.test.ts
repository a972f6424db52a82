import t from 'tap'
import { route } from '../../../control/apiserver/http/router.ts'
import { ResourceRegistry } from '../../../control/apiserver/resources.ts'

const registry = new ResourceRegistry()
const at = (method: string, path: string): ReturnType<typeof route> => route(method, new URL(path, 'https://x'), registry, '127.0.0.1:6443')

t.test('Kubernetes paths become requests', async t => {
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['GET', '/api/v1/namespaces/default/pods', { verb: 'list', namespace: 'default', ref: { group: '', version: 'v1', resource: 'pods' } }],
    ['GET', '/api/v1/pods', { verb: 'list', namespace: undefined }],
    ['GET', '/api/v1/namespaces/default/pods/web', { verb: 'get', namespace: 'default', name: 'web' }],
    ['GET', '/api/v1/namespaces/default/pods/web/status', { verb: 'get', name: 'web', subresource: 'status' }],
    ['PUT', '/api/v1/namespaces/default/pods/web/status', { verb: 'update', subresource: 'status' }],
    ['POST', '/api/v1/namespaces/default/pods/web/binding', { verb: 'create', name: 'web', subresource: 'binding' }],
    ['POST', '/apis/apps/v1/namespaces/ns1/deployments', { verb: 'create', namespace: 'ns1', ref: { group: 'apps', version: 'v1', resource: 'deployments' } }],
    ['PATCH', '/apis/apps/v1/namespaces/ns1/deployments/d/scale', { verb: 'patch', name: 'd', subresource: 'scale' }],
    ['DELETE', '/apis/apps/v1/namespaces/ns1/deployments/d', { verb: 'delete', name: 'd' }],
    ['DELETE', '/api/v1/namespaces/ns1/configmaps', { verb: 'deletecollection', namespace: 'ns1' }],
    ['GET', '/api/v1/namespaces', { verb: 'list', ref: { resource: 'namespaces' } }],
    ['GET', '/api/v1/namespaces/team', { verb: 'get', name: 'team', ref: { resource: 'namespaces' } }],
    ['PUT', '/api/v1/namespaces/team/status', { verb: 'update', name: 'team', subresource: 'status', ref: { resource: 'namespaces' } }],
    ['GET', '/api/v1/nodes/node-1', { verb: 'get', name: 'node-1', namespace: undefined }],
    ['GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=a%3Db', { verb: 'list', query: { labelSelector: 'a=b' } }],
  ]
  for (const [method, path, want] of cases) {
    const r = at(method, path)
    t.equal(r.type, 'api', `${method} ${path}`)
    if (r.type === 'api') t.match(r.request, want, `${method} ${path}`)
  }
})

t.test('watches: ?watch=1, ?watch=true and the legacy /watch/ paths', async t => {
  for (const path of ['/api/v1/namespaces/default/pods?watch=1', '/api/v1/pods?watch=true', '/api/v1/watch/namespaces/default/pods', '/api/v1/watch/pods']) {
    const r = at('GET', path)
    t.ok(r.type === 'api' && r.watch && r.request.verb === 'watch', path)
  }
  const one = at('GET', '/api/v1/watch/namespaces/default/pods/web')
  t.ok(one.type === 'api' && one.request.verb === 'watch' && one.request.name === 'web')
})

t.test('errors: unknown paths 404, wrong methods 405', async t => {
  for (const path of ['/api/v2/pods', '/apis/apps/v1/pods', '/apis/nope/v1/things', '/api/v1/namespaces/default/widgets', '/nonsense', '/api/v1/namespaces/a/pods/b/c/d']) {
    const r = at('GET', path)
    t.ok(r.type === 'error' && r.error.statusCode === 404, path)
  }
  for (const [method, path] of [['POST', '/api/v1/namespaces/default/pods/web'], ['PUT', '/api/v1/namespaces/default/pods'], ['PATCH', '/api/v1/pods'], ['OPTIONS', '/api/v1/pods'], ['POST', '/api']]) {
    const r = at(method as string, path as string)
    t.ok(r.type === 'error' && r.error.statusCode === 405, `${method} ${path}`)
    if (r.type === 'error') t.equal(r.error.status.reason, 'MethodNotAllowed')
  }
})

t.test('discovery documents', async t => {
  const api = at('GET', '/api')
  t.match(api, { type: 'document', body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] } })
  const apis = at('GET', '/apis')
  t.match(apis, { type: 'document', body: { kind: 'APIGroupList', groups: [{ name: 'apps', preferredVersion: { groupVersion: 'apps/v1' } }, { name: 'batch', preferredVersion: { groupVersion: 'batch/v1' } }, { name: 'discovery.k8s.io' }] } })
  const core = at('GET', '/api/v1')
  t.ok(core.type === 'document')
  const resources = (core as { body: { resources: Array<Record<string, unknown>> } }).body.resources
  t.match(resources.find(r => r.name === 'pods'), { singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'], categories: ['all'] })
  t.match(resources.find(r => r.name === 'pods/status'), { kind: 'Pod', verbs: ['get', 'patch', 'update'] })
  t.match(resources.find(r => r.name === 'namespaces'), { namespaced: false, shortNames: ['ns'] })
  const apps = at('GET', '/apis/apps/v1') as { body: { groupVersion: string; resources: Array<Record<string, unknown>> } }
  t.equal(apps.body.groupVersion, 'apps/v1')
  t.match(apps.body.resources.find(r => r.name === 'deployments/scale'), { group: 'autoscaling', version: 'v1', kind: 'Scale' })
  t.match(at('GET', '/apis/apps'), { type: 'document', body: { kind: 'APIGroup', name: 'apps' } })
  t.match(at('GET', '/version'), { type: 'document', body: { major: '1', gitVersion: /^v1\.\d+\.\d+/ } })
  t.match(at('GET', '/healthz'), { type: 'health' })
  t.match(at('GET', '/openapi/v3'), { type: 'document', body: { paths: { 'apis/apps/v1': { serverRelativeURL: /^\/openapi\/v3\/apis\/apps\/v1\?hash=/ } } } })
  const doc = at('GET', '/openapi/v3/apis/apps/v1') as { body: { paths: Record<string, { patch?: { parameters: Array<{ name: string }> } }> } }
  t.ok(doc.body.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']?.patch?.parameters.some(p => p.name === 'fieldValidation'))
  t.match(at('GET', '/openapi/v2'), { type: 'error', error: { statusCode: 404 } })
})

t.test('resource registry names', async t => {
  t.equal(registry.resolve('po')?.kind, 'Pod')
  t.equal(registry.resolve('deploy')?.kind, 'Deployment')
  t.equal(registry.resolve('deployments.apps')?.kind, 'Deployment')
  t.equal(registry.resolve('Service')?.resource, 'services')
  t.equal(registry.resolve('endpoints')?.kind, 'Endpoints')
  t.equal(registry.resolve('endpointslice')?.group, 'discovery.k8s.io')
  t.equal(registry.resolve('deployments.core'), undefined)
  t.equal(registry.byKind('apps', 'ReplicaSet')?.resource, 'replicasets')
  t.throws(() => registry.register(registry.resolve('pods') as never), /already registered/)
})
