// `kubectl describe node`, pure: the node, its non-terminated pods and its
// events in, kubectl's text out (Roles, Labels, Taints, Conditions table,
// Addresses, Capacity / Allocatable, System Info, PodCIDR, Non-terminated
// Pods with their requests and limits, Allocated resources, Events).

import { Quantity, parseQuantity } from '../../api/quantity.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { since, nodeRoles } from './columns.ts'
import { DescribeWriter, LEVEL_0, LEVEL_1, list, obj, printAnnotations, printEvents, printLabels, printTaints, rfc1123z, str } from './describe-writer.ts'

type Json = Record<string, unknown>

function quantity(value: unknown): Quantity | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined
  try {
    return parseQuantity(value)
  } catch {
    return undefined
  }
}

/** Quantity.Add: exact, keeping the first operand's format. */
function add(a: Quantity | undefined, b: Quantity | undefined): Quantity | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  const scale = Math.min(a.scale, b.scale)
  const widen = (q: Quantity): bigint => q.unscaled * 10n ** BigInt(q.scale - scale)
  return Quantity.fromScaled(widen(a) + widen(b), scale, a.isZero() ? b.format : a.format)
}

function max(a: Quantity | undefined, b: Quantity | undefined): Quantity | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return a.cmp(b) >= 0 ? a : b
}

/** PodRequestsAndLimits: containers summed, each init container a floor, overhead added. */
export function podRequestsAndLimits(pod: KubeObject): { requests: Map<string, Quantity>; limits: Map<string, Quantity> } {
  const spec = obj(pod.spec)
  const out = { requests: new Map<string, Quantity>(), limits: new Map<string, Quantity>() }
  for (const [which, key] of [['requests', 'requests'], ['limits', 'limits']] as const) {
    const total = out[which]
    for (const c of list(spec.containers)) {
      for (const [name, value] of Object.entries(obj(obj(c.resources)[key]))) {
        const q = add(total.get(name), quantity(value))
        if (q !== undefined) total.set(name, q)
      }
    }
    for (const c of list(spec.initContainers)) {
      for (const [name, value] of Object.entries(obj(obj(c.resources)[key]))) {
        const q = max(total.get(name), quantity(value))
        if (q !== undefined) total.set(name, q)
      }
    }
    for (const [name, value] of Object.entries(obj(spec.overhead))) {
      const q = add(total.get(name), quantity(value))
      if (q !== undefined) total.set(name, q)
    }
  }
  return out
}

function fraction(q: Quantity | undefined, total: Quantity | undefined, milli: boolean): number {
  if (q === undefined || total === undefined) return 0
  const t = milli ? total.milliValue() : total.value()
  if (t === 0) return 0
  return Math.trunc(((milli ? q.milliValue() : q.value()) / t) * 100)
}

const text = (q: Quantity | undefined): string => (q === undefined ? '0' : q.toString())

export function describeNode(node: KubeObject, pods: readonly KubeObject[], events: readonly KubeObject[] | undefined, now: number): string {
  const spec = obj(node.spec)
  const status = obj(node.status)
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${node.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Roles:\t${nodeRoles(node).join(',') || '<none>'}\n`)
  printLabels(w, 'Labels', node.metadata.labels)
  printAnnotations(w, 'Annotations', node.metadata.annotations)
  w.write(LEVEL_0, `CreationTimestamp:\t${rfc1123z(node.metadata.creationTimestamp)}\n`)
  printTaints(w, 'Taints', spec.taints)
  w.write(LEVEL_0, `Unschedulable:\t${spec.unschedulable === true}\n`)
  const conditions = list(status.conditions)
  if (conditions.length > 0) {
    w.write(LEVEL_0, 'Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n')
    w.write(LEVEL_1, '----\t------\t-----------------\t------------------\t------\t-------\n')
    for (const c of conditions) {
      w.write(LEVEL_1, `${str(c.type)} \t${str(c.status)} \t${rfc1123z(c.lastHeartbeatTime)} \t${rfc1123z(c.lastTransitionTime)} \t${str(c.reason)} \t${str(c.message)}\n`)
    }
  }
  w.write(LEVEL_0, 'Addresses:\n')
  for (const a of list(status.addresses)) w.write(LEVEL_1, `${str(a.type)}:\t${str(a.address)}\n`)
  const resourceList = (title: string, values: Json): void => {
    const names = Object.keys(values).sort()
    if (names.length === 0) return
    w.write(LEVEL_0, `${title}:\n`)
    for (const name of names) w.write(LEVEL_0, `  ${name}:\t${text(quantity(values[name]))}\n`)
  }
  resourceList('Capacity', obj(status.capacity))
  resourceList('Allocatable', obj(status.allocatable))
  const info = obj(status.nodeInfo)
  w.write(LEVEL_0, 'System Info:\n')
  for (const [title, key] of [
    ['Machine ID', 'machineID'],
    ['System UUID', 'systemUUID'],
    ['Boot ID', 'bootID'],
    ['Kernel Version', 'kernelVersion'],
    ['OS Image', 'osImage'],
    ['Operating System', 'operatingSystem'],
    ['Architecture', 'architecture'],
    ['Container Runtime Version', 'containerRuntimeVersion'],
    ['Kubelet Version', 'kubeletVersion'],
    ['Kube-Proxy Version', 'kubeProxyVersion'],
  ] as const) {
    w.write(LEVEL_0, `  ${title}:\t${str(info[key])}\n`)
  }
  if (str(spec.podCIDR) !== '') w.write(LEVEL_0, `PodCIDR:\t${str(spec.podCIDR)}\n`)
  if (Array.isArray(spec.podCIDRs) && spec.podCIDRs.length > 0) w.write(LEVEL_0, `PodCIDRs:\t${(spec.podCIDRs as unknown[]).map(String).join(',')}\n`)
  if (str(spec.providerID) !== '') w.write(LEVEL_0, `ProviderID:\t${str(spec.providerID)}\n`)

  const allocatable = Object.keys(obj(status.allocatable)).length > 0 ? obj(status.allocatable) : obj(status.capacity)
  const cpuTotal = quantity(allocatable.cpu)
  const memoryTotal = quantity(allocatable.memory)
  const storageTotal = quantity(allocatable['ephemeral-storage'])
  w.write(LEVEL_0, `Non-terminated Pods:\t(${pods.length} in total)\n`)
  w.write(LEVEL_1, 'Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n')
  w.write(LEVEL_1, '---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n')
  const totals = { requests: new Map<string, Quantity>(), limits: new Map<string, Quantity>() }
  for (const pod of pods) {
    const { requests, limits } = podRequestsAndLimits(pod)
    for (const [which, values] of [['requests', requests], ['limits', limits]] as const) {
      for (const [name, q] of values) {
        const sum = add(totals[which].get(name), q)
        if (sum !== undefined) totals[which].set(name, sum)
      }
    }
    const cpuReq = requests.get('cpu')
    const cpuLim = limits.get('cpu')
    const memReq = requests.get('memory')
    const memLim = limits.get('memory')
    w.write(
      LEVEL_1,
      `${pod.metadata.namespace ?? ''}\t${pod.metadata.name ?? ''}\t\t${text(cpuReq)} (${fraction(cpuReq, cpuTotal, true)}%)\t${text(cpuLim)} (${fraction(cpuLim, cpuTotal, true)}%)\t` +
        `${text(memReq)} (${fraction(memReq, memoryTotal, false)}%)\t${text(memLim)} (${fraction(memLim, memoryTotal, false)}%)\t${since(pod.metadata.creationTimestamp, now)}\n`,
    )
  }
  w.write(LEVEL_0, 'Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n')
  w.write(LEVEL_1, 'Resource\tRequests\tLimits\n')
  w.write(LEVEL_1, '--------\t--------\t------\n')
  for (const [name, total, milli] of [['cpu', cpuTotal, true], ['memory', memoryTotal, false], ['ephemeral-storage', storageTotal, false]] as const) {
    const req = totals.requests.get(name)
    const lim = totals.limits.get(name)
    w.write(LEVEL_1, `${name}\t${text(req)} (${fraction(req, total, milli)}%)\t${text(lim)} (${fraction(lim, total, milli)}%)\n`)
  }
  printEvents(w, events, now)
  return w.toString()
}
