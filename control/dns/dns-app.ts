// The cluster DNS as one program (what the `kubewire/dns` image runs,
// through main.ts): informers on the API feed the zone (zone-feed.ts), the
// responder (dataplane/dns) answers on UDP and TCP, and three small HTTP
// endpoints report on it the way CoreDNS's plugins do:
//   :8181/ready   200 once the first zone is served, 503 before (ready plugin)
//   :8080/health  200 while the process runs (health plugin)
//   :9153/metrics the responder's counters and the last programming latency,
//                 Prometheus text (prometheus plugin)
// Order: the health endpoint first, then the whole zone, then the DNS sockets,
// then ready — the server never answers from a zone it has not loaded.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DnsServer } from '../../dataplane/dns/server.ts'
import { RESOURCES, type ApiClient, type Informer } from '../client/api-client.ts'
import { createInformer } from '../client/informer.ts'
import type { EndpointSlice, Service } from '../controllers/service-objects.ts'
import { ZoneFeed, type ZoneSettings, type ZoneSync } from './zone-feed.ts'

export interface DnsAppOptions extends ZoneSettings {
  client: ApiClient
  /** DNS listen address and port (UDP and TCP; port 0: a free one). */
  address: string
  port: number
  /** Upstreams for names outside the zone; none: REFUSED. */
  upstreams: string[]
  /** Clients the upstreams may be used for. */
  allowedSources: string[]
  udpThreads?: number
  /** HTTP ports (0: a free one; undefined: off). */
  readyPort?: number
  healthPort?: number
  metricsPort?: number
  httpAddress?: string
  log: (line: string) => void
}

export interface DnsApp {
  dns: DnsServer
  feed: ZoneFeed
  /** Bound ports of the HTTP endpoints that are on. */
  http: { ready?: number; health?: number; metrics?: number }
  /** Resolves once the zone is loaded and the DNS sockets serve it (rejects if they cannot). */
  serving: Promise<void>
  close(): Promise<void>
}

/** Starts the HTTP endpoints, then (in the background, see `serving`) the zone and the DNS sockets. */
export async function startDnsApp(options: DnsAppOptions): Promise<DnsApp> {
  const { client, log } = options
  const settings: ZoneSettings = {
    ...(options.domain !== undefined ? { domain: options.domain } : {}),
    ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
    ...(options.podRecords !== undefined ? { podRecords: options.podRecords } : {}),
    ...(options.nameserverIP !== undefined ? { nameserverIP: options.nameserverIP } : {}),
  }
  const dns = new DnsServer({
    address: options.address,
    port: options.port,
    upstreams: options.upstreams,
    allowedSources: options.allowedSources,
    zone: settings,
    ...(options.udpThreads !== undefined ? { udpThreads: options.udpThreads } : {}),
  })
  const onError = (e: unknown) => log(`informer: ${(e as Error).message}`)
  const informers = {
    services: createInformer<Service>(client, RESOURCES.services, { onError }),
    slices: createInformer<EndpointSlice>(client, RESOURCES.endpointslices, { onError }),
    pods: createInformer(client, RESOURCES.pods, { onError }),
    namespaces: createInformer(client, RESOURCES.namespaces, { onError }),
  }
  const stopInformers = () => { for (const i of Object.values(informers) as Informer[]) i.stop() }
  let last: ZoneSync | undefined
  const feed = new ZoneFeed(informers, dns, settings, log, sync => (last = sync))
  let serving = false

  const servers: Server[] = []
  const http: DnsApp['http'] = {}
  const listen = async (port: number | undefined, name: keyof DnsApp['http'], handle: (path: string) => [number, string]) => {
    if (port === undefined) return
    const server = createServer((req, res) => {
      const [code, body] = handle((req.url ?? '/').split('?')[0] ?? '/')
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, options.httpAddress ?? '0.0.0.0', () => resolve())
    })
    servers.push(server)
    http[name] = (server.address() as AddressInfo).port
  }
  const close = async () => {
    stopInformers()
    await Promise.all(servers.map(s => new Promise(resolve => s.close(resolve))))
    await dns.close()
  }
  try {
    await listen(options.healthPort, 'health', path => (path === '/health' ? [200, 'OK'] : [404, 'not found\n']))
    await listen(options.readyPort, 'ready', path => {
      if (path !== '/ready') return [404, 'not found\n']
      return serving ? [200, 'OK'] : [503, 'the zone is not loaded yet\n']
    })
    await listen(options.metricsPort, 'metrics', path => (path === '/metrics' ? [200, metricsText(dns, serving, last)] : [404, 'not found\n']))
  } catch (e) {
    await close().catch(() => {})
    throw e
  }
  const started = (async () => {
    await feed.start()
    await dns.start()
    serving = true
    const upstreams = options.upstreams.length ? options.upstreams.join(', ') : 'none (outside names are REFUSED)'
    log(`serving ${options.domain ?? 'cluster.local'} on ${options.address}:${dns.port} (UDP and TCP); upstreams: ${upstreams}`)
  })()
  return { dns, feed, http, serving: started, close }
}

/** The counters as Prometheus text. */
export function metricsText(dns: DnsServer, ready: boolean, last: ZoneSync | undefined): string {
  const lines: string[] = []
  for (const [name, value] of Object.entries(dns.counters)) {
    lines.push(`# TYPE kubewire_dns_${name}_total counter`, `kubewire_dns_${name}_total ${value}`)
  }
  lines.push('# TYPE kubewire_dns_ready gauge', `kubewire_dns_ready ${ready ? 1 : 0}`)
  if (last) {
    lines.push(
      '# HELP kubewire_dns_programming_latency_seconds From the first API event of the last zone change until every thread served it.',
      '# TYPE kubewire_dns_programming_latency_seconds gauge',
      `kubewire_dns_programming_latency_seconds ${(last.latencyMs / 1000).toFixed(6)}`,
    )
  }
  return `${lines.join('\n')}\n`
}
