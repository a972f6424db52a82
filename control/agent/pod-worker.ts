// One pod on this node, from sandbox to removal, as the kubelet's pod worker:
//   sandbox (network namespace, veth, address) -> init containers, one after
//   another, each to success -> the containers, restarted per restartPolicy
//   with back-off -> probes (startup, then liveness and readiness) -> status
//   written to the API whenever it changes.
//   On deletion: containers get SIGTERM, SIGKILL after the grace period, the
//   sandbox and volumes go, and the pod object is finally removed.
// All decisions happen in `tick()`, which runs one at a time per pod; events
// (a container exiting, a probe result, a timer, an update from the API) only
// schedule a tick. What a restarted agent needs to adopt the pod without
// making anything twice is saved in its runtime record.
import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { readJsonFile, writeJsonFile } from '../../dataplane/util/json-file.ts'
import { podVeth } from '../../dataplane/names.ts'
import { isAlive, netnsExists } from '../../dataplane/netns/netns.ts'
import { containerInitPid, readExit, startContainer, stopContainer } from '../../dataplane/process/container.ts'
import { ProbeTracker } from '../../dataplane/probes/probe-tracker.ts'
import { runProbe } from '../../dataplane/probes/probe-runner.ts'
import { resolveImage } from '../../dataplane/runtimes/images.ts'
import { containerEnv, EnvError } from './container-env.ts'
import { type ContainerState, type ObservedContainer, type PodCondition, podStatus, type PodStatus } from './pod-status.ts'
import { type ContainerSpec, type Pod, probeAction } from './pod-spec.ts'
import { loadPodDnsSource, podDnsFiles, type PodDnsFiles, podUtsHostname } from './pod-dns.ts'
import { RestartBackoff, shouldRestart } from './restart-backoff.ts'
import { loadInClusterSource, podCredentials, type PodCredentials, serviceAccountDir } from './service-account.ts'
import type { SandboxBatcher } from './sandbox-batcher.ts'
import { containerMounts, prepareVolumes, VolumeError } from './volumes.ts'
import { claimVolumeDir } from '../cluster/cluster-files.ts'

export interface WorkerNode {
  cluster: string
  nodeName: string
  hostIP: string
  /** Cluster state directory: pods' logs and volumes live under it. */
  stateDir: string
  /** Runtime directory: records for adoption, exit files. */
  runDir: string
  mountLedger: string
  podNetns: (namespace: string, name: string) => string
  sandboxes: SandboxBatcher
  /** Resolves once no Service sends the pod new connections (endpoints updated, every proxy synced). */
  unserved?: (pod: Pod) => Promise<void>
}

export interface WorkerApi {
  writeStatus(pod: Pod, status: PodStatus): Promise<void>
  /** Remove the pod object for good (grace 0, uid precondition). */
  removePod(pod: Pod): Promise<void>
  configMapData(namespace: string, name: string): Promise<Record<string, string> | undefined>
  /** A PersistentVolumeClaim's phase and whether it is being deleted; undefined when it does not exist. */
  claim?(namespace: string, name: string): Promise<{ phase: string; deleting: boolean } | undefined>
  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void
  /** Extra environment for every container (Service variables later). */
  extraEnv?(pod: Pod): Record<string, string>
}

interface ContainerRecord {
  pid: number | null
  startedAt: string | null
  restartCount: number
  lastState?: ContainerState
  /** Terminated for good, or (init containers) succeeded. */
  done?: ContainerState
}

/** What is saved for adoption by a restarted agent. */
export interface PodRuntimeRecord {
  uid: string
  namespace: string
  name: string
  ip: string | null
  netns: string
  veth: string
  startTime: string
  containers: Record<string, ContainerRecord>
}

interface LiveContainer {
  spec: ContainerSpec
  init: boolean
  record: ContainerRecord
  backoff: RestartBackoff
  nextStartAt: number
  waiting: { reason: string; message?: string }
  startup?: ProbeTracker
  liveness?: ProbeTracker
  readiness?: ProbeTracker
  killing: boolean
}

const TICK_WHILE_RUNNING_MS = 500

export class PodWorker {
  private pod: Pod
  private readonly record: PodRuntimeRecord
  private readonly containers: LiveContainer[]
  private volumes: Map<string, string> | undefined
  private credentials: PodCredentials | undefined
  private dnsFiles: PodDnsFiles | undefined
  private failure: { reason: string; message: string } | undefined
  private lastStatusJson = ''
  private lastConditions: PodCondition[] = []
  private ticking = false
  private again = false
  private timer: NodeJS.Timeout | undefined
  private terminating = false
  private finished = false
  readonly done: Promise<void>
  private resolveDone!: () => void

  constructor(
    pod: Pod,
    private readonly node: WorkerNode,
    private readonly api: WorkerApi,
  ) {
    this.pod = pod
    this.done = new Promise(r => (this.resolveDone = r))
    const uid = pod.metadata.uid as string
    const namespace = pod.metadata.namespace ?? 'default'
    const name = pod.metadata.name as string
    const saved = readJsonFile<PodRuntimeRecord>(this.recordPath(uid))
    this.record = saved ?? {
      uid,
      namespace,
      name,
      ip: null,
      netns: node.podNetns(namespace, name),
      veth: podVeth(namespace, name),
      startTime: new Date().toISOString(),
      containers: {},
    }
    const specs = [
      ...(pod.spec.initContainers ?? []).map(spec => ({ spec, init: true })),
      ...pod.spec.containers.map(spec => ({ spec, init: false })),
    ]
    this.containers = specs.map(({ spec, init }) => {
      const record = (this.record.containers[spec.name] ??= { pid: null, startedAt: null, restartCount: 0 })
      return { spec, init, record, backoff: new RestartBackoff(), nextStartAt: 0, waiting: { reason: 'ContainerCreating' }, killing: false }
    })
    // Adopted containers keep running: their probes start over (as after a kubelet restart).
    for (const c of this.containers) if (c.record.pid !== null && c.record.startedAt) this.armProbes(c, Date.parse(c.record.startedAt))
  }

  get uid(): string {
    return this.record.uid
  }

  /** A newer version of the pod object arrived. */
  update(pod: Pod): void {
    this.pod = pod
    if (pod.metadata.deletionTimestamp) this.terminating = true
    this.kick()
  }

  /** The pod object is gone from the API (force-deleted): stop everything now. */
  forget(): void {
    this.terminating = true
    this.pod = { ...this.pod, metadata: { ...this.pod.metadata, deletionGracePeriodSeconds: 0 } }
    this.kick()
  }

  /** Something changed: run a tick soon (coalesced). */
  kick(): void {
    if (this.finished) return
    if (this.ticking) {
      this.again = true
      return
    }
    clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.runTick(), 0)
  }

  private async runTick(): Promise<void> {
    this.ticking = true
    let nextInMs: number | undefined
    try {
      nextInMs = await this.tick()
    } catch (e) {
      this.api.event(this.pod, 'Warning', 'Failed', `kubewire agent: ${(e as Error).message}`)
      nextInMs = 1000
    } finally {
      this.ticking = false
    }
    if (this.finished) return
    if (this.again) {
      this.again = false
      this.kick()
    } else if (nextInMs !== undefined) {
      clearTimeout(this.timer)
      this.timer = setTimeout(() => void this.runTick(), nextInMs)
    }
  }

  /** One round of decisions; returns when to look again (ms), or undefined for "only on events". */
  private async tick(): Promise<number | undefined> {
    if (this.terminating) {
      await this.terminate()
      return undefined
    }
    const now = Date.now()
    if (!(await this.ensureSandbox())) return 2000
    this.observeExits()
    if (this.failure) {
      await this.reportStatus()
      return undefined
    }
    const inits = this.containers.filter(c => c.init)
    const pendingInit = inits.find(c => !(c.record.done && exitCodeOf(c.record.done) === 0))
    if (pendingInit) {
      if (pendingInit.record.done) {
        // An init container failed for good (restartPolicy Never): the pod has failed.
        await this.reportStatus()
        return undefined
      }
      if (pendingInit.record.pid === null) await this.maybeStart(pendingInit, now)
    } else {
      for (const c of this.containers.filter(c => !c.init)) {
        if (c.record.pid === null && !c.record.done) await this.maybeStart(c, now)
      }
    }
    this.runDueProbes(now)
    await this.reportStatus()
    return this.nextWake(now)
  }

  private async ensureSandbox(): Promise<boolean> {
    if (this.record.ip && this.volumes) return true
    try {
      // An adopted record whose namespace is gone (host rebooted, swept) is made again.
      if (!this.record.ip || !netnsExists(this.record.netns)) {
        this.record.ip = await this.node.sandboxes.create({ owner: this.ownerKey(), netns: this.record.netns, veth: this.record.veth })
        this.save()
      }
      this.credentials = podCredentials(this.pod, serviceAccountDir(this.node.runDir, this.record.namespace), loadInClusterSource(this.node.cluster))
      this.dnsFiles = podDnsFiles(this.pod, this.podDir(), this.record.ip, loadPodDnsSource(this.node.cluster))
      const namespace = this.record.namespace
      this.volumes = await prepareVolumes(this.pod, this.podDir(), name => this.api.configMapData(namespace, name), {
        lookup: async name => await this.api.claim?.(namespace, name),
        dir: name => claimVolumeDir(this.node.stateDir, namespace, name),
      })
      return true
    } catch (e) {
      const reason = e instanceof VolumeError ? 'FailedMount' : 'FailedCreatePodSandBox'
      this.api.event(this.pod, 'Warning', reason, (e as Error).message)
      return false
    }
  }

  /** Containers whose process is gone: record how they ended and what comes next. */
  private observeExits(): void {
    for (const c of this.containers) {
      const pid = c.record.pid
      if (pid === null || isAlive(pid)) continue
      const exit = readExit(this.exitPath(c.spec.name))
      const exitCode = exit?.exitCode ?? 137
      const finishedAt = exit?.finishedAt ?? new Date().toISOString()
      const terminated: ContainerState = {
        terminated: {
          exitCode,
          reason: exitCode === 0 ? 'Completed' : 'Error',
          ...(c.record.startedAt ? { startedAt: c.record.startedAt } : {}),
          finishedAt,
        },
      }
      const ranForMs = c.record.startedAt ? Date.parse(finishedAt) - Date.parse(c.record.startedAt) : 0
      c.record.pid = null
      c.killing = false
      delete c.startup
      delete c.liveness
      delete c.readiness
      const restartPolicy = this.pod.spec.restartPolicy ?? 'Always'
      // Init containers are re-run unless they succeeded; restartPolicy Always means OnFailure for them.
      const restarts = c.init ? exitCode !== 0 && restartPolicy !== 'Never' : shouldRestart(restartPolicy, exitCode)
      if (c.init && exitCode === 0) c.record.done = terminated
      else if (!restarts) c.record.done = terminated
      else {
        c.record.lastState = terminated
        c.nextStartAt = Date.now() + c.backoff.next(ranForMs)
        c.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${Math.round((c.nextStartAt - Date.now()) / 1000)}s restarting failed container=${c.spec.name} pod=${this.record.name}_${this.record.namespace}(${this.record.uid})` }
        if (c.record.restartCount > 0 || exitCode !== 0) {
          this.api.event(this.pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.spec.name} in pod ${this.record.name}_${this.record.namespace}(${this.record.uid})`)
        }
      }
      this.save()
    }
  }

  private async maybeStart(c: LiveContainer, now: number): Promise<void> {
    if (now < c.nextStartAt) return
    const resolved = resolveImage(c.spec)
    if ('error' in resolved) {
      c.waiting = resolved.error
      this.failure = resolved.error
      this.api.event(this.pod, 'Warning', 'Failed', `Failed to pull image "${c.spec.image}": ${resolved.error.message}`)
      return
    }
    let env: Record<string, string>
    let mounts
    try {
      const configMaps = new Map<string, Record<string, string> | undefined>()
      for (const v of c.spec.env ?? []) {
        const ref = v.valueFrom?.configMapKeyRef
        if (ref && !configMaps.has(ref.name)) configMaps.set(ref.name, await this.api.configMapData(this.record.namespace, ref.name))
      }
      env = containerEnv(c.spec.env, {
        pod: this.pod,
        podIP: this.record.ip ?? '',
        hostIP: this.node.hostIP,
        nodeName: this.node.nodeName,
        configMapValue: (name, key) => configMaps.get(name)?.[key],
        extra: { ...this.credentials?.env, ...this.api.extraEnv?.(this.pod) },
      })
      mounts = [
        ...containerMounts(c.spec, this.volumes ?? new Map(), this.node.mountLedger),
        ...(this.credentials?.mounts(c.spec, this.node.mountLedger) ?? []),
        ...(this.dnsFiles?.mounts(c.spec, this.node.mountLedger) ?? []),
      ]
    } catch (e) {
      if (!(e instanceof EnvError || e instanceof VolumeError)) throw e
      c.waiting = { reason: 'CreateContainerConfigError', message: e.message }
      c.nextStartAt = now + 10_000
      this.api.event(this.pod, 'Warning', 'Failed', `Error: ${e.message}`)
      return
    }
    const isRestart = c.record.lastState !== undefined
    if (isRestart) c.record.restartCount++
    const logPath = this.logPath(c.spec.name)
    mkdirSync(this.podDir(), { recursive: true })
    if (isRestart) {
      try {
        renameSync(logPath, `${logPath}.previous`)
      } catch {
        // no log yet
      }
    }
    rmSync(this.exitPath(c.spec.name), { force: true })
    mkdirSync(join(this.exitPath(c.spec.name), '..'), { recursive: true })
    if (!isRestart) this.api.event(this.pod, 'Normal', 'Pulled', `Container image "${c.spec.image}" already present on machine`)
    const pid = await startContainer({
      podNetns: this.record.netns,
      hostname: podUtsHostname(this.pod),
      argv: resolved.argv,
      env,
      ...(c.spec.workingDir ? { workingDir: c.spec.workingDir } : {}),
      mounts,
      logPath,
      exitPath: this.exitPath(c.spec.name),
      mountTablePath: join(this.podRunDir(), `${c.spec.name}.fstab`),
    })
    const startedAt = new Date().toISOString()
    c.record.pid = pid
    c.record.startedAt = startedAt
    c.waiting = { reason: 'ContainerCreating' }
    this.armProbes(c, Date.now())
    this.save()
    this.api.event(this.pod, 'Normal', 'Created', `Created container: ${c.spec.name}`)
    this.api.event(this.pod, 'Normal', 'Started', `Started container ${c.spec.name}`)
  }

  private armProbes(c: LiveContainer, startedAt: number): void {
    if (c.init) return
    if (c.spec.startupProbe) c.startup = new ProbeTracker(c.spec.startupProbe, startedAt)
    if (c.spec.livenessProbe) c.liveness = new ProbeTracker(c.spec.livenessProbe, startedAt)
    if (c.spec.readinessProbe) c.readiness = new ProbeTracker(c.spec.readinessProbe, startedAt, 'failure')
  }

  private runDueProbes(now: number): void {
    for (const c of this.containers) {
      if (c.record.pid === null || c.killing) continue
      const startupDone = !c.startup || c.startup.result === 'success'
      const probes: [string, ProbeTracker | undefined, import('./pod-spec.ts').Probe | undefined][] = startupDone
        ? [['Liveness', c.liveness, c.spec.livenessProbe], ['Readiness', c.readiness, c.spec.readinessProbe]]
        : [['Startup', c.startup, c.spec.startupProbe]]
      for (const [kind, tracker, probe] of probes) {
        if (!tracker || !probe || !tracker.due(now)) continue
        const action = probeAction(probe, c.spec)
        tracker.begin(now)
        const pid = c.record.pid
        const run = action
          ? runProbe(action, { podIP: this.record.ip ?? '', ...(pid !== null ? { containerInitPid: containerInitPid(pid) } : {}) }, tracker.timeoutMs)
          : Promise.resolve({ ok: false, message: 'cannot resolve the probe port' })
        void run.then(outcome => {
          if (c.record.pid !== pid) return // the container changed meanwhile
          const changed = tracker.record(outcome.ok, outcome.message)
          if (!outcome.ok) this.api.event(this.pod, 'Warning', 'Unhealthy', `${kind} probe failed: ${outcome.message}`)
          if (changed === 'failure' && (kind === 'Liveness' || kind === 'Startup')) void this.killForRestart(c, kind)
          if (changed) this.kick()
        })
      }
    }
  }

  private async killForRestart(c: LiveContainer, kind: string): Promise<void> {
    const pid = c.record.pid
    if (pid === null || c.killing) return
    c.killing = true
    this.api.event(this.pod, 'Normal', 'Killing', `Container ${c.spec.name} failed ${kind.toLowerCase()} probe, will be restarted`)
    await stopContainer(pid, this.graceMs())
    this.kick()
  }

  private nextWake(now: number): number {
    let next = TICK_WHILE_RUNNING_MS
    for (const c of this.containers) {
      if (c.record.pid === null && !c.record.done && c.nextStartAt > now) next = Math.min(next, c.nextStartAt - now)
      for (const p of [c.startup, c.liveness, c.readiness]) if (p) next = Math.min(next, Math.max(10, p.msUntilDue(now)))
    }
    return next
  }

  private observed(): ObservedContainer[] {
    return this.containers.map(c => {
      const running = c.record.pid !== null
      const started = running && (!c.startup || c.startup.result === 'success')
      const ready = running && started && !c.killing && (!c.readiness || c.readiness.result === 'success') && !c.init
      const state: ContainerState = c.record.done
        ? c.record.done
        : running
          ? { running: { startedAt: c.record.startedAt ?? '' } }
          : { waiting: c.waiting }
      return {
        name: c.spec.name,
        image: c.spec.image,
        state,
        ...(c.record.lastState ? { lastState: c.record.lastState } : {}),
        ready,
        started: c.init ? false : started,
        restartCount: c.record.restartCount,
        willRestart: !c.record.done,
      }
    })
  }

  private async reportStatus(): Promise<void> {
    const all = this.observed()
    const status = podStatus(
      {
        restartPolicy: this.pod.spec.restartPolicy ?? 'Always',
        initContainers: all.slice(0, this.pod.spec.initContainers?.length ?? 0),
        containers: all.slice(this.pod.spec.initContainers?.length ?? 0),
        hostIP: this.node.hostIP,
        ...(this.record.ip ? { podIP: this.record.ip } : {}),
        startTime: this.record.startTime,
        ...(this.failure ? { failure: this.failure } : {}),
      },
      this.lastConditions.length ? this.lastConditions : (this.pod.status?.conditions ?? []),
      new Date().toISOString(),
    )
    const json = JSON.stringify(status)
    if (json === this.lastStatusJson) return
    await this.api.writeStatus(this.pod, status)
    this.lastStatusJson = json
    this.lastConditions = status.conditions
  }

  private async terminate(): Promise<void> {
    const grace = this.graceMs()
    const running = this.containers.filter(c => c.record.pid !== null)
    for (const c of running) {
      c.killing = true
      this.api.event(this.pod, 'Normal', 'Killing', `Stopping container ${c.spec.name}`)
    }
    // Not ready any more, out of every Service's endpoints and every node's
    // proxy rules, before anything is signalled: no request through a Service
    // reaches a process that is going away.
    await this.reportStatus().catch(() => {})
    if (running.length > 0) await this.node.unserved?.(this.pod).catch(() => {})
    await Promise.all(running.map(c => stopContainer(c.record.pid as number, grace)))
    if (this.record.ip) await this.node.sandboxes.delete({ owner: this.ownerKey(), netns: this.record.netns, veth: this.record.veth })
    rmSync(this.podDir(), { recursive: true, force: true })
    rmSync(this.podRunDir(), { recursive: true, force: true })
    rmSync(this.recordPath(this.uid), { force: true })
    await this.api.removePod(this.pod).catch(() => {})
    this.finished = true
    clearTimeout(this.timer)
    this.resolveDone()
  }

  private graceMs(): number {
    const seconds = this.pod.metadata.deletionGracePeriodSeconds ?? this.pod.spec.terminationGracePeriodSeconds ?? 30
    return seconds * 1000
  }

  private ownerKey(): string {
    return `${this.record.namespace}/${this.record.name}/${this.record.uid}`
  }

  private podDir(): string {
    return podDirOf(this.node.stateDir, this.record.namespace, this.record.name, this.record.uid)
  }

  private podRunDir(): string {
    return join(this.node.runDir, 'pods', this.record.uid)
  }

  logPath(container: string): string {
    return containerLogPath(this.podDir(), container)
  }

  private exitPath(container: string): string {
    return join(this.podRunDir(), `${container}.exit`)
  }

  private recordPath(uid: string): string {
    return podRecordPath(this.node.runDir, uid)
  }

  private save(): void {
    mkdirSync(join(this.node.runDir, 'pods'), { recursive: true })
    writeJsonFile(this.recordPath(this.record.uid), this.record)
  }
}

/** Where a pod's logs and volumes live (the CLI reads logs from here too). */
export function podDirOf(stateDir: string, namespace: string, name: string, uid: string): string {
  return join(stateDir, 'pods', `${namespace}_${name}_${uid}`)
}

export function containerLogPath(podDir: string, container: string): string {
  return join(podDir, `${container}.log`)
}

/** The runtime record of a pod on a node (containers' pids, for exec and adoption). */
export function podRecordPath(nodeRunDir: string, uid: string): string {
  return join(nodeRunDir, 'pods', `${uid}.json`)
}

function exitCodeOf(state: ContainerState): number | undefined {
  return 'terminated' in state ? state.terminated.exitCode : undefined
}
