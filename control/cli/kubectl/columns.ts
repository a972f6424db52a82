// The columns `kubectl get` prints for each kind, with `-o wide` extras.
//
// Most come straight from the API server's Table columns
// (control/apiserver/http/table-columns.ts), so both places agree. Four are
// computed here the way kubectl's printers compute them, because the details
// users read most differ from the server's simplified cells:
// - pods: READY counts running-and-ready containers (restartable init
//   containers included), STATUS follows printPod (Init:1/2,
//   Init:CrashLoopBackOff, CrashLoopBackOff, Completed, Error, Signal:9,
//   ExitCode:3, NotReady, SchedulingGated, Terminating, Unknown), RESTARTS
//   says "3 (5m ago)", IP is the first of status.podIPs;
// - nodes: a Ready condition that is not True reads NotReady, roles also
//   come from kubernetes.io/role;
// - events: LAST SEEN falls back to the first timestamp, OBJECT is kind/name,
//   and -o wide adds SUBOBJECT, SOURCE, FIRST SEEN, COUNT and NAME;
// - endpoints: ports outer, addresses inner, three shown then "+ N more...";
// - the workload kinds the server has no Table columns for (StatefulSet,
//   DaemonSet, Job, CronJob, PersistentVolumeClaim, ControllerRevision):
//   columns-workloads.ts.

import type { KubeObject } from '../../client/api-client.ts'
import { columnsFor as serverColumns, humanDuration } from '../../apiserver/http/table-columns.ts'
import type { Json, PrintColumn } from './columns-shared.ts'
import { ageColumn, column, isObject, list, nameColumn, num, obj, since, str } from './columns-shared.ts'
import {
  CONTROLLER_REVISION_COLUMNS,
  CRON_JOB_COLUMNS,
  DAEMON_SET_COLUMNS,
  JOB_COLUMNS,
  PERSISTENT_VOLUME_CLAIM_COLUMNS,
  STATEFUL_SET_COLUMNS,
} from './columns-workloads.ts'
import type { Kind } from './resource-kinds.ts'

export type { PrintColumn } from './columns-shared.ts'
export { since } from './columns-shared.ts'

// --- pods ---------------------------------------------------------------------

function isRestartableInit(container: Json | undefined): boolean {
  return container?.restartPolicy === 'Always'
}

function hasCondition(status: Json, type: string, reason?: string): boolean {
  return list(status.conditions).some(c => c.type === type && (reason === undefined ? c.status === 'True' : c.reason === reason))
}

function terminatedAt(container: Json): number | undefined {
  const finished = obj(obj(container.lastState).terminated).finishedAt
  if (typeof finished !== 'string') return undefined
  const ms = Date.parse(finished)
  return Number.isNaN(ms) ? undefined : ms
}

export interface PodSummary {
  ready: string
  status: string
  restarts: number
  /** When a container last terminated (for "3 (5m ago)"). */
  lastRestart: number | undefined
}

/** kubectl's printPod: READY, STATUS and RESTARTS of one pod. */
export function podSummary(pod: KubeObject): PodSummary {
  const spec = obj(pod.spec)
  const status = obj(pod.status)
  const initSpecs = new Map(list(spec.initContainers).map(c => [str(c.name), c]))
  let total = list(spec.containers).length + [...initSpecs.values()].filter(isRestartableInit).length
  let ready = 0
  let restarts = 0
  let restartableRestarts = 0
  let lastRestart: number | undefined
  let lastRestartableRestart: number | undefined
  const later = (a: number | undefined, b: number | undefined): number | undefined => (b !== undefined && (a === undefined || b > a) ? b : a)

  let reason = str(status.reason) || str(status.phase)
  if (hasCondition(status, 'PodScheduled', 'SchedulingGated')) reason = 'SchedulingGated'

  let initializing = false
  const initStatuses = list(status.initContainerStatuses)
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i] as Json
    const state = obj(container.state)
    const terminated = isObject(state.terminated) ? state.terminated : undefined
    const waiting = isObject(state.waiting) ? state.waiting : undefined
    const restartable = isRestartableInit(initSpecs.get(str(container.name)))
    restarts += num(container.restartCount)
    lastRestart = later(lastRestart, terminatedAt(container))
    if (restartable) {
      restartableRestarts += num(container.restartCount)
      lastRestartableRestart = later(lastRestartableRestart, terminatedAt(container))
    }
    if (terminated !== undefined && num(terminated.exitCode) === 0) continue
    if (restartable && container.started === true) {
      if (container.ready === true) ready++
      continue
    }
    if (terminated !== undefined) {
      if (str(terminated.reason) === '') {
        reason = num(terminated.signal) !== 0 ? `Init:Signal:${num(terminated.signal)}` : `Init:ExitCode:${num(terminated.exitCode)}`
      } else {
        reason = `Init:${str(terminated.reason)}`
      }
    } else if (waiting !== undefined && str(waiting.reason) !== '' && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`
    } else {
      reason = `Init:${i}/${initSpecs.size}`
    }
    initializing = true
    break
  }

  if (!initializing || hasCondition(status, 'Initialized')) {
    restarts = restartableRestarts
    lastRestart = lastRestartableRestart
    let hasRunning = false
    const statuses = list(status.containerStatuses)
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i] as Json
      const state = obj(container.state)
      restarts += num(container.restartCount)
      lastRestart = later(lastRestart, terminatedAt(container))
      const waiting = isObject(state.waiting) ? state.waiting : undefined
      const terminated = isObject(state.terminated) ? state.terminated : undefined
      if (waiting !== undefined && str(waiting.reason) !== '') reason = str(waiting.reason)
      else if (terminated !== undefined && str(terminated.reason) !== '') reason = str(terminated.reason)
      else if (terminated !== undefined) {
        reason = num(terminated.signal) !== 0 ? `Signal:${num(terminated.signal)}` : `ExitCode:${num(terminated.exitCode)}`
      } else if (container.ready === true && isObject(state.running)) {
        hasRunning = true
        ready++
      }
    }
    if (reason === 'Completed' && hasRunning) reason = hasCondition(status, 'Ready') ? 'Running' : 'NotReady'
  }

  const phase = str(status.phase)
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown'
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating'
  if (total < 0) total = 0
  return { ready: `${ready}/${total}`, status: reason, restarts, lastRestart }
}

export function restartsText(summary: PodSummary, now: number): string {
  if (summary.restarts !== 0 && summary.lastRestart !== undefined) return `${summary.restarts} (${humanDuration(now - summary.lastRestart)} ago)`
  return String(summary.restarts)
}

function readinessGates(pod: KubeObject): string {
  const gates = list(obj(pod.spec).readinessGates)
  if (gates.length === 0) return '<none>'
  const conditions = list(obj(pod.status).conditions)
  const passed = gates.filter(g => conditions.find(c => c.type === g.conditionType)?.status === 'True').length
  return `${passed}/${gates.length}`
}

const POD_COLUMNS: PrintColumn[] = [
  nameColumn,
  column('READY', o => podSummary(o).ready),
  column('STATUS', o => podSummary(o).status),
  column('RESTARTS', (o, now) => restartsText(podSummary(o), now)),
  ageColumn,
  column('IP', o => str(list(obj(o.status).podIPs)[0]?.ip) || str(obj(o.status).podIP) || '<none>', true),
  column('NODE', o => str(obj(o.spec).nodeName) || '<none>', true),
  column('NOMINATED NODE', o => str(obj(o.status).nominatedNodeName) || '<none>', true),
  column('READINESS GATES', readinessGates, true),
]

// --- nodes --------------------------------------------------------------------

export function nodeStatus(node: KubeObject): string {
  const ready = list(obj(node.status).conditions).find(c => c.type === 'Ready')
  const parts = [ready === undefined ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady']
  if (obj(node.spec).unschedulable === true) parts.push('SchedulingDisabled')
  return parts.join(',')
}

export function nodeRoles(node: KubeObject): string[] {
  const roles = new Set<string>()
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/')) {
      const role = key.slice('node-role.kubernetes.io/'.length)
      if (role !== '') roles.add(role)
    } else if (key === 'kubernetes.io/role' && value !== '') {
      roles.add(value)
    }
  }
  return [...roles].sort()
}

const nodeInfo = (o: KubeObject, field: string): string => str(obj(obj(o.status).nodeInfo)[field])
const nodeAddress = (o: KubeObject, type: string): string => str(list(obj(o.status).addresses).find(a => a.type === type)?.address) || '<none>'

const NODE_COLUMNS: PrintColumn[] = [
  nameColumn,
  column('STATUS', nodeStatus),
  column('ROLES', o => nodeRoles(o).join(',') || '<none>'),
  ageColumn,
  column('VERSION', o => nodeInfo(o, 'kubeletVersion')),
  column('INTERNAL-IP', o => nodeAddress(o, 'InternalIP'), true),
  column('EXTERNAL-IP', o => nodeAddress(o, 'ExternalIP'), true),
  column('OS-IMAGE', o => nodeInfo(o, 'osImage') || '<unknown>', true),
  column('KERNEL-VERSION', o => nodeInfo(o, 'kernelVersion') || '<unknown>', true),
  column('CONTAINER-RUNTIME', o => nodeInfo(o, 'containerRuntimeVersion') || '<unknown>', true),
]

// --- events -------------------------------------------------------------------

function eventFirstSeen(o: KubeObject, now: number): string {
  return o.firstTimestamp ? since(o.firstTimestamp, now) : since(o.eventTime, now)
}

function eventLastSeen(o: KubeObject, now: number): string {
  const series = obj(o.series)
  if (series.lastObservedTime) return since(series.lastObservedTime, now)
  return o.lastTimestamp ? since(o.lastTimestamp, now) : eventFirstSeen(o, now)
}

/** When an event was last seen, in ms (for sorting). */
export function eventTime(o: KubeObject): number {
  for (const t of [obj(o.series).lastObservedTime, o.lastTimestamp, o.eventTime, o.firstTimestamp, o.metadata.creationTimestamp]) {
    if (typeof t === 'string' && t !== '') {
      const ms = Date.parse(t)
      if (!Number.isNaN(ms)) return ms
    }
  }
  return 0
}

function eventSource(o: KubeObject): string {
  const source = obj(o.source)
  const component = str(source.component) || str(o.reportingComponent)
  const host = str(source.host) || str(o.reportingInstance)
  return host === '' ? component : `${component}, ${host}`
}

const EVENT_COLUMNS: PrintColumn[] = [
  column('LAST SEEN', eventLastSeen),
  column('TYPE', o => str(o.type)),
  column('REASON', o => str(o.reason)),
  column('OBJECT', o => {
    const involved = obj(o.involvedObject)
    const kind = str(involved.kind).toLowerCase()
    return str(involved.name) === '' ? kind : `${kind}/${str(involved.name)}`
  }),
  column('SUBOBJECT', o => str(obj(o.involvedObject).fieldPath), true),
  column('SOURCE', eventSource, true),
  column('MESSAGE', o => str(o.message).trim()),
  column('FIRST SEEN', eventFirstSeen, true),
  column('COUNT', o => String(num(obj(o.series).count) || num(o.count) || 1), true),
  column('NAME', o => o.metadata.name ?? '', true),
]

// --- endpoints ----------------------------------------------------------------

export function endpointsText(o: KubeObject): string {
  const subsets = list(o.subsets)
  if (subsets.length === 0) return '<none>'
  const max = 3
  const shown: string[] = []
  let count = 0
  for (const subset of subsets) {
    const addresses = list(subset.addresses)
    const ports = list(subset.ports)
    if (ports.length === 0) {
      count += addresses.length
      for (const a of addresses) if (shown.length < max) shown.push(str(a.ip))
      continue
    }
    for (const port of ports) {
      count += addresses.length
      for (const a of addresses) {
        if (shown.length < max) shown.push(str(a.ip).includes(':') ? `[${str(a.ip)}]:${num(port.port)}` : `${str(a.ip)}:${num(port.port)}`)
      }
    }
  }
  const text = shown.join(',')
  if (count > max) return `${text} + ${count - max} more...`
  return text === '' ? '<none>' : text
}

const ENDPOINTS_COLUMNS: PrintColumn[] = [nameColumn, column('ENDPOINTS', endpointsText), ageColumn]

// --- everything else: the server's columns ----------------------------------

const OWN: Readonly<Record<string, PrintColumn[]>> = {
  Pod: POD_COLUMNS,
  Node: NODE_COLUMNS,
  Event: EVENT_COLUMNS,
  Endpoints: ENDPOINTS_COLUMNS,
  StatefulSet: STATEFUL_SET_COLUMNS,
  DaemonSet: DAEMON_SET_COLUMNS,
  Job: JOB_COLUMNS,
  CronJob: CRON_JOB_COLUMNS,
  PersistentVolumeClaim: PERSISTENT_VOLUME_CLAIM_COLUMNS,
  ControllerRevision: CONTROLLER_REVISION_COLUMNS,
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'string' ? value : String(value)
}

/** The columns of a kind, every one of them (filter on `wide` for the default view). */
export function columnsFor(def: Pick<Kind, 'kind'>): PrintColumn[] {
  const own = OWN[def.kind]
  if (own !== undefined) return own
  return serverColumns(def.kind).map(c => ({
    header: c.name.toUpperCase(),
    wide: c.priority > 0,
    cell: (o: KubeObject, now: number) => cellText(c.cell(o, new Date(now))),
  }))
}
