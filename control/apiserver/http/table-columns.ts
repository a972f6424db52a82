// The columns `kubectl get` shows for each kind, computed on the server as
// kube-apiserver's printers do (pkg/printers/internalversion/printers.go):
// pods show READY, STATUS, RESTARTS, AGE; deployments READY, UP-TO-DATE,
// AVAILABLE; services TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S)... Columns with
// priority 1 appear with `-o wide`. Kinds without an entry get NAME and AGE.

import type { KubeObject } from '../../client/api-client.ts'
import { numberAt, recordAt, recordsAt, stringAt, stringMapAt } from '../kinds/json-fields.ts'
import { labelSelectorFromObject } from '../../api/label-selector.ts'
import type { LabelSelectorObject } from '../../api/label-selector.ts'

export interface Column {
  name: string
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date'
  format: string
  description: string
  priority: number
  cell(object: KubeObject, now: Date): unknown
}

/** duration.HumanDuration: 45s, 3m20s, 17m, 5h12m, 3d4h, 2y10d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < -1) return '<invalid>'
  if (seconds < 0) return '0s'
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`
  if (minutes < 180) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`
  if (hours < 48) return `${hours}h`
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`
  const years = Math.floor(hours / 24 / 365)
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365
    return days === 0 ? `${years}y` : `${years}y${days}d`
  }
  return `${years}y`
}

function since(timestamp: unknown, now: Date): string {
  if (typeof timestamp !== 'string') return '<unknown>'
  return humanDuration(now.getTime() - Date.parse(timestamp))
}

const name: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  priority: 0,
  cell: o => o.metadata.name ?? '',
}
const age: Column = {
  name: 'Age',
  type: 'string',
  format: '',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
  cell: (o, now) => since(o.metadata.creationTimestamp, now),
}
const col = (title: string, type: Column['type'], cell: Column['cell'], priority = 0): Column => ({ name: title, type, format: '', description: title, priority, cell })

function containersOf(spec: unknown): { names: string; images: string } {
  const containers = recordsAt(spec, 'containers').map(([c]) => c)
  return { names: containers.map(c => stringAt(c, 'name') ?? '').join(','), images: containers.map(c => stringAt(c, 'image') ?? '').join(',') }
}

function selectorText(selector: unknown): string {
  try {
    const text = labelSelectorFromObject(selector as LabelSelectorObject | undefined).toString()
    return text === '' ? '<none>' : text
  } catch {
    return '<invalid>'
  }
}

/** The pod STATUS column (printPod's reason). */
function podStatus(pod: KubeObject): string {
  const status = recordAt(pod, 'status')
  let reason = stringAt(status, 'reason') || stringAt(status, 'phase') || 'Unknown'
  for (const [container] of recordsAt(status, 'initContainerStatuses')) {
    const state = recordAt(container, 'state')
    const terminated = recordAt(state, 'terminated')
    if (terminated !== undefined && numberAt(terminated, 'exitCode') === 0) continue
    if (terminated !== undefined) {
      reason = `Init:${stringAt(terminated, 'reason') || `ExitCode:${numberAt(terminated, 'exitCode') ?? 0}`}`
      break
    }
    const waiting = stringAt(recordAt(state, 'waiting'), 'reason')
    if (waiting && waiting !== 'PodInitializing') {
      reason = `Init:${waiting}`
      break
    }
  }
  let running = false
  for (const [container] of recordsAt(status, 'containerStatuses').reverse()) {
    const state = recordAt(container, 'state')
    const waiting = stringAt(recordAt(state, 'waiting'), 'reason')
    const terminated = recordAt(state, 'terminated')
    if (waiting) reason = waiting
    else if (terminated !== undefined) reason = stringAt(terminated, 'reason') || `ExitCode:${numberAt(terminated, 'exitCode') ?? 0}`
    else if (recordAt(state, 'running') !== undefined && container.ready === true) running = true
  }
  if (reason === 'Completed' && running) reason = 'Running'
  if (pod.metadata.deletionTimestamp !== undefined) reason = 'Terminating'
  return reason
}

function servicePorts(spec: unknown): string {
  const ports = recordsAt(spec, 'ports').map(([p]) => {
    const nodePort = numberAt(p, 'nodePort')
    return `${numberAt(p, 'port') ?? ''}${nodePort ? `:${nodePort}` : ''}/${stringAt(p, 'protocol') ?? 'TCP'}`
  })
  return ports.length === 0 ? '<none>' : ports.join(',')
}

function externalIp(service: KubeObject): string {
  const spec = recordAt(service, 'spec')
  const type = stringAt(spec, 'type')
  const external = Array.isArray(spec?.externalIPs) ? (spec.externalIPs as string[]) : []
  if (type === 'ExternalName') return stringAt(spec, 'externalName') ?? '<none>'
  if (type === 'LoadBalancer') {
    const ingress = recordsAt(recordAt(recordAt(service, 'status'), 'loadBalancer'), 'ingress').map(([i]) => stringAt(i, 'ip') ?? stringAt(i, 'hostname') ?? '')
    const all = [...ingress, ...external]
    return all.length === 0 ? '<pending>' : all.join(',')
  }
  return external.length === 0 ? '<none>' : external.join(',')
}

function nodeStatus(node: KubeObject): string {
  const ready = recordsAt(recordAt(node, 'status'), 'conditions').find(([c]) => c.type === 'Ready')?.[0]
  let text = ready === undefined ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown'
  if (recordAt(node, 'spec')?.unschedulable === true) text += ',SchedulingDisabled'
  return text
}

function nodeRoles(node: KubeObject): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter(k => k.startsWith('node-role.kubernetes.io/'))
    .map(k => k.slice('node-role.kubernetes.io/'.length))
  return roles.length === 0 ? '<none>' : roles.sort().join(',')
}

function nodeAddress(node: KubeObject, type: string): string {
  return recordsAt(recordAt(node, 'status'), 'addresses').find(([a]) => a.type === type)?.[0].address as string | undefined ?? '<none>'
}

function endpointsText(endpoints: KubeObject): string {
  const out: string[] = []
  for (const [subset] of recordsAt(endpoints, 'subsets')) {
    const ports = recordsAt(subset, 'ports').map(([p]) => numberAt(p, 'port'))
    for (const [address] of recordsAt(subset, 'addresses')) {
      for (const port of ports.length === 0 ? [undefined] : ports) out.push(port === undefined ? String(address.ip) : `${String(address.ip)}:${port}`)
    }
  }
  if (out.length === 0) return '<none>'
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',')
}

const int = (value: unknown): number => (typeof value === 'number' ? value : 0)

/** printIngress's HOSTS: up to three hosts, `*` when no rule names one. */
function ingressHosts(ingress: KubeObject): string {
  const rules = recordsAt(recordAt(ingress, 'spec'), 'rules')
  const hosts = rules.map(([r]) => stringAt(r, 'host') ?? '').filter(h => h !== '').slice(0, 3)
  if (hosts.length === 0) return '*'
  return rules.length > 3 ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',')
}

/** ingressLoadBalancerStatusStringer: sorted IPs (else hostnames), cut at 16 characters. */
function ingressAddress(ingress: KubeObject): string {
  const entries = recordsAt(recordAt(recordAt(ingress, 'status'), 'loadBalancer'), 'ingress')
  const text = [...new Set(entries.map(([i]) => stringAt(i, 'ip') || stringAt(i, 'hostname') || '').filter(a => a !== ''))].sort().join(',')
  return text.length > 16 ? `${text.slice(0, 13)}...` : text
}

function ingressClassParameters(ingressClass: KubeObject): string {
  const parameters = recordAt(recordAt(ingressClass, 'spec'), 'parameters')
  if (parameters === undefined) return '<none>'
  const group = stringAt(parameters, 'apiGroup')
  return `${stringAt(parameters, 'kind') ?? ''}${group ? `.${group}` : ''}/${stringAt(parameters, 'name') ?? ''}`
}

/** The Job STATUS column (printJob): the finished state, else the furthest condition reached. */
function jobStatus(job: KubeObject): string {
  const conditions = recordsAt(recordAt(job, 'status'), 'conditions').map(([c]) => c)
  const has = (type: string): boolean => conditions.some(c => c.type === type && c.status === 'True')
  if (has('Complete')) return 'Complete'
  if (has('Failed')) return 'Failed'
  if (job.metadata.deletionTimestamp !== undefined) return 'Terminating'
  if (has('Suspended')) return 'Suspended'
  if (has('FailureTarget')) return 'FailureTarget'
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet'
  return 'Running'
}

/** COMPLETIONS: succeeded/completions; a work queue (no completions) shows `n/1 of <parallelism>`. */
function jobCompletions(job: KubeObject): string {
  const spec = recordAt(job, 'spec')
  const succeeded = int(recordAt(job, 'status')?.succeeded)
  const completions = numberAt(spec, 'completions')
  if (completions !== undefined) return `${succeeded}/${completions}`
  const parallelism = int(spec?.parallelism)
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`
}

/** DURATION: start to completion, or to now while it runs. */
function jobDuration(job: KubeObject, now: Date): string {
  const status = recordAt(job, 'status')
  const start = stringAt(status, 'startTime')
  if (start === undefined) return ''
  const end = stringAt(status, 'completionTime')
  return humanDuration((end === undefined ? now.getTime() : Date.parse(end)) - Date.parse(start))
}

export const TABLE_COLUMNS: Readonly<Record<string, Column[]>> = {
  Pod: [
    name,
    col('Ready', 'string', o => {
      const statuses = recordsAt(recordAt(o, 'status'), 'containerStatuses')
      const total = recordsAt(recordAt(o, 'spec'), 'containers').length
      return `${statuses.filter(([s]) => s.ready === true).length}/${total}`
    }),
    col('Status', 'string', podStatus),
    col('Restarts', 'string', o => String(recordsAt(recordAt(o, 'status'), 'containerStatuses').reduce((n, [s]) => n + int(s.restartCount), 0))),
    age,
    col('IP', 'string', o => stringAt(recordAt(o, 'status'), 'podIP') || '<none>', 1),
    col('Node', 'string', o => stringAt(recordAt(o, 'spec'), 'nodeName') || '<none>', 1),
    col('Nominated Node', 'string', o => stringAt(recordAt(o, 'status'), 'nominatedNodeName') || '<none>', 1),
    col('Readiness Gates', 'string', o => (recordsAt(recordAt(o, 'spec'), 'readinessGates').length === 0 ? '<none>' : String(recordsAt(recordAt(o, 'spec'), 'readinessGates').length)), 1),
  ],
  Deployment: [
    name,
    col('Ready', 'string', o => `${int(recordAt(o, 'status')?.readyReplicas)}/${int(recordAt(o, 'spec')?.replicas)}`),
    col('Up-to-date', 'integer', o => int(recordAt(o, 'status')?.updatedReplicas)),
    col('Available', 'integer', o => int(recordAt(o, 'status')?.availableReplicas)),
    age,
    col('Containers', 'string', o => containersOf(recordAt(recordAt(recordAt(o, 'spec'), 'template'), 'spec')).names, 1),
    col('Images', 'string', o => containersOf(recordAt(recordAt(recordAt(o, 'spec'), 'template'), 'spec')).images, 1),
    col('Selector', 'string', o => selectorText(recordAt(o, 'spec')?.selector), 1),
  ],
  ReplicaSet: [
    name,
    col('Desired', 'integer', o => int(recordAt(o, 'spec')?.replicas)),
    col('Current', 'integer', o => int(recordAt(o, 'status')?.replicas)),
    col('Ready', 'integer', o => int(recordAt(o, 'status')?.readyReplicas)),
    age,
    col('Containers', 'string', o => containersOf(recordAt(recordAt(recordAt(o, 'spec'), 'template'), 'spec')).names, 1),
    col('Images', 'string', o => containersOf(recordAt(recordAt(recordAt(o, 'spec'), 'template'), 'spec')).images, 1),
    col('Selector', 'string', o => selectorText(recordAt(o, 'spec')?.selector), 1),
  ],
  Job: [
    name,
    col('Status', 'string', jobStatus),
    col('Completions', 'string', jobCompletions),
    col('Duration', 'string', jobDuration),
    age,
    col('Containers', 'string', o => containersOf(recordAt(recordAt(recordAt(o, 'spec'), 'template'), 'spec')).names, 1),
    col('Images', 'string', o => containersOf(recordAt(recordAt(recordAt(o, 'spec'), 'template'), 'spec')).images, 1),
    col('Selector', 'string', o => selectorText(recordAt(o, 'spec')?.selector), 1),
  ],
  Service: [
    name,
    col('Type', 'string', o => stringAt(recordAt(o, 'spec'), 'type') ?? 'ClusterIP'),
    col('Cluster-IP', 'string', o => stringAt(recordAt(o, 'spec'), 'clusterIP') || '<none>'),
    col('External-IP', 'string', externalIp),
    col('Port(s)', 'string', o => servicePorts(recordAt(o, 'spec'))),
    age,
    col('Selector', 'string', o => {
      const selector = stringMapAt(recordAt(o, 'spec'), 'selector')
      const text = Object.entries(selector ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',')
      return text === '' ? '<none>' : text
    }, 1),
  ],
  Node: [
    name,
    col('Status', 'string', nodeStatus),
    col('Roles', 'string', nodeRoles),
    age,
    col('Version', 'string', o => stringAt(recordAt(recordAt(o, 'status'), 'nodeInfo'), 'kubeletVersion') ?? ''),
    col('Internal-IP', 'string', o => nodeAddress(o, 'InternalIP'), 1),
    col('External-IP', 'string', o => nodeAddress(o, 'ExternalIP'), 1),
    col('OS-Image', 'string', o => stringAt(recordAt(recordAt(o, 'status'), 'nodeInfo'), 'osImage') || '<unknown>', 1),
    col('Kernel-Version', 'string', o => stringAt(recordAt(recordAt(o, 'status'), 'nodeInfo'), 'kernelVersion') || '<unknown>', 1),
    col('Container-Runtime', 'string', o => stringAt(recordAt(recordAt(o, 'status'), 'nodeInfo'), 'containerRuntimeVersion') || '<unknown>', 1),
  ],
  Namespace: [name, col('Status', 'string', o => stringAt(recordAt(o, 'status'), 'phase') ?? ''), age],
  ConfigMap: [name, col('Data', 'integer', o => Object.keys(recordAt(o, 'data') ?? {}).length + Object.keys(recordAt(o, 'binaryData') ?? {}).length), age],
  Endpoints: [name, col('Endpoints', 'string', endpointsText), age],
  EndpointSlice: [
    name,
    col('AddressType', 'string', o => String(o.addressType ?? '')),
    col('Ports', 'string', o => {
      const ports = recordsAt(o, 'ports').map(([p]) => String(numberAt(p, 'port') ?? ''))
      return ports.length === 0 ? '<unset>' : ports.join(',')
    }),
    col('Endpoints', 'string', o => {
      const addresses = recordsAt(o, 'endpoints').flatMap(([e]) => (Array.isArray(e.addresses) ? (e.addresses as string[]) : []))
      if (addresses.length === 0) return '<unset>'
      return addresses.length > 3 ? `${addresses.slice(0, 3).join(',')} + ${addresses.length - 3} more...` : addresses.join(',')
    }),
    age,
  ],
  Ingress: [
    name,
    col('Class', 'string', o => stringAt(recordAt(o, 'spec'), 'ingressClassName') ?? '<none>'),
    col('Hosts', 'string', ingressHosts),
    col('Address', 'string', ingressAddress),
    col('Ports', 'string', o => (recordsAt(recordAt(o, 'spec'), 'tls').length > 0 ? '80, 443' : '80')),
    age,
  ],
  IngressClass: [name, col('Controller', 'string', o => stringAt(recordAt(o, 'spec'), 'controller') ?? ''), col('Parameters', 'string', ingressClassParameters), age],
  CronJob: [
    name,
    col('Schedule', 'string', o => stringAt(recordAt(o, 'spec'), 'schedule') ?? ''),
    col('TimeZone', 'string', o => stringAt(recordAt(o, 'spec'), 'timeZone') ?? '<none>'),
    col('Suspend', 'boolean', o => {
      const suspend = recordAt(o, 'spec')?.suspend
      return typeof suspend === 'boolean' ? (suspend ? 'True' : 'False') : '<unset>'
    }),
    col('Active', 'integer', o => recordsAt(recordAt(o, 'status'), 'active').length),
    col('Last Schedule', 'string', (o, now) => {
      const last = stringAt(recordAt(o, 'status'), 'lastScheduleTime')
      return last === undefined ? '<none>' : since(last, now)
    }),
    age,
    col('Containers', 'string', o => containersOf(recordAt(recordAt(recordAt(recordAt(o, 'spec'), 'jobTemplate'), 'spec'), 'template')?.spec).names, 1),
    col('Images', 'string', o => containersOf(recordAt(recordAt(recordAt(recordAt(o, 'spec'), 'jobTemplate'), 'spec'), 'template')?.spec).images, 1),
    col('Selector', 'string', o => selectorText(recordAt(recordAt(recordAt(o, 'spec'), 'jobTemplate'), 'spec')?.selector), 1),
  ],
  Event: [
    col('Last Seen', 'string', (o, now) => since(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp, now)),
    col('Type', 'string', o => String(o.type ?? '')),
    col('Reason', 'string', o => String(o.reason ?? '')),
    col('Object', 'string', o => {
      const involved = recordAt(o, 'involvedObject')
      return `${(stringAt(involved, 'kind') ?? '').toLowerCase()}/${stringAt(involved, 'name') ?? ''}`
    }),
    col('Message', 'string', o => String(o.message ?? '')),
  ],
}

export function columnsFor(kind: string): Column[] {
  return TABLE_COLUMNS[kind] ?? [name, age]
}
