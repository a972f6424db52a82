// The ingress controller runtime as a real process, no root needed: started
// as kubelets start it (the argv images.ts gives `kubewire/ingress`), reading
// a real API server over HTTPS with a service-account token and the CA, in
// front of small HTTP servers on 127.0.0.x standing in for pod endpoints.
// Covers routing by host and path, 404, default backends, 503, round robin,
// X-Forwarded-* headers, updates through the watches, other classes left
// alone, and status.loadBalancer copied from the published Service.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createApiServer } from '../../../control/apiserver/http/api-server.ts'
import { serviceAccountToken } from '../../../control/apiserver/tls/service-account-token.ts'
import { RESOURCES, type KubeObject } from '../../../control/client/api-client.ts'
import { LocalClient } from '../../../control/client/local-client.ts'
import { MemoryStore } from '../../../control/store/memory-store.ts'
import { builtInImages, imageName, resolveImage, runtimeSource } from '../../../dataplane/runtimes/images.ts'

type Json = Record<string, unknown>
interface Reply {
  status: number
  body: string
}

const dir = mkdtempSync(join(tmpdir(), 'kubewire-ingress-'))
const store = new MemoryStore()
const api = await createApiServer({ store, listen: [{ host: '127.0.0.1', port: 0 }], tlsDir: join(dir, 'tls'), token: 'admin', serviceAccountKey: 'sa-key' })
const client = new LocalClient(api.handler)
const backends: Server[] = []
let controller: ChildProcess | undefined
t.teardown(async () => {
  if (controller && controller.exitCode === null) {
    const exited = new Promise(resolve => controller?.once('exit', resolve))
    controller.kill('SIGTERM')
    await exited
  }
  for (const b of backends) b.close()
  await api.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

/** A stand-in pod: answers `<name> <path>` and echoes the forwarded headers. */
async function backend(name: string, host: string, port = 0): Promise<number> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ name, path: req.url, headers: req.headers }))
  })
  backends.push(server)
  await new Promise<void>(resolve => server.listen(port, host, resolve))
  return (server.address() as AddressInfo).port
}

const webPort = await backend('web-1', '127.0.0.1')
await backend('web-2', '127.0.0.2', webPort)
const apiPort = await backend('api', '127.0.0.1')
/** A port nothing listens on: an endpoint whose process is gone. */
const deadPort = await backend('dead', '127.0.0.1')
await new Promise(resolve => backends.pop()?.close(resolve))

// The pod's service-account directory, as the agent writes it.
const saDir = join(dir, 'serviceaccount')
mkdirSync(saDir)
writeFileSync(join(saDir, 'token'), serviceAccountToken('sa-key', 'kubewire-ingress'))
writeFileSync(join(saDir, 'ca.crt'), api.certificates.caCert)
writeFileSync(join(saDir, 'namespace'), 'kubewire-ingress')

const created = (ref: typeof RESOURCES[keyof typeof RESOURCES], namespace: string | undefined, object: Json): Promise<KubeObject> => client.create(ref, namespace, object as KubeObject)
const service = (name: string, namespace: string, ports: Json[], extra: Json = {}) => created(RESOURCES.services, namespace, { metadata: { name }, spec: { selector: { app: name }, ports, ...extra } })
const slice = (name: string, service: string, endpoints: Json[], ports: Json[]) => ({
  metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints,
  ports,
})
const backendRef = (name: string, port: Json): Json => ({ service: { name, port } })

await created(RESOURCES.namespaces, undefined, { metadata: { name: 'kubewire-ingress' } })
await created(RESOURCES.ingressclasses, undefined, {
  metadata: { name: 'kubewire', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
  spec: { controller: 'kubewire.dev/ingress-controller' },
})
await service('web', 'default', [{ name: 'http', port: 80, targetPort: 'http' }])
await service('api', 'default', [{ port: 8080 }])
await service('empty', 'default', [{ port: 80 }])
await service('dead', 'default', [{ port: 80 }])
await service('ingress-controller', 'kubewire-ingress', [{ name: 'http', port: 80 }], { type: 'LoadBalancer' })
await created(RESOURCES.endpointslices, 'default', slice('web-abcde', 'web', [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], [{ name: 'http', port: webPort, protocol: 'TCP' }]))
await created(RESOURCES.endpointslices, 'default', slice('dead-abcde', 'dead', [{ addresses: ['127.0.0.1'] }], [{ port: deadPort }]))
await created(RESOURCES.endpointslices, 'default', slice('api-abcde', 'api', [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], [{ name: '', port: apiPort, protocol: 'TCP' }]))
await created(RESOURCES.ingresses, 'default', {
  metadata: { name: 'shop' },
  spec: {
    rules: [
      {
        host: 'shop.example.com',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: backendRef('web', { number: 80 }) },
            { path: '/api', pathType: 'Prefix', backend: backendRef('api', { number: 8080 }) },
            { path: '/exact', pathType: 'Exact', backend: backendRef('api', { number: 8080 }) },
          ],
        },
      },
      { host: '*.shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backendRef('web', { name: 'http' }) }] } },
      { host: 'empty.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backendRef('empty', { number: 80 }) }] } },
      { host: 'dead.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backendRef('dead', { number: 80 }) }] } },
    ],
  },
})
await created(RESOURCES.ingresses, 'default', {
  metadata: { name: 'nginx-only' },
  spec: { ingressClassName: 'nginx', rules: [{ host: 'nginx.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backendRef('web', { number: 80 }) }] } }] },
})

// Start the controller as a kubelet would run the image.
const image = resolveImage({
  image: 'kubewire/ingress:latest',
  args: ['--http-port=0', '--healthz-port=0', '--bind-address=127.0.0.1', `--service-account-dir=${saDir}`, '--publish-service=kubewire-ingress/ingress-controller'],
})
if ('error' in image) throw new Error(image.error.message)
const [command, ...argv] = image.argv as [string, ...string[]]
const ports: Record<string, number> = {}
let output = ''
const started = new Promise<void>((resolve, reject) => {
  controller = spawn(command, argv, {
    env: { PATH: process.env.PATH ?? '', KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(api.addresses[0]?.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  controller.stdout?.setEncoding('utf8')
  controller.stderr?.setEncoding('utf8')
  controller.stderr?.on('data', (chunk: string) => (output += chunk))
  controller.stdout?.on('data', (chunk: string) => {
    output += chunk
    for (const m of chunk.matchAll(/(http|healthz): listening on port (\d+)/g)) ports[m[1] as string] = Number(m[2])
    if (chunk.includes('watches synced')) resolve()
  })
  controller.once('exit', code => reject(new Error(`the controller exited (${code}):\n${output}`)))
})
t.teardown(() => {
  if (!t.passing() || process.env.KUBEWIRE_TEST_VERBOSE) t.comment(output)
})

function get(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: host, ...headers } }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c as Buffer))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end()
  })
}
const via = (host: string, path: string, headers?: Record<string, string>) => get(ports.http as number, host, path, headers)
/** Who answered: the backend's name, or the status code. */
async function who(host: string, path: string): Promise<string> {
  const reply = await via(host, path)
  return reply.status === 200 ? (JSON.parse(reply.body) as { name: string }).name : String(reply.status)
}

/** Waits until `check` passes (the controller follows the API through its watches). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

t.test('the image: kubewire/ingress, one self-contained source', async t => {
  t.equal(imageName('kubewire/ingress:0.1'), 'ingress')
  t.ok(builtInImages().includes('ingress'))
  const source = runtimeSource('ingress.mjs')
  t.notMatch(source, /from\s*['"]\.\//, 'sibling imports are inlined')
  t.match(source, /from 'data:text\/javascript;base64,/)
  t.ok(Buffer.byteLength(source) < 128 * 1024, 'fits in one argv string')
})

t.test('starts, syncs its watches and says so on /healthz', async t => {
  await started
  t.ok(ports.http && ports.healthz, 'both ports logged')
  t.equal((await get(ports.healthz as number, 'x', '/healthz')).status, 200)
})

t.test('host and path rules', async t => {
  const cases: Array<[string, string, string]> = [
    ['shop.example.com', '/', 'web-'],
    ['shop.example.com', '/cart/items', 'web-'],
    ['shop.example.com:80', '/api', 'api'],
    ['SHOP.example.com', '/api/v1/orders?x=1', 'api'],
    ['shop.example.com', '/apix', 'web-'],
    ['shop.example.com', '/exact', 'api'],
    ['shop.example.com', '/exact/more', 'web-'],
    ['eu.shop.example.com', '/', 'web-'],
    ['a.eu.shop.example.com', '/', '404'],
    ['other.example.com', '/', '404'],
    ['nginx.example.com', '/', '404'],
  ]
  for (const [host, path, want] of cases) t.match(await who(host, path), new RegExp(`^${want}`), `${host}${path}`)
  const notFound = await via('other.example.com', '/')
  t.equal(notFound.body, '404 page not found\n')
  const empty = await via('empty.example.com', '/')
  t.equal(empty.status, 503, 'a Service without ready endpoints')
  t.equal(empty.body, '503 Service Temporarily Unavailable\n')
  t.equal((await via('dead.example.com', '/')).status, 502, 'an endpoint that does not answer')
})

t.test('straight to the endpoints, round robin, with X-Forwarded-*', async t => {
  const names = new Set<string>()
  for (let i = 0; i < 4; i++) names.add(await who('shop.example.com', '/'))
  t.same([...names].sort(), ['web-1'], 'one endpoint so far')
  await client.patch(RESOURCES.endpointslices, 'default', 'web-abcde', {
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }, { addresses: ['127.0.0.2'], conditions: { ready: true } }],
  })
  await eventually(async () => (await who('shop.example.com', '/')) === 'web-2', 'the second endpoint')
  const turns = await Promise.all([0, 1, 2, 3].map(async () => who('shop.example.com', '/')))
  t.same(turns.sort(), ['web-1', 'web-1', 'web-2', 'web-2'], 'taken in turn')
  const echoed = JSON.parse((await via('shop.example.com', '/echo?q=1', { 'X-Forwarded-For': '6.6.6.6' })).body) as { path: string; headers: Record<string, string> }
  t.equal(echoed.path, '/echo?q=1', 'the path and query pass unchanged')
  t.equal(echoed.headers.host, 'shop.example.com', 'Host passes unchanged')
  t.equal(echoed.headers['x-forwarded-host'], 'shop.example.com')
  t.equal(echoed.headers['x-forwarded-proto'], 'http')
  t.equal(echoed.headers['x-forwarded-for'], '127.0.0.1', 'who connected, not what the client claimed')
  t.equal(echoed.headers['x-real-ip'], '127.0.0.1')
})

t.test('updates through the watches: readiness, a default backend, a deleted rule', async t => {
  await client.patch(RESOURCES.endpointslices, 'default', 'web-abcde', {
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: false } }, { addresses: ['127.0.0.2'], conditions: { ready: false } }],
  })
  await eventually(async () => (await who('shop.example.com', '/')) === '503', 'not-ready endpoints to be left out')
  t.pass('503 once no endpoint is ready')
  await client.patch(RESOURCES.endpointslices, 'default', 'web-abcde', { endpoints: [{ addresses: ['127.0.0.2'], conditions: { ready: true } }] })
  await eventually(async () => (await who('shop.example.com', '/')) === 'web-2', 'a ready endpoint again')
  t.pass('back once one is ready')

  const fallback = await created(RESOURCES.ingresses, 'default', { metadata: { name: 'fallback' }, spec: { defaultBackend: backendRef('api', { number: 8080 }) } })
  t.equal((fallback.spec as Json).ingressClassName, 'kubewire', 'the default class was filled in')
  await eventually(async () => (await who('other.example.com', '/anything')) === 'api', 'the default backend')
  t.equal(await who('shop.example.com', '/'), 'web-2', 'rules still win')

  await client.delete(RESOURCES.ingresses, 'default', 'fallback')
  await eventually(async () => (await who('other.example.com', '/')) === '404', 'the default backend to go')
  t.pass('404 again without it')
})

t.test('status.loadBalancer follows the published Service', async t => {
  await client.patch(RESOURCES.services, 'kubewire-ingress', 'ingress-controller', { status: { loadBalancer: { ingress: [{ ip: '198.18.0.200' }] } } }, 'merge', 'status')
  await eventually(async () => {
    const ing = await client.get<KubeObject>(RESOURCES.ingresses, 'default', 'shop')
    return JSON.stringify((ing.status as Json).loadBalancer) === JSON.stringify({ ingress: [{ ip: '198.18.0.200' }] })
  }, 'the Ingress status')
  const other = await client.get<KubeObject>(RESOURCES.ingresses, 'default', 'nginx-only')
  t.same(other.status, { loadBalancer: {} }, 'an Ingress of another class is not touched')
})
