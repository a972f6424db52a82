// Reading a kubeconfig into what the HTTPS client needs: the server URL, the
// CA to trust, the bearer token (or a client certificate), from the current
// context or a named one.
//
// Why our own reader: it is a few lines with the `yaml` package, and agents
// and the CLI must not depend on the official client (a test dependency).

import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { parse } from 'yaml'

export interface ConnectionConfig {
  /** https://host:port */
  server: string
  /** PEM of the CA that signed the server certificate (undefined: the system's CAs). */
  ca?: string | undefined
  token?: string | undefined
  /** Client certificate authentication. */
  cert?: string | undefined
  key?: string | undefined
  /** Skip server certificate verification (insecure-skip-tls-verify). */
  insecureSkipTlsVerify?: boolean | undefined
  /** The context's namespace. */
  namespace?: string | undefined
}

type Named<T> = { name?: string } & Record<string, T | undefined>

function entry(list: unknown, name: string, field: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined
  const found = (list as Array<Named<Record<string, unknown>>>).find(item => item?.name === name)
  const value = found?.[field]
  return typeof value === 'object' && value !== null ? value : undefined
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

async function dataOrFile(data: unknown, file: unknown, base: string): Promise<string | undefined> {
  const inline = text(data)
  if (inline !== undefined) return Buffer.from(inline, 'base64').toString('utf8')
  const path = text(file)
  if (path !== undefined) return await readFile(resolve(base, path), 'utf8')
  return undefined
}

/** The connection of `context` (default: current-context) in the kubeconfig at `path`. */
export async function loadKubeconfig(path: string, context?: string): Promise<ConnectionConfig> {
  const doc = parse(await readFile(path, 'utf8')) as Record<string, unknown> | null
  if (doc === null || typeof doc !== 'object') throw new Error(`${path}: not a kubeconfig`)
  const contextName = context ?? text(doc['current-context'])
  if (contextName === undefined) throw new Error(`${path}: no current-context`)
  const ctx = entry(doc.contexts, contextName, 'context')
  if (ctx === undefined) throw new Error(`${path}: context ${JSON.stringify(contextName)} not found`)
  const clusterName = text(ctx.cluster) ?? ''
  const cluster = entry(doc.clusters, clusterName, 'cluster')
  if (cluster === undefined) throw new Error(`${path}: cluster ${JSON.stringify(clusterName)} not found`)
  const server = text(cluster.server)
  if (server === undefined) throw new Error(`${path}: cluster ${JSON.stringify(clusterName)} has no server`)
  const user = entry(doc.users, text(ctx.user) ?? '', 'user') ?? {}
  const base = dirname(path)
  let token = text(user.token)
  const tokenFile = text(user.tokenFile)
  if (token === undefined && tokenFile !== undefined) token = (await readFile(resolve(base, tokenFile), 'utf8')).trim()
  return {
    server: server.replace(/\/+$/, ''),
    ca: await dataOrFile(cluster['certificate-authority-data'], cluster['certificate-authority'], base),
    token,
    cert: await dataOrFile(user['client-certificate-data'], user['client-certificate'], base),
    key: await dataOrFile(user['client-key-data'], user['client-key'], base),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    namespace: text(ctx.namespace),
  }
}
