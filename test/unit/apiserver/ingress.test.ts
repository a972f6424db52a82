// Ingresses and IngressClasses (networking.k8s.io/v1): validation with
// kube-apiserver's field paths and texts, the DefaultIngressClass admission,
// the status subresource, discovery, `kubectl get` columns and the names a
// user types.

import t from 'tap'
import { route } from '../../../control/apiserver/http/router.ts'
import { toTable } from '../../../control/apiserver/http/table.ts'
import { ResourceRegistry } from '../../../control/apiserver/resources.ts'
import { lookupResource } from '../../../control/cli/kubectl/resource-kinds.ts'
import { headerCells, rowCells } from '../../../control/cli/kubectl/table-printer.ts'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { harness, rejectsStatus } from './helpers.ts'

type Json = Record<string, unknown>
const backend = (name = 'web', port: Json = { number: 80 }): Json => ({ service: { name, port } })
const path = (p: string | undefined, pathType: string | undefined, b: Json = backend()): Json => ({
  ...(p !== undefined ? { path: p } : {}),
  ...(pathType !== undefined ? { pathType } : {}),
  backend: b,
})
const ingress = (name: string, spec: Json, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, ...(annotations ? { annotations } : {}) },
  spec,
})
const rule = (host: string | undefined, ...paths: Json[]): Json => ({ ...(host !== undefined ? { host } : {}), http: { paths } })
const ingressClass = (name: string, controller: string, isDefault = false): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  spec: { controller },
})

t.test('a valid Ingress is stored with generation 1 and an empty status', async t => {
  const { client } = await harness(t)
  const created = await client.create<KubeObject>(RESOURCES.ingresses, 'default', ingress('web', { rules: [rule('example.com', path('/', 'Prefix'))] }))
  t.equal(created.kind, 'Ingress')
  t.equal(created.apiVersion, 'networking.k8s.io/v1')
  t.equal(created.metadata.generation, 1)
  t.same(created.status, { loadBalancer: {} })
  t.notOk((created.spec as Json).ingressClassName, 'no default class, none set')
  const wild = await client.create<KubeObject>(RESOURCES.ingresses, 'default', ingress('wild', { rules: [rule('*.example.com', path('/api', 'Exact', backend('api', { name: 'http' })))] }))
  t.equal(((wild.spec as { rules: Json[] }).rules[0] as Json).host, '*.example.com')
  t.ok(await client.create(RESOURCES.ingresses, 'default', ingress('only-default', { defaultBackend: backend() })), 'a default backend alone')
  t.ok(await client.create(RESOURCES.ingresses, 'default', ingress('impl', { rules: [rule(undefined, path(undefined, 'ImplementationSpecific'))] })), 'ImplementationSpecific without a path')
})

t.test('validation: the texts kube-apiserver gives', async t => {
  const { client } = await harness(t)
  const create = (spec: Json, annotations?: Record<string, string>) => client.create(RESOURCES.ingresses, 'default', ingress('bad', spec, annotations))
  const cases: Array<[string, Json, string]> = [
    ['nothing to route', {}, 'spec: Invalid value: null: either `defaultBackend` or `rules` must be specified'],
    ['relative Prefix path', { rules: [rule('a.com', path('foo', 'Prefix'))] }, 'spec.rules[0].http.paths[0].path: Invalid value: "foo": must be an absolute path'],
    ['no pathType', { rules: [rule('a.com', path('/', undefined))] }, 'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified'],
    ['unknown pathType', { rules: [rule('a.com', path('/', 'Regex'))] }, 'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"'],
    ['Exact path with //', { rules: [rule('a.com', path('/a//b', 'Exact'))] }, "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'"],
    ['Prefix path ending in /..', { rules: [rule('a.com', path('/a/..', 'Prefix'))] }, "spec.rules[0].http.paths[0].path: Invalid value: \"/a/..\": cannot end with '/..'"],
    ['relative ImplementationSpecific path', { rules: [rule('a.com', path('x', 'ImplementationSpecific'))] }, 'spec.rules[0].http.paths[0].path: Invalid value: "x": must be an absolute path'],
    ['no paths', { rules: [{ host: 'a.com', http: { paths: [] } }] }, 'spec.rules[0].http.paths: Required value'],
    ['IP host', { rules: [rule('10.0.0.1', path('/', 'Prefix'))] }, 'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'],
    ['upper-case host', { rules: [rule('a.com', path('/', 'Prefix')), rule('Bad.com', path('/', 'Prefix'))] }, "spec.rules[1].host: Invalid value: \"Bad.com\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
    ['wildcard not first', { rules: [rule('a.*.com', path('/', 'Prefix'))] }, "spec.rules[0].host: Invalid value: \"a.*.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
    ['no service name', { defaultBackend: { service: { port: { number: 80 } } } }, 'spec.defaultBackend.service.name: Required value'],
    ['bad service name', { defaultBackend: backend('Web') }, "spec.defaultBackend.service.name: Invalid value: \"Web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"],
    ['no port', { defaultBackend: backend('web', {}) }, 'spec.defaultBackend: Required value: port name or number is required'],
    ['both ports', { defaultBackend: backend('web', { name: 'http', number: 80 }) }, 'spec.defaultBackend: Invalid value: "": cannot set both port name & port number'],
    ['port out of range', { rules: [rule('a.com', path('/', 'Prefix', backend('web', { number: 70000 })))] }, 'spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ['bad port name', { defaultBackend: backend('web', { name: 'http--x' }) }, 'spec.defaultBackend.service.port.name: Invalid value: "http--x": must not contain consecutive hyphens'],
    ['no backend at all', { rules: [rule('a.com', { path: '/', pathType: 'Prefix', backend: {} })] }, 'spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required'],
    ['bad class name', { ingressClassName: 'Kube_Wire', defaultBackend: backend() }, "spec.ingressClassName: Invalid value: \"Kube_Wire\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
  ]
  for (const [name, spec, message] of cases) {
    t.comment(name)
    await rejectsStatus(t, create(spec), 422, `Ingress.networking.k8s.io "bad" is invalid: ${message}`, 'Invalid')
  }
  await rejectsStatus(
    t,
    create({ rules: [rule('1.2.3.4', path('rel', 'Prefix'))] }),
    422,
    /^Ingress\.networking\.k8s\.io "bad" is invalid: \[spec\.rules\[0\]\.host: Invalid value: "1\.2\.3\.4": must be a DNS name, not an IP address, .*spec\.rules\[0\]\.http\.paths\[0\]\.path: Invalid value: "rel": must be an absolute path\]$/,
  )
  await rejectsStatus(
    t,
    create({ ingressClassName: 'kubewire', defaultBackend: backend() }, { 'kubernetes.io/ingress.class': 'nginx' }),
    422,
    'Ingress.networking.k8s.io "bad" is invalid: annotations.kubernetes.io/ingress.class: Invalid value: "nginx": must match `ingressClassName` when both are specified',
  )
})

t.test('DefaultIngressClass admission fills in the default class on create only', async t => {
  const { client } = await harness(t)
  await client.create(RESOURCES.ingressclasses, undefined, ingressClass('other', 'example.com/other'))
  const before = await client.create<KubeObject>(RESOURCES.ingresses, 'default', ingress('before', { defaultBackend: backend() }))
  t.notOk((before.spec as Json).ingressClassName, 'no default class yet')
  await client.create(RESOURCES.ingressclasses, undefined, ingressClass('kubewire', 'kubewire.dev/ingress-controller', true))
  const plain = await client.create<KubeObject>(RESOURCES.ingresses, 'default', ingress('plain', { defaultBackend: backend() }))
  t.equal((plain.spec as Json).ingressClassName, 'kubewire')
  const named = await client.create<KubeObject>(RESOURCES.ingresses, 'default', ingress('named', { ingressClassName: 'other', defaultBackend: backend() }))
  t.equal((named.spec as Json).ingressClassName, 'other', 'a named class is kept')
  const legacy = await client.create<KubeObject>(RESOURCES.ingresses, 'default', ingress('legacy', { defaultBackend: backend() }, { 'kubernetes.io/ingress.class': 'other' }))
  t.notOk((legacy.spec as Json).ingressClassName, 'the legacy annotation counts as a class')
  const updated = await client.patch<KubeObject>(RESOURCES.ingresses, 'default', 'before', { metadata: { labels: { a: 'b' } } })
  t.notOk((updated.spec as Json).ingressClassName, 'updates are left alone')
})

t.test('status is a subresource; spec changes bump the generation', async t => {
  const { client } = await harness(t)
  await client.create(RESOURCES.ingresses, 'default', ingress('web', { defaultBackend: backend() }))
  const status = { loadBalancer: { ingress: [{ ip: '198.18.0.200' }] } }
  const withStatus = await client.patch<KubeObject>(RESOURCES.ingresses, 'default', 'web', { status }, 'merge', 'status')
  t.same(withStatus.status, status)
  const main = await client.patch<KubeObject>(RESOURCES.ingresses, 'default', 'web', { status: { loadBalancer: {} }, spec: { defaultBackend: backend('api') } })
  t.same(main.status, status, 'status ignored on the main resource')
  t.equal(main.metadata.generation, 2)
})

t.test('IngressClass: controller required, domain-prefixed, immutable; parameters scope defaulted', async t => {
  const { client } = await harness(t)
  const create = (spec: Json) => client.create(RESOURCES.ingressclasses, undefined, { metadata: { name: 'c' }, spec })
  await rejectsStatus(t, create({}), 422, 'IngressClass.networking.k8s.io "c" is invalid: spec.controller: Required value')
  await rejectsStatus(t, create({ controller: 'kubewire' }), 422, 'IngressClass.networking.k8s.io "c" is invalid: spec.controller: Invalid value: "kubewire": must be a domain-prefixed path (such as "acme.io/foo")')
  await rejectsStatus(t, create({ controller: 'a.io/x', parameters: { kind: 'K' } }), 422, 'IngressClass.networking.k8s.io "c" is invalid: spec.parameters.name: Required value')
  const made = await client.create<KubeObject>(RESOURCES.ingressclasses, undefined, { metadata: { name: 'c' }, spec: { controller: 'a.io/x', parameters: { kind: 'K', name: 'n' } } })
  t.same(made.spec, { controller: 'a.io/x', parameters: { kind: 'K', name: 'n', scope: 'Cluster' } })
  t.notOk(made.metadata.namespace, 'cluster-scoped')
  await rejectsStatus(t, client.patch(RESOURCES.ingressclasses, undefined, 'c', { spec: { controller: 'b.io/y' } }), 422, 'IngressClass.networking.k8s.io "c" is invalid: spec.controller: Invalid value: "b.io/y": field is immutable')
})

t.test('discovery and the names a user types', async t => {
  const registry = new ResourceRegistry()
  const doc = route('GET', new URL('https://x/apis/networking.k8s.io/v1'), registry, '127.0.0.1:6443')
  t.equal(doc.type, 'document')
  const resources = (doc as { body: { groupVersion: string; resources: Json[] } }).body
  t.equal(resources.groupVersion, 'networking.k8s.io/v1')
  t.match(resources.resources.find(r => r.name === 'ingresses'), { namespaced: true, kind: 'Ingress', shortNames: ['ing'], singularName: 'ingress' })
  t.match(resources.resources.find(r => r.name === 'ingresses/status'), { kind: 'Ingress' })
  t.match(resources.resources.find(r => r.name === 'ingressclasses'), { namespaced: false, kind: 'IngressClass' })
  const groups = route('GET', new URL('https://x/apis'), registry, '127.0.0.1:6443') as { body: { groups: Json[] } }
  t.ok(groups.body.groups.some(g => g.name === 'networking.k8s.io'), '/apis lists the group')
  for (const name of ['ing', 'ingress', 'ingresses', 'Ingress', 'ingresses.networking.k8s.io']) t.equal(lookupResource(name).resource, 'ingresses', name)
  for (const name of ['ingressclass', 'ingressclasses', 'IngressClass']) t.equal(lookupResource(name).resource, 'ingressclasses', name)
  const api = route('GET', new URL('https://x/apis/networking.k8s.io/v1/namespaces/default/ingresses?watch=1'), registry, '')
  t.ok(api.type === 'api' && api.watch)
})

t.test('kubectl get columns: NAME CLASS HOSTS ADDRESS PORTS AGE, and the IngressClass ones', async t => {
  const now = new Date('2025-01-01T01:00:00Z')
  const created = '2025-01-01T00:59:00Z'
  const ing: KubeObject = {
    metadata: { name: 'web', creationTimestamp: created },
    spec: { ingressClassName: 'kubewire', rules: [rule('a.com'), rule('b.com'), rule(undefined), rule('c.com'), rule('d.com')], tls: [{ hosts: ['a.com'] }] },
    status: { loadBalancer: { ingress: [{ ip: '198.18.0.201' }, { ip: '198.18.0.200' }] } },
  }
  const request = { apiVersion: 'meta.k8s.io/v1', includeObject: 'None' as const }
  const table = toTable('Ingress', [ing], '1', request, { now }) as { columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> }
  t.same(table.columnDefinitions.map(c => c.name), ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age'])
  t.same(table.rows[0]?.cells, ['web', 'kubewire', 'a.com,b.com,c.com + 2 more...', '198.18.0.200,...', '80, 443', '60s'])
  const plain: KubeObject = { metadata: { name: 'p', creationTimestamp: created }, spec: { defaultBackend: backend() }, status: { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } } }
  const def = lookupResource('ing')
  const options = { wide: false, withNamespace: false, withKind: false, showLabels: false, labelColumns: [], now: now.getTime() }
  t.same(headerCells(def, options), ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'])
  t.same(rowCells(def, plain, options), ['p', '<none>', '*', 'lb.example.com', '80', '60s'])
  const classDef = lookupResource('ingressclasses')
  t.same(headerCells(classDef, options), ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE'])
  t.same(rowCells(classDef, { metadata: { name: 'kubewire', creationTimestamp: created }, spec: { controller: 'kubewire.dev/ingress-controller' } }, options), ['kubewire', 'kubewire.dev/ingress-controller', '<none>', '60s'])
  t.same(rowCells(classDef, { metadata: { name: 'x', creationTimestamp: created }, spec: { controller: 'a.io/b', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p' } } }, options).slice(2, 3), ['IngressParameters.k8s.example.com/p'])
})
