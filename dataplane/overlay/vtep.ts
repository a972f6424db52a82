// What the VXLAN backends (kernel and TypeScript) share, flannel-style: the
// device name, a pinned VTEP MAC per node (so peers' neighbour entries stay
// valid when the device is recreated), the VTEP address (the node subnet's
// network address as a /32, like flannel.1's) and the per-peer entries:
// a permanent neighbour (peer VTEP IP -> MAC), an FDB entry (MAC -> peer
// underlay IP) and an onlink route to the peer's pod subnet via its VTEP IP.
import { shortHash } from '../names.ts'
import { parseCidr, addressAt } from '../ipam/cidr.ts'
import type { Lease } from './backend.ts'

export const VXLAN_DEVICE = 'kwvx0'
export const VXLAN_VNI = 1
export const VXLAN_PORT = 8472
/** Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8) headers. */
export const VXLAN_OVERHEAD = 50
export const LEASE_VTEP_MAC = 'vtepMAC'

/** A stable, locally administered unicast MAC for a node's VTEP. */
export function vtepMac(cluster: string, node: string): string {
  const hex = shortHash(`${cluster}/${node}/vtep`, 10)
  return ['0e', ...(hex.match(/../g) ?? [])].join(':')
}

/** The VTEP address of a node: its pod subnet's network address. */
export function vtepIP(podCIDR: string): string {
  return addressAt(parseCidr(podCIDR), 0)
}

export interface PeerEntry {
  subnet: string
  vtepIP: string
  vtepMAC: string
  underlayIP: string
}

export function peerEntries(self: string, peers: readonly Lease[]): PeerEntry[] {
  return peers
    .filter(p => p.node !== self && p.data[LEASE_VTEP_MAC])
    .map(p => ({ subnet: p.podCIDR, vtepIP: vtepIP(p.podCIDR), vtepMAC: p.data[LEASE_VTEP_MAC] as string, underlayIP: p.underlayIP }))
}

export interface VxlanState {
  fdb: { mac: string; dst?: string }[]
  neigh: { dst: string; lladdr?: string }[]
  routes: { dst: string; gateway?: string }[]
}

export interface VxlanChanges {
  /** `bridge -batch` lines (FDB). */
  bridge: string[]
  /** `ip -batch` lines for neighbours; applied with the FDB before any route. */
  neigh: string[]
  /** `ip -batch` lines for routes; applied last. */
  routes: string[]
  /** Removals of departed or changed peers, routes first (`ip -batch`, then `bridge -batch`). */
  removeIp: string[]
  removeBridge: string[]
}

/**
 * Lines that take the device from `current` to exactly `peers`. Pure. Order, as
 * flannel: neighbour and FDB before the route, so no packet is routed to a
 * VTEP the device cannot resolve yet; removals take the route away first.
 */
export function vxlanChanges(device: string, peers: readonly PeerEntry[], current: VxlanState): VxlanChanges {
  const changes: VxlanChanges = { bridge: [], neigh: [], routes: [], removeIp: [], removeBridge: [] }
  const wantedMacs = new Map(peers.map(p => [p.vtepMAC, p.underlayIP]))
  const wantedNeigh = new Map(peers.map(p => [p.vtepIP, p.vtepMAC]))
  const wantedRoutes = new Map(peers.map(p => [p.subnet, p.vtepIP]))

  for (const r of current.routes) {
    if (r.gateway !== undefined && wantedRoutes.get(r.dst) !== r.gateway) changes.removeIp.push(`route del ${r.dst} dev ${device}`)
  }
  for (const n of current.neigh) {
    if (n.lladdr !== undefined && wantedNeigh.get(n.dst) !== n.lladdr) changes.removeIp.push(`neigh del ${n.dst} dev ${device}`)
  }
  for (const f of current.fdb) {
    if (f.dst !== undefined && wantedMacs.get(f.mac) !== f.dst) changes.removeBridge.push(`fdb del ${f.mac} dev ${device} dst ${f.dst}`)
  }
  for (const p of peers) {
    if (!current.fdb.some(f => f.mac === p.vtepMAC && f.dst === p.underlayIP)) {
      changes.bridge.push(`fdb replace ${p.vtepMAC} dev ${device} dst ${p.underlayIP}`)
    }
    if (!current.neigh.some(n => n.dst === p.vtepIP && n.lladdr === p.vtepMAC)) {
      changes.neigh.push(`neigh replace ${p.vtepIP} lladdr ${p.vtepMAC} dev ${device} nud permanent`)
    }
    if (!current.routes.some(r => r.dst === p.subnet && r.gateway === p.vtepIP)) {
      changes.routes.push(`route replace ${p.subnet} via ${p.vtepIP} dev ${device} onlink`)
    }
  }
  return changes
}
