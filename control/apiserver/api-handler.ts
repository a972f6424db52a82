// The API server's core, independent of any transport: Kubernetes semantics
// over the Store. `handle` takes a request {verb, ref, namespace, name,
// subresource, query, body} and answers {status, body}; `watch` streams
// events. The HTTPS server (http/api-server.ts) and the in-process client
// (control/client/local-client.ts) both call it, so every caller gets the
// same defaulting, validation, conflicts and errors.
//
// Startup (ApiHandler.start): one watch cache per resource (one store watch
// each, shared by every watcher of that resource), the system namespaces
// created when missing, and the namespace lifecycle that empties deleted
// namespaces.

import { StatusError, deleteSuccessStatus, internalError, methodNotSupported, notFound } from '../api/status-error.ts'
import type { Status } from '../api/status-error.ts'
import type { PatchType, WatchEvent } from '../client/api-client.ts'
import type { Store } from '../store/store.ts'
import { SYSTEM_NAMESPACES, namespaces } from './kinds/namespace.ts'
import { reconcileKubernetesService } from './kubernetes-service.ts'
import type { KubernetesServiceOptions } from './kubernetes-service.ts'
import { NamespaceLifecycle, ensureNamespaces } from './namespace-lifecycle.ts'
import { patchTypeOf } from './patch/apply-patch.ts'
import { isDryRun, parseDeleteOptions, parseListOptions } from './request.ts'
import type { ApiRequest, ApiResponse } from './request.ts'
import type { ClusterSettings, ResourceDefinition } from './resource-definition.ts'
import { groupResource, groupVersion } from './resource-definition.ts'
import { ResourceRegistry } from './resources.ts'
import { bindPod } from './verbs/binding.ts'
import { KeyedMutex } from './verbs/core.ts'
import type { HandlerCore } from './verbs/core.ts'
import { createObject } from './verbs/create.ts'
import { deleteCollection, deleteObject } from './verbs/delete.ts'
import { patchObject } from './verbs/patch.ts'
import { getObject, listObjects, selectorMatcher } from './verbs/read.ts'
import { getScale, patchScale, updateScale } from './verbs/scale.ts'
import { updateObject } from './verbs/update.ts'
import { WatchCache } from './watch/watch-cache.ts'
import type { WatchStart } from './watch/watch-cache.ts'
import { WatchSession } from './watch/watch-session.ts'
import type { ApiWatch } from './watch/watch-session.ts'

export const DEFAULT_SETTINGS: ClusterSettings = {
  serviceCidr: '10.96.0.0/12',
  nodePortRange: { min: 30000, max: 32767 },
}

export interface ApiHandlerOptions {
  registry?: ResourceRegistry
  settings?: Partial<ClusterSettings>
  /** Events each resource's watch cache keeps for resuming watches (default 10,000). */
  watchCacheSize?: number
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK (default 60 s, as kube-apiserver). */
  bookmarkIntervalMs?: number
  /** The clock (tests). */
  now?: () => Date
  /** Namespaces created at start when missing (default: default, kube-system, kube-public, kube-node-lease). */
  systemNamespaces?: readonly string[]
  /** Where background failures (namespace lifecycle) are reported (default: console.error). */
  onError?: (err: unknown) => void
}

/** The Status 404 for a path the server does not serve. */
export function resourceNotFound(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the server could not find the requested resource',
    reason: 'NotFound',
    details: {},
    code: 404,
  })
}

export function errorResponse(err: unknown): ApiResponse {
  const error = err instanceof StatusError ? err : internalError(err)
  return { status: error.statusCode, body: error.status }
}

export class ApiHandler {
  readonly store: Store
  readonly registry: ResourceRegistry
  readonly settings: ClusterSettings
  readonly #core: HandlerCore
  readonly #caches = new Map<ResourceDefinition, WatchCache>()
  readonly #bookmarkIntervalMs: number
  #lifecycle: NamespaceLifecycle | undefined
  #closed = false

  private constructor(store: Store, options: ApiHandlerOptions) {
    this.store = store
    this.registry = options.registry ?? new ResourceRegistry()
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings }
    this.#bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000
    const mutex = new KeyedMutex()
    const now = options.now ?? (() => new Date())
    this.#core = {
      store,
      registry: this.registry,
      settings: this.settings,
      now,
      serialize: (def, fn) => (def.serializeWrites ? mutex.run(`${def.group}/${def.resource}`, fn) : fn()),
    }
  }

  /** Starts the caches, creates the system namespaces and the namespace lifecycle. */
  static async start(store: Store, options: ApiHandlerOptions = {}): Promise<ApiHandler> {
    const handler = new ApiHandler(store, options)
    try {
      for (const def of handler.registry.all()) {
        handler.#caches.set(def, await WatchCache.start(store, def, options.watchCacheSize))
      }
      await ensureNamespaces(handler.#core, options.systemNamespaces ?? SYSTEM_NAMESPACES)
      const lifecycleCaches = [...handler.#caches.values()].filter(cache => cache.def === namespaces || cache.def.namespaced)
      handler.#lifecycle = new NamespaceLifecycle(handler.#core, lifecycleCaches, options.onError ?? (err => console.error('kubewire apiserver: namespace lifecycle:', err)))
    } catch (err) {
      await handler.close()
      throw err
    }
    return handler
  }

  /** Creates or repairs default/kubernetes (and its endpoints when addresses are given). */
  async reconcileKubernetesService(options: KubernetesServiceOptions): Promise<void> {
    await reconcileKubernetesService(this.#core, options)
  }

  /** Resolves once pending namespace clean-ups have run (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#lifecycle?.idle()
  }

  /** How many API watches are open on a resource (diagnostics, tests). */
  watcherCount(def: ResourceDefinition): number {
    return this.#caches.get(def)?.watcherCount ?? 0
  }

  /** Ends every watch and stops following the store (the store stays open). */
  async close(): Promise<void> {
    this.#closed = true
    this.#lifecycle?.close()
    await this.#lifecycle?.idle()
    for (const cache of this.#caches.values()) cache.close()
  }

  #resolve(request: ApiRequest): ResourceDefinition {
    const def = this.registry.get(request.ref)
    if (def === undefined) throw resourceNotFound()
    if (!def.namespaced && request.namespace) throw resourceNotFound()
    const sub = request.subresource
    if (sub !== undefined && sub !== '') {
      const allowed =
        (sub === 'status' && def.subresources.status === true && ['get', 'update', 'patch'].includes(request.verb)) ||
        (sub === 'scale' && def.subresources.scale !== undefined && ['get', 'update', 'patch'].includes(request.verb)) ||
        (sub === 'binding' && def.subresources.binding === true && request.verb === 'create')
      const known = sub === 'status' ? def.subresources.status : sub === 'scale' ? def.subresources.scale : sub === 'binding' ? def.subresources.binding : undefined
      if (known === undefined) throw resourceNotFound()
      if (!allowed) throw methodNotSupported(groupResource(def), request.verb)
      return def
    }
    if (!def.verbs.includes(request.verb)) throw methodNotSupported(groupResource(def), request.verb)
    return def
  }

  /** One request, one answer; every failure is a Status with its HTTP code. */
  async handle(request: ApiRequest): Promise<ApiResponse> {
    try {
      if (this.#closed) throw resourceNotFound()
      return await this.#dispatch(request)
    } catch (err) {
      return errorResponse(err)
    }
  }

  async #dispatch(request: ApiRequest): Promise<ApiResponse> {
    const def = this.#resolve(request)
    const core = this.#core
    const namespace = def.namespaced ? request.namespace || undefined : undefined
    const name = request.name ?? ''
    const query = request.query
    const dryRun = isDryRun(query)
    const sub = request.subresource || undefined
    if (def.namespaced && namespace === undefined && !['list', 'watch', 'create', 'deletecollection'].includes(request.verb)) {
      throw notFound(groupResource(def), name)
    }
    switch (request.verb) {
      case 'get':
        if (sub === 'scale') return { status: 200, body: await getScale(core, def, namespace, name) }
        return { status: 200, body: await getObject(core, def, namespace, name) }
      case 'list':
        return { status: 200, body: await listObjects(core, def, namespace, parseListOptions(query, def.kind)) }
      case 'create':
        if (sub === 'binding') return { status: 201, body: await bindPod(core, def, namespace, name, request.body) }
        return { status: 201, body: await createObject(core, def, namespace, request.body, { dryRun }) }
      case 'update':
        if (sub === 'scale') return { status: 200, body: await updateScale(core, def, namespace, name, request.body, { dryRun }) }
        return { status: 200, body: (await updateObject(core, def, namespace, name, request.body, sub === 'status' ? 'status' : undefined, { dryRun })).object }
      case 'patch': {
        const type: PatchType = patchTypeOf(request.contentType)
        if (sub === 'scale') return { status: 200, body: await patchScale(core, def, namespace, name, type, request.body, { dryRun }) }
        const result = await patchObject(core, def, namespace, name, type, request.body, sub === 'status' ? 'status' : undefined, { dryRun })
        return { status: 200, body: result.object }
      }
      case 'delete': {
        const options = parseDeleteOptions(query, request.body)
        const result = await deleteObject(core, def, namespace, name, options, dryRun)
        if (!result.deleted || def.returnDeletedObject) return { status: 200, body: result.object }
        const status: Status = deleteSuccessStatus({
          name: String(result.object.metadata.name ?? name),
          kind: def.resource,
          group: def.group,
          uid: String(result.object.metadata.uid ?? ''),
        })
        return { status: 200, body: status }
      }
      case 'deletecollection': {
        const selectors = parseListOptions(query, def.kind)
        const items = await deleteCollection(core, def, namespace, selectors, parseDeleteOptions(query, request.body), dryRun)
        const revision = await core.store.revision()
        return { status: 200, body: { kind: def.listKind, apiVersion: groupVersion(def), metadata: { resourceVersion: String(revision) }, items } }
      }
      case 'watch':
        throw methodNotSupported(groupResource(def), 'watch (use ApiHandler.watch)')
    }
  }

  /**
   * Starts a watch on a list path (optionally one object: request.name).
   * Rejects with a StatusError for a bad request; a too old resourceVersion
   * is not a rejection but one ERROR event (410 Expired) and the end.
   */
  async watch(request: ApiRequest, onEvent: (event: WatchEvent) => void): Promise<ApiWatch> {
    if (this.#closed) throw resourceNotFound()
    const def = this.#resolve({ ...request, verb: 'watch', subresource: undefined })
    const options = parseListOptions(request.query, def.kind)
    const cache = this.#caches.get(def)
    if (cache === undefined) throw resourceNotFound()
    let start: WatchStart
    if (options.resourceVersion === '') {
      await cache.progress() // "most recent": at least every write finished before this request
      start = { kind: 'state' }
    } else if (options.resourceVersion === '0') {
      start = { kind: 'state' }
    } else {
      start = { kind: 'resume', after: Number(options.resourceVersion) }
    }
    const filter = {
      namespace: def.namespaced ? request.namespace || undefined : undefined,
      name: request.name || undefined,
      matches: selectorMatcher(def, options),
    }
    return new WatchSession(
      cache,
      {
        filter,
        start,
        bookmarks: options.allowWatchBookmarks,
        bookmarkIntervalMs: this.#bookmarkIntervalMs,
        timeoutSeconds: options.timeoutSeconds || undefined,
      },
      onEvent,
    )
  }
}
