// Wiring for the loop tests: a fake API, a manual clock, informers and the
// workload controllers, plus the node agent's part (pods becoming ready).

import { RESOURCES } from '../../../../control/client/api-client.ts'
import type { KubeObject } from '../../../../control/client/api-client.ts'
import { ApiEventRecorder } from '../../../../control/controllers/events.ts'
import type { CoreEvent } from '../../../../control/controllers/events.ts'
import { ReplicaSetController } from '../../../../control/controllers/replicaset-controller.ts'
import { DeploymentController } from '../../../../control/controllers/deployment-controller.ts'
import type { Deployment, Pod, ReplicaSet } from '../../../../control/controllers/objects.ts'
import { formatTime } from '../../../../control/controllers/clock.ts'
import { FakeApi } from './fake-api.ts'
import type { FakeApiOptions } from './fake-api.ts'
import { FakeClock } from './fake-clock.ts'
import { fakeInformerFactory } from './fake-informer.ts'
import { settle } from './wait.ts'

export interface Workloads {
  api: FakeApi
  clock: FakeClock
  recorder: ApiEventRecorder
  rsc: ReplicaSetController
  dc: DeploymentController
  settle(): Promise<void>
  stop(): Promise<void>
}

export async function startWorkloads(options: FakeApiOptions & { deployments?: boolean } = {}): Promise<Workloads> {
  const clock = new FakeClock()
  const api = new FakeApi({ clock, ...options })
  const { factory, stopAll } = fakeInformerFactory(api)
  const pods = factory<Pod>(RESOURCES.pods)
  const replicaSets = factory<ReplicaSet>(RESOURCES.replicasets)
  const deployments = factory<Deployment>(RESOURCES.deployments)
  const recorder = new ApiEventRecorder({ client: api, clock, source: { component: 'controller-manager' } })
  const rsc = new ReplicaSetController({ client: api, replicaSets, pods, clock, recorder })
  const dc = new DeploymentController({ client: api, deployments, replicaSets, pods, clock, recorder })
  await rsc.start()
  await dc.start()
  return {
    api,
    clock,
    recorder,
    rsc,
    dc,
    settle: async () => await settle(api, () => rsc.idle() && dc.idle()),
    stop: async () => {
      await rsc.stop()
      await dc.stop()
      stopAll()
    },
  }
}

/** What the node agent reports once a pod's containers run and pass readiness. */
export async function markReady(api: FakeApi, pod: KubeObject, ready = true, now = Date.now()): Promise<void> {
  await api.patch(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name ?? '', {
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: formatTime(now) }],
    },
  }, 'merge', 'status')
}

export const livePods = (api: FakeApi): Pod[] => api.objects<Pod>(RESOURCES.pods).filter(p => !p.metadata.deletionTimestamp)
export const isReady = (p: Pod): boolean => p.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') ?? false
export const eventsOf = (api: FakeApi): CoreEvent[] => api.objects<CoreEvent>(RESOURCES.events)
