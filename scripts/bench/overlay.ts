// Benchmark of the overlay backends, side by side in one run: for each of
// `vxlan` (our TypeScript encapsulator), `vxlan-kernel` (Linux's vxlan
// device) and `host-gw` (no encapsulation), bring up a 2-node cluster with one
// pod per node, then measure between the pods:
//   - TCP throughput with iperf3 (-J), 1 stream and 4 streams, each `--time` s;
//   - ping RTT: `--pings` echoes at 10 ms intervals, average, median and p99.
// Ratios are to vxlan-kernel. The machine's other load shows in the figures:
// run it two or three times and report the range.
//
//   npx tsx scripts/bench/overlay.ts [--time 10] [--pings 200] [--backends vxlan,vxlan-no-keep-warm,vxlan-kernel,host-gw]
//
// `vxlan-no-keep-warm` is our encapsulator with its keep-warm rounds off
// (KUBEWIRE_VXLAN_KEEP_WARM=0, datapath-worker.ts): the RTT without the CPU
// it spends to keep caches warm, so the trade stays visible.
//
// Each cluster gets its own name and a temporary KUBEWIRE_HOME and is taken
// down afterwards, also on failure.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ClusterNames } from '../../dataplane/names.ts'
import { defaultRunDir, readVxlanStats } from '../../dataplane/overlay/vxlan.ts'

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '10' },
    pings: { type: 'string', default: '200' },
    backends: { type: 'string', default: 'vxlan,vxlan-no-keep-warm,vxlan-kernel,host-gw' },
  },
})
const seconds = Number(values.time)
const pings = Number(values.pings)
const backends = values.backends.split(',').filter(Boolean)
const CLI = fileURLToPath(new URL('../../bin/kubewire.js', import.meta.url))
const home = mkdtempSync(join(tmpdir(), 'kw-bench-overlay-'))

interface Result {
  backend: string
  tcp1: number // Gbit/s
  tcp4: number
  retransmits1: number
  retransmits4: number
  rttAvg: number // ms
  rttP50: number
  rttP99: number
  note?: string
}

function run(file: string, args: readonly string[], timeoutMs = 120_000, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, KUBEWIRE_HOME: home, ...env }, maxBuffer: 64 << 20, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`))
      else resolve(stdout)
    })
  })
}

const kubewire = (args: readonly string[], env: Record<string, string> = {}) => run(process.execPath, [CLI, ...args], 120_000, env)

/** The pod's address, once its sandbox has one (pods start asynchronously). */
async function podIP(netns: string): Promise<string> {
  return retry(async () => {
    const out = await run('ip', ['netns', 'exec', netns, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])
    const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1]
    if (!ip) throw new Error(`no address in ${netns} yet`)
    return ip
  })
}

async function retry<T>(fn: () => Promise<T>, attempts = 100): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (e) {
      if (i >= attempts) throw e
      await new Promise(r => setTimeout(r, 100))
    }
  }
}

async function iperf(clientNetns: string, server: string, streams: number, time = seconds): Promise<{ gbps: number; retransmits: number }> {
  const out = await run('ip', ['netns', 'exec', clientNetns, 'iperf3', '-c', server, '-t', String(time), '-P', String(streams), '-J'], (time + 30) * 1000)
  const report = JSON.parse(out) as { end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits?: number } } }
  return { gbps: report.end.sum_received.bits_per_second / 1e9, retransmits: report.end.sum_sent.retransmits ?? 0 }
}

async function ping(clientNetns: string, server: string): Promise<{ avg: number; p50: number; p99: number }> {
  const out = await run('ip', ['netns', 'exec', clientNetns, 'ping', '-n', '-c', String(pings), '-i', '0.01', '-W', '1', server], 60_000)
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map(m => Number(m[1])).sort((a, b) => a - b)
  if (rtts.length === 0) throw new Error(`no ping replies:\n${out}`)
  const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length
  const at = (q: number) => rtts[Math.min(rtts.length - 1, Math.ceil(rtts.length * q) - 1)]!
  return { avg, p50: at(0.5), p99: at(0.99) }
}

async function measure(backend: string): Promise<Result> {
  const cluster = `bo${Math.random().toString(36).slice(2, 7).replace(/[^a-z0-9]/g, 'x')}`
  const names = new ClusterNames(cluster)
  try {
    const noKeepWarm = backend === 'vxlan-no-keep-warm'
    await kubewire(['up', '--name', cluster, '--nodes', '2', '--backend', noKeepWarm ? 'vxlan' : backend], noKeepWarm ? { KUBEWIRE_VXLAN_KEEP_WARM: '0' } : {})
    await kubewire(['run', 'srv', '--name', cluster, '--node', 'node-1', '--', 'iperf3', '-s'])
    await kubewire(['run', 'cli', '--name', cluster, '--node', 'node-2'])
    const ip = await podIP(names.podNetns('default', 'srv'))
    const client = names.podNetns('default', 'cli')
    await podIP(client)
    // Warm up: the path (ARP, routes), the server's listening socket, the encapsulator's JIT.
    await retry(() => run('ip', ['netns', 'exec', client, 'ping', '-n', '-c', '1', '-W', '1', ip]))
    await retry(() => iperf(client, ip, 1, 1))
    const t1 = await iperf(client, ip, 1)
    const t4 = await iperf(client, ip, 4)
    const rtt = await ping(client, ip)
    const result: Result = { backend, tcp1: t1.gbps, tcp4: t4.gbps, retransmits1: t1.retransmits, retransmits4: t4.retransmits, rttAvg: rtt.avg, rttP50: rtt.p50, rttP99: rtt.p99 }
    if (backend === 'vxlan') {
      const s = await readVxlanStats(defaultRunDir(cluster), 'node-1')
      const drops = Object.entries({ ...s.drops.tx, ...s.drops.rx }).filter(([, v]) => v > 0)
      result.note = `node-1 encapsulator: ${(s.tx.datagrams / Math.max(1, s.tx.sends)).toFixed(1)} datagrams per send, ` +
        `${(s.rx.frames / Math.max(1, s.rx.tapWrites)).toFixed(1)} frames per TAP write, drops ${drops.length ? drops.map(([k, v]) => `${k}=${v}`).join(' ') : 'none'}`
    }
    return result
  } finally {
    await kubewire(['down', '--name', cluster]).catch(e => console.error(`down ${cluster}: ${(e as Error).message}`))
  }
}

const results: Result[] = []
try {
  for (const backend of backends) {
    process.stderr.write(`measuring ${backend} ...\n`)
    results.push(await measure(backend))
  }
} finally {
  rmSync(home, { recursive: true, force: true })
}

const ref = results.find(r => r.backend === 'vxlan-kernel')
const ratio = (v: number, r: number | undefined) => (r ? `${(v / r).toFixed(2)}x` : '-')
const rows = [
  ['backend', 'TCP 1 stream', 'ratio', 'TCP 4 streams', 'ratio', 'RTT avg', 'ratio', 'RTT p50', 'ratio', 'RTT p99', 'ratio', 'retransmits 1/4'],
  ...results.map(r => [
    r.backend,
    `${r.tcp1.toFixed(2)} Gbit/s`, ratio(r.tcp1, ref?.tcp1),
    `${r.tcp4.toFixed(2)} Gbit/s`, ratio(r.tcp4, ref?.tcp4),
    `${(r.rttAvg * 1000).toFixed(0)} us`, ratio(r.rttAvg, ref?.rttAvg),
    `${(r.rttP50 * 1000).toFixed(0)} us`, ratio(r.rttP50, ref?.rttP50),
    `${(r.rttP99 * 1000).toFixed(0)} us`, ratio(r.rttP99, ref?.rttP99),
    `${r.retransmits1}/${r.retransmits4}`,
  ]),
]
const widths = rows[0]!.map((_, i) => Math.max(...rows.map(row => row[i]!.length)))
console.log(`iperf3 ${seconds} s per test, ${pings} pings at 10 ms; ratios to vxlan-kernel (throughput: higher is better, RTT: lower is better)`)
for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '))
for (const r of results) if (r.note) console.log(`${r.backend}: ${r.note}`)
