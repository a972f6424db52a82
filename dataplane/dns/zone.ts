// The cluster DNS zone as records: pure functions from slim structs (never
// Kubernetes API objects) to the resource records the Kubernetes DNS-based
// service discovery specification (kubernetes/dns docs/specification.md,
// schema 1.1.0) requires.
//
// Why a separate, pure layer: what the records are is a question of the
// specification, how they reach the wire fast is another (answer-table.ts
// pre-encodes these records; wire.ts serves them). Here a table test can
// check every record kind without a socket.
//
// Records per source: each Service is one source (all names below
// `<svc>.<ns>.svc.<zone>` plus its PTRs), each namespace one (the empty
// non-terminals `<ns>.svc.<zone>` and `<ns>.pod.<zone>`), each pod one, and
// the zone itself one (SOA, NS, dns-version). A change to one Service
// rebuilds only that source's names.
//
// Choices on the specification's open points:
// - an endpoint without a hostname gets the hostname `a-b-c-d` (its IPv4
//   address with dashes, as CoreDNS does); it is used in SRV targets, and that
//   name gets its A record too, so every SRV target resolves;
// - PTR for every published endpoint of a headless Service (the spec's
//   _hostname_ includes the system-assigned one), for the ClusterIP of the
//   others;
// - SRV: priority 0, weight 100 split evenly (at least 1); the additional
//   section carries the targets' A records (the spec allows it);
// - only IPv4 (the cluster is IPv4-only): IPv6 endpoint addresses are skipped;
// - endpoints with `ready: false` are not published (publishNotReadyAddresses
//   is decided upstream: whoever builds the struct marks those ready);
// - a headless Service without published endpoints has no records: its name
//   is NXDOMAIN, as the specification says.

export const DNS_SCHEMA_VERSION = '1.1.0'
export const DEFAULT_DOMAIN = 'cluster.local'
export const DEFAULT_TTL = 5

export interface DnsServicePort {
  /** Empty or absent for an unnamed port (no SRV record). */
  name?: string
  port: number
  /** TCP, UDP or SCTP (any case; default TCP). */
  protocol?: string
}

export interface DnsEndpoint {
  ip: string
  hostname?: string
  /** false: not published (default true). */
  ready?: boolean
}

export interface DnsService {
  namespace: string
  name: string
  /** The ClusterIP, 'None' for a headless Service, '' or absent when there is none. */
  clusterIP?: string
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'
  externalName?: string
  ports?: DnsServicePort[]
  /** The addresses to publish (headless Services only). */
  endpoints?: DnsEndpoint[]
}

export interface DnsPod {
  namespace: string
  ip: string
}

export interface ZoneSpec {
  /** The cluster domain (default cluster.local). */
  domain?: string
  services: DnsService[]
  pods?: DnsPod[]
  /** Namespaces that exist even without a Service or pod in them. */
  namespaces?: string[]
  /** TTL of every record and of negative answers (default 5 s). */
  ttl?: number
  /**
   * 'insecure' (default, CoreDNS's `pods insecure`, what the specification's
   * section 2.6 asks): `a-b-c-d.<ns>.pod.<zone>` answers for any well-formed
   * address in a namespace that exists; 'verified': only for pods listed.
   */
  podRecords?: 'insecure' | 'verified'
  /** The DNS Service's address: the A record of `ns.dns.<zone>`, the zone's NS. */
  nameserverIP?: string
}

export type DnsRecord =
  | { name: string; type: 'A'; address: string }
  | { name: string; type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { name: string; type: 'PTR'; target: string }
  | { name: string; type: 'CNAME'; target: string }
  | { name: string; type: 'TXT'; text: string }
  | { name: string; type: 'NS'; target: string }
  | {
    name: string; type: 'SOA'; mname: string; rname: string; serial: number
    refresh: number; retry: number; expire: number; minimum: number
  }

export type SoaRecord = Extract<DnsRecord, { type: 'SOA' }>

/** What one source contributes: its records, and names that exist without records. */
export interface SourceRecords {
  records: DnsRecord[]
  /** Empty non-terminals this source makes exist (their ancestors exist anyway). */
  names: string[]
}

/** Lowercase, no trailing dot. */
export function normalizeName(name: string): string {
  const n = name.toLowerCase()
  return n.endsWith('.') ? n.slice(0, -1) : n
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/

/** A name we can serve: labels of 1..63 letters, digits, '-' or '_', at most 253 characters. */
export function isValidName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false
  for (const label of name.split('.')) if (!LABEL.test(label)) return false
  return true
}

/** The well-formed dotted IPv4 address (no leading zeros) as four numbers, or undefined. */
export function parseIpv4(ip: string): [number, number, number, number] | undefined {
  const out: [number, number, number, number] = [0, 0, 0, 0]
  let part = 0
  let value = 0
  let digits = 0
  for (let i = 0; i <= ip.length; i++) {
    const ch = i < ip.length ? ip.charCodeAt(i) : 46
    if (ch === 46) {
      if (digits === 0 || part > 3) return undefined
      out[part++] = value
      value = 0
      digits = 0
    } else if (ch >= 48 && ch <= 57) {
      if (digits > 0 && value === 0) return undefined
      value = value * 10 + ch - 48
      if (++digits > 3 || value > 255) return undefined
    } else {
      return undefined
    }
  }
  return part === 4 ? out : undefined
}

/** `d.c.b.a.in-addr.arpa` for `a.b.c.d`. */
export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`
}

/** An endpoint's _hostname_: its own, or the system-assigned `a-b-c-d` (its address with dashes). */
export function endpointHostname(ep: DnsEndpoint): string {
  const own = ep.hostname?.toLowerCase()
  if (own && LABEL.test(own)) return own
  return ep.ip.replaceAll('.', '-')
}

export function serviceName(namespace: string, name: string, domain: string): string {
  return `${name}.${namespace}.svc.${domain}`.toLowerCase()
}

function srvWeight(count: number): number {
  return Math.max(1, Math.floor(100 / count))
}

function namedPorts(svc: DnsService): { label: string; port: number }[] {
  const out: { label: string; port: number }[] = []
  for (const p of svc.ports ?? []) {
    if (!p.name || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) continue
    out.push({ label: `_${p.name.toLowerCase()}._${(p.protocol ?? 'TCP').toLowerCase()}`, port: p.port })
  }
  return out
}

/** Every record of one Service (none when its names would be invalid). */
export function serviceRecords(svc: DnsService, domain = DEFAULT_DOMAIN): DnsRecord[] {
  const zone = normalizeName(domain)
  const fqdn = serviceName(svc.namespace, svc.name, zone)
  if (!isValidName(fqdn)) return []
  const records: DnsRecord[] = []
  const ports = namedPorts(svc).filter(p => isValidName(`${p.label}.${fqdn}`))

  if (svc.type === 'ExternalName') {
    const target = normalizeName(svc.externalName ?? '')
    if (isValidName(target)) records.push({ name: fqdn, type: 'CNAME', target })
    return records
  }
  const clusterIP = svc.clusterIP ?? ''
  if (clusterIP !== 'None') {
    if (!parseIpv4(clusterIP)) return records
    records.push({ name: fqdn, type: 'A', address: clusterIP })
    for (const p of ports) {
      records.push({ name: `${p.label}.${fqdn}`, type: 'SRV', priority: 0, weight: 100, port: p.port, target: fqdn })
    }
    records.push({ name: reverseName(clusterIP), type: 'PTR', target: fqdn })
    return records
  }

  // Headless: one entry per published address, in the order given.
  const seen = new Set<string>()
  const published: { ip: string; host: string }[] = []
  for (const ep of svc.endpoints ?? []) {
    if (ep.ready === false || !parseIpv4(ep.ip)) continue
    const host = endpointHostname(ep)
    const key = `${host} ${ep.ip}`
    if (seen.has(key) || !isValidName(`${host}.${fqdn}`)) continue
    seen.add(key)
    published.push({ ip: ep.ip, host })
  }
  const serviceIps = new Set<string>()
  for (const ep of published) {
    if (serviceIps.has(ep.ip)) continue
    serviceIps.add(ep.ip)
    records.push({ name: fqdn, type: 'A', address: ep.ip })
  }
  for (const ep of published) records.push({ name: `${ep.host}.${fqdn}`, type: 'A', address: ep.ip })
  for (const p of ports) {
    for (const ep of published) {
      records.push({
        name: `${p.label}.${fqdn}`, type: 'SRV', priority: 0, weight: srvWeight(published.length), port: p.port,
        target: `${ep.host}.${fqdn}`,
      })
    }
  }
  for (const ep of published) records.push({ name: reverseName(ep.ip), type: 'PTR', target: `${ep.host}.${fqdn}` })
  return records
}

/** The known pod's A record `a-b-c-d.<ns>.pod.<zone>`. */
export function podRecords(pod: DnsPod, domain = DEFAULT_DOMAIN): DnsRecord[] {
  if (!parseIpv4(pod.ip)) return []
  const name = `${pod.ip.replaceAll('.', '-')}.${pod.namespace}.pod.${normalizeName(domain)}`.toLowerCase()
  return isValidName(name) ? [{ name, type: 'A', address: pod.ip }] : []
}

/** The names a namespace makes exist: `<ns>.svc.<zone>` and `<ns>.pod.<zone>`. */
export function namespaceNames(namespace: string, domain = DEFAULT_DOMAIN): string[] {
  const zone = normalizeName(domain)
  const ns = namespace.toLowerCase()
  return [`${ns}.svc.${zone}`, `${ns}.pod.${zone}`].filter(isValidName)
}

/** The SOA every negative answer for `zone` carries in its authority section. */
export function soaRecord(zone: string, serial: number, ttl = DEFAULT_TTL, domain = DEFAULT_DOMAIN): SoaRecord {
  return {
    name: zone, type: 'SOA', mname: `ns.dns.${domain}`, rname: `hostmaster.${domain}`, serial,
    refresh: 7200, retry: 1800, expire: 86400, minimum: ttl,
  }
}

export interface ApexOptions {
  domain?: string
  ttl?: number
  serial?: number
  nameserverIP?: string
}

/** The zone's own records: SOA and NS at the apex, dns-version, the svc and pod subtrees. */
export function apexRecords(options: ApexOptions = {}): SourceRecords {
  const zone = normalizeName(options.domain ?? DEFAULT_DOMAIN)
  const records: DnsRecord[] = [
    soaRecord(zone, options.serial ?? 1, options.ttl, zone),
    { name: zone, type: 'NS', target: `ns.dns.${zone}` },
    { name: `dns-version.${zone}`, type: 'TXT', text: DNS_SCHEMA_VERSION },
  ]
  if (options.nameserverIP && parseIpv4(options.nameserverIP)) {
    records.push({ name: `ns.dns.${zone}`, type: 'A', address: options.nameserverIP })
  }
  return { records, names: [`svc.${zone}`, `pod.${zone}`] }
}

/** Every namespace that exists: listed, or holding a Service or a pod. */
export function zoneNamespaces(spec: ZoneSpec): string[] {
  const out = new Set<string>()
  for (const ns of spec.namespaces ?? []) out.add(ns.toLowerCase())
  for (const s of spec.services) out.add(s.namespace.toLowerCase())
  for (const p of spec.pods ?? []) out.add(p.namespace.toLowerCase())
  return [...out]
}

/** The whole zone as one record list (for tests and tools; the server builds per source). */
export function zoneRecords(spec: ZoneSpec): SourceRecords {
  const domain = spec.domain ?? DEFAULT_DOMAIN
  const apex = apexRecords({ domain, ttl: spec.ttl, nameserverIP: spec.nameserverIP })
  const records = [...apex.records]
  const names = [...apex.names]
  for (const ns of zoneNamespaces(spec)) names.push(...namespaceNames(ns, domain))
  for (const svc of spec.services) records.push(...serviceRecords(svc, domain))
  for (const pod of spec.pods ?? []) records.push(...podRecords(pod, domain))
  return { records, names }
}
