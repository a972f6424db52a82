// The ingress controller's routing decisions, pure: which Ingresses are ours,
// the route table they make, which backend a request (Host, path) goes to,
// and which ready endpoints serve a backend. No sockets, no API: the runtime
// (ingress.mjs) feeds it objects from its watches; the unit test feeds it
// tables (test/unit/runtimes/ingress-routing.test.ts). Types: ingress-routing.d.mts.
//
// Semantics, as the Kubernetes Ingress docs define them and ingress-nginx
// (the controller kubectl users know) implements them:
// - a request goes to one "server": the rule host equal to its Host (port and
//   case ignored), else a wildcard host `*.example.com` matching exactly one
//   more label, else the catch-all made of rules without a host;
// - in that server, across every Ingress that names the host: an Exact path
//   matches the request path exactly; a Prefix path matches element by
//   element split on '/' (`/foo` matches `/foo`, `/foo/` and `/foo/bar`, not
//   `/foobar`; a trailing slash is ignored); ImplementationSpecific counts as
//   Prefix. The longest matching path wins, Exact over Prefix when equal, the
//   oldest Ingress over a newer one for the same path;
// - nothing matches: the server's default, which is spec.defaultBackend of the
//   (oldest) Ingress that made the server; for the catch-all, of the oldest
//   Ingress with a defaultBackend and no rules. No default: 404.
// - a backend's Service port (by number or name) becomes the EndpointSlice
//   port of the same name, whose number is the pods' target port; endpoints
//   with conditions.ready false are left out.

export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class'
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class'
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'

/** The class an Ingress names (spec.ingressClassName, else the legacy annotation), or undefined. */
export function ingressClassOf(ingress) {
  return ingress?.spec?.ingressClassName ?? ingress?.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION] ?? undefined
}

/**
 * Whether this controller serves `ingress`. Ours are the IngressClasses whose
 * spec.controller is `options.controller`, and the class named `options.className`.
 * An Ingress without a class is ours when one of our classes is the default
 * (or with `watchWithoutClass`, as ingress-nginx's flag).
 */
export function isOurIngress(ingress, ingressClasses, options) {
  const ours = new Set([options.className])
  let isDefault = false
  for (const c of ingressClasses) {
    const name = c.metadata?.name
    if (c.spec?.controller !== options.controller && name !== options.className) continue
    ours.add(name)
    if (c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') isDefault = true
  }
  const className = ingressClassOf(ingress)
  if (className === undefined || className === '') return isDefault || options.watchWithoutClass === true
  return ours.has(className)
}

function backendOf(namespace, backend) {
  const service = backend?.service
  if (!service?.name) return undefined
  const port = service.port?.name ? { name: service.port.name } : { number: service.port?.number }
  return { namespace, service: service.name, port }
}

function age(ingress) {
  return ingress.metadata?.creationTimestamp ?? ''
}

function key(ingress) {
  return `${ingress.metadata?.namespace ?? ''}/${ingress.metadata?.name ?? ''}`
}

/** Path elements: '/aaa/bbb/' -> ['aaa', 'bbb']. */
function elements(path) {
  return path.split('/').filter(e => e !== '')
}

/** A request host as servers are named: lower case, no port, no trailing dot. */
export function hostOf(header) {
  let host = String(header ?? '').trim().toLowerCase()
  if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1)
  else if (host.includes(':')) host = host.slice(0, host.indexOf(':'))
  return host.endsWith('.') ? host.slice(0, -1) : host
}

/** The route table of these (already filtered) Ingresses. */
export function buildRoutes(ingresses) {
  const sorted = [...ingresses].sort((a, b) => age(a).localeCompare(age(b)) || key(a).localeCompare(key(b)))
  const table = { hosts: new Map(), wildcards: new Map(), catchAll: { paths: [], defaultBackend: undefined } }
  const ensureServer = (host, ingressDefault) => {
    if (host === '') return table.catchAll
    const map = host.startsWith('*.') ? table.wildcards : table.hosts
    const name = host.startsWith('*.') ? host.slice(2) : host
    let server = map.get(name)
    if (server === undefined) {
      server = { paths: [], defaultBackend: ingressDefault }
      map.set(name, server)
    }
    return server
  }
  for (const ingress of sorted) {
    const namespace = ingress.metadata?.namespace ?? 'default'
    const source = key(ingress)
    const rules = Array.isArray(ingress.spec?.rules) ? ingress.spec.rules : []
    const ingressDefault = backendOf(namespace, ingress.spec?.defaultBackend)
    if (rules.length === 0 && ingressDefault !== undefined) table.catchAll.defaultBackend ??= ingressDefault
    for (const rule of rules) {
      const server = ensureServer(String(rule.host ?? '').toLowerCase(), ingressDefault)
      for (const item of rule.http?.paths ?? []) {
        const backend = backendOf(namespace, item.backend)
        if (backend === undefined) continue
        const pathType = item.pathType === 'Exact' ? 'Exact' : 'Prefix'
        const path = item.path || '/'
        if (server.paths.some(p => p.path === path && p.pathType === pathType)) continue // the oldest Ingress keeps it
        server.paths.push({ path, pathType, length: elements(path).join('/').length, parts: elements(path), backend, ingress: source })
      }
    }
  }
  return table
}

/** Whether a path rule matches a request path (query already removed). */
export function pathMatches(rule, requestPath) {
  if (rule.pathType === 'Exact') return requestPath === rule.path
  const parts = rule.parts ?? elements(rule.path)
  const request = elements(requestPath)
  if (parts.length > request.length) return false
  return parts.every((part, i) => request[i] === part)
}

/** The server a Host header selects: exact host, one-label wildcard, else the catch-all. */
export function serverFor(table, host) {
  const exact = table.hosts.get(host)
  if (exact !== undefined) return { server: exact, name: host }
  const dot = host.indexOf('.')
  if (dot > 0) {
    const wildcard = table.wildcards.get(host.slice(dot + 1))
    if (wildcard !== undefined) return { server: wildcard, name: `*.${host.slice(dot + 1)}` }
  }
  return { server: table.catchAll, name: '' }
}

/**
 * Where a request goes: { backend, host, path, pathType, ingress } for a path
 * rule, { backend, default: true } for a default backend, or undefined (404).
 */
export function route(table, hostHeader, url) {
  const requestPath = String(url ?? '/').split(/[?#]/)[0] || '/'
  const { server, name } = serverFor(table, hostOf(hostHeader))
  let best
  for (const rule of server.paths) {
    if (!pathMatches(rule, requestPath)) continue
    if (best === undefined || rule.length > best.length || (rule.length === best.length && rule.pathType === 'Exact' && best.pathType !== 'Exact')) best = rule
  }
  if (best !== undefined) return { backend: best.backend, host: name, path: best.path, pathType: best.pathType, ingress: best.ingress }
  if (server.defaultBackend !== undefined) return { backend: server.defaultBackend, host: name, default: true }
  return undefined
}

/**
 * The ready endpoints of a backend: { targets: [{ ip, port }] } or
 * { targets: [], reason } with reason 'ServiceNotFound', 'PortNotFound' or 'NoReadyEndpoints'.
 * `service` is the backend's Service (or undefined), `slices` every EndpointSlice of its namespace.
 */
export function backendTargets(backend, service, slices) {
  if (service === undefined) return { targets: [], reason: 'ServiceNotFound' }
  const ports = Array.isArray(service.spec?.ports) ? service.spec.ports : []
  const servicePort = backend.port.name !== undefined ? ports.find(p => p.name === backend.port.name) : ports.find(p => p.port === backend.port.number)
  if (servicePort === undefined) return { targets: [], reason: 'PortNotFound' }
  const portName = servicePort.name ?? ''
  const seen = new Set()
  const targets = []
  for (const slice of slices) {
    if (slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== backend.service) continue
    if (slice.addressType !== undefined && slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue
    const port = (slice.ports ?? []).find(p => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP')?.port
    if (typeof port !== 'number') continue
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue
      for (const ip of endpoint.addresses ?? []) {
        const id = `${ip}:${port}`
        if (seen.has(id)) continue
        seen.add(id)
        targets.push({ ip, port })
      }
    }
  }
  targets.sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`))
  return targets.length === 0 ? { targets, reason: 'NoReadyEndpoints' } : { targets }
}

/** The addresses to publish in status.loadBalancer.ingress: the published Service's load-balancer addresses. */
export function loadBalancerStatus(service) {
  const entries = Array.isArray(service?.status?.loadBalancer?.ingress) ? service.status.loadBalancer.ingress : []
  return entries.filter(e => e.ip || e.hostname).map(e => (e.ip ? { ip: e.ip } : { hostname: e.hostname }))
}
