// The EndpointSlice control loop: Service and pod changes queue Service
// keys (service-endpoints-loop.ts), and so does any change to a slice this
// controller manages (our writes coming back, or edits to undo); one worker
// applies reconcileEndpointSlices' plan at once — creates and updates
// together, deletions after them, so an endpoint that moves between slices
// is never missing from all of them.
//
// The cache must hold our own last writes before the next decision, or a
// second slice would be created for the same endpoints (write-tracker.ts).
// When the Service is gone its managed slices are deleted here (listed from
// the API, not the cache, so one created a moment ago goes too) rather than
// left to the garbage collector, so the proxy forgets them at once. Slices of
// Services without a selector are someone else's and never touched.

import type { Informer } from '../client/api-client.ts'
import { RESOURCES, objectKey } from '../client/api-client.ts'
import { isNotFound } from '../api/status-error.ts'
import { isManagedSliceOf, reconcileEndpointSlices } from './endpoint-slice.ts'
import { namespacedName } from './objects.ts'
import type { EndpointSlice, Service } from './service-objects.ts'
import { ENDPOINTSLICE_CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from './service-objects.ts'
import type { ServiceEndpointsLoopOptions, ServiceName } from './service-endpoints-loop.ts'
import { ServiceEndpointsLoop } from './service-endpoints-loop.ts'

export interface EndpointSliceControllerOptions extends ServiceEndpointsLoopOptions {
  endpointSlices: Informer<EndpointSlice>
  /** Most endpoints per slice (default 100). */
  maxEndpointsPerSlice?: number
}

/** The Service key ("namespace/name") a slice managed by this controller belongs to. */
function managedServiceKey(slice: EndpointSlice): string | undefined {
  const labels = slice.metadata.labels ?? {}
  const service = labels[LABEL_SERVICE_NAME]
  if (labels[LABEL_MANAGED_BY] !== ENDPOINTSLICE_CONTROLLER_NAME || !service) return undefined
  return `${slice.metadata.namespace ?? ''}/${service}`
}

export class EndpointSliceController extends ServiceEndpointsLoop {
  private readonly slices: Informer<EndpointSlice>
  private readonly maxEndpointsPerSlice: number | undefined

  constructor(options: EndpointSliceControllerOptions) {
    super(options, 'endpointslice-controller')
    this.slices = options.endpointSlices
    this.maxEndpointsPerSlice = options.maxEndpointsPerSlice
    const observed = (slice: EndpointSlice, gone: boolean): void => {
      const key = managedServiceKey(slice)
      if (key === undefined) return
      this.tracker.observed(slice, gone)
      this.queue.add(key)
    }
    this.slices.on('add', s => observed(s, false))
    this.slices.on('update', (s, old) => {
      observed(s, false)
      // Relabelled away from a Service: that one needs a look too.
      const before = managedServiceKey(old)
      if (before !== undefined && before !== managedServiceKey(s)) this.queue.add(before)
    })
    this.slices.on('delete', s => observed(s, true))
  }

  protected informers(): readonly Informer[] {
    return [this.services, this.pods, this.slices]
  }

  protected *initialKeys(): Iterable<string> {
    const keys = new Set(this.services.list().map(namespacedName))
    for (const s of this.slices.list()) {
      const key = managedServiceKey(s)
      if (key !== undefined) keys.add(key)
    }
    yield* keys
  }

  // Every slice the Service had goes too.
  protected async serviceGone({ key, namespace, name }: ServiceName): Promise<void> {
    const selector = `${LABEL_SERVICE_NAME}=${name},${LABEL_MANAGED_BY}=${ENDPOINTSLICE_CONTROLLER_NAME}`
    const list = await this.client.list<EndpointSlice>(RESOURCES.endpointslices, namespace, { labelSelector: selector })
    if (list.items.length === 0) return
    await settleAll(list.items.map(async s => await this.deleteSlice(key, s)))
    this.logger.info('deleted endpointslices of a deleted service', { service: key, deleted: list.items.length })
  }

  protected async syncService(service: Service, { key, namespace, name }: ServiceName): Promise<void> {
    const started = this.clock.now()
    const plan = reconcileEndpointSlices({
      service,
      pods: this.pods.list(),
      slices: this.slices.list().filter(s => isManagedSliceOf(s, namespace, name)),
      maxEndpointsPerSlice: this.maxEndpointsPerSlice,
    })
    await settleAll([
      ...plan.create.map(async s => this.tracker.wrote(key, await this.client.create<EndpointSlice>(RESOURCES.endpointslices, namespace, s))),
      ...plan.update.map(async s =>
        this.tracker.wrote(key, await this.client.update<EndpointSlice>(RESOURCES.endpointslices, namespace, s), this.slices.get(objectKey(s))),
      ),
    ])
    await settleAll(plan.delete.map(async s => await this.deleteSlice(key, s)))

    const changed = plan.create.length + plan.update.length + plan.delete.length > 0
    this.logger[changed ? 'info' : 'debug']('synced endpointslices', {
      service: key,
      created: plan.create.length,
      updated: plan.update.length,
      deleted: plan.delete.length,
      ms: this.clock.now() - started,
    })
  }

  private async deleteSlice(key: string, slice: EndpointSlice): Promise<void> {
    try {
      await this.client.delete(RESOURCES.endpointslices, slice.metadata.namespace, slice.metadata.name ?? '', {
        preconditions: { uid: slice.metadata.uid },
      })
      this.tracker.deleted(key, objectKey(slice))
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }
}

/** Waits for every write, then throws the first failure (so the key is retried). */
export async function settleAll(writes: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(writes)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}
