// A small in-cluster API client for built-in runtimes (the ingress controller):
// the configuration client-go's rest.InClusterConfig reads (the
// KUBERNETES_SERVICE_HOST/PORT variables, the service-account token, CA and
// namespace under /var/run/secrets/kubernetes.io/serviceaccount), JSON
// requests over HTTPS verified with the cluster CA, and informers: list, then
// watch from the list's resourceVersion (bookmarks on), resume after the last
// seen one when a watch ends, list again on 410 Gone or an error (with back-off).
// Plain JavaScript for bare Node, no dependencies: images.ts inlines it into
// the runtimes that import it (they run as `node -e <source>`).
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:https'
import { join } from 'node:path'

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

/** rest.InClusterConfig: server URL, token, CA and the pod's namespace. */
export function inClusterConfig({ env = process.env, dir = SERVICE_ACCOUNT_DIR, server } = {}) {
  const host = env.KUBERNETES_SERVICE_HOST
  const port = env.KUBERNETES_SERVICE_PORT
  if (!server && (!host || !port)) {
    throw new Error('unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined')
  }
  const read = name => readFileSync(join(dir, name), 'utf8')
  return {
    server: server ?? `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token: read('token').trim(),
    ca: read('ca.crt'),
    namespace: (() => {
      try {
        return read('namespace').trim()
      } catch {
        return 'default'
      }
    })(),
  }
}

export class ApiError extends Error {
  constructor(statusCode, status) {
    super(status?.message ?? `HTTP ${statusCode}`)
    this.statusCode = statusCode
    this.status = status
    this.code = status?.reason ?? 'Unknown'
  }
}

export class InClusterClient {
  constructor(config) {
    this.config = config
    this.url = new URL(config.server)
    this.agent = new Agent({ ca: config.ca, keepAlive: true })
  }

  #options(method, path, headers = {}) {
    return {
      hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || 443,
      method,
      path,
      agent: this.agent,
      headers: { Accept: 'application/json', Authorization: `Bearer ${this.config.token}`, ...headers },
    }
  }

  /** One JSON request; rejects with an ApiError carrying Kubernetes' Status on a non-2xx answer. */
  request(method, path, body, contentType = 'application/json') {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const headers = text === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) }
    return new Promise((resolve, reject) => {
      const req = request(this.#options(method, path, headers), res => {
        const chunks = []
        res.on('data', c => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          let json
          try {
            json = JSON.parse(Buffer.concat(chunks).toString() || '{}')
          } catch {
            json = undefined
          }
          if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(json)
          else reject(new ApiError(res.statusCode, json))
        })
      })
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)))
      req.on('error', reject)
      req.end(text)
    })
  }

  list(path) {
    return this.request('GET', path)
  }

  /** Merge-patches an object (or its `/status`). */
  patch(path, body) {
    return this.request('PATCH', path, body, 'application/merge-patch+json')
  }

  /**
   * Watches `path` from `resourceVersion`: onEvent({type, object}) per line.
   * Returns { stop(), done } where done settles when the stream ends (resolves) or fails (rejects).
   */
  watch(path, resourceVersion, onEvent, timeoutSeconds = 240 + Math.floor(Math.random() * 120)) {
    const query = new URLSearchParams({ watch: '1', resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) })
    let req
    const done = new Promise((resolve, reject) => {
      req = request(this.#options('GET', `${path}?${query}`), res => {
        if (res.statusCode !== 200) {
          const chunks = []
          res.on('data', c => chunks.push(c))
          res.on('end', () => {
            let status
            try {
              status = JSON.parse(Buffer.concat(chunks).toString())
            } catch {}
            reject(new ApiError(res.statusCode, status))
          })
          return
        }
        let buffered = ''
        res.setEncoding('utf8')
        res.on('data', chunk => {
          buffered += chunk
          let newline
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim()
            buffered = buffered.slice(newline + 1)
            if (line !== '') onEvent(JSON.parse(line))
          }
        })
        res.on('end', resolve)
        res.on('error', reject)
        res.on('aborted', resolve)
      })
      req.on('error', err => (req.stopped ? resolve() : reject(err)))
      req.end()
    })
    return {
      stop() {
        req.stopped = true
        req.destroy()
      },
      done,
    }
  }

  close() {
    this.agent.destroy()
  }
}

const keyOf = object => (object.metadata?.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : `${object.metadata?.name}`)

/**
 * A list + watch cache of one collection path (e.g. /apis/networking.k8s.io/v1/ingresses).
 * onChange() is called after every change to the cache (the first list included).
 */
export function informer(client, path, { onChange = () => {}, onError = () => {} } = {}) {
  const items = new Map()
  let stopped = false
  let current
  let markSynced
  let hasSynced = false
  const synced = new Promise(resolve => (markSynced = resolve))
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms).unref?.())

  async function run() {
    let backoff = 500
    while (!stopped) {
      let resourceVersion
      try {
        const list = await client.list(path)
        items.clear()
        for (const object of list.items ?? []) items.set(keyOf(object), object)
        resourceVersion = list.metadata?.resourceVersion ?? ''
        if (!hasSynced) {
          hasSynced = true
          markSynced()
        }
        onChange()
        backoff = 500
        // Watch until told to list again (410) or an error.
        for (;;) {
          if (stopped) return
          let expired = false
          current = client.watch(path, resourceVersion, event => {
            const object = event.object ?? {}
            if (event.type === 'ERROR') {
              expired = true
              if (object.code !== 410) onError(new Error(`watch ${path}: ${object.message ?? 'error'}`))
              return
            }
            if (object.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion
            if (event.type === 'BOOKMARK') return
            if (event.type === 'DELETED') items.delete(keyOf(object))
            else items.set(keyOf(object), object)
            onChange()
          })
          await current.done
          if (expired) break
        }
      } catch (err) {
        if (stopped) return
        if (err.statusCode !== 410) onError(err)
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 30_000)
      }
    }
  }
  void run()
  return {
    synced,
    hasSynced: () => hasSynced,
    get: key => items.get(key),
    list: () => [...items.values()],
    stop() {
      stopped = true
      current?.stop()
    },
  }
}
