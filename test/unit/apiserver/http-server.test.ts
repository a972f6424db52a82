// The HTTPS layer: authentication, error Status bodies and codes, health,
// watch streaming as newline-delimited JSON. (Certificates come from openssl.)
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createApiServer } from '../../../control/apiserver/http/api-server.ts'
import type { ApiServer } from '../../../control/apiserver/http/api-server.ts'
import { MemoryStore } from '../../../control/store/memory-store.ts'
import type { TapTest } from './helpers.ts'

const TOKEN = 'test-token-123'

interface Reply { status: number; headers: Record<string, unknown>; text: string; json: () => any }

async function startServer(t: TapTest, watchCacheSize?: number): Promise<ApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-apiserver-'))
  const store = new MemoryStore()
  const server = await createApiServer({ store, listen: [{ host: '127.0.0.1', port: 0 }], tlsDir: join(dir, 'tls'), token: TOKEN, handlerOptions: { watchCacheSize } })
  t.teardown(async () => {
    await server.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return server
}

function call(server: ApiServer, method: string, path: string, options: { token?: string | null; body?: unknown; contentType?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {}
    const token = options.token === undefined ? TOKEN : options.token
    if (token !== null) headers.Authorization = `Bearer ${token}`
    const body = options.body === undefined ? undefined : JSON.stringify(options.body)
    if (body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json'
    const req = request({ host: '127.0.0.1', port: server.addresses[0]?.port, method, path, headers, ca: server.certificates.caCert, servername: 'kubernetes' }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c as Buffer))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

t.test('bearer token authentication', async t => {
  const server = await startServer(t)
  for (const token of [null, 'wrong', `${TOKEN}x`]) {
    const res = await call(server, 'GET', '/api/v1/namespaces', { token })
    t.equal(res.status, 401, `token ${String(token)}`)
    t.same(res.json(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 })
  }
  const ok = await call(server, 'GET', '/api/v1/namespaces')
  t.equal(ok.status, 200)
  t.equal(ok.headers['content-type'], 'application/json')
  for (const path of ['/healthz', '/livez', '/readyz', '/version']) {
    t.equal((await call(server, 'GET', path, { token: null })).status, 200, `${path} is public`)
  }
  t.equal((await call(server, 'GET', '/healthz', { token: null })).text, 'ok')
  t.equal((await call(server, 'GET', '/apis', { token: null })).status, 401, 'discovery is not public')
})

t.test('errors are Status objects with the right HTTP code', async t => {
  const server = await startServer(t)
  const notFound = await call(server, 'GET', '/api/v1/namespaces/default/pods/nope')
  t.equal(notFound.status, 404)
  t.match(notFound.json(), { kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found', code: 404, details: { name: 'nope', kind: 'pods' } })
  const method = await call(server, 'POST', '/api/v1/namespaces/default/pods/nope', { body: {} })
  t.equal(method.status, 405)
  t.match(method.json(), { reason: 'MethodNotAllowed', code: 405 })
  const verb = await call(server, 'DELETE', '/api/v1/namespaces')
  t.equal(verb.status, 405, 'namespaces have no deletecollection')
  t.equal(verb.json().message, 'deletecollection is not supported on resources of kind "namespaces"')
  const unknown = await call(server, 'GET', '/apis/example.com/v1/widgets')
  t.equal(unknown.status, 404)
  const badJson = await call(server, 'POST', '/api/v1/namespaces/default/configmaps', { body: undefined, contentType: 'application/json' })
  t.equal(badJson.status, 400, 'an empty body is not an object')
  const protobuf = await call(server, 'POST', '/api/v1/namespaces/default/configmaps', { body: {}, contentType: 'application/vnd.kubernetes.protobuf' })
  t.equal(protobuf.status, 415)
  const invalid = await call(server, 'POST', '/api/v1/namespaces/default/pods', { body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } } })
  t.equal(invalid.status, 422)
  t.equal(invalid.json().message, 'Pod "p" is invalid: spec.containers[0].image: Required value')
  const created = await call(server, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'c' } } })
  t.equal(created.status, 201)
  const conflict = await call(server, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'c' } } })
  t.equal(conflict.status, 409)
})

t.test('watch streams newline-delimited JSON events', async t => {
  const server = await startServer(t, 2)
  const lines: string[] = []
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.addresses[0]?.port, path: '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0', headers: { Authorization: `Bearer ${TOKEN}` }, ca: server.certificates.caCert, servername: 'kubernetes' },
      resolve,
    )
    req.on('error', reject)
    req.end()
  })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/json')
  t.equal(res.headers['transfer-encoding'], 'chunked')
  let pending = ''
  const got = new Promise<void>(resolve => {
    res.on('data', (chunk: Buffer) => {
      pending += chunk.toString()
      const parts = pending.split('\n')
      pending = parts.pop() ?? ''
      lines.push(...parts)
      if (lines.length >= 2) resolve()
    })
  })
  await call(server, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'a' } } })
  await call(server, 'DELETE', '/api/v1/namespaces/default/configmaps/a')
  await got
  t.same(lines.map(l => { const e = JSON.parse(l); return `${e.type} ${e.object.metadata.name}` }), ['ADDED a', 'DELETED a'])
  res.destroy()
  for (const name of ['b', 'c', 'd']) await call(server, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name } } })
  const expired = await call(server, 'GET', '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1&timeoutSeconds=5')
  t.equal(expired.status, 200)
  t.match(JSON.parse(expired.text.trim()), { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })
})
