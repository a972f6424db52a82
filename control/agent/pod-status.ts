// A pod's status as the kubelet reports it, computed from what the agent
// observed of its containers. Pure, so the phase and condition rules are
// table-tested: phase Pending until the containers run (or an init container
// is still going), Running while any runs, Succeeded/Failed once all have
// terminated and none will restart; conditions PodScheduled, Initialized,
// ContainersReady and Ready with Kubernetes' reasons.

export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; reason: string; message?: string; startedAt?: string; finishedAt: string } }

export interface ObservedContainer {
  name: string
  image: string
  state: ContainerState
  lastState?: ContainerState
  ready: boolean
  started: boolean
  restartCount: number
  /** Will this container be started (again)? False once it is terminated for good. */
  willRestart: boolean
}

export interface ObservedPod {
  restartPolicy: 'Always' | 'OnFailure' | 'Never'
  initContainers: ObservedContainer[]
  containers: ObservedContainer[]
  podIP?: string
  hostIP: string
  startTime?: string
  /** Set when the pod could not start at all (e.g. no runtime for its image). */
  failure?: { reason: string; message: string }
}

export interface PodCondition {
  type: 'PodScheduled' | 'Initialized' | 'ContainersReady' | 'Ready'
  status: 'True' | 'False'
  reason?: string
  message?: string
  lastTransitionTime: string
  lastProbeTime: null
}

export interface PodStatus {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'
  conditions: PodCondition[]
  hostIP: string
  hostIPs: { ip: string }[]
  podIP?: string
  podIPs?: { ip: string }[]
  startTime?: string
  reason?: string
  message?: string
  initContainerStatuses?: ContainerStatus[]
  containerStatuses: ContainerStatus[]
  qosClass: 'BestEffort'
}

export interface ContainerStatus {
  name: string
  image: string
  imageID: string
  containerID?: string
  state: ContainerState
  lastState: ContainerState | Record<string, never>
  ready: boolean
  started: boolean
  restartCount: number
}

const isRunning = (c: ObservedContainer) => 'running' in c.state
const isTerminated = (c: ObservedContainer) => 'terminated' in c.state
const exitCode = (c: ObservedContainer) => ('terminated' in c.state ? c.state.terminated.exitCode : undefined)

export function podPhase(pod: ObservedPod): PodStatus['phase'] {
  if (pod.failure) return 'Pending'
  const init = pod.initContainers
  const initFailedForGood = init.some(c => isTerminated(c) && exitCode(c) !== 0 && !c.willRestart)
  if (initFailedForGood) return 'Failed'
  const initDone = init.every(c => isTerminated(c) && exitCode(c) === 0)
  if (!initDone) return 'Pending'
  const cs = pod.containers
  if (cs.some(isRunning)) return 'Running'
  if (cs.some(c => !isTerminated(c) || c.willRestart)) {
    // Waiting to (re)start: a pod that has run stays Running meanwhile, as the kubelet reports.
    return cs.some(c => c.restartCount > 0 || c.lastState !== undefined) ? 'Running' : 'Pending'
  }
  return cs.every(c => exitCode(c) === 0) ? 'Succeeded' : 'Failed'
}

/** Conditions, keeping lastTransitionTime from `previous` when a status did not change. */
export function podConditions(pod: ObservedPod, phase: PodStatus['phase'], previous: readonly PodCondition[], now: string): PodCondition[] {
  const initDone = pod.initContainers.every(c => isTerminated(c) && exitCode(c) === 0)
  const notReady = pod.containers.filter(c => !c.ready).map(c => c.name)
  const finished = phase === 'Succeeded' || phase === 'Failed'
  const list = (names: string[]) => `[${names.join(' ')}]`
  const make = (type: PodCondition['type'], ok: boolean, reason?: string, message?: string): PodCondition => {
    const before = previous.find(c => c.type === type)
    const status = ok ? 'True' : 'False'
    return {
      type,
      status,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
      lastProbeTime: null,
      lastTransitionTime: before && before.status === status ? before.lastTransitionTime : now,
    }
  }
  const pendingInit = pod.initContainers.filter(c => !(isTerminated(c) && exitCode(c) === 0)).map(c => c.name)
  const containersReady = !finished && notReady.length === 0
  const notReadyMessage = `containers with unready status: ${list(notReady)}`
  return [
    make('Initialized', initDone, initDone ? undefined : 'ContainersNotInitialized', initDone ? undefined : `containers with incomplete status: ${list(pendingInit)}`),
    make('Ready', containersReady, finished ? 'PodCompleted' : containersReady ? undefined : 'ContainersNotReady', containersReady || finished ? undefined : notReadyMessage),
    make('ContainersReady', containersReady, finished ? 'PodCompleted' : containersReady ? undefined : 'ContainersNotReady', containersReady || finished ? undefined : notReadyMessage),
    make('PodScheduled', true),
  ]
}

export function podStatus(pod: ObservedPod, previous: readonly PodCondition[], now: string): PodStatus {
  const phase = podPhase(pod)
  const status: PodStatus = {
    phase,
    conditions: podConditions(pod, phase, previous, now),
    hostIP: pod.hostIP,
    hostIPs: [{ ip: pod.hostIP }],
    containerStatuses: pod.containers.map(containerStatus),
    qosClass: 'BestEffort',
  }
  if (pod.podIP) {
    status.podIP = pod.podIP
    status.podIPs = [{ ip: pod.podIP }]
  }
  if (pod.startTime) status.startTime = pod.startTime
  if (pod.initContainers.length) status.initContainerStatuses = pod.initContainers.map(containerStatus)
  return status
}

function containerStatus(c: ObservedContainer): ContainerStatus {
  return {
    name: c.name,
    image: c.image,
    imageID: `kubewire://${c.image}`,
    ...('waiting' in c.state ? {} : { containerID: `kubewire://${c.name}` }),
    state: c.state,
    lastState: c.lastState ?? {},
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
  }
}
