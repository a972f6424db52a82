// The scheduling decision, pure: where one pod goes, given the nodes and the
// pods already bound to them (kube-scheduler's default profile, cut down to
// what kubewire needs).
//
// Filters, in kube-scheduler's order; a node fails on the first filter that
// rejects it, with that filter's reason(s):
// - NodeUnschedulable: spec.unschedulable, unless the pod tolerates
//   node.kubernetes.io/unschedulable:NoSchedule → "node(s) were unschedulable".
// - TaintToleration: every NoSchedule and NoExecute taint must be tolerated →
//   "node(s) had untolerated taint {key: value}". A node that is not Ready
//   counts as carrying the taint the node lifecycle controller gives it
//   (not-ready, or unreachable for Unknown), so "Ready nodes only" holds
//   even before the taint is written, and pods that tolerate it (as
//   DaemonSets do) may still go there.
// - NodeAffinity: spec.nodeSelector and required node affinity
//   (matchExpressions In/NotIn/Exists/DoesNotExist/Gt/Lt, matchFields on
//   metadata.name) → "node(s) didn't match Pod's node affinity/selector".
// - NodePorts: hostPort clashes → "node(s) didn't have free ports for the
//   requested pod ports".
// - NodeResourcesFit: requests (cpu, memory, other resources; a container's
//   request defaults to its limit; init containers and overhead as
//   Kubernetes counts them) against status.allocatable (else capacity)
//   minus the requests of the non-terminal pods bound there, and the pods
//   count → "Too many pods", "Insufficient cpu", "Insufficient memory".
//   A node that reports no allocatable resource at all, or leaves one out,
//   is not limited in it (kubewire's nodes share the host).
// Scoring, lexicographic: fewest pods of the same controller (ReplicaSet)
// already there (spreading), then the least requested node (cpu and memory,
// pods without requests counted as 100m / 200Mi as Kubernetes does for
// scoring), then the fewest pods, then the node name (deterministic, where
// Kubernetes picks at random among equals).
// Unschedulable: `0/3 nodes are available: 1 Insufficient cpu, 2 node(s)
// didn't match Pod's node affinity/selector.` (reasons counted over nodes,
// sorted), or "no nodes available to schedule pods" without nodes.

import type { Node, NodeSelectorRequirement, Pod, ResourceList, Taint, Toleration } from '../controllers/objects.ts'
import { compareText, controllerRefOf, getCondition } from '../controllers/objects.ts'
import { cpuMillis, memoryBytes } from '../api/quantity.ts'
import { isPodTerminal } from '../controllers/pod-util.ts'
import { toleratesTaint } from '../controllers/node-lifecycle.ts'

export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable'
export const REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports"
export const REASON_TOO_MANY_PODS = 'Too many pods'
export const NO_NODES_MESSAGE = 'no nodes available to schedule pods'

export const untoleratedTaintReason = (t: Taint): string => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`

export interface NodeScore {
  node: string
  /** Pods of the same controller already on the node. */
  spread: number
  /** 0–100, higher is emptier. */
  leastRequested: number
  pods: number
}

export type ScheduleResult =
  | { node: string; alreadyBound?: true; scores?: NodeScore[] }
  | { unschedulable: string; reasons: Record<string, string[]> }

// --- resources --------------------------------------------------------------------

export type Resources = Record<string, number>

// Milli-units for cpu, plain units (bytes) for everything else.
function amount(resource: string, v: string | number): number {
  try {
    return resource === 'cpu' ? cpuMillis(v) : memoryBytes(v)
  } catch {
    return 0
  }
}

function add(into: Resources, from: Resources): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v
}

function containerRequests(c: { resources?: { requests?: ResourceList; limits?: ResourceList } }): Resources {
  const out: Resources = {}
  const requests = c.resources?.requests ?? {}
  const limits = c.resources?.limits ?? {}
  for (const k of new Set([...Object.keys(requests), ...Object.keys(limits)])) {
    const v = requests[k] ?? limits[k]
    if (v !== undefined) out[k] = amount(k, v)
  }
  return out
}

/** What a pod requests: max(sum of containers, largest init container) + overhead. */
export function podRequests(pod: Pod): Resources {
  const sum: Resources = {}
  for (const c of pod.spec?.containers ?? []) add(sum, containerRequests(c))
  for (const ic of pod.spec?.initContainers ?? []) {
    for (const [k, v] of Object.entries(containerRequests(ic))) sum[k] = Math.max(sum[k] ?? 0, v)
  }
  for (const [k, v] of Object.entries(pod.spec?.overhead ?? {})) sum[k] = (sum[k] ?? 0) + amount(k, v)
  return sum
}

/** Defaults used for scoring when a container requests no cpu or memory (GetNonzeroRequests). */
export const DEFAULT_MILLI_CPU_REQUEST = 100
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

function nonZeroRequests(pod: Pod): { cpu: number; memory: number } {
  let cpu = 0
  let memory = 0
  for (const c of pod.spec?.containers ?? []) {
    const r = containerRequests(c)
    cpu += r['cpu'] || DEFAULT_MILLI_CPU_REQUEST
    memory += r['memory'] || DEFAULT_MEMORY_REQUEST
  }
  return { cpu, memory }
}

/** What the node offers, per resource; a resource it does not report is unbounded (absent here). */
export function nodeAllocatable(node: Node): Resources {
  const list = node.status?.allocatable ?? node.status?.capacity ?? {}
  const out: Resources = {}
  for (const [k, v] of Object.entries(list)) out[k] = k === 'pods' ? Number(v) || 0 : amount(k, v)
  return out
}

// --- filters -----------------------------------------------------------------------

function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some(t => toleratesTaint(t, taint))
}

/** The node's taints plus the one its Ready condition implies, if not already there. */
export function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])]
  const ready = getCondition(node.status?.conditions, 'Ready')?.status
  let implied: string | undefined
  if (ready === 'Unknown') implied = 'node.kubernetes.io/unreachable'
  else if (ready !== 'True') implied = 'node.kubernetes.io/not-ready'
  if (implied && !taints.some(t => t.key === implied && t.effect === 'NoSchedule')) taints.push({ key: implied, effect: 'NoSchedule' })
  return taints
}

function matchesRequirement(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? []
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value)
    case 'NotIn':
      return value === undefined || !values.includes(value)
    case 'Exists':
      return value !== undefined
    case 'DoesNotExist':
      return value === undefined
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !/^-?\d+$/.test(value) || values.length !== 1 || !/^-?\d+$/.test(values[0] ?? '')) return false
      const a = Number(value)
      const b = Number(values[0])
      return r.operator === 'Gt' ? a > b : a < b
    }
    default:
      return false
  }
}

/** spec.nodeSelector and required node affinity (the NodeAffinity filter; the DaemonSet controller asks it too). */
export function matchesAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {}
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms
  if (!terms) return true
  return terms.some(term => {
    const exprs = term.matchExpressions ?? []
    const fields = term.matchFields ?? []
    if (exprs.length === 0 && fields.length === 0) return false
    return (
      exprs.every(r => matchesRequirement(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) &&
      fields.every(r => r.key === 'metadata.name' && matchesRequirement(r, node.metadata.name))
    )
  })
}

interface HostPort {
  port: number
  protocol: string
  ip: string
}

function hostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = []
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort) out.push({ port: p.hostPort, protocol: p.protocol ?? 'TCP', ip: p.hostIP ?? '0.0.0.0' })
    }
  }
  return out
}

const clash = (a: HostPort, b: HostPort): boolean =>
  a.port === b.port && a.protocol === b.protocol && (a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0')

const RESOURCE_ORDER = ['cpu', 'memory', 'ephemeral-storage']

/** Why `pod` cannot go to `node` (the first failing filter's reasons); [] when it fits. */
export function filterNode(pod: Pod, node: Node, podsOnNode: readonly Pod[]): string[] {
  const tolerations = pod.spec?.tolerations ?? []
  if (node.spec?.unschedulable && !tolerates(tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) {
    return [REASON_UNSCHEDULABLE]
  }
  for (const taint of effectiveTaints(node)) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue
    if (!tolerates(tolerations, taint)) return [untoleratedTaintReason(taint)]
  }
  if (!matchesAffinity(pod, node)) return [REASON_AFFINITY]
  const active = podsOnNode.filter(p => !isPodTerminal(p))
  const wanted = hostPorts(pod)
  if (wanted.length > 0) {
    const used = active.flatMap(hostPorts)
    if (wanted.some(w => used.some(u => clash(w, u)))) return [REASON_PORTS]
  }
  const allocatable = nodeAllocatable(node)
  const reasons: string[] = []
  const maxPods = allocatable['pods']
  if (maxPods !== undefined && active.length + 1 > maxPods) reasons.push(REASON_TOO_MANY_PODS)
  const request = podRequests(pod)
  const requested: Resources = {}
  for (const p of active) add(requested, podRequests(p))
  const names = Object.keys(request)
    .filter(k => k !== 'pods')
    .sort((a, b) => {
      const ia = RESOURCE_ORDER.indexOf(a)
      const ib = RESOURCE_ORDER.indexOf(b)
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || compareText(a, b)
    })
  for (const r of names) {
    const want = request[r] ?? 0
    const cap = allocatable[r]
    if (want > 0 && cap !== undefined && want > cap - (requested[r] ?? 0)) reasons.push(`Insufficient ${r}`)
  }
  return reasons
}

// --- scoring -----------------------------------------------------------------------

/** How the node scores for `pod` (see the header for the order). */
export function scoreNode(pod: Pod, node: Node, podsOnNode: readonly Pod[]): NodeScore {
  const active = podsOnNode.filter(p => !isPodTerminal(p))
  const owner = controllerRefOf(pod)?.uid
  const spread = owner
    ? active.filter(p => !p.metadata.deletionTimestamp && controllerRefOf(p)?.uid === owner).length
    : 0
  const allocatable = nodeAllocatable(node)
  const requested = nonZeroRequests(pod)
  for (const p of active) {
    const r = nonZeroRequests(p)
    requested.cpu += r.cpu
    requested.memory += r.memory
  }
  const scores: number[] = []
  for (const r of ['cpu', 'memory'] as const) {
    const cap = allocatable[r]
    if (cap === undefined) continue
    scores.push(cap <= 0 || requested[r] > cap ? 0 : Math.floor(((cap - requested[r]) * 100) / cap))
  }
  const leastRequested = scores.length > 0 ? Math.floor(scores.reduce((a, b) => a + b, 0) / scores.length) : 0
  return { node: node.metadata.name ?? '', spread, leastRequested, pods: active.length }
}

function better(a: NodeScore, b: NodeScore): number {
  return a.spread - b.spread || b.leastRequested - a.leastRequested || a.pods - b.pods || compareText(a.node, b.node)
}

/** Kubernetes' FitError text from the reasons of every node. */
export function unschedulableMessage(totalNodes: number, reasons: Record<string, string[]>): string {
  if (totalNodes === 0) return NO_NODES_MESSAGE
  const histogram = new Map<string, number>()
  for (const list of Object.values(reasons)) for (const r of list) histogram.set(r, (histogram.get(r) ?? 0) + 1)
  const parts = [...histogram].map(([r, n]) => `${n} ${r}`).sort(compareText)
  return `0/${totalNodes} nodes are available${parts.length > 0 ? ': ' + parts.join(', ') : ''}.`
}

/** Where `pod` goes. `podsOnNodes`: the pods bound to each node, by node name. */
export function schedule(pod: Pod, nodes: readonly Node[], podsOnNodes: ReadonlyMap<string, readonly Pod[]>): ScheduleResult {
  const bound = pod.spec?.nodeName
  if (bound) return { node: bound, alreadyBound: true }
  const reasons: Record<string, string[]> = {}
  const feasible: NodeScore[] = []
  for (const node of nodes) {
    const name = node.metadata.name ?? ''
    const onNode = podsOnNodes.get(name) ?? []
    const why = filterNode(pod, node, onNode)
    if (why.length > 0) reasons[name] = why
    else feasible.push(scoreNode(pod, node, onNode))
  }
  if (feasible.length === 0) return { unschedulable: unschedulableMessage(nodes.length, reasons), reasons }
  feasible.sort(better)
  return { node: feasible[0]!.node, scores: feasible }
}

/** Bound pods grouped by node name (spec.nodeName). */
export function groupPodsByNode(pods: Iterable<Pod>): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>()
  for (const p of pods) {
    const n = p.spec?.nodeName
    if (!n) continue
    let list = out.get(n)
    if (!list) out.set(n, (list = []))
    list.push(p)
  }
  return out
}
