// Waiting on one object through watch, never by polling on a timer: read it,
// then watch it from that resourceVersion and hand every state to a check
// until the check says done. A watch that ends (server timeout, 410) is
// reopened after a fresh read, so no change is missed. Used by `delete`
// (wait until gone), `rollout status` and anything else that waits.

import { isNotFound } from '../../api/status-error.ts'
import type { ApiClient, KubeObject, ResourceRef, WatchEventType, WatchHandle } from '../../client/api-client.ts'
import { KubectlError } from './errors.ts'

export interface ObserveOptions {
  /** Give up after this long (undefined: never). */
  timeoutMs?: number | undefined
  /** The text of the timeout error (kubectl's "timed out waiting for the condition"). */
  timeoutMessage?: string
  signal?: AbortSignal | undefined
}

/**
 * Calls `check` with the object's current state (undefined once it is gone),
 * first from a read and then for every watch event, until it returns true.
 * `check` may throw to stop with an error. Resolves 'done', or 'aborted' when
 * the signal fires; rejects with ETIMEOUT after timeoutMs.
 */
export async function observe<T extends KubeObject = KubeObject>(
  client: ApiClient,
  ref: ResourceRef,
  namespace: string | undefined,
  name: string,
  options: ObserveOptions,
  check: (object: T | undefined, event: WatchEventType | 'GET') => boolean,
): Promise<'done' | 'aborted'> {
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs
  const timeout = (): KubectlError => new KubectlError('ETIMEOUT', options.timeoutMessage ?? 'timed out waiting for the condition')
  for (;;) {
    if (options.signal?.aborted) return 'aborted'
    if (deadline !== undefined && Date.now() >= deadline) throw timeout()
    let current: T | undefined
    try {
      current = await client.get<T>(ref, namespace, name)
    } catch (err) {
      if (!isNotFound(err)) throw err
      current = undefined
    }
    if (check(current, 'GET')) return 'done'

    const outcome = await new Promise<'done' | 'ended' | 'timeout' | 'aborted' | { error: unknown }>(resolve => {
      let settled = false
      let handle: WatchHandle | undefined
      let timer: NodeJS.Timeout | undefined
      const finish = (result: 'done' | 'ended' | 'timeout' | 'aborted' | { error: unknown }): void => {
        if (settled) return
        settled = true
        if (timer !== undefined) clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        handle?.stop()
        resolve(result)
      }
      const onAbort = (): void => finish('aborted')
      options.signal?.addEventListener('abort', onAbort)
      if (deadline !== undefined) timer = setTimeout(() => finish('timeout'), Math.max(0, deadline - Date.now()))
      const remaining = deadline === undefined ? undefined : Math.max(1, Math.ceil((deadline - Date.now()) / 1000))
      client
        .watch<T>(
          ref,
          namespace,
          {
            fieldSelector: `metadata.name=${name}`,
            ...(current?.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
            ...(remaining !== undefined ? { timeoutSeconds: remaining } : {}),
          },
          event => {
            if (settled) return
            if (event.type === 'BOOKMARK') return
            if (event.type === 'ERROR') {
              finish('ended') // 410 and friends: read again and resume
              return
            }
            try {
              if (check(event.type === 'DELETED' ? undefined : event.object, event.type)) finish('done')
            } catch (error) {
              finish({ error })
            }
          },
        )
        .then(
          h => {
            handle = h
            if (settled) h.stop()
            else void h.done.then(() => finish('ended'))
          },
          error => finish({ error }),
        )
    })
    if (outcome === 'done' || outcome === 'aborted') return outcome
    if (outcome === 'timeout') throw timeout()
    if (typeof outcome === 'object') throw outcome.error
  }
}
