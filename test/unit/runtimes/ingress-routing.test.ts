// The ingress controller's routing, as tables: the path matching examples of
// the Kubernetes Ingress docs, hosts and wildcards, precedence between
// Ingresses, default backends, class selection and endpoint resolution.
import t from 'tap'
import {
  backendTargets,
  buildRoutes,
  hostOf,
  isOurIngress,
  loadBalancerStatus,
  pathMatches,
  route,
  type Json,
} from '../../../dataplane/runtimes/ingress-routing.mjs'

let clock = 0
const backend = (service: string, port: Json = { number: 80 }): Json => ({ service: { name: service, port } })
const ingress = (name: string, spec: Json, options: { namespace?: string; annotations?: Record<string, string> } = {}): Json => ({
  metadata: { name, namespace: options.namespace ?? 'default', creationTimestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, clock++)).toISOString(), annotations: options.annotations },
  spec,
})
const paths = (...items: Array<[string | undefined, string, string]>): Json[] => items.map(([path, pathType, service]) => ({ ...(path !== undefined ? { path } : {}), pathType, backend: backend(service) }))
const rule = (host: string | undefined, ...items: Array<[string | undefined, string, string]>): Json => ({ ...(host ? { host } : {}), http: { paths: paths(...items) } })
const to = (table: ReturnType<typeof buildRoutes>, host: string, url: string): string => route(table, host, url)?.backend.service ?? '404'

t.test('path matching: the examples table of the Kubernetes Ingress docs', async t => {
  // [pathType, paths, request, matches (which path, or undefined)]
  const cases: Array<[string, string[], string, string | undefined]> = [
    ['Prefix', ['/'], '/anything/at/all', '/'],
    ['Exact', ['/foo'], '/foo', '/foo'],
    ['Exact', ['/foo'], '/bar', undefined],
    ['Exact', ['/foo'], '/foo/', undefined],
    ['Exact', ['/foo/'], '/foo', undefined],
    ['Prefix', ['/foo'], '/foo', '/foo'],
    ['Prefix', ['/foo'], '/foo/', '/foo'],
    ['Prefix', ['/foo/'], '/foo', '/foo/'],
    ['Prefix', ['/foo/'], '/foo/', '/foo/'],
    ['Prefix', ['/aaa/bb'], '/aaa/bbb', undefined],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb/'], '/aaa/bbb', '/aaa/bbb/'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/ccc', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbbxyz', undefined],
    ['Prefix', ['/', '/aaa'], '/aaa/ccc', '/aaa'],
    ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/aaa/bbb', '/aaa/bbb'],
    ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/ccc', '/'],
    ['Prefix', ['/aaa'], '/ccc', undefined],
    ['ImplementationSpecific', ['/foo'], '/foo/bar', '/foo'],
  ]
  for (const [pathType, list, request, want] of cases) {
    const table = buildRoutes([ingress('i', { rules: [rule(undefined, ...list.map((p): [string, string, string] => [p, pathType, `svc${p.replace(/\//g, '-')}`]))] })])
    const got = route(table, 'any.example.com', request)
    t.equal(got?.path, want, `${pathType} ${list.join(',')} ${request}`)
  }
  const mixed = buildRoutes([ingress('i', { rules: [rule(undefined, ['/foo', 'Prefix', 'prefix'], ['/foo', 'Exact', 'exact'])] })])
  t.equal(to(mixed, 'x', '/foo'), 'exact', 'mixed /foo (Prefix), /foo (Exact): Exact preferred')
  t.equal(to(mixed, 'x', '/foo/bar'), 'prefix')
  const longest = buildRoutes([ingress('i', { rules: [rule(undefined, ['/foo', 'Exact', 'exact'], ['/foo/bar', 'Prefix', 'long'])] })])
  t.equal(to(longest, 'x', '/foo/bar/baz'), 'long')
  t.equal(to(longest, 'x', '/foo'), 'exact')
  t.equal(to(longest, 'x', '/foo?x=1'), 'exact', 'the query is not part of the path')
  t.ok(pathMatches({ path: '/', pathType: 'Prefix' }, '/'))
  t.notOk(pathMatches({ path: '/a', pathType: 'Exact' }, '/A'), 'case-sensitive')
})

t.test('hosts: exact, one-label wildcards, then the catch-all', async t => {
  const table = buildRoutes([
    ingress('a', { rules: [rule('foo.example.com', ['/', 'Prefix', 'foo']), rule('*.example.com', ['/', 'Prefix', 'wild']), rule(undefined, ['/', 'Prefix', 'any'])] }),
  ])
  const cases: Array<[string, string]> = [
    ['foo.example.com', 'foo'],
    ['FOO.Example.com:8080', 'foo'],
    ['foo.example.com.', 'foo'],
    ['bar.example.com', 'wild'],
    ['baz.bar.example.com', 'any'],
    ['example.com', 'any'],
    ['10.0.0.1', 'any'],
    ['', 'any'],
  ]
  for (const [host, want] of cases) t.equal(to(table, host, '/'), want, host || '(no Host)')
  t.equal(hostOf('[::1]:80'), '[::1]')
  t.equal(hostOf(undefined), '')
})

t.test('a host\'s server does not fall through to the catch-all', async t => {
  const table = buildRoutes([
    ingress('api', { rules: [rule('shop.example.com', ['/api', 'Prefix', 'api'])] }),
    ingress('site', { rules: [rule(undefined, ['/', 'Prefix', 'site'])] }),
  ])
  t.equal(to(table, 'shop.example.com', '/api/v1'), 'api')
  t.equal(to(table, 'shop.example.com', '/'), '404', 'the host is served, the path is not: 404')
  t.equal(to(table, 'other.example.com', '/'), 'site')
})

t.test('Ingresses merge per host; the oldest wins a tie', async t => {
  const table = buildRoutes([
    ingress('second', { rules: [rule('shop.example.com', ['/cart', 'Prefix', 'cart-new'], ['/pay', 'Prefix', 'pay'])] }),
    ingress('first', { rules: [rule('shop.example.com', ['/cart', 'Prefix', 'cart'])] }, { namespace: 'shop' }),
  ].map((ing, i) => ({ ...ing, metadata: { ...ing.metadata, creationTimestamp: `2025-01-01T00:00:0${1 - i}Z` } })))
  t.equal(to(table, 'shop.example.com', '/cart'), 'cart')
  t.equal(route(table, 'shop.example.com', '/cart')?.backend.namespace, 'shop', 'the backend is in the Ingress\'s namespace')
  t.equal(route(table, 'shop.example.com', '/cart')?.ingress, 'shop/first')
  t.equal(to(table, 'shop.example.com', '/pay'), 'pay')
})

t.test('default backends: the host\'s Ingress, the catch-all from an Ingress without rules, else 404', async t => {
  const table = buildRoutes([
    ingress('shop', { defaultBackend: backend('shop-default'), rules: [rule('shop.example.com', ['/api', 'Prefix', 'api'])] }),
    ingress('fallback', { defaultBackend: backend('fallback') }),
    ingress('later', { defaultBackend: backend('later') }),
  ])
  t.equal(to(table, 'shop.example.com', '/other'), 'shop-default')
  t.same(route(table, 'shop.example.com', '/other'), { backend: { namespace: 'default', service: 'shop-default', port: { number: 80 } }, host: 'shop.example.com', default: true })
  t.equal(to(table, 'nothing.example.com', '/'), 'fallback', 'the oldest catch-all default')
  t.equal(to(buildRoutes([ingress('x', { rules: [rule('a.com', ['/', 'Exact', 'a'])] })]), 'b.com', '/'), '404')
  t.same(route(buildRoutes([ingress('named', { defaultBackend: backend('web', { name: 'http' }) })]), 'x', '/')?.backend.port, { name: 'http' })
})

t.test('which Ingresses are ours', async t => {
  const options = { className: 'kubewire', controller: 'kubewire.dev/ingress-controller' }
  const ours = { metadata: { name: 'kubewire' }, spec: { controller: 'kubewire.dev/ingress-controller' } }
  const oursDefault = { metadata: { name: 'kubewire', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: ours.spec }
  const alias = { metadata: { name: 'internal' }, spec: { controller: 'kubewire.dev/ingress-controller' } }
  const nginx = { metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'k8s.io/ingress-nginx' } }
  const cases: Array<[string, Json, Json[], boolean]> = [
    ['named kubewire', ingress('a', { ingressClassName: 'kubewire' }), [ours], true],
    ['named kubewire, class not made yet', ingress('a', { ingressClassName: 'kubewire' }), [], true],
    ['another class of our controller', ingress('a', { ingressClassName: 'internal' }), [ours, alias], true],
    ['nginx', ingress('a', { ingressClassName: 'nginx' }), [ours, nginx], false],
    ['legacy annotation', ingress('a', {}, { annotations: { 'kubernetes.io/ingress.class': 'kubewire' } }), [ours], true],
    ['no class, ours is not the default', ingress('a', {}), [ours, nginx], false],
    ['no class, ours is the default', ingress('a', {}), [oursDefault], true],
  ]
  for (const [name, ing, classes, want] of cases) t.equal(isOurIngress(ing, classes, options), want, name)
  t.equal(isOurIngress(ingress('a', {}), [ours], { ...options, watchWithoutClass: true }), true, '--watch-ingress-without-class')
})

t.test('backend endpoints: Service port by number or name -> EndpointSlice port, ready endpoints only', async t => {
  const service: Json = { metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'admin', port: 9000, targetPort: 9001 }] } }
  const slice = (name: string, endpoints: Json[], ports: Json[] = [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'admin', port: 9001, protocol: 'TCP' }]): Json => ({
    metadata: { name, labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints,
    ports,
  })
  const slices = [
    slice('web-a', [{ addresses: ['10.244.1.5'], conditions: { ready: true } }, { addresses: ['10.244.2.7'], conditions: { ready: false } }, { addresses: ['10.244.2.8'] }]),
    slice('web-b', [{ addresses: ['10.244.1.5'], conditions: { ready: true } }, { addresses: ['10.244.3.2'], conditions: { ready: true } }]),
    { metadata: { name: 'other-x', labels: { 'kubernetes.io/service-name': 'other' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.9.9.9'] }], ports: [{ name: 'http', port: 1 }] },
  ]
  const ref = (port: Json) => ({ namespace: 'default', service: 'web', port })
  t.same(backendTargets(ref({ number: 80 }), service, slices), { targets: [{ ip: '10.244.1.5', port: 8080 }, { ip: '10.244.2.8', port: 8080 }, { ip: '10.244.3.2', port: 8080 }] }, 'deduplicated, sorted, not-ready left out')
  t.same(backendTargets(ref({ name: 'admin' }), service, slices).targets.map(x => x.port), [9001, 9001, 9001])
  t.same(backendTargets(ref({ number: 81 }), service, slices), { targets: [], reason: 'PortNotFound' })
  t.same(backendTargets(ref({ number: 80 }), undefined, slices), { targets: [], reason: 'ServiceNotFound' })
  t.same(backendTargets(ref({ number: 80 }), service, [slice('web-a', [{ addresses: ['10.244.2.7'], conditions: { ready: false } }])]), { targets: [], reason: 'NoReadyEndpoints' })
  const unnamed: Json = { spec: { ports: [{ port: 80, targetPort: 8080 }] } }
  t.same(backendTargets(ref({ number: 80 }), unnamed, [slice('web-c', [{ addresses: ['10.244.1.9'] }], [{ port: 8080 }])]).targets, [{ ip: '10.244.1.9', port: 8080 }], 'an unnamed port matches the slice port without a name')
})

t.test('status addresses come from the published Service', async t => {
  t.same(loadBalancerStatus({ status: { loadBalancer: { ingress: [{ ip: '198.18.0.200', ipMode: 'VIP' }, { hostname: 'lb.local' }, {}] } } }), [{ ip: '198.18.0.200' }, { hostname: 'lb.local' }])
  t.same(loadBalancerStatus(undefined), [])
})
