// The HTTPS transport: an ApiClient speaking the Kubernetes REST API, for
// node agents (inside node namespaces), the CLI and anything outside the
// control-plane process.
//
// - TLS verified against the kubeconfig's CA; bearer token; one keep-alive
//   agent, so a stream of requests reuses a few TLS connections.
// - Errors: the server's Status becomes a StatusError (same `code`, `reason`
//   and message as in-process); a response without a Status gets one built
//   from its HTTP code; network failures surface as 503 ServiceUnavailable.
// - Watch: the chunked response is read as it arrives and split into lines,
//   one JSON event each. Event objects are deep-frozen, as with the local
//   transport (copy before changing); request results are plain objects.

import { Agent, request as httpsRequest } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { StatusError, isStatus } from '../api/status-error.ts'
import type { Status, StatusReason } from '../api/status-error.ts'
import type {
  ApiClient,
  DeleteOptions,
  KubeObject,
  ListOptions,
  ObjectList,
  PatchType,
  ResourceRef,
  Subresource,
  WatchEvent,
  WatchHandle,
} from './api-client.ts'
import { loadKubeconfig } from './kubeconfig.ts'
import type { ConnectionConfig } from './kubeconfig.ts'
import { queryString, resourcePath } from './resource-path.ts'

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
}

const REASONS: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
}

function statusError(code: number, message: string, reason?: StatusReason): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reason ?? REASONS[code] ?? '', code })
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

export interface HttpClientOptions extends ConnectionConfig {
  /** Most sockets kept per host (default 64). */
  maxSockets?: number
  /** Per-request timeout in ms for non-watch requests (default 60 s). */
  timeoutMs?: number
}

export class HttpClient implements ApiClient {
  readonly server: URL
  readonly namespace: string | undefined
  readonly #agent: Agent
  readonly #authorization: string | undefined
  readonly #timeoutMs: number

  constructor(options: HttpClientOptions) {
    this.server = new URL(options.server)
    this.namespace = options.namespace
    this.#authorization = options.token ? `Bearer ${options.token}` : undefined
    this.#timeoutMs = options.timeoutMs ?? 60_000
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxSockets ?? 64,
      maxFreeSockets: options.maxSockets ?? 64,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.cert !== undefined ? { cert: options.cert } : {}),
      ...(options.key !== undefined ? { key: options.key } : {}),
      rejectUnauthorized: options.insecureSkipTlsVerify !== true,
    })
  }

  /** A client for the current (or given) context of a kubeconfig file. */
  static async fromKubeconfig(path: string, options: { context?: string } & Omit<HttpClientOptions, keyof ConnectionConfig> = {}): Promise<HttpClient> {
    return new HttpClient({ ...(await loadKubeconfig(path, options.context)), ...options })
  }

  /** Closes idle connections; open watches end. */
  close(): void {
    this.#agent.destroy()
  }

  #open(method: string, path: string, body: string | undefined, contentType: string | undefined, timeout: boolean): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Accept: 'application/json' }
      if (this.#authorization !== undefined) headers.Authorization = this.#authorization
      if (body !== undefined) {
        headers['Content-Type'] = contentType ?? 'application/json'
        headers['Content-Length'] = String(Buffer.byteLength(body))
      }
      const req = httpsRequest(
        {
          protocol: this.server.protocol,
          hostname: this.server.hostname.replace(/^\[|\]$/g, ''),
          port: this.server.port || 443,
          method,
          path,
          headers,
          agent: this.#agent,
          ...(timeout ? { timeout: this.#timeoutMs } : {}),
        },
        resolve,
      )
      req.on('timeout', () => req.destroy(statusError(504, `Timeout: request did not complete within ${this.#timeoutMs}ms`)))
      req.on('error', err => reject(err instanceof StatusError ? err : statusError(503, `${method} ${path}: ${err.message}`, 'ServiceUnavailable')))
      req.end(body)
    })
  }

  async #request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.#open(method, path, body === undefined ? undefined : JSON.stringify(body), contentType, true)
    const chunks: Buffer[] = []
    for await (const chunk of res) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const code = res.statusCode ?? 0
    let parsed: unknown
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (code >= 200 && code < 300) return parsed as T
    if (isStatus(parsed)) throw StatusError.fromStatus(parsed as Status)
    throw statusError(code, text.trim() || `the server responded with the status code ${code} but did not return more information`)
  }

  #path(ref: ResourceRef, namespace: string | undefined, name?: string, subresource?: string): string {
    return resourcePath(ref, namespace, name, subresource)
  }

  async get<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, subresource?: Subresource): Promise<T> {
    return await this.#request<T>('GET', this.#path(ref, namespace, name, subresource))
  }

  async list<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, options: ListOptions = {}): Promise<ObjectList<T>> {
    const query = queryString({ labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, resourceVersion: options.resourceVersion })
    return await this.#request<ObjectList<T>>('GET', this.#path(ref, namespace) + query)
  }

  async create<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, subresource?: 'binding'): Promise<T> {
    const ns = namespace ?? object.metadata.namespace
    const path = subresource === 'binding' ? this.#path(ref, ns, object.metadata.name ?? '', 'binding') : this.#path(ref, ns)
    return await this.#request<T>('POST', path, object)
  }

  async update<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, subresource?: Subresource): Promise<T> {
    const ns = namespace ?? object.metadata.namespace
    return await this.#request<T>('PUT', this.#path(ref, ns, object.metadata.name ?? '', subresource), object)
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    subresource?: Subresource,
  ): Promise<T> {
    return await this.#request<T>('PATCH', this.#path(ref, namespace, name, subresource), patch, PATCH_CONTENT_TYPES[type])
  }

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<KubeObject> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', ...options }
    return await this.#request<KubeObject>('DELETE', this.#path(ref, namespace, name), body)
  }

  async watch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    options: ListOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<WatchHandle> {
    let resourceVersion = options.resourceVersion
    if (resourceVersion === undefined) {
      // The contract's "absent: from now": the current revision, from a list that selects nothing.
      const empty = await this.list(ref, namespace, { fieldSelector: 'metadata.name=' })
      resourceVersion = empty.metadata.resourceVersion
    }
    const query = queryString({
      watch: 'true',
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      resourceVersion,
      allowWatchBookmarks: options.allowWatchBookmarks === true ? 'true' : undefined,
      timeoutSeconds: options.timeoutSeconds,
    })
    const path = this.#path(ref, namespace) + query
    const res = await this.#open('GET', path, undefined, undefined, false)
    const code = res.statusCode ?? 0
    if (code !== 200) {
      const chunks: Buffer[] = []
      for await (const chunk of res) chunks.push(chunk as Buffer)
      const text = Buffer.concat(chunks).toString('utf8')
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        parsed = undefined
      }
      throw isStatus(parsed) ? StatusError.fromStatus(parsed as Status) : statusError(code, text.trim())
    }
    let stopped = false
    const done = new Promise<void>(resolve => {
      let pending = ''
      const finish = (): void => {
        stopped = true
        resolve()
      }
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (stopped) return
        pending += chunk
        let newline = pending.indexOf('\n')
        while (newline >= 0) {
          const line = pending.slice(0, newline).trim()
          pending = pending.slice(newline + 1)
          if (line !== '') {
            let event: WatchEvent<T> | undefined
            try {
              event = deepFreeze(JSON.parse(line) as WatchEvent<T>)
            } catch {
              event = undefined // a torn line cannot happen on a healthy stream; skip it
            }
            if (event !== undefined) {
              try {
                onEvent(event)
              } catch {
                res.destroy()
                break
              }
            }
            if (stopped) break
          }
          newline = pending.indexOf('\n')
        }
      })
      res.on('end', finish)
      res.on('close', finish)
      res.on('error', finish)
    })
    return {
      stop: () => {
        if (stopped) return
        stopped = true
        res.destroy()
      },
      done,
    }
  }
}
