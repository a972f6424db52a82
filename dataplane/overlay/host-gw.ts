// host-gw: no encapsulation. Every node routes each other node's pod subnet via
// that node's underlay address; works because all nodes share one L2 underlay.
// The simplest backend and the reference the VXLAN ones are measured against.
import { ipBatch, ipJson } from '../exec/ip.ts'
import { contains, parseCidr } from '../ipam/cidr.ts'
import { type Backend, type BackendNode, type Lease, registerBackend } from './backend.ts'

interface IpRoute {
  dst: string
  gateway?: string
  dev?: string
}

/** Lines for `ip -batch` that bring the node's routes to exactly `peers`. Pure. */
export function hostGwRouteLines(node: BackendNode, peers: readonly Lease[], current: readonly IpRoute[]): string[] {
  const cluster = parseCidr(node.clusterCidr)
  const wanted = new Map(peers.filter(p => p.node !== node.name).map(p => [p.podCIDR, p.underlayIP]))
  const lines: string[] = []
  for (const route of current) {
    const network = route.dst.split('/')[0] ?? ''
    const isPeerRoute = route.dst.includes('/') && route.gateway !== undefined && contains(cluster, network)
    if (isPeerRoute && wanted.get(route.dst) !== route.gateway) lines.push(`route del ${route.dst}`)
  }
  for (const [subnet, via] of wanted) {
    const present = current.some(r => r.dst === subnet && r.gateway === via && r.dev === node.underlayDevice)
    if (!present) lines.push(`route replace ${subnet} via ${via} dev ${node.underlayDevice}`)
  }
  return lines
}

export const hostGw: Backend = {
  type: 'host-gw',
  podMtu: underlayMtu => underlayMtu,
  register: async () => ({}),
  async sync(node, peers) {
    const current = await ipJson<IpRoute[]>(node.netns, ['route', 'show'])
    await ipBatch(node.netns, hostGwRouteLines(node, peers, current))
  },
}

registerBackend('host-gw', () => hostGw)
