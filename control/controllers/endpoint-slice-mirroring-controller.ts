// The EndpointSliceMirroring control loop: Service, Endpoints and mirrored
// slice changes queue the "namespace/name" they share; one worker applies
// reconcileMirroredSlices' plan (creates and updates together, deletions
// after), waiting until the cache shows its own last writes so a slice is
// never created twice (write-tracker.ts).

import type { ApiClient, Informer } from '../client/api-client.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import { applySlicePlan, managedSliceKey, watchManagedSlices } from './managed-slices.ts'
import { MIRRORING_CONTROLLER_NAME, isMirroredSliceOf, reconcileMirroredSlices } from './endpoint-slice-mirroring.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import { namespacedName } from './objects.ts'
import type { EndpointSlice, Endpoints, Service } from './service-objects.ts'
import type { SyncResult } from './work-queue.ts'
import { WriteTracker } from './write-tracker.ts'

export interface EndpointSliceMirroringControllerOptions {
  client: ApiClient
  services: Informer<Service>
  endpoints: Informer<Endpoints>
  endpointSlices: Informer<EndpointSlice>
  clock?: Clock
  logger?: Logger
  /** Most endpoints per mirrored slice (default 1000). */
  maxEndpointsPerSlice?: number
}

const mirroredKey = (slice: EndpointSlice): string | undefined => managedSliceKey(slice, MIRRORING_CONTROLLER_NAME)

export class EndpointSliceMirroringController extends Controller {
  private readonly client: ApiClient
  private readonly services: Informer<Service>
  private readonly endpoints: Informer<Endpoints>
  private readonly slices: Informer<EndpointSlice>
  private readonly tracker: WriteTracker
  private readonly maxEndpointsPerSlice: number | undefined

  constructor(options: EndpointSliceMirroringControllerOptions) {
    const clock = options.clock ?? systemClock
    super(clock, (options.logger ?? silentLogger).with({ component: 'endpointslice-mirroring-controller' }))
    this.client = options.client
    this.services = options.services
    this.endpoints = options.endpoints
    this.slices = options.endpointSlices
    this.tracker = new WriteTracker(clock)
    this.maxEndpointsPerSlice = options.maxEndpointsPerSlice
    for (const informer of [this.services, this.endpoints] as Informer[]) {
      informer.on('add', o => this.queue.add(namespacedName(o)))
      informer.on('update', (o, old) => {
        if (!sameVersion(o, old)) this.queue.add(namespacedName(o))
      })
      informer.on('delete', o => this.queue.add(namespacedName(o)))
    }
    watchManagedSlices(this.slices, MIRRORING_CONTROLLER_NAME, this.tracker, key => this.queue.add(key))
  }

  protected informers(): readonly Informer[] {
    return [this.services, this.endpoints, this.slices]
  }

  protected *initialKeys(): Iterable<string> {
    const keys = new Set(this.endpoints.list().map(namespacedName))
    for (const s of this.slices.list()) {
      const key = mirroredKey(s)
      if (key !== undefined) keys.add(key)
    }
    yield* keys
  }

  protected async sync(key: string): Promise<SyncResult | void> {
    const wait = this.tracker.staleFor(key)
    if (wait > 0) return { requeueAfterMs: wait }
    const slash = key.indexOf('/')
    const namespace = key.slice(0, slash)
    const name = key.slice(slash + 1)
    const plan = reconcileMirroredSlices({
      service: this.services.get(key),
      endpoints: this.endpoints.get(key),
      slices: this.slices.list().filter(s => isMirroredSliceOf(s, namespace, name)),
      maxEndpointsPerSlice: this.maxEndpointsPerSlice,
    })
    await applySlicePlan(this.client, this.tracker, this.slices, key, namespace, plan)
    if (!this.endpoints.get(key) && !this.services.get(key)) this.tracker.forget(key)
    const changed = plan.create.length + plan.update.length + plan.delete.length
    if (changed > 0) this.logger.info('mirrored endpoints', { service: key, created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length })
  }
}

