// An ApiClient wrapper for informer tests: the test can cut the current watch
// stream and hold back new watches, so that more changes happen meanwhile
// than the server's watch window keeps (forcing a 410 on resume).

import type { ApiClient, KubeObject, ListOptions, ResourceRef, WatchEvent, WatchHandle } from '../../../control/client/api-client.ts'

export class GatedClient implements ApiClient {
  readonly inner: ApiClient
  readonly #open = new Set<WatchHandle>()
  #gate: Promise<void> | undefined
  #release: (() => void) | undefined
  watchCalls = 0
  lists = 0
  readonly errors: string[] = []

  constructor(inner: ApiClient) {
    this.inner = inner
    this.get = inner.get.bind(inner)
    this.create = inner.create.bind(inner)
    this.update = inner.update.bind(inner)
    this.patch = inner.patch.bind(inner)
    this.delete = inner.delete.bind(inner)
  }

  get: ApiClient['get']
  create: ApiClient['create']
  update: ApiClient['update']
  patch: ApiClient['patch']
  delete: ApiClient['delete']

  list: ApiClient['list'] = async (ref, namespace, options) => {
    this.lists++
    return await this.inner.list(ref, namespace, options)
  }

  /** Cuts every open watch and makes new ones wait until release(). */
  cut(): void {
    this.#gate ??= new Promise(resolve => {
      this.#release = resolve
    })
    for (const handle of this.#open) handle.stop()
  }

  release(): void {
    this.#release?.()
    this.#gate = undefined
    this.#release = undefined
  }

  async watch<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, options: ListOptions, onEvent: (event: WatchEvent<T>) => void): Promise<WatchHandle> {
    this.watchCalls++
    if (this.#gate !== undefined) await this.#gate
    const handle = await this.inner.watch<T>(ref, namespace, options, event => {
      if (event.type === 'ERROR') this.errors.push(String((event.object as unknown as { code?: number }).code))
      onEvent(event)
    })
    this.#open.add(handle)
    void handle.done.then(() => this.#open.delete(handle))
    return handle
  }
}
