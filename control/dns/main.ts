// The entry point of the built-in image `kubewire/dns` (dataplane/runtimes/images.ts
// runs it as `node --import <tsx> control/dns/main.ts ARGS`): the cluster DNS
// in its pod, as CoreDNS runs in kube-system. It reads the API with the pod's
// in-cluster credentials (KUBERNETES_SERVICE_HOST/PORT, the service-account
// token and ca.crt), list + watch only, and answers on 0.0.0.0:53.
//
// Flags:
//   --domain=cluster.local        the cluster domain
//   --nameserver-ip=IP            the DNS Service's address (ns.dns.<domain>)
//   --upstream=IP[:PORT]          forward names outside the domain there (repeatable or
//                                 comma-separated); none (the default): REFUSED, nothing
//                                 leaves the cluster
//   --allowed-sources=CIDR,...    clients the upstreams may be used for (pod and node ranges)
//   --address=0.0.0.0 --port=53   where DNS listens (UDP and TCP)
//   --ttl=5 --pods=insecure|verified
//   --ready-port=8181 --health-port=8080 --metrics-port=9153   (0: a free port)
//   --udp-threads=N               recvmmsg threads (0: Node's dgram)
//   --apiserver-host=URL --service-account-dir=DIR             (tests; default in-cluster)
import { parseArgs } from 'node:util'
import { HttpClient } from '../client/http-client.ts'
import { startDnsApp } from './dns-app.ts'
import { inClusterConnection } from './in-cluster.ts'

const args = process.argv.slice(2)
process.title = ['kubewire-dns', ...args].join(' ')
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`)

const { values } = parseArgs({
  args,
  strict: true,
  options: {
    domain: { type: 'string', default: 'cluster.local' },
    'nameserver-ip': { type: 'string' },
    upstream: { type: 'string', multiple: true, default: [] },
    'allowed-sources': { type: 'string', multiple: true, default: [] },
    address: { type: 'string', default: '0.0.0.0' },
    port: { type: 'string', default: '53' },
    ttl: { type: 'string', default: '5' },
    pods: { type: 'string', default: 'insecure' },
    'ready-port': { type: 'string', default: '8181' },
    'health-port': { type: 'string', default: '8080' },
    'metrics-port': { type: 'string', default: '9153' },
    'udp-threads': { type: 'string' },
    'apiserver-host': { type: 'string' },
    'service-account-dir': { type: 'string' },
  },
})

const list = (v: string[] | undefined) => (v ?? []).flatMap(s => s.split(',')).map(s => s.trim()).filter(Boolean)
function int(name: string, text: string | undefined): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: not a whole number: ${text}`)
  return n
}
if (values.pods !== 'insecure' && values.pods !== 'verified') throw new Error(`--pods: insecure or verified, not ${values.pods}`)

const client = new HttpClient(inClusterConnection({
  ...(values['service-account-dir'] ? { dir: values['service-account-dir'] } : {}),
  ...(values['apiserver-host'] ? { server: values['apiserver-host'] } : {}),
}))
const app = await startDnsApp({
  client,
  domain: values.domain,
  ttl: int('ttl', values.ttl),
  podRecords: values.pods,
  ...(values['nameserver-ip'] ? { nameserverIP: values['nameserver-ip'] } : {}),
  address: values.address,
  port: int('port', values.port),
  upstreams: list(values.upstream),
  allowedSources: list(values['allowed-sources']),
  ...(values['udp-threads'] !== undefined ? { udpThreads: int('udp-threads', values['udp-threads']) } : {}),
  readyPort: int('ready-port', values['ready-port']),
  healthPort: int('health-port', values['health-port']),
  metricsPort: int('metrics-port', values['metrics-port']),
  log,
})
app.serving.catch((e: unknown) => {
  log(`cannot serve: ${(e as Error).message}`)
  process.exit(1)
})

let stopping = false
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    log(`${signal}: stopping`)
    void app.close().finally(() => {
      client.close()
      process.exit(0)
    })
  })
}
