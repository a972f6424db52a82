// A kubeconfig for the cluster: its CA (inline), the server URL and a bearer
// token, with current-context set, written 0600 — what kubectl, the official
// clients and kubewire's own HttpClient read.
//
// Also the token itself: 32 random bytes, base64url, compared in constant
// time by the server.

import { randomBytes } from 'node:crypto'
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { stringify } from 'yaml'

export interface KubeconfigOptions {
  /** https://host:port */
  server: string
  /** The CA certificate (PEM) that signed the server's certificate. */
  caCert: string
  token: string
  /** Names for the cluster, user and context entries (default 'kubewire', 'admin', '<cluster>'). */
  clusterName?: string
  userName?: string
  contextName?: string
  /** The context's default namespace (default 'default'). */
  namespace?: string
}

export function generateToken(): string {
  return randomBytes(32).toString('base64url')
}

/** The kubeconfig document. */
export function kubeconfigDocument(options: KubeconfigOptions): Record<string, unknown> {
  const cluster = options.clusterName ?? 'kubewire'
  const user = options.userName ?? 'admin'
  const context = options.contextName ?? cluster
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caCert).toString('base64') } }],
    users: [{ name: user, user: { token: options.token } }],
    contexts: [{ name: context, context: { cluster, user, namespace: options.namespace ?? 'default' } }],
    'current-context': context,
    preferences: {},
  }
}

/** Writes the kubeconfig to `path` (mode 0600, atomically). */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await writeFile(temp, stringify(kubeconfigDocument(options)), { mode: 0o600, flag: 'wx' })
    await chmod(temp, 0o600)
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}
