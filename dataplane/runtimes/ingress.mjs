// Built-in runtime for the image `kubewire/ingress`: kubewire's ingress
// controller, for the IngressClass `kubewire` (controller
// kubewire.dev/ingress-controller). Like ingress-nginx it runs in a pod,
// reads the API with the pod's service account (in-cluster.mjs), watches
// Ingresses, IngressClasses, Services and EndpointSlices in all namespaces, and
// proxies HTTP straight to ready pod endpoints (round robin, bypassing the
// Services' cluster IPs). Routing decisions are ingress-routing.mjs (pure,
// unit-tested); this file is the shell: watches, the proxy, health, status.
//
// Flags (ingress-nginx's names where it has them):
//   --http-port=80               where requests come in (0: any free port, logged)
//   --healthz-port=10254         GET /healthz: 200 once every watch has listed
//   --bind-address=ADDR          listen on one address (default: all)
//   --ingress-class=kubewire     the IngressClass name served
//   --controller-class=kubewire.dev/ingress-controller
//   --watch-ingress-without-class  also serve Ingresses that name no class
//   --publish-service=NS/NAME    copy this Service's load-balancer addresses
//                                into the Ingresses' status.loadBalancer
//   --apiserver-host=URL, --service-account-dir=DIR  (tests; default in-cluster)
// Answers: 404 when no rule or default backend matches, 503 when the backend
// has no ready endpoint, 502 when the endpoint does not answer, 504 when it
// sends nothing for 60 s.
import { createServer, request } from 'node:http'
import { connect } from 'node:net'
import { flags } from './flags.mjs'
import { InClusterClient, SERVICE_ACCOUNT_DIR, inClusterConfig, informer } from './in-cluster.mjs'
import { backendTargets, buildRoutes, isOurIngress, loadBalancerStatus, route } from './ingress-routing.mjs'

// Run as `node -e <this source> -- ARGS` (see images.ts): the arguments start at argv[1].
const args = process.argv.slice(1)
process.title = ['kubewire-ingress', ...args].join(' ')

const f = flags(args, {
  'http-port': '80',
  'healthz-port': '10254',
  'bind-address': '',
  'ingress-class': 'kubewire',
  'controller-class': 'kubewire.dev/ingress-controller',
  'watch-ingress-without-class': false,
  'publish-service': '',
  'apiserver-host': '',
  'service-account-dir': SERVICE_ACCOUNT_DIR,
})
const log = line => process.stdout.write(`${new Date().toISOString()} ${line}\n`)

const client = new InClusterClient(inClusterConfig({ dir: f['service-account-dir'], ...(f['apiserver-host'] ? { server: f['apiserver-host'] } : {}) }))
let table = buildRoutes([])
let ours = []
/** EndpointSlices by namespace, rebuilt with the routes. */
let slicesIn = new Map()
let scheduled = false
const onError = err => log(`watch: ${err.message}`)
const onChange = () => {
  if (scheduled) return
  scheduled = true
  setImmediate(() => {
    scheduled = false
    reconcile()
  })
}
const watches = {
  ingresses: informer(client, '/apis/networking.k8s.io/v1/ingresses', { onChange, onError }),
  classes: informer(client, '/apis/networking.k8s.io/v1/ingressclasses', { onChange, onError }),
  services: informer(client, '/api/v1/services', { onChange, onError }),
  slices: informer(client, '/apis/discovery.k8s.io/v1/endpointslices', { onChange, onError }),
}
const synced = () => Object.values(watches).every(w => w.hasSynced())

let lastSummary = ''
function reconcile() {
  if (!synced()) return
  const options = { className: f['ingress-class'], controller: f['controller-class'], watchWithoutClass: f['watch-ingress-without-class'] }
  const classes = watches.classes.list()
  ours = watches.ingresses.list().filter(ing => isOurIngress(ing, classes, options))
  table = buildRoutes(ours)
  slicesIn = new Map()
  for (const slice of watches.slices.list()) {
    const namespace = slice.metadata?.namespace ?? ''
    slicesIn.set(namespace, [...(slicesIn.get(namespace) ?? []), slice])
  }
  const summary = `routes: ${ours.length} ingresses, ${table.hosts.size} hosts, ${table.wildcards.size} wildcard hosts, ${table.catchAll.paths.length} catch-all paths${table.catchAll.defaultBackend ? ', a default backend' : ''}`
  if (summary !== lastSummary) log(summary)
  lastSummary = summary
  void publishStatus()
}

// --- status.loadBalancer from the published Service ---------------------------

const statusWritten = new Map()
async function publishStatus() {
  if (!f['publish-service']) return
  const addresses = loadBalancerStatus(watches.services.get(f['publish-service']))
  for (const ing of ours) {
    const key = `${ing.metadata.namespace}/${ing.metadata.name}`
    const want = JSON.stringify(addresses)
    const have = JSON.stringify(ing.status?.loadBalancer?.ingress ?? [])
    if (want === have || statusWritten.get(key) === `${ing.metadata.resourceVersion} ${want}`) continue
    statusWritten.set(key, `${ing.metadata.resourceVersion} ${want}`)
    const path = `/apis/networking.k8s.io/v1/namespaces/${ing.metadata.namespace}/ingresses/${ing.metadata.name}/status`
    await client.patch(path, { status: { loadBalancer: { ingress: addresses.length > 0 ? addresses : null } } }).then(
      () => log(`status: ingress ${key} at ${addresses.map(a => a.ip ?? a.hostname).join(',') || '<none>'}`),
      err => {
        statusWritten.delete(key)
        log(`status: ingress ${key}: ${err.message}`)
      },
    )
  }
}

// --- the proxy -------------------------------------------------------------------

const turns = new Map()
/** The endpoint for a request: { target } or { status, reason } (404/503). */
function pick(match) {
  if (match === undefined) return { status: 404, reason: 'no rule or default backend' }
  const { backend } = match
  const slices = slicesIn.get(backend.namespace) ?? []
  const { targets, reason } = backendTargets(backend, watches.services.get(`${backend.namespace}/${backend.service}`), slices)
  if (targets.length === 0) return { status: 503, reason }
  const id = `${backend.namespace}/${backend.service}/${backend.port.name ?? backend.port.number}`
  const turn = turns.get(id) ?? 0
  turns.set(id, turn + 1)
  return { target: targets[turn % targets.length], id }
}

const BODIES = {
  404: '404 page not found\n',
  502: '502 Bad Gateway\n',
  503: '503 Service Temporarily Unavailable\n',
  504: '504 Gateway Time-out\n',
}
let httpPort = Number(f['http-port'])
const plain = address => String(address ?? '').replace(/^::ffff:/, '')

function forwardedHeaders(req) {
  const headers = { ...req.headers }
  const client = plain(req.socket.remoteAddress)
  // As ingress-nginx by default (use-forwarded-headers off): the client is who connected.
  headers['x-forwarded-for'] = client
  headers['x-real-ip'] = client
  headers['x-forwarded-host'] = req.headers.host ?? ''
  headers['x-forwarded-proto'] = 'http'
  headers['x-forwarded-port'] = String(httpPort)
  return headers
}

function accessLog(req, status, upstream, started) {
  log(`${plain(req.socket.remoteAddress)} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} host=${req.headers.host ?? '-'} upstream=${upstream ?? '-'} ${Date.now() - started}ms`)
}

function answer(req, res, status, started, reason) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(BODIES[status]) })
  res.end(BODIES[status])
  accessLog(req, status, reason, started)
}

const server = createServer((req, res) => {
  const started = Date.now()
  const chosen = pick(route(table, req.headers.host, req.url))
  if (chosen.target === undefined) return answer(req, res, chosen.status, started, chosen.reason)
  const { ip, port } = chosen.target
  const upstream = request({ host: ip, port, method: req.method, path: req.url, headers: forwardedHeaders(req) }, up => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers)
    up.pipe(res)
    accessLog(req, up.statusCode, `${chosen.id} ${ip}:${port}`, started)
  })
  let timedOut = false
  // As ingress-nginx's proxy-read-timeout: 60 s without a byte from the endpoint.
  upstream.setTimeout(60_000, () => {
    timedOut = true
    upstream.destroy(new Error('timed out'))
  })
  upstream.on('error', err => {
    if (res.headersSent) return res.destroy(err)
    answer(req, res, timedOut ? 504 : 502, started, `${chosen.id} ${ip}:${port} ${err.message}`)
  })
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy()
  })
  req.pipe(upstream)
})

// WebSocket and other upgrades: the same routing, then bytes both ways.
server.on('upgrade', (req, socket, head) => {
  const started = Date.now()
  const chosen = pick(route(table, req.headers.host, req.url))
  if (chosen.target === undefined) {
    socket.end(`HTTP/1.1 ${chosen.status} ${chosen.status === 404 ? 'Not Found' : 'Service Unavailable'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
    return accessLog(req, chosen.status, chosen.reason, started)
  }
  const { ip, port } = chosen.target
  const upstream = connect(port, ip, () => {
    const headers = forwardedHeaders(req)
    const lines = [`${req.method} ${req.url} HTTP/1.1`, ...Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map(x => `${k}: ${x}`))]
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`)
    if (head?.length) upstream.write(head)
    upstream.pipe(socket)
    socket.pipe(upstream)
    accessLog(req, 101, `${chosen.id} ${ip}:${port}`, started)
  })
  upstream.on('error', () => socket.destroy())
  socket.on('error', () => upstream.destroy())
})

const health = createServer((req, res) => {
  const ok = synced()
  res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain' })
  res.end(ok ? 'ok' : 'not synced')
})

const listen = (srv, port, name) =>
  new Promise((resolve, reject) => {
    srv.once('error', reject)
    const done = () => {
      const actual = srv.address().port
      log(`${name}: listening on port ${actual}`)
      resolve(actual)
    }
    if (f['bind-address']) srv.listen(Number(port), f['bind-address'], done)
    else srv.listen(Number(port), done)
  })

httpPort = await listen(server, f['http-port'], 'http')
await listen(health, f['healthz-port'], 'healthz')
await Promise.all(Object.values(watches).map(w => w.synced))
log('watches synced')
reconcile()

function shutdown(signal) {
  log(`${signal}: stopping`)
  for (const w of Object.values(watches)) w.stop()
  health.close()
  server.close(() => process.exit(0))
  server.closeIdleConnections?.()
  setTimeout(() => process.exit(0), 5000).unref()
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
