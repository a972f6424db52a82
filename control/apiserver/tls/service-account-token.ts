// Service-account tokens: what a pod presents to the API server (client-go's
// rest.InClusterConfig reads it from
// /var/run/secrets/kubernetes.io/serviceaccount/token), distinct from the
// admin token of the kubeconfig.
//
// Design: one random signing key per cluster, made once (`up` and every start
// of the control plane ensure it; state directory, 0600). A namespace's token
// is `kwsa.<namespace>.<base64url HMAC-SHA256(key, namespace)>`: the node
// agents, which read the key like they read the kubeconfig, mint it for each
// pod; the API server checks the HMAC and knows the caller as
// `system:serviceaccount:<namespace>:default`. Every pod of a namespace gets
// the same token (there are no ServiceAccount objects, no expiry, no pod
// binding), and since kubewire has no RBAC a service account may do what the
// admin may: the identity is for `kubectl auth whoami` and logs, not for
// authorization.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'

const PREFIX = 'kwsa'

/** The service account every pod runs as (spec.serviceAccountName is always `default` here). */
export const DEFAULT_SERVICE_ACCOUNT = 'default'

export function serviceAccountUsername(namespace: string, name = DEFAULT_SERVICE_ACCOUNT): string {
  return `system:serviceaccount:${namespace}:${name}`
}

function signature(key: string, namespace: string): string {
  return createHmac('sha256', key).update(`${PREFIX}\0${namespace}`).digest('base64url')
}

/** The bearer token of `namespace`'s default service account. */
export function serviceAccountToken(key: string, namespace: string): string {
  if (key === '') throw new TypeError('serviceAccountToken: empty key')
  return `${PREFIX}.${namespace}.${signature(key, namespace)}`
}

/** The namespace a token was minted for, or undefined when it was not minted with `key`. */
export function verifyServiceAccountToken(key: string, token: string): string | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 || parts[0] !== PREFIX || key === '') return undefined
  const namespace = parts[1] as string
  const given = Buffer.from(parts[2] as string)
  const expected = Buffer.from(signature(key, namespace))
  return given.length === expected.length && timingSafeEqual(given, expected) ? namespace : undefined
}

/** Reads the cluster's signing key, making it (32 random bytes, 0600) when the file does not exist yet. */
export function ensureServiceAccountKey(path: string): string {
  try {
    writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  return readServiceAccountKey(path)
}

export function readServiceAccountKey(path: string): string {
  return readFileSync(path, 'utf8').trim()
}
