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
import { RESOURCES } from '../client/api-client.ts'
import { isManagedSliceOf, reconcileEndpointSlices } from './endpoint-slice.ts'
import { applySlicePlan, deleteSlice, managedSliceKey, settleAll, watchManagedSlices } from './managed-slices.ts'
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

const managedServiceKey = (slice: EndpointSlice): string | undefined => managedSliceKey(slice, ENDPOINTSLICE_CONTROLLER_NAME)

export class EndpointSliceController extends ServiceEndpointsLoop {
  private readonly slices: Informer<EndpointSlice>
  private readonly maxEndpointsPerSlice: number | undefined

  constructor(options: EndpointSliceControllerOptions) {
    super(options, 'endpointslice-controller')
    this.slices = options.endpointSlices
    this.maxEndpointsPerSlice = options.maxEndpointsPerSlice
    watchManagedSlices(this.slices, ENDPOINTSLICE_CONTROLLER_NAME, this.tracker, key => this.queue.add(key))
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
    await settleAll(list.items.map(async s => await deleteSlice(this.client, this.tracker, key, s)))
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
    await applySlicePlan(this.client, this.tracker, this.slices, key, namespace, plan)

    const changed = plan.create.length + plan.update.length + plan.delete.length > 0
    this.logger[changed ? 'info' : 'debug']('synced endpointslices', {
      service: key,
      created: plan.create.length,
      updated: plan.update.length,
      deleted: plan.delete.length,
      ms: this.clock.now() - started,
    })
  }
}
