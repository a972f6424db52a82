// What the two loops that write EndpointSlices (the EndpointSlice controller
// for Services with a selector, the mirroring controller for those without)
// share: which Service a slice of theirs belongs to (by its
// `kubernetes.io/service-name` and `managed-by` labels), the slice handlers
// that queue that Service and feed the write tracker, and how a plan is
// written: creates and updates together, deletions after them, so an
// endpoint moving between slices is never missing from all of them.

import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES, objectKey } from '../client/api-client.ts'
import { isNotFound } from '../api/status-error.ts'
import type { EndpointSlice } from './service-objects.ts'
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from './service-objects.ts'
import type { WriteTracker } from './write-tracker.ts'

export interface SlicePlan {
  create: EndpointSlice[]
  update: EndpointSlice[]
  delete: EndpointSlice[]
}

/** The Service key ("namespace/name") of a slice written by `manager`, else undefined. */
export function managedSliceKey(slice: EndpointSlice, manager: string): string | undefined {
  const labels = slice.metadata.labels ?? {}
  const service = labels[LABEL_SERVICE_NAME]
  if (labels[LABEL_MANAGED_BY] !== manager || !service) return undefined
  return `${slice.metadata.namespace ?? ''}/${service}`
}

/** Queues the Service of every change to a slice of `manager` (both Services when one is relabelled). */
export function watchManagedSlices(slices: Informer<EndpointSlice>, manager: string, tracker: WriteTracker, enqueue: (key: string) => void): void {
  const observed = (slice: EndpointSlice, gone: boolean): void => {
    const key = managedSliceKey(slice, manager)
    if (key === undefined) return
    tracker.observed(slice, gone)
    enqueue(key)
  }
  slices.on('add', s => observed(s, false))
  slices.on('update', (s, old) => {
    observed(s, false)
    const before = managedSliceKey(old, manager)
    if (before !== undefined && before !== managedSliceKey(s, manager)) enqueue(before)
  })
  slices.on('delete', s => observed(s, true))
}

/** Writes a plan for the Service `key`, recording each write with the tracker; throws the first failure. */
export async function applySlicePlan(client: ApiClient, tracker: WriteTracker, slices: Informer<EndpointSlice>, key: string, namespace: string, plan: SlicePlan): Promise<void> {
  await settleAll([
    ...plan.create.map(async s => tracker.wrote(key, await client.create<EndpointSlice>(RESOURCES.endpointslices, namespace, s))),
    ...plan.update.map(async s => tracker.wrote(key, await client.update<EndpointSlice>(RESOURCES.endpointslices, namespace, s), slices.get(objectKey(s)))),
  ])
  await settleAll(plan.delete.map(async s => await deleteSlice(client, tracker, key, s)))
}

/** Deletes one slice (if it is still the one we saw), telling the tracker. */
export async function deleteSlice(client: ApiClient, tracker: WriteTracker, key: string, slice: EndpointSlice): Promise<void> {
  try {
    await client.delete(RESOURCES.endpointslices, slice.metadata.namespace, slice.metadata.name ?? '', { preconditions: { uid: slice.metadata.uid } })
    tracker.deleted(key, objectKey(slice))
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
}

/** Waits for every write, then throws the first failure (so the key is retried). */
export async function settleAll(writes: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(writes)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}
