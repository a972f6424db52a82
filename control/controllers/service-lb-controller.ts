// The LoadBalancer address loop: Service changes queue the Service; one
// worker applies planLoadBalancer's decision — the allocation in memory,
// status.loadBalancer through the status subresource, an Event on the
// Service (IPAllocated, AllocationFailed).
//
// The allocations live only in memory and are rebuilt from the Services'
// statuses once the cache is in, before the first sync, so no Service takes
// an address another one reports. Services that could not get an address
// are queued again whenever one is released. A stale cache shows up as a
// Conflict on the status write, and the worker retries the Service.

import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import type { EventRecorder } from './events.ts'
import { nullRecorder } from './events.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import { namespacedName } from './objects.ts'
import type { Service } from './service-objects.ts'
import type { Allocations, LoadBalancerPool, PoolRange } from './service-lb.ts'
import { DEFAULT_LOAD_BALANCER_POOL, applyDecision, parsePool, planLoadBalancer, rebuildAllocations } from './service-lb.ts'
import type { SyncResult } from './work-queue.ts'

export interface ServiceLoadBalancerControllerOptions {
  client: ApiClient
  services: Informer<Service>
  /** The addresses handed out, inclusive (default 198.18.0.200-198.18.0.250). */
  pool?: LoadBalancerPool
  clock?: Clock
  recorder?: EventRecorder
  logger?: Logger
}

export class ServiceLoadBalancerController extends Controller {
  readonly pool: PoolRange
  private readonly client: ApiClient
  private readonly services: Informer<Service>
  private readonly recorder: EventRecorder
  private allocations: Allocations | undefined
  /** Services waiting for an address to free up. */
  private readonly waiting = new Set<string>()

  constructor(options: ServiceLoadBalancerControllerOptions) {
    super(options.clock ?? systemClock, (options.logger ?? silentLogger).with({ component: 'service-lb-controller' }))
    this.pool = parsePool(options.pool ?? DEFAULT_LOAD_BALANCER_POOL)
    this.client = options.client
    this.services = options.services
    this.recorder = options.recorder ?? nullRecorder
    this.services.on('add', s => this.queue.add(namespacedName(s)))
    this.services.on('update', (s, old) => {
      if (!sameVersion(s, old)) this.queue.add(namespacedName(s))
    })
    this.services.on('delete', s => this.queue.add(namespacedName(s)))
  }

  protected informers(): readonly Informer[] {
    return [this.services]
  }

  protected initialKeys(): Iterable<string> {
    const services = this.services.list()
    this.allocations = rebuildAllocations(services, this.pool)
    this.logger.info('allocations rebuilt from service status', { allocated: this.allocations.size, pool: this.pool.text })
    return services.map(namespacedName)
  }

  /** Who holds what (tests). */
  allocated(key: string): string | undefined {
    return this.allocations?.ipOf(key)
  }

  protected async sync(key: string): Promise<SyncResult | void> {
    const allocations = this.allocations
    if (!allocations) return
    const service = this.services.get(key)
    if (!service) {
      this.waiting.delete(key)
      this.released(key, allocations.release(key))
      return
    }
    const before = allocations.ipOf(key)
    const decision = planLoadBalancer(service, allocations, this.pool)
    applyDecision(allocations, key, decision)
    if (decision.waiting) this.waiting.add(key)
    else this.waiting.delete(key)
    if (before !== undefined && before !== decision.ip) this.released(key, before)

    if (decision.event) this.recorder.event(service, decision.event.type, decision.event.reason, decision.event.message)
    if (decision.loadBalancer) {
      const status = { ...service.status, loadBalancer: decision.loadBalancer }
      await this.client.update<Service>(RESOURCES.services, service.metadata.namespace, { ...service, status }, 'status')
    }
    const changed = decision.loadBalancer !== undefined || decision.event !== undefined
    this.logger[changed ? 'info' : 'debug']('synced service', {
      service: key,
      ip: decision.ip,
      statusUpdated: decision.loadBalancer !== undefined,
      ...(decision.event ? { event: decision.event.reason } : {}),
    })
  }

  private released(key: string, ip: string | undefined): void {
    if (ip === undefined) return
    this.logger.info('released address', { service: key, ip })
    for (const other of this.waiting) this.queue.add(other)
  }
}
