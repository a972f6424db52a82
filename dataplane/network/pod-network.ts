// Pod sandboxes' networking, like a CNI bridge plugin: a namespace per pod, a
// veth pair whose `eth0` end sits in the pod and whose `vethXXXXXXXX` end is
// enslaved to the node's `cni0` bridge, an address from the node's subnet and a
// default route via the bridge's gateway address.
//
// Batched for speed: all namespaces in one `ip -batch`, all veths of a node in
// one `ip -n NODE -batch`, then the pod's own side (which can only be
// configured from inside its namespace) over rtnetlink from this process,
// no `ip` a pod (pod-side.ts).
// Create and delete are idempotent; a failed create removes what it made.
import { ipBatch } from '../exec/ip.ts'
import { listNetns } from '../netns/netns.ts'
import { linkNames } from './links.ts'
import { configurePodSide } from './pod-side.ts'

export const POD_BRIDGE = 'cni0'

export interface PodNetworkSpec {
  /** The pod's namespace, e.g. kw-demo-pod-default.web. */
  netns: string
  /** Its node's namespace, holding cni0. */
  nodeNetns: string
  /** Host end of the veth pair, in the node's namespace. */
  veth: string
  /** Pod address and prefix length, e.g. 10.244.1.5 and 24. */
  ip: string
  prefixLength: number
  gateway: string
  mtu: number
}

/**
 * A pod's MAC follows from its address (0a:58 + the four octets, as
 * OVN-Kubernetes does): when a freed address goes to a new pod, every
 * neighbour entry still naming the old pod's MAC is right for the new one, so
 * no packet is sent into the void while caches time out.
 */
export function podMac(ip: string): string {
  return ['0a', '58', ...ip.split('.').map(o => Number(o).toString(16).padStart(2, '0'))].join(':')
}

export type PodNetworkRef = Pick<PodNetworkSpec, 'netns' | 'nodeNetns' | 'veth'>

export async function createPodNetworks(pods: readonly PodNetworkSpec[]): Promise<void> {
  if (pods.length === 0) return
  try {
    const existing = new Set(listNetns())
    await ipBatch(null, pods.filter(p => !existing.has(p.netns)).map(p => `netns add ${p.netns}`))

    for (const [nodeNetns, onNode] of groupBy(pods, p => p.nodeNetns)) {
      const links = await linkNames(nodeNetns)
      const lines: string[] = []
      for (const p of onNode) {
        if (!links.has(p.veth)) {
          lines.push(`link add ${p.veth} mtu ${p.mtu} type veth peer name eth0 address ${podMac(p.ip)} mtu ${p.mtu} netns ${p.netns}`)
        }
        // Hairpin: a pod reaching itself through a Service. Where br_netfilter is
        // loaded, the DNATed packet is bridged back out of the port it came in.
        lines.push(`link set ${p.veth} master ${POD_BRIDGE} up`, `link set ${p.veth} type bridge_slave hairpin on`)
      }
      await ipBatch(nodeNetns, lines)
    }

    // The pod's own side, from inside its namespace: over rtnetlink, no process (pod-side.ts).
    for (const p of pods) configurePodSide(p.netns, p)
  } catch (e) {
    await deletePodNetworks(pods).catch(() => {})
    throw e
  }
}

export async function deletePodNetworks(pods: readonly PodNetworkRef[]): Promise<void> {
  const namespaces = new Set(listNetns())
  // Deleting the namespaces lets the kernel destroy all their veths in one batch
  // (~1 ms a pod); `link del` pays an RCU grace period per veth (~19 ms a pod).
  await ipBatch(null, pods.filter(p => namespaces.has(p.netns)).map(p => `netns del ${p.netns}`))
  for (const [nodeNetns, onNode] of groupBy(pods, p => p.nodeNetns)) {
    if (!namespaces.has(nodeNetns)) continue
    const left = await vethsLeft(nodeNetns, onNode, VETH_GONE_TIMEOUT_MS)
    // Still there (a process outside kubewire holds the pod's namespace): remove the pair directly.
    await ipBatch(nodeNetns, left.map(veth => `link del ${veth}`))
  }
}

const VETH_GONE_TIMEOUT_MS = 5_000

/** Waits until none of the pods' veths is left in the node's namespace, or the timeout; returns those left. */
async function vethsLeft(nodeNetns: string, pods: readonly PodNetworkRef[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  let delay = 5
  for (;;) {
    const links = await linkNames(nodeNetns)
    const left = pods.map(p => p.veth).filter(v => links.has(v))
    if (left.length === 0 || Date.now() >= deadline) return left
    await new Promise(r => setTimeout(r, delay))
    delay = Math.min(delay * 2, 100)
  }
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group) group.push(item)
    else groups.set(k, [item])
  }
  return groups
}
