// A pod's resolver configuration and hosts file, as the kubelet makes them
// (pkg/kubelet/network/dns and kubelet_pods.go's managed hosts file):
// - /etc/resolv.conf by dnsPolicy: ClusterFirst (the default, and
//   ClusterFirstWithHostNet: pods here never use the host network) gives the
//   cluster DNS Service as the nameserver, the search path
//   `<ns>.svc.<domain> svc.<domain> <domain>` followed by the host's own
//   search domains, and `options ndots:5`; Default gives the host's
//   /etc/resolv.conf (kubelet's --resolv-conf) as it is; None gives nothing
//   but dnsConfig. Then dnsConfig is merged: nameservers and searches
//   appended without duplicates, options by name (a dnsConfig option replaces
//   the one of the same name). Limits as the kubelet applies them: at most 3
//   nameservers, 32 search domains and 2048 characters of search line;
// - the hostname is spec.hostname, else the pod name (cut to 63 characters,
//   no trailing '-' or '.'); with spec.subdomain the pod's FQDN is
//   `<hostname>.<subdomain>.<ns>.svc.<domain>` (setHostnameAsFQDN makes that
//   the kernel hostname too);
// - /etc/hosts is the kubelet's managed file: localhost lines, the pod IP
//   with the FQDN and hostname, then spec.hostAliases.
// The files are written in the pod's directory (removed with it) and each
// container gets them as read-only bind mounts over /etc/resolv.conf and
// /etc/hosts, set up by its init like the service-account directory —
// unless the container mounts a volume of its own at that path.
// File contents are written as containerd writes resolv.conf: search,
// nameserver lines, options.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Mount } from '../../dataplane/process/container.ts'
import { ensureMountpoint } from '../../dataplane/process/mountpoints.ts'
import { CLUSTER_DOMAIN, clusterDnsIp } from '../cluster/addons.ts'
import { loadState } from '../cluster/cluster-state.ts'
import type { ContainerSpec, Pod } from './pod-spec.ts'

export const RESOLV_CONF_PATH = '/etc/resolv.conf'
export const HOSTS_PATH = '/etc/hosts'
export const MAX_NAMESERVERS = 3
export const MAX_SEARCH_DOMAINS = 32
export const MAX_SEARCH_LINE_CHARS = 2048
const DEFAULT_OPTIONS = ['ndots:5']
const MAX_HOSTNAME = 63

export interface ResolvConf {
  nameservers: string[]
  searches: string[]
  /** `name` or `name:value`. */
  options: string[]
}

export interface PodDnsConfig {
  nameservers?: string[]
  searches?: string[]
  options?: { name: string; value?: string }[]
}

/** What a node gives its pods' resolvers. */
export interface PodDnsSource {
  /** The cluster DNS Service's address(es) (kubelet's --cluster-dns). */
  clusterDns: string[]
  /** kubelet's --cluster-domain. */
  clusterDomain: string
  /** The host's resolver configuration (kubelet's --resolv-conf), for dnsPolicy Default and the host's searches. */
  host: ResolvConf
}

type DnsPodSpec = Pod['spec'] & {
  dnsConfig?: PodDnsConfig
  hostAliases?: { ip: string; hostnames?: string[] }[]
  setHostnameAsFQDN?: boolean
}

function omitDuplicates(values: readonly string[]): string[] {
  return [...new Set(values)]
}

/** A resolv.conf as the kubelet reads the host's: nameservers, the last search line (trailing dots dropped), options. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], searches: [], options: [] }
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.startsWith(';')) continue
    const fields = line.split(/\s+/).filter(Boolean)
    const [keyword, ...rest] = fields
    if (keyword === 'nameserver' && rest[0] !== undefined) conf.nameservers.push(rest[0])
    else if (keyword === 'search') conf.searches = rest.filter(s => s !== '.').map(s => s.replace(/\.$/, ''))
    else if (keyword === 'options') conf.options = mergeOptions(conf.options, rest.map(parseOption))
  }
  return conf
}

function parseOption(text: string): { name: string; value?: string } {
  const colon = text.indexOf(':')
  return colon === -1 ? { name: text } : { name: text.slice(0, colon), value: text.slice(colon + 1) }
}

/** Options merged by name: a later one replaces an earlier one of the same name, in first-seen order. */
export function mergeOptions(existing: readonly string[], added: readonly { name: string; value?: string }[]): string[] {
  const byName = new Map<string, string>()
  for (const o of [...existing.map(parseOption), ...added]) byName.set(o.name, o.value ?? '')
  return [...byName].map(([name, value]) => (value === '' ? name : `${name}:${value}`))
}

/** The search list cut to the resolver's limits (32 domains, 2048 characters), as the kubelet cuts it. */
function searchesWithinLimits(searches: readonly string[]): string[] {
  const out = searches.slice(0, MAX_SEARCH_DOMAINS)
  while (out.length > 0 && out.join(' ').length > MAX_SEARCH_LINE_CHARS) out.pop()
  return out
}

/** The pod's resolver configuration (kubelet's GetPodDNS). */
export function podResolvConf(pod: Pod, source: PodDnsSource): ResolvConf {
  const spec = pod.spec as DnsPodSpec
  const policy = spec.dnsPolicy ?? 'ClusterFirst'
  const domain = source.clusterDomain
  let conf: ResolvConf
  if (policy === 'None') {
    conf = { nameservers: [], searches: [], options: [] }
  } else if (policy === 'Default' || source.clusterDns.length === 0) {
    // ClusterFirst without a cluster DNS falls back to Default, as the kubelet does.
    conf = { nameservers: [...source.host.nameservers], searches: [...source.host.searches], options: [...source.host.options] }
  } else {
    const namespace = pod.metadata.namespace ?? 'default'
    const cluster = domain ? [`${namespace}.svc.${domain}`, `svc.${domain}`, domain] : []
    conf = { nameservers: [...source.clusterDns], searches: omitDuplicates([...cluster, ...source.host.searches]), options: [...DEFAULT_OPTIONS] }
  }
  const extra = spec.dnsConfig
  if (extra) {
    conf = {
      nameservers: omitDuplicates([...conf.nameservers, ...(extra.nameservers ?? [])]),
      searches: omitDuplicates([...conf.searches, ...(extra.searches ?? [])]),
      options: mergeOptions(conf.options, extra.options ?? []),
    }
  }
  return { nameservers: conf.nameservers.slice(0, MAX_NAMESERVERS), searches: searchesWithinLimits(conf.searches), options: conf.options }
}

/** The file's text: search, nameserver lines, options (each only when it has something). */
export function resolvConfContent(conf: ResolvConf): string {
  let out = ''
  if (conf.searches.length > 0) out += `search ${conf.searches.join(' ')}\n`
  for (const ns of conf.nameservers) out += `nameserver ${ns}\n`
  if (conf.options.length > 0) out += `options ${conf.options.join(' ')}\n`
  return out
}

/** The pod's hostname and, with a subdomain, its domain `<subdomain>.<ns>.svc.<domain>` (kubelet's GeneratePodHostNameAndDomain). */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string = CLUSTER_DOMAIN): { hostname: string; domain?: string } {
  let hostname = pod.spec.hostname || (pod.metadata.name ?? '')
  if (hostname.length > MAX_HOSTNAME) hostname = hostname.slice(0, MAX_HOSTNAME).replace(/[-.]+$/, '')
  const subdomain = pod.spec.subdomain
  if (!subdomain) return { hostname }
  return { hostname, domain: `${subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}` }
}

/** The container's kernel hostname: the pod's hostname, or its FQDN with setHostnameAsFQDN. */
export function podUtsHostname(pod: Pod, clusterDomain: string = CLUSTER_DOMAIN): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain)
  return (pod.spec as DnsPodSpec).setHostnameAsFQDN && domain ? `${hostname}.${domain}` : hostname
}

/** The kubelet's managed /etc/hosts for a pod with these addresses. */
export function hostsFileContent(pod: Pod, podIPs: readonly string[], clusterDomain: string = CLUSTER_DOMAIN): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain)
  let out = '# Kubernetes-managed hosts file.\n'
  out += '127.0.0.1\tlocalhost\n'
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n'
  out += 'fe00::0\tip6-localnet\n'
  out += 'fe00::0\tip6-mcastprefix\n'
  out += 'fe00::1\tip6-allnodes\n'
  out += 'fe00::2\tip6-allrouters\n'
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`
  const aliases = (pod.spec as DnsPodSpec).hostAliases ?? []
  if (aliases.length > 0) {
    out += '\n# Entries added by HostAliases.\n'
    for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`
  }
  return out
}

function mountsOwnFile(container: ContainerSpec, path: string): boolean {
  return (container.volumeMounts ?? []).some(m => m.mountPath === path)
}

export interface PodDnsFiles {
  /** The container's read-only mounts of the pod's resolv.conf and hosts (those it does not mount itself). */
  mounts(container: ContainerSpec, ledger: string): Mount[]
}

/** Writes the pod's resolv.conf and hosts under its pod directory and returns how containers mount them. */
export function podDnsFiles(pod: Pod, podDir: string, podIP: string, source: PodDnsSource): PodDnsFiles {
  const dir = join(podDir, 'etc')
  mkdirSync(dir, { recursive: true })
  const files: [string, string][] = [
    [RESOLV_CONF_PATH, resolvConfContent(podResolvConf(pod, source))],
    [HOSTS_PATH, hostsFileContent(pod, podIP ? [podIP] : [], source.clusterDomain)],
  ]
  const mounts: Mount[] = []
  for (const [target, content] of files) {
    const file = join(dir, target.split('/').pop() as string)
    writeFileSync(file, content, { mode: 0o644 })
    mounts.push({ source: file, target, readOnly: true })
  }
  return {
    mounts(container, ledger) {
      const wanted = mounts.filter(m => !mountsOwnFile(container, m.target))
      for (const m of wanted) ensureMountpoint(m.target, true, ledger)
      return wanted
    },
  }
}

const clusterDnsOf = new Map<string, string[]>()

/** The node's source for its pods: the cluster's DNS address (read once) and the host's resolv.conf (read for each pod, as the kubelet does). */
export function loadPodDnsSource(cluster: string, hostResolvConf = RESOLV_CONF_PATH): PodDnsSource {
  let clusterDns = clusterDnsOf.get(cluster)
  if (clusterDns === undefined) {
    clusterDns = [clusterDnsIp(loadState(cluster).addressing.serviceCidr)]
    clusterDnsOf.set(cluster, clusterDns)
  }
  let text = ''
  try {
    text = readFileSync(hostResolvConf, 'utf8')
  } catch {
    // no host resolver: Default gives an empty file
  }
  return { clusterDns, clusterDomain: CLUSTER_DOMAIN, host: parseResolvConf(text) }
}
