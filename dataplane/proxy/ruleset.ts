// The proxy's nftables ruleset, built from slim Service ports (pure). Laid out
// as kube-proxy's nftables mode lays it out, so that the cost per packet does
// not grow with the number of Services:
//
//   nat-prerouting / nat-output  -> services:
//     ip daddr . meta l4proto . th dport vmap @service-ips      (ClusterIP, LoadBalancer IPs)
//     fib daddr type local ... vmap @service-nodeports            (NodePort on the node's addresses)
//   svc-<hash>-<ns>/<name>/<proto>/<port>: pick an endpoint at random, equal weight
//   filter-*: a Service with no ready endpoints is rejected (ICMP port
//     unreachable: "connection refused" at once, not a time-out); an unknown
//     port on a ClusterIP too
//   nat-postrouting: masquerade what was marked (traffic from outside the
//     cluster CIDR: NodePort, LoadBalancer) and what a node must answer for
//     itself (hairpin and same-node, see below)
//
// One difference from kube-proxy, measured: kube-proxy gives every endpoint a
// chain and every Service an anonymous `numgen ... vmap { ... }`. With 10 000
// Services x 10 endpoints that is 110 000 chains and 10 000 anonymous sets,
// which take nft ~14 s to load on this kind of machine. Here a Service chain
// writes `numgen random mod N offset BASE` into the packet mark and jumps to
// one shared chain that DNATs through one named map, slot -> endpoint
// address . port: one chain per Service port and one map element per endpoint
// (~2 s for the same 10 000 x 10). Endpoint chains are kept only where they are
// needed: for sessionAffinity ClientIP (kube-proxy's per-endpoint affinity sets).
//
// Same-node traffic: pods hang on the node's cni0 bridge. A pod reaching a
// Service whose chosen endpoint sits on the same bridge would get the reply
// straight over the bridge, past the node's conntrack, so the reply would not
// be un-DNATed (unless br_netfilter is loaded, which is global to the host and
// would push the host's own bridged traffic through its firewall). So DNATed
// traffic from this node's pods that goes back out onto cni0 is masqueraded to
// the node's cni0 address: the reply then comes to the node. That also covers
// hairpin (a pod reaching itself through its Service).
import { createHash } from 'node:crypto'

export type Protocol = 'TCP' | 'UDP'

export interface ProxyEndpoint {
  ip: string
  port: number
  /** On this node (externalTrafficPolicy Local uses only these). */
  local: boolean
}

/** One port of one Service, as the proxy needs it. */
export interface ProxyServicePort {
  namespace: string
  name: string
  /** The Service port's name ('' when unnamed). */
  portName: string
  protocol: Protocol
  port: number
  clusterIP?: string
  nodePort?: number
  loadBalancerIPs: string[]
  /** externalTrafficPolicy Local: NodePort/LoadBalancer traffic keeps its source and goes to local endpoints only. */
  externalLocal: boolean
  /** sessionAffinity ClientIP with this timeout, or undefined. */
  affinitySeconds?: number
  /** Ready endpoints (ready, or serving-and-terminating when nothing else is left, as kube-proxy does). */
  endpoints: ProxyEndpoint[]
}

export interface ProxyConfig {
  /** The cluster (pod) CIDR: sources outside it reaching a Service are masqueraded. */
  clusterCidr: string
  /** The service CIDR: a packet still addressed into it after DNAT went to no Service port, and is rejected. */
  serviceCidr: string
  /** This node's pod subnet and bridge (same-node and hairpin masquerade). */
  localPodCidr: string
  podBridge: string
}

/** The desired content of the table, as named parts the transaction builder can diff. */
export interface Ruleset {
  /** Map name -> declaration line(s) (type, flags). */
  mapTypes: Map<string, string>
  /** Map or set name -> element key -> value ('' for set elements). */
  elements: Map<string, Map<string, string>>
  /** Chain name -> rules (a base chain's first line is its hook declaration). */
  chains: Map<string, string[]>
  /** Dynamic sets (affinity): name -> declaration. Their elements are the kernel's and survive syncs. */
  dynamicSets: Map<string, string>
}

export const MASQUERADE_MARK = 0x40000000
const SLOT_MASK = 0x00ffffff

/** Endpoint slots in the shared DNAT map: each Service port owns a range, kept across syncs. */
export interface SlotRanges {
  base(key: string, size: number): number
}

/** A chain name like kube-proxy's: short hash (unique) + readable ns/name/proto/port. */
export function serviceChainName(prefix: string, p: Pick<ProxyServicePort, 'namespace' | 'name' | 'protocol' | 'portName' | 'port'>): string {
  const id = servicePortKey(p)
  return `${prefix}-${hash8(id)}-${p.namespace}/${p.name}/${p.protocol.toLowerCase()}/${p.portName || p.port}`
}

export function servicePortKey(p: Pick<ProxyServicePort, 'namespace' | 'name' | 'protocol' | 'portName' | 'port'>): string {
  return `${p.namespace}/${p.name}/${p.protocol}/${p.portName || p.port}`
}

const hashes = new Map<string, string>()
function hash8(text: string): string {
  let h = hashes.get(text)
  if (h === undefined) {
    // Memoised: a sync of 10 000 Services would otherwise hash every name again.
    if (hashes.size > 200_000) hashes.clear()
    h = createHash('sha256').update(text).digest('hex').slice(0, 8).toUpperCase()
    hashes.set(text, h)
  }
  return h
}

const proto = (p: Protocol): string => p.toLowerCase()

function baseChains(config: ProxyConfig): [string, string[]][] {
  return [
    ['nat-prerouting', ['type nat hook prerouting priority dstnat; policy accept;', 'jump services']],
    ['nat-output', ['type nat hook output priority -100; policy accept;', 'jump services']],
    ['nat-postrouting', ['type nat hook postrouting priority srcnat; policy accept;', 'jump masquerading']],
    ['filter-input', ['type filter hook input priority filter - 10; policy accept;', 'ct state new jump nodeport-endpoints-check']],
    ['filter-forward', ['type filter hook forward priority filter - 10; policy accept;', 'ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check']],
    ['filter-output', [
      'type filter hook output priority filter - 10; policy accept;',
      'ct state new jump service-endpoints-check',
      'ct state new jump nodeport-endpoints-check',
      'ct state new jump cluster-ips-check',
    ]],
    ['services', [
      'ip daddr . meta l4proto . th dport vmap @service-ips',
      'ip daddr != 127.0.0.0/8 fib daddr type local meta l4proto . th dport vmap @service-nodeports',
    ]],
    ['service-endpoints-check', ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services']],
    ['nodeport-endpoints-check', ['ip daddr != 127.0.0.0/8 fib daddr type local meta l4proto . th dport vmap @no-endpoint-nodeports']],
    // Any other port of a ClusterIP goes nowhere: say so at once.
    // (A packet for a Service it knows was DNATed before it got here.)
    ['cluster-ips-check', [`ip daddr ${config.serviceCidr} reject`]],
    ['reject-chain', ['reject']],
    ['mark-for-masquerade', [`meta mark set meta mark | ${hex(MASQUERADE_MARK)}`]],
    ['masquerading', [
      `meta mark & ${hex(MASQUERADE_MARK)} == ${hex(MASQUERADE_MARK)} meta mark set meta mark ^ ${hex(MASQUERADE_MARK)} masquerade fully-random`,
      `ct status dnat ip saddr ${config.localPodCidr} oifname "${config.podBridge}" masquerade fully-random`,
    ]],
    // The slot is in the mark's low bits; sources outside the cluster CIDR are masqueraded ...
    ['endpoint-dnat', [`ip saddr != ${config.clusterCidr} jump mark-for-masquerade`, dnatToSlot]],
    // ... except through externalTrafficPolicy Local, which keeps the client's address.
    ['endpoint-dnat-keep-source', [dnatToSlot]],
  ]
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`
const dnatToSlot = `meta l4proto { tcp, udp } dnat ip to meta mark & ${hex(SLOT_MASK)} map @endpoints`

/** Size of the slot range for n endpoints: a power of two, so ranges are reused when counts change a little. */
export function slotRangeSize(n: number): number {
  let size = 4
  while (size < n) size *= 2
  return size
}

const MAP_TYPES: readonly [string, string][] = [
  ['service-ips', 'type ipv4_addr . inet_proto . inet_service : verdict'],
  ['service-nodeports', 'type inet_proto . inet_service : verdict'],
  ['no-endpoint-services', 'type ipv4_addr . inet_proto . inet_service : verdict'],
  ['no-endpoint-nodeports', 'type inet_proto . inet_service : verdict'],
  ['endpoints', 'type mark : ipv4_addr . inet_service'],
]

/** Every map of the table -> its type declaration. */
export function mapDeclarations(): ReadonlyMap<string, string> {
  return MAP_DECLARATIONS
}
const MAP_DECLARATIONS: ReadonlyMap<string, string> = new Map(MAP_TYPES)

/** The rules of one Service (all its ports), and the slot ranges they hold. */
export interface ServiceRules extends Ruleset {
  slotKeys: string[]
}

export function emptyRuleset(): Ruleset {
  return { mapTypes: new Map(), elements: new Map(), chains: new Map(), dynamicSets: new Map() }
}

/** The table's fixed part: maps and sets (empty), hooks and shared chains. */
export function baseRuleset(config: ProxyConfig): Ruleset {
  return {
    mapTypes: new Map(MAP_TYPES),
    elements: new Map(MAP_TYPES.map(([name]) => [name, new Map<string, string>()])),
    chains: new Map(baseChains(config)),
    dynamicSets: new Map(),
  }
}

/** Adds `part` to `into` (parts never share a chain, set or element key). */
export function mergeInto(into: Ruleset, part: Ruleset): Ruleset {
  for (const [name, type] of part.mapTypes) into.mapTypes.set(name, type)
  for (const [name, elements] of part.elements) {
    const target = into.elements.get(name) ?? new Map<string, string>()
    into.elements.set(name, target)
    for (const [k, v] of elements) target.set(k, v)
  }
  for (const [name, rules] of part.chains) into.chains.set(name, rules)
  for (const [name, decl] of part.dynamicSets) into.dynamicSets.set(name, decl)
  return into
}

/** The whole table for these Service ports. */
export function buildRuleset(config: ProxyConfig, ports: readonly ProxyServicePort[], slots: SlotRanges): Ruleset {
  const rs = baseRuleset(config)
  for (const group of groupByService(ports).values()) mergeInto(rs, serviceRules(config, group, slots))
  return rs
}

/** Ports grouped by Service (namespace/name), in a stable order. */
export function groupByService(ports: readonly ProxyServicePort[]): Map<string, ProxyServicePort[]> {
  const groups = new Map<string, ProxyServicePort[]>()
  for (const p of sorted(ports)) {
    const key = `${p.namespace}/${p.name}`
    const group = groups.get(key)
    if (group) group.push(p)
    else groups.set(key, [p])
  }
  return groups
}

/** The chains, map elements and sets of one Service's ports. */
export function serviceRules(config: ProxyConfig, ports: readonly ProxyServicePort[], slots: SlotRanges): ServiceRules {
  const rs: ServiceRules = { ...emptyRuleset(), slotKeys: [] }
  const el = (map: string): Map<string, string> => {
    let m = rs.elements.get(map)
    if (!m) rs.elements.set(map, (m = new Map()))
    return m
  }
  const pick = (p: ProxyServicePort, chain: string, endpoints: readonly ProxyEndpoint[], internal: boolean): string[] =>
    pickRules(config, p, chain, endpoints, slots, rs, el('endpoints'), internal)

  for (const p of ports) {
    const l4 = proto(p.protocol)
    const external = [...p.loadBalancerIPs]
    const internalEndpoints = p.endpoints
    const externalEndpoints = p.externalLocal ? p.endpoints.filter(e => e.local) : p.endpoints

    if (internalEndpoints.length === 0) {
      // Nothing to reach: reject at once, on every address of the Service.
      for (const ip of [...(p.clusterIP ? [p.clusterIP] : []), ...external]) el('no-endpoint-services').set(`${ip} . ${l4} . ${p.port}`, 'goto reject-chain')
      if (p.nodePort) el('no-endpoint-nodeports').set(`${l4} . ${p.nodePort}`, 'goto reject-chain')
      continue
    }

    const svc = serviceChainName('svc', p)
    rs.chains.set(svc, pick(p, svc, internalEndpoints, true))
    if (p.clusterIP) el('service-ips').set(`${p.clusterIP} . ${l4} . ${p.port}`, `goto ${svc}`)

    if (external.length === 0 && !p.nodePort) continue
    // NodePort and LoadBalancer. Policy Cluster: the Service chain itself (it
    // masquerades sources outside the cluster CIDR). Policy Local: pods of the
    // cluster still get every endpoint (kube-proxy's short-circuit); outside
    // clients keep their address and get this node's endpoints only, or nothing.
    let target = svc
    if (p.externalLocal) {
      target = serviceChainName('ext', p)
      const rules = [`ip saddr ${config.clusterCidr} goto ${svc}`]
      if (externalEndpoints.length === 0) rules.push('drop')
      else {
        const local = serviceChainName('local', p)
        rs.chains.set(local, pick(p, local, externalEndpoints, false))
        rules.push(`goto ${local}`)
      }
      rs.chains.set(target, rules)
    }
    for (const ip of external) el('service-ips').set(`${ip} . ${l4} . ${p.port}`, `goto ${target}`)
    if (p.nodePort) el('service-nodeports').set(`${l4} . ${p.nodePort}`, `goto ${target}`)
  }
  return rs
}

function pickRules(
  config: ProxyConfig,
  p: ProxyServicePort,
  chain: string,
  endpoints: readonly ProxyEndpoint[],
  slots: SlotRanges,
  rs: ServiceRules,
  endpointMap: Map<string, string>,
  internal: boolean,
): string[] {
  const masqueradeOutsiders = internal ? [`ip saddr != ${config.clusterCidr} jump mark-for-masquerade`] : []
  const ordered = byAddress(endpoints)
  if (p.affinitySeconds !== undefined) {
    // kube-proxy's layout: one chain and one timed set of client addresses per endpoint.
    const rules = [...masqueradeOutsiders]
    const targets: string[] = []
    ordered.forEach((e, i) => {
      const epChain = `${chain}__${e.ip}/${e.port}`
      const set = `affinity-${hash8(epChain)}`
      rs.dynamicSets.set(set, `type ipv4_addr; flags dynamic,timeout; timeout ${p.affinitySeconds}s;`)
      rules.push(`ip saddr @${set} goto ${epChain}`)
      targets.push(`${i} : goto ${epChain}`)
      rs.chains.set(epChain, [`update @${set} { ip saddr }`, `meta l4proto ${proto(p.protocol)} dnat ip to ${e.ip}:${e.port}`])
    })
    rules.push(`numgen random mod ${ordered.length} vmap { ${targets.join(', ')} }`)
    return rules
  }
  const base = slots.base(chain, slotRangeSize(ordered.length))
  rs.slotKeys.push(chain)
  ordered.forEach((e, i) => endpointMap.set(String(base + i), `${e.ip} . ${e.port}`))
  // One rule: the slot into the mark (it replaces the mark; the masquerade bit comes after), then the shared DNAT.
  return [`meta mark set numgen random mod ${ordered.length} offset ${base} goto ${internal ? 'endpoint-dnat' : 'endpoint-dnat-keep-source'}`]
}

// Sorting keys computed once per item, not once per comparison.
function sorted(ports: readonly ProxyServicePort[]): ProxyServicePort[] {
  return ports.map(p => ({ key: servicePortKey(p), p })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(x => x.p)
}

function byAddress(endpoints: readonly ProxyEndpoint[]): ProxyEndpoint[] {
  return endpoints.map(e => ({ key: ipNumber(e.ip) * 65536 + e.port, e })).sort((a, b) => a.key - b.key).map(x => x.e)
}

/** a.b.c.d as a number, by hand: this runs for every endpoint of every sync. */
function ipNumber(ip: string): number {
  let n = 0
  let octet = 0
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i)
    if (c === 46) {
      n = n * 256 + octet
      octet = 0
    } else octet = octet * 10 + (c - 48)
  }
  return n * 256 + octet
}
