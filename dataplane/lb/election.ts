// Which node announces which LoadBalancer address (pure), decided the way
// MetalLB's layer-2 speakers decide it: with no coordination at all. Every
// node agent sees the same Services, EndpointSlices and Nodes through the API
// and computes the same answer on its own:
//
//   eligible = Ready nodes, not cordoned (spec.unschedulable), not labelled
//              node.kubernetes.io/exclude-from-external-load-balancers;
//              with externalTrafficPolicy Local only those among them that
//              run a ready endpoint of the Service (the others would drop
//              the traffic to keep the client's address);
//   winner   = the eligible node whose sha256(nodeName + '#' + ip) is lowest.
//
// A Service with no ready endpoint anywhere is announced by nobody (MetalLB
// does the same: the host then gets no ARP answer, rather than an answer from
// a node that can only refuse). The hash spreads addresses over the nodes and
// moves only the addresses of a node that leaves: the others keep their
// winner. The hash is keyed by the address, not the Service, so Services
// that share an address always elect the same node.
import { createHash } from 'node:crypto'
import { ipToInt } from '../ipam/cidr.ts'

/** A node as the election sees it. */
export interface AnnouncerNode {
  name: string
  /** The Ready condition is True (the liveness signal: MetalLB uses its speaker's memberlist). */
  ready: boolean
  /** spec.unschedulable (cordoned). */
  unschedulable: boolean
  /** Labelled node.kubernetes.io/exclude-from-external-load-balancers. */
  excluded: boolean
}

/** A Service of type LoadBalancer (of our implementation) as the election sees it. */
export interface AnnouncedService {
  /** "namespace/name". */
  key: string
  /** status.loadBalancer.ingress addresses. */
  ips: string[]
  /** externalTrafficPolicy Local. */
  externalLocal: boolean
  /** Node names of its ready endpoints, one entry per endpoint ('' when the endpoint names no node). */
  readyEndpointNodes: string[]
}

/** An inclusive address range (the LoadBalancer pool). */
export interface AddressRange {
  first: string
  last: string
}

/**
 * The node that announces `ip`: among `candidates` (already eligible), the one
 * with the lowest sha256(name + '#' + ip); undefined when there is none. The
 * order of `candidates` does not matter. `serviceKey` names the Service for
 * callers' logs and is deliberately not hashed (see the header).
 */
export function electAnnouncer(_serviceKey: string, ip: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; hash: Buffer } | undefined
  for (const name of candidates) {
    const hash = createHash('sha256').update(`${name}#${ip}`).digest()
    if (!best || Buffer.compare(hash, best.hash) < 0) best = { name, hash }
  }
  return best?.name
}

/** The nodes that may announce `service`'s addresses (unsorted). */
export function eligibleNodes(service: AnnouncedService, nodes: readonly AnnouncerNode[]): string[] {
  if (service.readyEndpointNodes.length === 0) return []
  const withEndpoints = new Set(service.readyEndpointNodes)
  return nodes
    .filter(n => n.ready && !n.unschedulable && !n.excluded)
    .filter(n => !service.externalLocal || withEndpoints.has(n.name))
    .map(n => n.name)
}

export function inRange(range: AddressRange, ip: string): boolean {
  try {
    const n = ipToInt(ip)
    return n >= ipToInt(range.first) && n <= ipToInt(range.last)
  } catch {
    return false
  }
}

export interface Election {
  /** "namespace/name" of the Service the address belongs to. */
  service: string
  /** The announcing node; undefined when no node is eligible. */
  node: string | undefined
}

/**
 * Every address of `pool` the Services hold -> its Service and announcing
 * node. An address outside the pool is not ours to put on the underlay.
 * Services sharing an address: the first by key.
 */
export function electAll(services: readonly AnnouncedService[], nodes: readonly AnnouncerNode[], pool: AddressRange): Map<string, Election> {
  const elections = new Map<string, Election>()
  for (const service of [...services].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const candidates = eligibleNodes(service, nodes)
    for (const ip of service.ips) {
      if (elections.has(ip) || !inRange(pool, ip)) continue
      elections.set(ip, { service: service.key, node: electAnnouncer(service.key, ip, candidates) })
    }
  }
  return elections
}

/** The addresses `elections` give node `self`: address -> the Service it is announced for. */
export function wonBy(elections: ReadonlyMap<string, Election>, self: string): Map<string, string> {
  return new Map([...elections].flatMap(([ip, e]) => (e.node === self ? [[ip, e.service] as const] : [])))
}

/** The addresses node `self` must hold: address -> the Service it is announced for. */
export function desiredAnnouncements(
  services: readonly AnnouncedService[], nodes: readonly AnnouncerNode[], self: string, pool: AddressRange,
): Map<string, string> {
  return wonBy(electAll(services, nodes, pool), self)
}

export interface AnnouncementChanges {
  /** Address -> Service, to announce. */
  add: Map<string, string>
  /** Addresses to withdraw. */
  remove: string[]
}

/** What to change so that the addresses `held` become `desired`. */
export function announcementChanges(held: Iterable<string>, desired: ReadonlyMap<string, string>): AnnouncementChanges {
  const have = new Set(held)
  return {
    add: new Map([...desired].filter(([ip]) => !have.has(ip))),
    remove: [...have].filter(ip => !desired.has(ip)).sort(),
  }
}
