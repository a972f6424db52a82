// Helpers for the API server tests: a handler over a MemoryStore with an
// in-process client, Status error matching, and watch collectors that wait on
// a condition (never on a timer).

import t from 'tap'
import { StatusError } from '../../../control/api/status-error.ts'
import { ApiHandler } from '../../../control/apiserver/api-handler.ts'
import type { ApiHandlerOptions } from '../../../control/apiserver/api-handler.ts'
import type { ApiClient, KubeObject, ListOptions, ResourceRef, WatchEvent, WatchHandle } from '../../../control/client/api-client.ts'
import { LocalClient } from '../../../control/client/local-client.ts'
import { MemoryStore } from '../../../control/store/memory-store.ts'
import type { MemoryStoreOptions } from '../../../control/store/memory-store.ts'

export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

export interface Harness {
  store: MemoryStore
  handler: ApiHandler
  client: LocalClient
}

export async function harness(t: TapTest, options: ApiHandlerOptions & { store?: MemoryStoreOptions } = {}): Promise<Harness> {
  const store = new MemoryStore(options.store)
  const handler = await ApiHandler.start(store, options)
  t.teardown(async () => {
    await handler.close()
    await store.close()
  })
  return { store, handler, client: new LocalClient(handler) }
}

/** Asserts that `promise` rejects with a StatusError of this HTTP code and exact message. */
export async function rejectsStatus(t: TapTest, promise: Promise<unknown>, code: number, message: string | RegExp, reason?: string): Promise<StatusError | undefined> {
  try {
    await promise
  } catch (err) {
    if (!(err instanceof StatusError)) {
      t.fail(`expected a StatusError, got ${String(err)}`)
      return undefined
    }
    t.equal(err.statusCode, code, `HTTP ${code}`)
    if (typeof message === 'string') t.equal(err.message, message)
    else t.match(err.message, message)
    if (reason !== undefined) t.equal(err.status.reason, reason)
    return err
  }
  t.fail(`expected a ${code} rejection`)
  return undefined
}

export const pod = (name: string, extra: Record<string, unknown> = {}, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'main', image: 'nginx:1.25' }], ...extra },
})

export const deployment = (name: string, replicas = 2, labels: Record<string, string> = { app: name }): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: 'main', image: 'nginx:1.25' }] } },
  },
})

export interface EventLog<T extends KubeObject = KubeObject> {
  events: Array<WatchEvent<T>>
  handle: WatchHandle
  /** Resolves once the events so far satisfy `condition`. */
  until(condition: (events: Array<WatchEvent<T>>) => boolean): Promise<Array<WatchEvent<T>>>
  /** `TYPE name` for each event (BOOKMARKs as `BOOKMARK <rv>`). */
  summary(): string[]
}

export async function watchLog<T extends KubeObject = KubeObject>(
  t: TapTest,
  client: ApiClient,
  ref: ResourceRef,
  namespace: string | undefined,
  options: ListOptions = {},
): Promise<EventLog<T>> {
  const events: Array<WatchEvent<T>> = []
  const waiters: Array<{ condition: (e: Array<WatchEvent<T>>) => boolean; resolve: (e: Array<WatchEvent<T>>) => void }> = []
  const check = (): void => {
    for (const waiter of [...waiters]) {
      if (waiter.condition(events)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(events)
      }
    }
  }
  const handle = await client.watch<T>(ref, namespace, options, event => {
    events.push(event)
    check()
  })
  t.teardown(() => handle.stop())
  return {
    events,
    handle,
    until: condition =>
      new Promise(resolve => {
        waiters.push({ condition, resolve })
        check()
      }),
    summary: () =>
      events.map(e => (e.type === 'BOOKMARK' ? `BOOKMARK ${e.object.metadata.resourceVersion}` : e.type === 'ERROR' ? `ERROR ${(e.object as unknown as { code: number }).code}` : `${e.type} ${e.object.metadata.name}`)),
  }
}
