// The controller manager: starts every control loop of the control plane
// (LoopName below: workloads, garbage collection, node lifecycle, the
// service loops) and the scheduler over one ApiClient, sharing one informer per resource and
// selector between them (kube-controller-manager's shared informers), and
// stops them all.

import type { ApiClient, Informer, KubeObject, ListOptions, ResourceRef } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import type { Controller } from './controller.ts'
import type { ControllerRevision } from './controller-history.ts'
import { DaemonSetController } from './daemon-set-controller.ts'
import type { DaemonSet } from './daemon-set-util.ts'
import type { CronJob, JobView } from './cronjob.ts'
import { CronJobController } from './cronjob-controller.ts'
import { DeploymentController } from './deployment-controller.ts'
import { EndpointSliceController } from './endpoint-slice-controller.ts'
import { EndpointSliceMirroringController } from './endpoint-slice-mirroring-controller.ts'
import { EndpointsController } from './endpoints-controller.ts'
import { ApiEventRecorder } from './events.ts'
import { GarbageCollector } from './garbage-collector-controller.ts'
import type { Job, PodFailureBackoff } from './job.ts'
import { JobController } from './job-controller.ts'
import { TtlAfterFinishedController } from './ttl-after-finished-controller.ts'
import type { Logger } from './logger.ts'
import { jsonLogger } from './logger.ts'
import type { NodeLifecycleOptions } from './node-lifecycle.ts'
import { NodeLifecycleController } from './node-lifecycle-controller.ts'
import type { Deployment, Node, Pod, ReplicaSet } from './objects.ts'
import { ReplicaSetController } from './replicaset-controller.ts'
import type { EndpointSlice, Endpoints, Service } from './service-objects.ts'
import type { LoadBalancerPool } from './service-lb.ts'
import { ServiceLoadBalancerController } from './service-lb-controller.ts'
import { ClaimBinder } from './persistent-volume-claim-controller.ts'
import type { PersistentVolumeClaim, StatefulSet } from './stateful-set.ts'
import { StatefulSetController } from './stateful-set-controller.ts'
import { Scheduler } from '../scheduler/scheduler.ts'

/** Makes a running informer (list + watch) for a resource, optionally filtered. */
export type InformerFactory = <T extends KubeObject = KubeObject>(ref: ResourceRef, options?: ListOptions) => Informer<T>

export type LoopName =
  | 'replicaset'
  | 'deployment'
  | 'garbagecollector'
  | 'nodelifecycle'
  | 'scheduler'
  | 'endpoints'
  | 'endpointslice'
  | 'endpointslicemirroring'
  | 'service-lb'
  | 'statefulset'
  | 'daemonset'
  | 'job'
  | 'cronjob'
  | 'ttl-after-finished'
  | 'persistentvolume-binder'

export interface ControllerManagerOptions {
  /** Loops to leave out (all run by default). */
  disable?: readonly LoopName[]
  logger?: Logger
  /** Grace periods and default toleration of the node lifecycle controller, and its monitor period. */
  nodeLifecycle?: Partial<NodeLifecycleOptions> & { monitorPeriodMs?: number }
  /** Kinds the garbage collector watches (default: DEFAULT_GC_RESOURCES). */
  garbageCollector?: { resources?: readonly ResourceRef[] }
  scheduler?: { schedulerName?: string; unschedulableRetryMs?: number }
  /** Most pods a ReplicaSet creates or deletes per sync (default 500). */
  burstReplicas?: number
  /** source.host of the Events written. */
  host?: string
  /** Addresses for Services of type LoadBalancer, inclusive (default 198.18.0.200-198.18.0.250). */
  loadBalancerPool?: LoadBalancerPool
  /** Most endpoints per EndpointSlice (default 100). */
  maxEndpointsPerSlice?: number
  /** The Job controller's replacement back-off after pod failures (default 10 s doubling, capped at 6 min). */
  jobPodFailureBackoff?: Partial<PodFailureBackoff>
  /** `<state>/volumes`: where claims' directories are, removed with their claims (none: claims are only bound). */
  volumesDir?: string
}

export interface StartControllersArgs {
  client: ApiClient
  informerFactory: InformerFactory
  clock?: Clock
  options?: ControllerManagerOptions
}

export interface ControllerManager {
  /** Resolves once every loop has its caches and runs; rejects if one cannot start. */
  readonly ready: Promise<void>
  /** Every loop's queue is empty and nothing is in flight (tests). */
  idle(): boolean
  /** Stops the loops (waiting for syncs in flight), then the informers; writes pending events. */
  stop(): Promise<void>
}

/** EndpointSlices are collected once their Service goes (the Service is watched for that). */
export const DEFAULT_GC_RESOURCES: readonly ResourceRef[] = [
  RESOURCES.deployments,
  RESOURCES.replicasets,
  RESOURCES.statefulsets,
  RESOURCES.daemonsets,
  RESOURCES.controllerrevisions,
  RESOURCES.jobs,
  RESOURCES.cronjobs,
  RESOURCES.persistentvolumeclaims,
  RESOURCES.pods,
  RESOURCES.services,
  RESOURCES.endpointslices,
]

/** Starts the controllers and the scheduler. */
export function startControllers({ client, informerFactory, clock = systemClock, options = {} }: StartControllersArgs): ControllerManager {
  const logger = options.logger ?? jsonLogger()
  const disabled = new Set(options.disable ?? [])
  const informers = new Map<string, Informer>()
  const shared = <T extends KubeObject>(ref: ResourceRef, listOptions: ListOptions = {}): Informer<T> => {
    const key = `${ref.group}/${ref.version}/${ref.resource}?${listOptions.labelSelector ?? ''}&${listOptions.fieldSelector ?? ''}`
    let informer = informers.get(key)
    if (!informer) {
      informer = informerFactory<T>(ref, listOptions) as unknown as Informer
      informers.set(key, informer)
    }
    return informer as unknown as Informer<T>
  }
  const recorders: ApiEventRecorder[] = []
  const recorder = (component: string): ApiEventRecorder => {
    const source = options.host ? { component, host: options.host } : { component }
    const r = new ApiEventRecorder({ client, clock, source, logger: logger.with({ component: 'events' }) })
    recorders.push(r)
    return r
  }

  const loops: Controller[] = []
  if (!disabled.has('replicaset')) {
    loops.push(new ReplicaSetController({
      client, clock, logger,
      replicaSets: shared<ReplicaSet>(RESOURCES.replicasets),
      pods: shared<Pod>(RESOURCES.pods),
      recorder: recorder('replicaset-controller'),
      burstReplicas: options.burstReplicas,
    }))
  }
  if (!disabled.has('deployment')) {
    loops.push(new DeploymentController({
      client, clock, logger,
      deployments: shared<Deployment>(RESOURCES.deployments),
      replicaSets: shared<ReplicaSet>(RESOURCES.replicasets),
      pods: shared<Pod>(RESOURCES.pods),
      recorder: recorder('deployment-controller'),
    }))
  }
  if (!disabled.has('daemonset')) {
    loops.push(new DaemonSetController({
      client, clock, logger,
      daemonSets: shared<DaemonSet>(RESOURCES.daemonsets),
      pods: shared<Pod>(RESOURCES.pods),
      nodes: shared<Node>(RESOURCES.nodes),
      revisions: shared<ControllerRevision>(RESOURCES.controllerrevisions),
      recorder: recorder('daemonset-controller'),
    }))
  }
  if (!disabled.has('garbagecollector')) {
    const refs = options.garbageCollector?.resources ?? DEFAULT_GC_RESOURCES
    loops.push(new GarbageCollector({ client, clock, logger, resources: refs.map(ref => ({ ref, informer: shared(ref) })) }))
  }
  if (!disabled.has('nodelifecycle')) {
    const { monitorPeriodMs, ...lifecycle } = options.nodeLifecycle ?? {}
    loops.push(new NodeLifecycleController({
      client, clock, logger, lifecycle, monitorPeriodMs,
      nodes: shared<Node>(RESOURCES.nodes),
      pods: shared<Pod>(RESOURCES.pods),
      recorder: recorder('node-controller'),
    }))
  }
  if (!disabled.has('endpoints')) {
    loops.push(new EndpointsController({
      client, clock, logger,
      services: shared<Service>(RESOURCES.services),
      pods: shared<Pod>(RESOURCES.pods),
      endpoints: shared<Endpoints>(RESOURCES.endpoints),
    }))
  }
  if (!disabled.has('endpointslice')) {
    loops.push(new EndpointSliceController({
      client, clock, logger,
      services: shared<Service>(RESOURCES.services),
      pods: shared<Pod>(RESOURCES.pods),
      endpointSlices: shared<EndpointSlice>(RESOURCES.endpointslices),
      maxEndpointsPerSlice: options.maxEndpointsPerSlice,
    }))
  }
  if (!disabled.has('endpointslicemirroring')) {
    loops.push(new EndpointSliceMirroringController({
      client, clock, logger,
      services: shared<Service>(RESOURCES.services),
      endpoints: shared<Endpoints>(RESOURCES.endpoints),
      endpointSlices: shared<EndpointSlice>(RESOURCES.endpointslices),
    }))
  }
  if (!disabled.has('service-lb')) {
    loops.push(new ServiceLoadBalancerController({
      client, clock, logger,
      services: shared<Service>(RESOURCES.services),
      pool: options.loadBalancerPool,
      recorder: recorder('service-lb-controller'),
    }))
  }
  if (!disabled.has('job')) {
    loops.push(new JobController({
      client, clock, logger,
      jobs: shared<Job>(RESOURCES.jobs),
      pods: shared<Pod>(RESOURCES.pods),
      recorder: recorder('job-controller'),
      podFailureBackoff: options.jobPodFailureBackoff,
    }))
  }
  if (!disabled.has('ttl-after-finished')) {
    loops.push(new TtlAfterFinishedController({ client, clock, logger, jobs: shared<Job>(RESOURCES.jobs) }))
  }
  if (!disabled.has('statefulset')) {
    loops.push(new StatefulSetController({
      client, clock, logger,
      statefulSets: shared<StatefulSet>(RESOURCES.statefulsets),
      pods: shared<Pod>(RESOURCES.pods),
      claims: shared<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims),
      revisions: shared<ControllerRevision>(RESOURCES.controllerrevisions),
      recorder: recorder('statefulset-controller'),
    }))
  }
  if (!disabled.has('persistentvolume-binder')) {
    loops.push(new ClaimBinder({
      client, clock, logger,
      claims: shared<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims),
      pods: shared<Pod>(RESOURCES.pods),
      ...(options.volumesDir ? { volumesDir: options.volumesDir } : {}),
    }))
  }
  if (!disabled.has('cronjob')) {
    loops.push(new CronJobController({
      client, clock, logger,
      cronJobs: shared<CronJob>(RESOURCES.cronjobs),
      jobs: shared<JobView>(RESOURCES.jobs),
      recorder: recorder('cronjob-controller'),
    }))
  }
  if (!disabled.has('scheduler')) {
    loops.push(new Scheduler({
      client, clock, logger,
      unscheduledPods: shared<Pod>(RESOURCES.pods, { fieldSelector: 'spec.nodeName=' }),
      scheduledPods: shared<Pod>(RESOURCES.pods, { fieldSelector: 'spec.nodeName!=' }),
      nodes: shared<Node>(RESOURCES.nodes),
      recorder: recorder('default-scheduler'),
      schedulerName: options.scheduler?.schedulerName,
      unschedulableRetryMs: options.scheduler?.unschedulableRetryMs,
    }))
  }

  const ready = Promise.all(loops.map(async loop => await loop.start())).then(() => {
    logger.info('controllers started', { component: 'controller-manager', loops: loops.length, informers: informers.size })
  })
  ready.catch(err => logger.error('controllers failed to start', { component: 'controller-manager', error: err }))

  let stopping: Promise<void> | undefined
  return {
    ready,
    idle: () => loops.every(l => l.idle()),
    stop: async () => {
      stopping ??= (async () => {
        await Promise.all(loops.map(async l => await l.stop()))
        for (const i of informers.values()) i.stop()
        await Promise.all(recorders.map(async r => await r.flush()))
      })()
      await stopping
    },
  }
}
