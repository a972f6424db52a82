// Who is calling: bearer tokens to users, as kube-apiserver's token
// authenticators do. Two kinds of token are accepted:
// - the admin token of the kubeconfig (`kubernetes-admin`, as kubeadm names it);
// - service-account tokens minted for pods (tls/service-account-token.ts):
//   `system:serviceaccount:<namespace>:default`.
// Anything else is no one (401). There is no authorization: every user may do
// everything (README: no RBAC). The user answers SelfSubjectReview
// (`kubectl auth whoami`).

import { timingSafeEqual } from 'node:crypto'
import { serviceAccountUsername, verifyServiceAccountToken } from '../tls/service-account-token.ts'

export interface UserInfo {
  username: string
  groups: string[]
}

export interface TokenOptions {
  /** The admin's bearer token. */
  token: string
  /** The key service-account tokens are signed with; none: they are refused. */
  serviceAccountKey?: string | undefined
}

export const ADMIN_USER: UserInfo = { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] }

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match === null ? undefined : match[1]
}

/** Returns the authenticator for these tokens: header -> user, or undefined (401). */
export function tokenAuthenticator(options: TokenOptions): (authorization: string | undefined) => UserInfo | undefined {
  if (options.token === '') throw new TypeError('tokenAuthenticator: empty token')
  const admin = Buffer.from(options.token)
  const key = options.serviceAccountKey
  return authorization => {
    const token = bearerToken(authorization)
    if (token === undefined) return undefined
    const given = Buffer.from(token)
    if (given.length === admin.length && timingSafeEqual(given, admin)) return ADMIN_USER
    const namespace = key ? verifyServiceAccountToken(key, token) : undefined
    if (namespace === undefined) return undefined
    return { username: serviceAccountUsername(namespace), groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] }
  }
}

const REVIEW_PATH = /^\/apis\/authentication\.k8s\.io\/(v1|v1beta1)\/selfsubjectreviews\/?$/

/** A SelfSubjectReview answer when `method path` asks for one (`kubectl auth whoami`), else undefined. */
export function selfSubjectReview(method: string, path: string, user: UserInfo, now: Date): Record<string, unknown> | undefined {
  const match = method === 'POST' ? REVIEW_PATH.exec(path) : null
  if (match === null) return undefined
  return {
    kind: 'SelfSubjectReview',
    apiVersion: `authentication.k8s.io/${match[1]}`,
    metadata: { creationTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z') },
    status: { userInfo: { username: user.username, groups: user.groups } },
  }
}
