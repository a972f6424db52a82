// Discovery and /version, for `api-resources` and `version`: the two things a
// kubectl user asks the server about that are not objects, and so are not in
// the ApiClient contract. HttpDiscovery reads them over HTTPS with the
// kubeconfig's CA and token; registryDiscovery answers from the resource
// registry compiled into this build (what an in-process server serves).

import { request } from 'node:https'
import { resourceListDocument, versionDocument } from '../../apiserver/http/discovery.ts'
import { loadKubeconfig } from '../../client/kubeconfig.ts'
import type { ConnectionConfig } from '../../client/kubeconfig.ts'
import { KubectlError } from './errors.ts'
import { registry } from './resource-kinds.ts'

export interface ApiResourceInfo {
  name: string
  singularName?: string
  namespaced: boolean
  kind: string
  verbs: string[]
  shortNames?: string[]
  categories?: string[]
  /** '' for core. */
  group: string
  version: string
}

export interface Discovery {
  serverVersion(): Promise<Record<string, string>>
  /** Every resource (subresources left out), core first, in discovery order. */
  serverResources(): Promise<ApiResourceInfo[]>
}

interface ResourceList {
  groupVersion?: string
  resources?: Array<Omit<ApiResourceInfo, 'group' | 'version'>>
}

function fromList(list: ResourceList | undefined): ApiResourceInfo[] {
  if (list === undefined) return []
  const gv = list.groupVersion ?? ''
  const slash = gv.indexOf('/')
  const group = slash < 0 ? '' : gv.slice(0, slash)
  const version = slash < 0 ? gv : gv.slice(slash + 1)
  return (list.resources ?? []).filter(r => !r.name.includes('/')).map(r => ({ ...r, group, version }))
}

/** Discovery answered by this build's registry. */
export function registryDiscovery(): Discovery {
  return {
    serverVersion: async () => versionDocument(),
    serverResources: async () =>
      registry.groupVersions().flatMap(({ group, version }) => fromList(resourceListDocument(registry, group, version) as ResourceList | undefined)),
  }
}

export class HttpDiscovery implements Discovery {
  readonly #config: ConnectionConfig

  constructor(config: ConnectionConfig) {
    this.#config = config
  }

  static async fromKubeconfig(path: string, context?: string): Promise<HttpDiscovery> {
    return new HttpDiscovery(await loadKubeconfig(path, context))
  }

  #get<T>(path: string): Promise<T> {
    const server = new URL(this.#config.server)
    return new Promise((resolve, reject) => {
      const req = request(
        {
          hostname: server.hostname.replace(/^\[|\]$/g, ''),
          port: server.port || 443,
          path,
          method: 'GET',
          headers: { Accept: 'application/json', ...(this.#config.token ? { Authorization: `Bearer ${this.#config.token}` } : {}) },
          ...(this.#config.ca !== undefined ? { ca: this.#config.ca } : {}),
          ...(this.#config.cert !== undefined ? { cert: this.#config.cert } : {}),
          ...(this.#config.key !== undefined ? { key: this.#config.key } : {}),
          rejectUnauthorized: this.#config.insecureSkipTlsVerify !== true,
          timeout: 30_000,
        },
        res => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            if ((res.statusCode ?? 0) >= 300) {
              reject(new KubectlError('EFAILED', `the server responded with the status code ${res.statusCode ?? 0} for ${path}`))
              return
            }
            try {
              resolve(JSON.parse(text) as T)
            } catch {
              reject(new KubectlError('EFAILED', `the server sent no JSON for ${path}`))
            }
          })
        },
      )
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: timeout`)))
      req.on('error', err => {
        const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED'
        reject(new KubectlError('EFAILED', refused ? `The connection to the server ${server.host} was refused - did you specify the right host or port?` : `Unable to connect to the server: ${err.message}`))
      })
      req.end()
    })
  }

  async serverVersion(): Promise<Record<string, string>> {
    return await this.#get<Record<string, string>>('/version')
  }

  async serverResources(): Promise<ApiResourceInfo[]> {
    const out = fromList(await this.#get<ResourceList>('/api/v1'))
    const groups = await this.#get<{ groups?: Array<{ preferredVersion?: { groupVersion?: string } }> }>('/apis')
    for (const group of groups.groups ?? []) {
      const gv = group.preferredVersion?.groupVersion
      if (gv !== undefined) out.push(...fromList(await this.#get<ResourceList>(`/apis/${gv}`)))
    }
    return out
  }
}

/** This CLI's version (kubectl's clientVersion): the Kubernetes API level this build speaks. */
export function clientVersion(): Record<string, string> {
  return versionDocument()
}
