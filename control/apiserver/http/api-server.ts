// The HTTPS API server: Node's https, Kubernetes paths and documents, bearer
// token authentication, Status bodies for every error, watch streaming.
//
//   const server = await createApiServer({ store, listen: [{ host: '127.0.0.1', port: 0 }], tlsDir, token })
//   server.addresses  // [{ host: '127.0.0.1', port: 40123 }]
//   await writeKubeconfig(path, { server: server.url, caCert: server.certificates.caCert, token })
//   ...
//   await server.close()
//
// Authentication: every request but /healthz, /livez, /readyz and /version
// needs `Authorization: Bearer <token>` with the admin token or a pod's
// service-account token (authentication.ts); anything else is 401 with the
// Unauthorized Status. There is no authorization (no RBAC).

import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { unauthorized } from '../../api/status-error.ts'
import type { KubeObject, WatchEvent } from '../../client/api-client.ts'
import type { Store } from '../../store/store.ts'
import { ApiHandler, errorResponse } from '../api-handler.ts'
import type { ApiHandlerOptions } from '../api-handler.ts'
import { ensureServingCertificates } from '../tls/certificates.ts'
import type { CertificateOptions, ServingCertificates } from '../tls/certificates.ts'
import { listJson, objectJson } from '../watch/event-encoding.ts'
import { selfSubjectReview, tokenAuthenticator } from './authentication.ts'
import { decodeBody, readBody } from './request-body.ts'
import { isPublicPath, route } from './router.ts'
import { tableRequested, toTable } from './table.ts'
import { streamWatch } from './watch-stream.ts'

export interface ListenAddress {
  host: string
  /** 0: any free port. */
  port: number
}

export interface ApiServerOptions {
  store: Store
  listen: readonly ListenAddress[]
  /** Where the CA and serving certificate live (made on first use, reused after). */
  tlsDir: string
  /** The admin's bearer token (the kubeconfig's). */
  token: string
  /** The key pods' service-account tokens are signed with (tls/service-account-token.ts); none: only the admin token is accepted. */
  serviceAccountKey?: string
  /** A handler already started on `store` (e.g. shared with in-process clients); default: one is started and owned. */
  handler?: ApiHandler
  /** Options for the handler this server starts. */
  handlerOptions?: ApiHandlerOptions
  /** Extra names and addresses for the serving certificate (the listen hosts are added). */
  certificates?: CertificateOptions
  /**
   * Where nodes and pods reach this server (e.g. the underlay address): the
   * `kubernetes` Service's Endpoints. Without it, the Service is made with no endpoints.
   */
  advertiseAddress?: string
}

export interface ApiServer {
  /** The bound addresses, in `listen` order. */
  readonly addresses: readonly ListenAddress[]
  /** https://<first address> */
  readonly url: string
  readonly handler: ApiHandler
  readonly certificates: ServingCertificates
  /** Stops listening, ends open connections and watches; closes the handler if this server started it. */
  close(): Promise<void>
}

const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' }

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

function send(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  let text: string
  if (typeof body === 'object' && body !== null && Array.isArray((body as { items?: unknown }).items)) {
    const list = body as { kind: string; apiVersion: string; metadata: object; items: object[] }
    text = listJson(list, list.items)
  } else {
    text = typeof body === 'object' && body !== null ? objectJson(body) : JSON.stringify(body)
  }
  res.writeHead(status, { ...JSON_HEADERS, 'Content-Length': Buffer.byteLength(text) })
  res.end(head ? undefined : text)
}

export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  if (options.listen.length === 0) throw new TypeError('createApiServer: nothing to listen on')
  if (options.token === '') throw new TypeError('createApiServer: empty token')
  const listenIps = options.listen.map(l => l.host).filter(h => /^[0-9.]+$/.test(h) && h !== '0.0.0.0')
  const certificates = await ensureServingCertificates(options.tlsDir, {
    ...options.certificates,
    ipAddresses: [...(options.certificates?.ipAddresses ?? []), ...listenIps, ...(options.advertiseAddress ? [options.advertiseAddress] : [])],
  })
  const ownsHandler = options.handler === undefined
  const handler = options.handler ?? (await ApiHandler.start(options.store, options.handlerOptions))
  const authenticate = tokenAuthenticator(options)
  const servers: Server[] = []
  let serverAddress = ''

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void serve(req, res).catch(err => {
      if (res.headersSent) {
        res.destroy()
        return
      }
      const { status, body } = errorResponse(err)
      send(res, status, body, req.method === 'HEAD')
    })
  }

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET'
    const head = method === 'HEAD'
    const url = new URL(req.url ?? '/', 'https://kubewire.invalid')
    const user = authenticate(req.headers.authorization)
    if (!isPublicPath(url.pathname) && user === undefined) {
      req.resume()
      const error = unauthorized()
      send(res, error.statusCode, error.status, head)
      return
    }
    const review = user && selfSubjectReview(method, url.pathname, user, new Date())
    if (review) {
      req.resume()
      send(res, 201, review, head)
      return
    }
    const target = route(method, url, handler.registry, serverAddress)
    switch (target.type) {
      case 'health':
        req.resume()
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' })
        res.end(head ? undefined : 'ok')
        return
      case 'document':
        req.resume()
        send(res, 200, target.body, head)
        return
      case 'error':
        req.resume()
        send(res, target.error.statusCode, target.error.status, head)
        return
      case 'api': {
        const contentType = req.headers['content-type']
        const body = decodeBody(await readBody(req), contentType)
        const request = { ...target.request, body, contentType }
        const def = handler.registry.get(request.ref)
        const table =
          def !== undefined && request.subresource === undefined && ['get', 'list', 'watch'].includes(request.verb)
            ? tableRequested(req.headers.accept, request.query?.includeObject)
            : undefined
        if (target.watch) {
          req.socket.setTimeout(0)
          let first = true
          const transform =
            table === undefined || def === undefined
              ? undefined
              : (event: WatchEvent): KubeObject => {
                  if (event.type === 'ERROR' || event.type === 'BOOKMARK') return event.object
                  const out = toTable(def.kind, [event.object], event.object.metadata.resourceVersion, table, { noHeaders: !first })
                  first = false
                  return out as unknown as KubeObject
                }
          await streamWatch(handler, request, res, transform)
          return
        }
        const response = await handler.handle(request)
        if (table !== undefined && def !== undefined && response.status === 200) {
          const body = response.body as KubeObject & { items?: KubeObject[] }
          const printed = Array.isArray(body.items)
            ? toTable(def.kind, body.items, body.metadata.resourceVersion, table)
            : toTable(def.kind, [body], undefined, table)
          send(res, 200, printed, head)
          return
        }
        send(res, response.status, response.body, head)
      }
    }
  }

  try {
    for (const address of options.listen) {
      const server = createServer(
        { key: certificates.key, cert: certificates.cert, minVersion: 'TLSv1.2', noDelay: true, keepAlive: true },
        onRequest,
      )
      server.keepAliveTimeout = 65_000
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(address.port, address.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
    }
  } catch (err) {
    for (const server of servers) server.close()
    if (ownsHandler) await handler.close()
    throw err
  }
  const addresses = servers.map((server, i) => ({
    host: options.listen[i]?.host ?? '',
    port: (server.address() as AddressInfo).port,
  }))
  const first = addresses[0] as ListenAddress
  serverAddress = `${first.host}:${first.port}`
  const url = `https://${hostForUrl(first.host === '0.0.0.0' ? '127.0.0.1' : first.host)}:${first.port}`
  await handler.reconcileKubernetesService({
    port: first.port,
    ...(options.advertiseAddress ? { addresses: [options.advertiseAddress] } : {}),
  })

  let closing: Promise<void> | undefined
  return {
    addresses,
    url,
    handler,
    certificates,
    close: () => {
      closing ??= (async () => {
        await Promise.all(
          servers.map(
            server =>
              new Promise<void>(resolve => {
                server.close(() => resolve())
                server.closeAllConnections()
              }),
          ),
        )
        if (ownsHandler) await handler.close()
      })()
      return closing
    },
  }
}
