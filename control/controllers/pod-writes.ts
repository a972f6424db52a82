// How the loops that own pods directly (ReplicaSet, Job, DaemonSet) create
// and delete them, as Kubernetes' controllers do: creations in slow-start
// batches (1, 2, 4, ...) that stop at the first failure, so a quota or
// admission error costs one request rather than hundreds; deletions all at
// once. Each write gets its Event; a write that will never be observed (it
// failed, or was never tried) is taken off the owner's expectations. The
// caller sets the expectations before calling.

import type { ApiClient, KubeObject } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isNotFound } from '../api/status-error.ts'
import type { EventRecorder } from './events.ts'
import type { Expectations } from './expectations.ts'
import type { Pod } from './objects.ts'
import { errorMessage, namespacedName } from './objects.ts'

const SLOW_START_INITIAL_BATCH = 1

export interface PodWriter {
  client: ApiClient
  recorder: EventRecorder
  expectations: Expectations
}

/** Creates `pods` for `owner` in slow-start batches; the first failure's message stops it. */
export async function createPodsInBatches(w: PodWriter, key: string, owner: KubeObject, pods: readonly Pod[]): Promise<{ created: number; error?: string }> {
  let created = 0
  let error: string | undefined
  let batch = SLOW_START_INITIAL_BATCH
  let next = 0
  while (next < pods.length && error === undefined) {
    const slice = pods.slice(next, next + batch)
    next += slice.length
    const results = await Promise.allSettled(slice.map(async pod => await w.client.create<Pod>(RESOURCES.pods, owner.metadata.namespace, pod)))
    for (const r of results) {
      if (r.status === 'fulfilled') {
        created++
        w.recorder.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${r.value.metadata.name ?? ''}`)
      } else {
        const message = errorMessage(r.reason)
        w.recorder.event(owner, 'Warning', 'FailedCreate', `Error creating: ${message}`)
        error ??= message
      }
    }
    batch *= 2
  }
  // Failed and never attempted creations will not be observed.
  for (let i = created; i < pods.length; i++) w.expectations.creationObserved(key)
  return error === undefined ? { created } : { created, error }
}

/** Deletes `pods` of `owner` at once (a pod already gone counts as deleted); the first failure's message. */
export async function deletePods(w: PodWriter, key: string, owner: KubeObject, pods: readonly Pod[]): Promise<{ deleted: number; error?: string }> {
  let deleted = 0
  let error: string | undefined
  await Promise.all(
    pods.map(async pod => {
      const name = pod.metadata.name ?? ''
      try {
        await w.client.delete(RESOURCES.pods, pod.metadata.namespace, name, { preconditions: { uid: pod.metadata.uid } })
        deleted++
        w.recorder.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`)
      } catch (err) {
        w.expectations.deletionObserved(key, namespacedName(pod))
        if (isNotFound(err)) return
        const message = errorMessage(err)
        w.recorder.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${message}`)
        error ??= message
      }
    }),
  )
  return error === undefined ? { deleted } : { deleted, error }
}
