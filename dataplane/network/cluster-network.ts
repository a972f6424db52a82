// The emulated LAN and its nodes. In the root namespace: one bridge (the
// underlay) holding the host's address, and one veth per node whose other end
// is the node's `eth0`. In each node's namespace: its underlay address, a
// `cni0` bridge holding the pod gateway, IPv4 forwarding (inside the node
// only: the root namespace's forwarding is never touched) and the masquerade
// table. No node gets a default route: nothing routes out of the emulated world.
//
// One `ip -batch` for the root namespace, one per node; ensure, don't add.
import { ipBatch, inNetns } from '../exec/ip.ts'
import { listNetns } from '../netns/netns.ts'
import { linkNames } from './links.ts'
import { renderMasqueradeTable } from './masquerade.ts'
import { POD_BRIDGE } from './pod-network.ts'

export const NODE_UNDERLAY_DEVICE = 'eth0'

export interface NodeNetworkSpec {
  netns: string
  /** Root-namespace end of the node's underlay veth. */
  uplink: string
  underlayIP: string
  podGateway: string
  podPrefixLength: number
}

export interface ClusterNetworkSpec {
  bridge: string
  hostIP: string
  underlayPrefixLength: number
  underlayMtu: number
  clusterCidr: string
  masqueradeTable: string
  nodes: readonly NodeNetworkSpec[]
}

export async function createClusterNetwork(spec: ClusterNetworkSpec): Promise<void> {
  const rootLinks = await linkNames(null)
  const namespaces = new Set(listNetns())
  const root: string[] = []
  if (!rootLinks.has(spec.bridge)) {
    root.push(`link add ${spec.bridge} mtu ${spec.underlayMtu} type bridge`, `link set ${spec.bridge} addrgenmode none`)
  }
  root.push(`addr replace ${spec.hostIP}/${spec.underlayPrefixLength} dev ${spec.bridge}`, `link set ${spec.bridge} up`)
  for (const node of spec.nodes) {
    if (!namespaces.has(node.netns)) root.push(`netns add ${node.netns}`)
    if (!rootLinks.has(node.uplink)) {
      root.push(
        `link add ${node.uplink} mtu ${spec.underlayMtu} type veth peer name ${NODE_UNDERLAY_DEVICE} mtu ${spec.underlayMtu} netns ${node.netns}`,
        `link set ${node.uplink} addrgenmode none`,
      )
    }
    root.push(`link set ${node.uplink} master ${spec.bridge} up`)
  }
  await ipBatch(null, root)
  await Promise.all(spec.nodes.map(node => createNode(spec, node)))
}

async function createNode(spec: ClusterNetworkSpec, node: NodeNetworkSpec): Promise<void> {
  // Sysctls first: `default` only applies to links made after it is set.
  await inNetns(node.netns, [
    'sysctl', '-q', '-w',
    'net.ipv4.ip_forward=1',
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv6.conf.default.disable_ipv6=1',
    // The proxy answers a Service without endpoints with ICMP port unreachable:
    // every time, not once a second per client (the kernel's default limit).
    'net.ipv4.icmp_ratelimit=0',
  ])
  const links = await linkNames(node.netns)
  const lines = [
    'link set lo up',
    `addr replace ${node.underlayIP}/${spec.underlayPrefixLength} dev ${NODE_UNDERLAY_DEVICE}`,
    `link set ${NODE_UNDERLAY_DEVICE} up`,
  ]
  if (!links.has(POD_BRIDGE)) lines.push(`link add ${POD_BRIDGE} type bridge`)
  lines.push(`addr replace ${node.podGateway}/${node.podPrefixLength} dev ${POD_BRIDGE}`, `link set ${POD_BRIDGE} up`)
  await ipBatch(node.netns, lines)
  await inNetns(node.netns, ['nft', '-f', '-'], renderMasqueradeTable(spec.masqueradeTable, spec.clusterCidr, NODE_UNDERLAY_DEVICE))
}
