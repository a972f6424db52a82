// What the Endpoints and the EndpointSlice loops share: the handlers (a
// Service change queues the Service; a pod change queues every Service of
// its namespace whose selector matches the pod's old or new labels, when the
// change can alter an endpoint at all), the write tracker, and the shape of
// a sync — a Service that is gone has its objects deleted, one without a
// selector is left alone, one whose cache does not show our own last writes
// yet waits for them, every other is reconciled.

import type { ApiClient, Informer } from '../client/api-client.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import { podEndpointsChanged, podIP, selectsPods, servicesSelectingPod } from './endpoint-util.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import type { Pod } from './objects.ts'
import { namespacedName } from './objects.ts'
import type { Service } from './service-objects.ts'
import type { SyncResult } from './work-queue.ts'
import { WriteTracker } from './write-tracker.ts'

export interface ServiceEndpointsLoopOptions {
  client: ApiClient
  services: Informer<Service>
  pods: Informer<Pod>
  clock?: Clock
  logger?: Logger
}

/** A Service key split: "namespace/name". */
export interface ServiceName {
  key: string
  namespace: string
  name: string
}

export abstract class ServiceEndpointsLoop extends Controller {
  protected readonly client: ApiClient
  protected readonly services: Informer<Service>
  protected readonly pods: Informer<Pod>
  protected readonly tracker: WriteTracker

  constructor(options: ServiceEndpointsLoopOptions, component: string) {
    const clock = options.clock ?? systemClock
    super(clock, (options.logger ?? silentLogger).with({ component }))
    this.client = options.client
    this.services = options.services
    this.pods = options.pods
    this.tracker = new WriteTracker(clock)

    const addService = (s: Service): void => this.queue.add(namespacedName(s))
    const addSelecting = (pod: Pod, old?: Pod): void => {
      for (const s of servicesSelectingPod(this.services.list(), pod, old)) addService(s)
    }
    this.services.on('add', addService)
    this.services.on('update', (s, old) => {
      if (!sameVersion(s, old)) addService(s)
    })
    this.services.on('delete', addService)
    // A pod without an address is no endpoint yet (added) or was none (deleted).
    this.pods.on('add', pod => {
      if (podIP(pod) !== undefined) addSelecting(pod)
    })
    this.pods.on('update', (pod, old) => {
      if (!sameVersion(pod, old) && podEndpointsChanged(pod, old)) addSelecting(pod, old)
    })
    this.pods.on('delete', pod => {
      if (podIP(pod) !== undefined) addSelecting(pod)
    })
  }

  /** Deletes what a Service that is gone left behind. */
  protected abstract serviceGone(service: ServiceName): Promise<void>
  /** Reconciles a Service with a selector, its cache current. */
  protected abstract syncService(service: Service, name: ServiceName): Promise<void>

  protected async sync(key: string): Promise<SyncResult | void> {
    const slash = key.indexOf('/')
    const name: ServiceName = { key, namespace: key.slice(0, slash), name: key.slice(slash + 1) }
    const service = this.services.get(key)
    if (!service) {
      this.tracker.forget(key)
      await this.serviceGone(name)
      return
    }
    if (!selectsPods(service)) return
    const wait = this.tracker.staleFor(key)
    if (wait > 0) return { requeueAfterMs: wait }
    await this.syncService(service, name)
  }
}
