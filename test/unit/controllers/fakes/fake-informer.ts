// A list + watch cache over any ApiClient (enough of client-go's informer for
// the controller tests): lists, then watches from the list's
// resourceVersion, keeps deep-frozen objects by key, and calls the handlers
// (adds for the initial list too). The handlers run after the cache changed.

import type {
  ApiClient,
  Informer,
  KubeObject,
  ListOptions,
  ResourceRef,
  WatchHandle,
} from '../../../../control/client/api-client.ts'
import { objectKey } from '../../../../control/client/api-client.ts'

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o)
    for (const v of Object.values(o)) deepFreeze(v)
  }
  return o
}

type Handlers<T> = {
  add: Array<(o: T) => void>
  update: Array<(o: T, old: T) => void>
  delete: Array<(o: T) => void>
}

export class FakeInformer<T extends KubeObject = KubeObject> implements Informer<T> {
  readonly synced: Promise<void>
  private readonly cache = new Map<string, T>()
  private readonly handlers: Handlers<T> = { add: [], update: [], delete: [] }
  private isSynced = false
  private handle: WatchHandle | undefined
  private stopped = false

  constructor(
    private readonly client: ApiClient,
    private readonly ref: ResourceRef,
    private readonly options: ListOptions = {},
    private readonly namespace?: string,
  ) {
    this.synced = this.run()
  }

  private async run(): Promise<void> {
    const list = await this.client.list<T>(this.ref, this.namespace, this.options)
    for (const item of list.items) {
      const o = deepFreeze(item)
      this.cache.set(objectKey(o), o)
    }
    this.isSynced = true
    for (const o of this.cache.values()) for (const h of this.handlers.add) h(o)
    if (this.stopped) return
    this.handle = await this.client.watch<T>(
      this.ref,
      this.namespace,
      { ...this.options, resourceVersion: list.metadata.resourceVersion },
      event => {
        if (this.stopped) return
        const o = deepFreeze(event.object)
        const key = objectKey(o)
        const old = this.cache.get(key)
        if (event.type === 'DELETED') {
          this.cache.delete(key)
          for (const h of this.handlers.delete) h(old ?? o)
        } else if (event.type === 'ADDED' || event.type === 'MODIFIED') {
          this.cache.set(key, o)
          if (old) for (const h of this.handlers.update) h(o, old)
          else for (const h of this.handlers.add) h(o)
        }
      },
    )
  }

  hasSynced(): boolean {
    return this.isSynced
  }

  list(): T[] {
    return [...this.cache.values()]
  }

  get(key: string): T | undefined {
    return this.cache.get(key)
  }

  on(event: 'add', handler: (object: T) => void): void
  on(event: 'update', handler: (object: T, old: T) => void): void
  on(event: 'delete', handler: (object: T) => void): void
  on(event: 'add' | 'update' | 'delete', handler: ((o: T) => void) | ((o: T, old: T) => void)): void {
    if (event === 'update') this.handlers.update.push(handler as (o: T, old: T) => void)
    else this.handlers[event].push(handler as (o: T) => void)
  }

  stop(): void {
    this.stopped = true
    this.handle?.stop()
  }
}

/** An informerFactory over `client`, remembering what it made so tests can stop them all. */
export function fakeInformerFactory(client: ApiClient): {
  factory: <T extends KubeObject = KubeObject>(ref: ResourceRef, options?: ListOptions) => Informer<T>
  made: FakeInformer[]
  stopAll(): void
} {
  const made: FakeInformer[] = []
  return {
    factory: <T extends KubeObject = KubeObject>(ref: ResourceRef, options?: ListOptions): Informer<T> => {
      const informer = new FakeInformer<T>(client, ref, options)
      made.push(informer as unknown as FakeInformer)
      return informer
    },
    made,
    stopAll: () => {
      for (const i of made) i.stop()
    },
  }
}
