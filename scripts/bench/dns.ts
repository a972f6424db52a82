// Cluster DNS benchmark: our responder (dataplane/dns) against dnsmasq, the
// same names served by both on 127.0.0.1, the same dnsperf runs against each.
//
//   npx tsx scripts/bench/dns.ts [--services 1000] [--duration 10] [--clients 4] [--rounds 3]
//       [--latency-qps 5000] [--zone 10000] [--samples 200] [--udp-threads 1]
//
// 1. throughput: `dnsperf -l duration -c clients` against each server, the
//    rounds interleaved (ours, dnsmasq, ours, ...) so that a busy neighbour on
//    the machine hurts both alike; the medians and their ratio;
// 2. latency: dnsperf -v at a fixed rate (--latency-qps) against each, p50/p99
//    of the per-query latencies it reports (dnsperf itself gives only the mean);
// 3. DNS programming latency: a zone of --zone Services; --samples times,
//    change one Service's IP (setZone with the whole zone, and updateService)
//    and poll with a small UDP client until the new address is answered.
//
// Needs dnsperf and dnsmasq (scripts/setup.sh installs both). dnsmasq runs in
// the foreground on 127.0.0.1 and a free high port with only a hosts file (no
// upstream, no system service) and is stopped at the end, as is our server.

import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DnsServer } from '../../dataplane/dns/server.ts'
import type { DnsService } from '../../dataplane/dns/zone.ts'

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '10' },
    clients: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    'latency-qps': { type: 'string', default: '5000' },
    zone: { type: 'string', default: '10000' },
    samples: { type: 'string', default: '200' },
    'udp-threads': { type: 'string', default: '1' },
  },
})
const serviceCount = Number(values.services)
const duration = Number(values.duration)
const clients = Number(values.clients)
const rounds = Number(values.rounds)
const latencyQps = Number(values['latency-qps'])
const zoneSize = Number(values.zone)
const samples = Number(values.samples)
const udpThreads = Number(values['udp-threads'])

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}
const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50)

const ipOf = (i: number, net = 96): string => `10.${net}.${(i >> 8) & 255}.${i & 255}`
const services = (n: number): DnsService[] =>
  Array.from({ length: n }, (_, i) => ({ namespace: 'default', name: `svc-${i}`, clusterIP: ipOf(i), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }))

/** A port free for both UDP and TCP on 127.0.0.1 (for dnsmasq). */
async function freePort(): Promise<number> {
  for (;;) {
    const tcp = net.createServer()
    await new Promise<void>(resolve => tcp.listen(0, '127.0.0.1', resolve))
    const port = (tcp.address() as net.AddressInfo).port
    const udp = dgram.createSocket('udp4')
    const ok = await new Promise<boolean>(resolve => {
      udp.once('error', () => resolve(false))
      udp.bind(port, '127.0.0.1', () => resolve(true))
    })
    udp.close()
    await new Promise(resolve => tcp.close(resolve))
    if (ok) return port
  }
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { out += d })
    child.on('error', reject)
    child.on('close', code => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out.slice(-2000)}`))))
  })
}

interface PerfResult { qps: number; avgMs: number; lost: number }

async function dnsperf(port: number, queryFile: string, seconds: number): Promise<PerfResult> {
  const out = await run('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-c', String(clients)])
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN)
  return { qps: num(/Queries per second:\s+([\d.]+)/), avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000, lost: num(/Queries lost:\s+(\d+)/) }
}

/** p50/p99 (ms) of dnsperf's per-query latencies at a fixed rate. */
async function latency(port: number, queryFile: string): Promise<{ p50: number; p99: number; n: number }> {
  const out = await run('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', '5', '-c', String(clients), '-Q', String(latencyQps), '-v'])
  const ms = [...out.matchAll(/^> NOERROR \S+ A ([\d.]+)$/gm)].map(m => Number(m[1]) * 1000).sort((a, b) => a - b)
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), n: ms.length }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
  await exited
  clearTimeout(timer)
}

/** One A query for `name`, the first address answered (or undefined on timeout). */
function makePoller(port: number): { ask: (name: string) => Promise<string | undefined>; close: () => void } {
  const socket = dgram.createSocket('udp4')
  let id = 0
  let waiting: { id: number; resolve: (ip: string | undefined) => void } | undefined
  socket.on('message', msg => {
    if (!waiting || msg.readUInt16BE(0) !== waiting.id) return
    const w = waiting
    waiting = undefined
    // The answer's A rdata is the last 4 bytes when there is one answer and no OPT.
    w.resolve(msg.readUInt16BE(6) > 0 ? Array.from(msg.subarray(msg.length - 4)).join('.') : undefined)
  })
  const ask = (name: string): Promise<string | undefined> => new Promise(resolve => {
    id = (id + 1) & 0xffff
    const labels = name.split('.').flatMap(l => [Buffer.from([l.length]), Buffer.from(l)])
    const q = Buffer.concat([Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])])
    const timer = setTimeout(() => { waiting = undefined; resolve(undefined) }, 50)
    waiting = { id, resolve: ip => { clearTimeout(timer); resolve(ip) } }
    socket.send(q, port, '127.0.0.1')
  })
  return { ask, close: () => socket.close() }
}

async function programming(server: DnsServer, mode: 'setZone' | 'updateService'): Promise<number[]> {
  const zone = services(zoneSize)
  await server.setZone({ services: zone })
  const poller = makePoller(server.port)
  const times: number[] = []
  try {
    for (let k = 0; k < samples; k++) {
      const i = (k * 7919) % zoneSize
      const name = `svc-${i}.default.svc.cluster.local`
      const ip = ipOf(k, mode === 'setZone' ? 97 : 98)
      zone[i] = { ...zone[i]!, clusterIP: ip }
      const t0 = performance.now()
      const applied = mode === 'setZone' ? server.setZone({ services: zone }) : server.updateService(zone[i]!)
      while ((await poller.ask(name)) !== ip) { /* poll until the new answer is served */ }
      times.push(performance.now() - t0)
      await applied
    }
  } finally {
    poller.close()
  }
  return times.sort((a, b) => a - b)
}

const dir = mkdtempSync(join(tmpdir(), 'kubewire-bench-dns-'))
chmodSync(dir, 0o755) // dnsmasq may read as its own user
let dnsmasq: ChildProcess | undefined
const server = new DnsServer({ address: '127.0.0.1', port: 0, udpThreads })
try {
  const names = services(serviceCount)
  const queryFile = join(dir, 'queries.txt')
  writeFileSync(queryFile, names.map(s => `${s.name}.${s.namespace}.svc.cluster.local A\n`).join(''))
  const hostsFile = join(dir, 'hosts')
  writeFileSync(hostsFile, names.map(s => `${s.clusterIP} ${s.name}.${s.namespace}.svc.cluster.local\n`).join(''), { mode: 0o644 })

  await server.start()
  await server.setZone({ services: names })
  const dnsmasqPort = await freePort()
  dnsmasq = spawn('dnsmasq', [
    '--no-daemon', '--no-resolv', '--no-hosts', `--addn-hosts=${hostsFile}`, `--port=${dnsmasqPort}`,
    '--listen-address=127.0.0.1', '--bind-interfaces', '-C', '/dev/null', '--log-facility=-',
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let dnsmasqLog = ''
  dnsmasq.stderr!.on('data', d => { dnsmasqLog += d })
  for (let i = 0; i < 50 && !dnsmasqLog.includes('names'); i++) await new Promise(resolve => setTimeout(resolve, 100))
  if (!dnsmasqLog.includes(`${serviceCount} names`)) throw new Error(`dnsmasq did not load the hosts file:\n${dnsmasqLog}`)

  console.log(`kubewire DNS benchmark: ${serviceCount} Services' A records, dnsperf -c ${clients} -l ${duration}, ${rounds} rounds, node ${process.version}, ${udpThreads} UDP thread(s)`)
  await dnsperf(server.port, queryFile, 2) // warm-up (JIT)
  await dnsperf(dnsmasqPort, queryFile, 1)
  const ours: PerfResult[] = []
  const theirs: PerfResult[] = []
  for (let r = 0; r < rounds; r++) {
    ours.push(await dnsperf(server.port, queryFile, duration))
    theirs.push(await dnsperf(dnsmasqPort, queryFile, duration))
    console.log(`  round ${r + 1}: kubewire ${ours[r]!.qps.toFixed(0)} qps, dnsmasq ${theirs[r]!.qps.toFixed(0)} qps, ratio ${(ours[r]!.qps / theirs[r]!.qps).toFixed(2)}`)
  }
  const ourLatency = await latency(server.port, queryFile)
  const theirLatency = await latency(dnsmasqPort, queryFile)
  const oq = median(ours.map(o => o.qps))
  const tq = median(theirs.map(o => o.qps))
  const row = (name: string, qps: number, runs: PerfResult[], l: { p50: number; p99: number }): string =>
    `${name.padEnd(10)} ${qps.toFixed(0).padStart(8)} qps   mean ${median(runs.map(x => x.avgMs)).toFixed(3)} ms under load   ` +
    `p50 ${l.p50.toFixed(3)} ms  p99 ${l.p99.toFixed(3)} ms at ${latencyQps} qps   lost ${runs.reduce((a, x) => a + x.lost, 0)}`
  console.log(row('kubewire', oq, ours, ourLatency))
  console.log(row('dnsmasq', tq, theirs, theirLatency))
  console.log(`ratio kubewire/dnsmasq: ${(oq / tq).toFixed(2)} (median of ${rounds} rounds)`)
  const c = server.counters
  console.log(`server counters: received ${c.received}, answered ${c.answered}, dropped ${c.dropped}, formerr ${c.formerr}`)

  const viaZone = await programming(server, 'setZone')
  const viaUpdate = await programming(server, 'updateService')
  const fmt = (xs: number[]): string => `p50 ${percentile(xs, 50).toFixed(2)} ms  p99 ${percentile(xs, 99).toFixed(2)} ms  max ${xs[xs.length - 1]!.toFixed(2)} ms`
  console.log(`programming latency, ${zoneSize} Services, ${samples} changes (change -> new answer served):`)
  console.log(`  setZone (whole zone, diffed)  ${fmt(viaZone)}`)
  console.log(`  updateService                 ${fmt(viaUpdate)}`)
} finally {
  if (dnsmasq) await stop(dnsmasq)
  await server.close()
  rmSync(dir, { recursive: true, force: true })
}
