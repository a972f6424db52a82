// The in-process transport: an ApiClient that calls the API server's handler
// core directly. Controllers and the scheduler inside the control-plane
// process use it; it goes through exactly the same request handling as HTTPS
// (defaulting, validation, conflicts, watch), without sockets or JSON.
//
// Like the HTTPS client, results of requests are the caller's to change
// (copies), while watch events carry shared frozen objects: copy before
// changing one.

import { StatusError } from '../api/status-error.ts'
import type { Status } from '../api/status-error.ts'
import type { ApiHandler } from '../apiserver/api-handler.ts'
import { PATCH_MEDIA_TYPES } from '../apiserver/patch/apply-patch.ts'
import type { ApiRequest } from '../apiserver/request.ts'
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

type Query = Record<string, string | undefined>

function listQuery(options: ListOptions): Query {
  return {
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
    resourceVersion: options.resourceVersion,
    allowWatchBookmarks: options.allowWatchBookmarks === true ? 'true' : undefined,
    timeoutSeconds: options.timeoutSeconds === undefined ? undefined : String(options.timeoutSeconds),
  }
}

export class LocalClient implements ApiClient {
  readonly handler: ApiHandler

  constructor(handler: ApiHandler) {
    this.handler = handler
  }

  async #call<T>(request: ApiRequest): Promise<T> {
    const response = await this.handler.handle(request)
    if (response.status >= 400) throw StatusError.fromStatus(response.body as Status)
    return structuredClone(response.body) as T
  }

  async get<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, subresource?: Subresource): Promise<T> {
    return await this.#call<T>({ verb: 'get', ref, namespace, name, subresource })
  }

  async list<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, options: ListOptions = {}): Promise<ObjectList<T>> {
    return await this.#call<ObjectList<T>>({ verb: 'list', ref, namespace, query: listQuery(options) })
  }

  async create<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, subresource?: 'binding'): Promise<T> {
    const name = subresource === 'binding' ? object.metadata.name : undefined
    return await this.#call<T>({ verb: 'create', ref, namespace: namespace ?? object.metadata.namespace, name, subresource, body: object })
  }

  async update<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, subresource?: Subresource): Promise<T> {
    const name = object.metadata.name ?? ''
    return await this.#call<T>({ verb: 'update', ref, namespace: namespace ?? object.metadata.namespace, name, subresource, body: object })
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    subresource?: Subresource,
  ): Promise<T> {
    return await this.#call<T>({ verb: 'patch', ref, namespace, name, subresource, body: patch, contentType: PATCH_MEDIA_TYPES[type] })
  }

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<KubeObject> {
    return await this.#call<KubeObject>({ verb: 'delete', ref, namespace, name, body: options })
  }

  async watch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    options: ListOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<WatchHandle> {
    const query = listQuery(options)
    // The contract's "absent: from now": resume after the current revision, no initial ADDED events.
    if (options.resourceVersion === undefined) query.resourceVersion = String(await this.handler.store.revision())
    const watch = await this.handler.watch({ verb: 'watch', ref, namespace, query }, onEvent as (event: WatchEvent) => void)
    return { stop: () => watch.stop(), done: watch.done.then(() => undefined) }
  }
}
