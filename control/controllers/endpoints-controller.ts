// The Endpoints control loop: Service and pod changes queue Service keys
// (service-endpoints-loop.ts); one worker writes reconcileEndpoints' object
// through the ApiClient, at once (no batching delay: the proxy's
// programming latency starts here).
//
// As in Kubernetes: a Service without a selector is left alone (its
// Endpoints are someone else's: the API server writes the `kubernetes`
// Service's); when a Service is gone its Endpoints are deleted; Endpoints
// left behind by a Service deleted while the loop was down are deleted at
// start (checkLeftoverEndpoints). Our own writes are awaited in the cache
// before the next decision (write-tracker.ts); a deleted or edited
// Endpoints object of a live Service is written again.

import type { Informer } from '../client/api-client.ts'
import { RESOURCES, objectKey } from '../client/api-client.ts'
import { isAlreadyExists, isNotFound } from '../api/status-error.ts'
import type { EndpointsPlan } from './endpoints.ts'
import { reconcileEndpoints } from './endpoints.ts'
import { namespacedName } from './objects.ts'
import type { Endpoints, Service } from './service-objects.ts'
import type { ServiceEndpointsLoopOptions, ServiceName } from './service-endpoints-loop.ts'
import { ServiceEndpointsLoop } from './service-endpoints-loop.ts'

export interface EndpointsControllerOptions extends ServiceEndpointsLoopOptions {
  endpoints: Informer<Endpoints>
}

export class EndpointsController extends ServiceEndpointsLoop {
  private readonly endpoints: Informer<Endpoints>

  constructor(options: EndpointsControllerOptions) {
    super(options, 'endpoints-controller')
    this.endpoints = options.endpoints
    // Endpoints of a live Service: our writes coming back, or someone else's edits to undo.
    const observed = (e: Endpoints, gone: boolean): void => {
      this.tracker.observed(e, gone)
      if (this.services.get(objectKey(e))) this.queue.add(objectKey(e))
    }
    this.endpoints.on('add', e => observed(e, false))
    this.endpoints.on('update', e => observed(e, false))
    this.endpoints.on('delete', e => observed(e, true))
  }

  protected informers(): readonly Informer[] {
    return [this.services, this.pods, this.endpoints]
  }

  protected *initialKeys(): Iterable<string> {
    for (const s of this.services.list()) yield namespacedName(s)
    for (const e of this.endpoints.list()) if (!this.services.get(objectKey(e))) yield objectKey(e)
  }

  protected async serviceGone({ key, namespace, name }: ServiceName): Promise<void> {
    try {
      await this.client.delete(RESOURCES.endpoints, namespace, name)
      this.tracker.deleted(key, key)
      this.logger.info('deleted endpoints of a deleted service', { service: key })
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
  }

  protected async syncService(service: Service, { key, namespace, name }: ServiceName): Promise<void> {
    const started = this.clock.now()
    const current = this.endpoints.get(key)
    let plan = reconcileEndpoints({ service, pods: this.pods.list(), current })
    if (plan.action === 'create') {
      try {
        this.tracker.wrote(key, await this.client.create<Endpoints>(RESOURCES.endpoints, namespace, plan.endpoints))
      } catch (err) {
        if (!isAlreadyExists(err)) throw err
        // The cache has not seen it yet (or someone else made it): decide on the stored one.
        const stored = await this.client.get<Endpoints>(RESOURCES.endpoints, namespace, name)
        plan = reconcileEndpoints({ service, pods: this.pods.list(), current: stored })
        if (plan.action === 'update') this.tracker.wrote(key, await this.client.update<Endpoints>(RESOURCES.endpoints, namespace, plan.endpoints))
      }
    } else if (plan.action === 'update') {
      this.tracker.wrote(key, await this.client.update<Endpoints>(RESOURCES.endpoints, namespace, plan.endpoints), current)
    }
    this.logSync(key, plan, started)
  }

  private logSync(key: string, plan: EndpointsPlan, started: number): void {
    const subsets = plan.action === 'none' ? undefined : (plan.endpoints.subsets ?? [])
    this.logger[plan.action === 'none' ? 'debug' : 'info']('synced endpoints', {
      service: key,
      action: plan.action,
      ...(subsets
        ? {
            ready: subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0),
            notReady: subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0),
          }
        : {}),
      ms: this.clock.now() - started,
    })
  }
}
