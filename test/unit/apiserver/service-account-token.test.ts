// Service-account tokens: minted per namespace from the cluster's key,
// verified by the API server, which then knows the caller as
// system:serviceaccount:<ns>:default (`kubectl auth whoami`).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { bearerToken, tokenAuthenticator } from '../../../control/apiserver/http/authentication.ts'
import { createApiServer } from '../../../control/apiserver/http/api-server.ts'
import {
  ensureServiceAccountKey,
  serviceAccountToken,
  serviceAccountUsername,
  verifyServiceAccountToken,
} from '../../../control/apiserver/tls/service-account-token.ts'
import { MemoryStore } from '../../../control/store/memory-store.ts'

t.test('tokens: one per namespace, bound to the key', async t => {
  const token = serviceAccountToken('key-1', 'shop')
  t.match(token, /^kwsa\.shop\.[A-Za-z0-9_-]{43}$/)
  t.equal(serviceAccountToken('key-1', 'shop'), token, 'stable')
  t.not(serviceAccountToken('key-1', 'other'), token)
  t.equal(verifyServiceAccountToken('key-1', token), 'shop')
  t.equal(verifyServiceAccountToken('key-2', token), undefined, 'another cluster\'s key')
  t.equal(verifyServiceAccountToken('key-1', token.replace('.shop.', '.other.')), undefined, 'a namespace swapped in')
  t.equal(verifyServiceAccountToken('key-1', 'kwsa.shop'), undefined)
  t.equal(verifyServiceAccountToken('', token), undefined)
  t.equal(serviceAccountUsername('shop'), 'system:serviceaccount:shop:default')
})

t.test('the key file: made once, 0600, kept after', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-sakey-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'serviceaccount.key')
  const key = ensureServiceAccountKey(path)
  t.match(key, /^[A-Za-z0-9_-]{43}$/)
  t.equal(statSync(path).mode & 0o777, 0o600)
  t.equal(ensureServiceAccountKey(path), key, 'not remade')
  t.equal(readFileSync(path, 'utf8'), `${key}\n`)
})

t.test('the authenticator: admin, service accounts, no one', async t => {
  const authenticate = tokenAuthenticator({ token: 'admin-token', serviceAccountKey: 'k' })
  t.equal(authenticate('Bearer admin-token')?.username, 'kubernetes-admin')
  t.same(authenticate(`Bearer ${serviceAccountToken('k', 'team')}`), {
    username: 'system:serviceaccount:team:default',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
  })
  t.equal(authenticate(`Bearer ${serviceAccountToken('other', 'team')}`), undefined)
  t.equal(authenticate('Bearer nope'), undefined)
  t.equal(authenticate(undefined), undefined)
  t.equal(tokenAuthenticator({ token: 'admin-token' })(`Bearer ${serviceAccountToken('k', 'team')}`), undefined, 'no key: only the admin')
  t.equal(bearerToken('bearer  abc '), 'abc')
  t.equal(bearerToken('Basic abc'), undefined)
})

t.test('over HTTPS: a pod\'s token is accepted and whoami names its service account', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-sa-server-'))
  const store = new MemoryStore()
  const server = await createApiServer({ store, listen: [{ host: '127.0.0.1', port: 0 }], tlsDir: join(dir, 'tls'), token: 'admin-token', serviceAccountKey: 'k' })
  t.teardown(async () => {
    await server.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const call = (method: string, path: string, token: string): Promise<{ status: number; json: Record<string, any> }> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.addresses[0]?.port, method, path, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, ca: server.certificates.caCert },
        res => {
          const chunks: Buffer[] = []
          res.on('data', c => chunks.push(c as Buffer))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }))
        },
      )
      req.on('error', reject)
      req.end(method === 'POST' ? JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }) : undefined)
    })
  const pod = serviceAccountToken('k', 'shop')
  t.equal((await call('GET', '/api/v1/namespaces/default/services', pod)).status, 200, 'same access as the admin (no RBAC)')
  t.equal((await call('GET', '/api/v1/namespaces', serviceAccountToken('wrong', 'shop'))).status, 401)
  const review = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', pod)
  t.equal(review.status, 201)
  t.match(review.json, { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', status: { userInfo: { username: 'system:serviceaccount:shop:default' } } })
  const admin = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', 'admin-token')
  t.equal(admin.json.status.userInfo.username, 'kubernetes-admin')
})
