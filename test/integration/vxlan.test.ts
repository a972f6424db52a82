// The vxlan backend (our TypeScript encapsulator): pods on different nodes
// ping and curl each other through kwvx0, a persistent TAP, and the
// encapsulator process of each node; the MAC table sends unicast to one peer
// only; counters say what happened.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { defaultRunDir, readVxlanStats } from '../../dataplane/overlay/vxlan.ts'
import {
  curlFrom, HOSTNAME_SERVER, isolatedHome, kubewire, kubewireOk, leftoversSettled, pingFrom, removeHome, uniqueClusterName, waitFor,
} from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
const runDir = defaultRunDir(name)
t.teardown(async () => {
  await kubewire(['down'])
  removeHome(home)
})

function encapsulatorPids(): number[] {
  const out: number[] = []
  for (const entry of readdirProc()) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith(`kubewire-vxlan ${name} `)) out.push(entry)
    } catch {
      // gone
    }
  }
  return out
}

function readdirProc(): number[] {
  return readdirSync('/proc').map(Number).filter(n => Number.isInteger(n) && n > 0)
}

t.test('pods on three nodes talk through the TypeScript encapsulator', async t => {
  await kubewireOk(['up', '--nodes', '3', '--backend', 'vxlan', '--addons', 'none'])
  t.equal(encapsulatorPids().length, 3, 'one `kubewire-vxlan <cluster> <node>` process per node')

  const link = JSON.parse(await kubewireOk(['exec', 'node-1', '--', 'ip', '-d', '-j', 'link', 'show', 'kwvx0'])) as {
    mtu: number; address: string; flags: string[]; linkinfo: { info_kind: string; info_data: { type: string; vnet_hdr: boolean; persist: boolean } }
  }[]
  t.match(link[0], { mtu: 1450, linkinfo: { info_kind: 'tun', info_data: { type: 'tap', vnet_hdr: true, persist: true } } }, 'a persistent vnet_hdr TAP, MTU 1450')
  t.ok(link[0]!.flags.includes('LOWER_UP'), 'with carrier: the encapsulator holds it open')
  const routes = await kubewireOk(['exec', 'node-1', '--', 'ip', 'route'])
  t.match(routes, /10\.244\.2\.0\/24 via 10\.244\.2\.0 dev kwvx0 onlink/)
  t.match(routes, /10\.244\.3\.0\/24 via 10\.244\.3\.0 dev kwvx0 onlink/)
  const neigh = await kubewireOk(['exec', 'node-1', '--', 'ip', 'neigh', 'show', 'dev', 'kwvx0'])
  t.match(neigh, /10\.244\.3\.0 lladdr 0e(:[0-9a-f]{2}){5} PERMANENT/)

  await kubewireOk(['run', 'web', '--node', 'node-1', '--', process.execPath, HOSTNAME_SERVER, '80'])
  await kubewireOk(['run', 'client', '--node', 'node-3'])
  await kubewireOk(['run', 'other', '--node', 'node-2'])
  const mtu = await kubewireOk(['exec', 'client', '--', 'cat', '/sys/class/net/eth0/mtu'])
  t.equal(mtu.trim(), '1450')

  t.ok(await pingFrom('client', '10.244.1.2'), 'node-3 pod reaches node-1 pod')
  t.ok(await pingFrom('web', '10.244.3.2'), 'and back')
  t.ok(await pingFrom('other', '10.244.3.2'), 'node-2 pod reaches node-3 pod')
  const body = await waitFor('the web pod to answer over HTTP', () => curlFrom('client', 'http://10.244.1.2/'))
  t.equal(body.trim(), 'web', 'curl across nodes gets the pod\'s hostname')

  // A bulk transfer exercises TSO from the TAP, UDP GSO/GRO and coalescing.
  await kubewireOk(['run', 'sink', '--node', 'node-1', '--', 'iperf3', '-s'])
  const report = await waitFor('iperf3 across nodes', async () => {
    const r = await kubewire(['exec', 'client', '--', 'iperf3', '-c', '10.244.1.3', '-n', '50M', '-J'])
    return r.code === 0 ? (JSON.parse(r.stdout) as { end: { sum_sent: { bytes: number }; sum_received: { bytes: number } } }) : undefined
  })
  t.ok(report.end.sum_sent.bytes >= 50 * 1024 * 1024, 'iperf3 sent 50 MiB')
  // iperf3's server stops counting, and closes the data connection, when the
  // client says it has written everything, while megabytes may still sit in
  // socket buffers: they arrive uncounted, or not at all (the server counted
  // 61-98% of what was sent, on the code before the keep-warm rounds too).
  // Most of it must have been counted, and all it counted went through
  // node-1's TAP.
  const received = report.end.sum_received.bytes
  t.ok(received > 0.5 * report.end.sum_sent.bytes, `the server received most of it (${received} bytes)`)
  const delivered = await waitFor('node-1\'s TAP to have carried what the server counted', async () => {
    const s = await readVxlanStats(runDir, 'node-1')
    return s.rx.tapBytes >= received ? s.rx.tapBytes : undefined
  })
  t.ok(delivered >= received, `node-1's encapsulator wrote at least that into the TAP (${delivered} bytes, headers included)`)
  const node1 = await readVxlanStats(runDir, 'node-1')
  t.equal(node1.cluster, name)
  t.equal(node1.node, 'node-1')
  t.match(node1.offloads, { vnetHdr: true, csum: true, tso4: true, udpGso: true, udpGro: true })
  t.equal(node1.peers.length, 2)
  t.ok(node1.tx.frames > 0 && node1.rx.frames > 0, 'frames both ways')
  t.ok(node1.tx.bytes > 0 && node1.rx.tapBytes > 0, 'bytes both ways')
  t.equal(node1.tx.floods, 0, 'with three nodes nothing is flooded: static neighbours, MAC table')
  t.ok(node1.rx.coalesced > 0, 'received segments were merged into GSO frames for the TAP')
  t.ok(node1.rx.messages < node1.rx.datagrams, 'UDP GRO: several datagrams per received message')
  const node2 = await readVxlanStats(runDir, 'node-2')
  const node3 = await readVxlanStats(runDir, 'node-3')
  t.ok(node3.tx.gsoFrames > 0, 'the sender got TSO frames from its TAP')
  t.ok(node3.tx.datagrams > node3.tx.sends, 'UDP GSO: several datagrams per send')
  t.ok(node2.rx.frames >= 1 && node2.rx.frames < 20, `node-2 got only its own traffic (${node2.rx.frames} frames)`)
  t.ok(node3.rx.frames > 100, `node-3 got the ACKs of the transfer (${node3.rx.frames} frames)`)
  for (const s of [node1, node2, node3]) {
    t.same(Object.entries({ ...s.drops.tx, ...s.drops.rx }).filter(([, v]) => v > 0), [], `${s.node}: no drops`)
    const log = readFileSync(`${runDir}/vxlan/${s.node}.log`, 'utf8').split('\n')
    t.same(log.filter(l => /"msg":"(fatal|warning)"/.test(l)), [], `${s.node}: a clean log (one start, no second encapsulator)`)
  }
  t.equal(encapsulatorPids().length, 3, 'still one process per node')

  // Light traffic: every node's data-path thread on the last CPU at
  // SCHED_FIFO (placement.ts); a bulk transfer may have spread them, and
  // they gather again once it is over.
  const allowed = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]!
  const expectedCpus = cpuList(allowed).length > 1 ? String(cpuList(allowed).at(-1)) : allowed
  const placements = () => encapsulatorPids().map(pid => {
    const realtime = readdirSync(`/proc/${pid}/task`).filter(tid => /^policy\s*:\s*1$/m.test(readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8')))
    return realtime.map(tid => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1])
  })
  const gathered = await waitFor('the data paths to gather on one CPU', () => {
    try {
      const p = placements()
      return p.every(threads => threads.length === 1 && threads[0] === expectedCpus) ? p : undefined
    } catch {
      return undefined // a thread went away while we read /proc: look again
    }
  })
  t.same(gathered, [[expectedCpus], [expectedCpus], [expectedCpus]], 'each encapsulator: one SCHED_FIFO thread, the data path, on the last CPU')
  const modes = await Promise.all(['node-1', 'node-2', 'node-3'].map(async n => (await readVxlanStats(runDir, n)).placement))
  t.same(modes, [{ both: 'latency' }, { both: 'latency' }, { both: 'latency' }], 'stats say so')
})

t.test('keep-warm rounds run on the node\'s loopback only, while traffic is recent', async t => {
  const rounds = async () => (await readVxlanStats(runDir, 'node-3')).tx.keepWarmRounds
  const settled = (what: string) => waitFor(what, async () => {
    const before = await rounds()
    await new Promise(r => setTimeout(r, 300)) // a sample interval: 60 rounds' worth
    return (await rounds()) === before ? before : undefined
  })
  const quiet = await settled('the rounds to stop after the transfers above')
  const underlay = capture([], ['-T', 'vxlan', '-i', `kw-${name}`, 'udp port 8472'])
  const loopback = capture(['ip', 'netns', 'exec', `kw-${name}-node-3`], ['-T', 'vxlan', '-i', 'lo', 'udp port 8472'])
  await waitFor('tcpdump to listen', () => underlay.listening() && loopback.listening())
  t.ok(await pingFrom('client', '10.244.1.2'), 'one ping from node-3')
  const during = await waitFor('rounds after the ping', async () => ((await rounds()) > quiet ? rounds() : undefined))
  const after = await settled('the rounds to stop about a second after the ping')
  const lines = { underlay: await underlay.stop(), loopback: await loopback.stop() }
  t.ok(during > quiet, `rounds ran after the ping (${during - quiet} by the first look)`)
  t.ok(after - quiet <= 2 * 1000 / 5, `and stopped within about a second (${after - quiet} rounds, one per 5 ms at most)`)
  t.match(lines.loopback, /127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.8472: VXLAN/, 'their datagrams go to 127.0.0.1 in the node\'s namespace')
  t.match(lines.loopback, /10\.255\.0\.1 > 10\.255\.1\.1: ICMP echo request/, 'with the made-up inner addresses')
  t.notMatch(lines.underlay, /10\.255\./, 'none of them on the underlay')
  t.match(lines.underlay, /10\.244\.3\.2 > 10\.244\.1\.2: ICMP echo request/, 'where the ping itself went')
})

/** tcpdump, line-buffered, started with `prefix` (e.g. ip netns exec ...); stop() returns what it printed. */
function capture(prefix: string[], args: string[]): { listening: () => boolean; stop: () => Promise<string> } {
  const argv = [...prefix, 'tcpdump', '-l', '-n', '-v', ...args]
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let listening = false
  child.stdout.on('data', b => (out += b))
  child.stderr.on('data', b => (listening ||= String(b).includes('listening on')))
  const closed = new Promise(r => child.on('close', r))
  t.teardown(() => child.kill())
  return {
    listening: () => listening,
    stop: async () => {
      child.kill('SIGINT')
      await closed
      return out
    },
  }
}

/** "0-2,5" -> [0, 1, 2, 5] */
function cpuList(text: string): number[] {
  return text.split(',').flatMap(range => {
    const [from, to = from] = range.split('-').map(Number)
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i)
  })
}

t.test('down removes everything, the encapsulators included', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
  t.same(encapsulatorPids(), [])
  t.throws(() => readFileSync(`${runDir}/vxlan/node-1.pid`), 'run directory removed')
})
