// kubewire-vxlan: the user-space VXLAN encapsulator of one node, a long-lived
// process started by the `vxlan` backend inside the node's network namespace:
//
//   ip netns exec <node-netns> node --import tsx encapsulator.ts \
//     --cluster C --node N --run-dir DIR --local UNDERLAY_IP [--device kwvx0] [--port 8472] [--vni 1]
//     [--no-offloads] [--no-coalesce] [--verify-checksums] [--threads 1|2]
//     [--cpu auto|none|N] [--realtime 1|0] [--keep-warm MS]
//
// The last seven are for measurements (also as KUBEWIRE_VXLAN_OFFLOADS=0,
// KUBEWIRE_VXLAN_VERIFY=1, KUBEWIRE_VXLAN_THREADS=2, KUBEWIRE_VXLAN_CPU,
// KUBEWIRE_VXLAN_REALTIME, KUBEWIRE_VXLAN_KEEP_WARM, which the backend passes
// on). --keep-warm 0 turns the keep-warm rounds off (datapath-worker.ts).
//
// Why a process of its own (like flanneld, unlike the kernel backend): the
// data path must outlive whoever programs the node (the CLI, an agent), and
// packets must not wait for anyone's event loop. The
// process title is `kubewire-vxlan <cluster> <node>`, so `ps` says what it is,
// and `kubewire down` stops it with every other process in the namespace.
//
// Threads: this main thread only does control work (the unix control socket,
// stats, peer updates, logs, signals); a worker (datapath-worker.ts; two with
// --threads 2) moves packets with blocking syscalls, so no control work can
// stall them. State
// shared with the workers lives in SharedArrayBuffers: the peer table
// (seqlock, peer-table.ts), the counters (one writer per slot) and a stop
// flag. The TAP is persistent and owned by the backend, so a restart of this
// process re-attaches to it: routes and neighbours stay, only frames in
// flight are lost; the peer set comes back from the peers file.
//
// Signals: SIGTERM/SIGINT stop the workers (within one poll timeout) and
// exit; SIGHUP re-reads the peers file.
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { Worker } from 'node:worker_threads'
import { readJsonFile } from '../../util/json-file.ts'
import { VXLAN_DEVICE, VXLAN_PORT, VXLAN_VNI } from '../vtep.ts'
import { checkSocketPath, type ControlReply, type ControlRequest, encapsulatorTitle, type VxlanStats, vxlanPaths } from './control.ts'
import { sharedCounters, snapshotCounters } from './counters.ts'
import type { DatapathWorkerData } from './datapath-worker.ts'
import { libc } from '../../native/libc.ts'
import type { PlacementMode } from './placement.ts'
import { PeerTable, publishPeers, sharedPeerMemory, type VxlanPeer } from './peer-table.ts'
import { openTap, type Tap } from './tap-device.ts'
import { openUdpSocket, type UdpSocket } from './udp-socket.ts'

const { values } = parseArgs({
  options: {
    cluster: { type: 'string' },
    node: { type: 'string' },
    'run-dir': { type: 'string' },
    local: { type: 'string' },
    device: { type: 'string', default: VXLAN_DEVICE },
    port: { type: 'string', default: String(VXLAN_PORT) },
    vni: { type: 'string', default: String(VXLAN_VNI) },
    'no-offloads': { type: 'boolean', default: process.env.KUBEWIRE_VXLAN_OFFLOADS === '0' },
    'no-coalesce': { type: 'boolean', default: false },
    'verify-checksums': { type: 'boolean', default: process.env.KUBEWIRE_VXLAN_VERIFY === '1' },
    threads: { type: 'string', default: process.env.KUBEWIRE_VXLAN_THREADS ?? '1' },
    cpu: { type: 'string', default: process.env.KUBEWIRE_VXLAN_CPU ?? 'auto' },
    realtime: { type: 'string', default: process.env.KUBEWIRE_VXLAN_REALTIME ?? '1' },
    'keep-warm': { type: 'string', default: process.env.KUBEWIRE_VXLAN_KEEP_WARM ?? '5' },
  },
  strict: true,
})

const cluster = required('cluster')
const node = required('node')
const runDir = required('run-dir')
const local = required('local')
const device = values.device
const port = Number(values.port)
const vni = Number(values.vni)
const offloads = !values['no-offloads']
const coalesce = !values['no-coalesce']
const verifyChecksums = values['verify-checksums']
const threads = values.threads === '2' ? 2 : 1
const paths = vxlanPaths(runDir, node)
const startedAt = new Date().toISOString()

process.title = encapsulatorTitle(cluster, node)

function required(name: 'cluster' | 'node' | 'run-dir' | 'local'): string {
  const v = values[name]
  if (!v) {
    console.error(`kubewire-vxlan: --${name} is required`)
    process.exit(2)
  }
  return v
}

// The CPU every node's data path shares while traffic is light (placement.ts
// says why): the last one this process may use, unless --cpu names one;
// `none` (or a machine with one CPU) leaves placement to the scheduler.
function chooseDatapathCpu(option: string): number {
  if (option === 'none') return -1
  const allowed = libc().threadCpus()
  if (option === 'auto') return allowed.length > 1 ? allowed[allowed.length - 1]! : -1
  const cpu = Number(option)
  if (!Number.isInteger(cpu) || !allowed.includes(cpu)) {
    console.error(`kubewire-vxlan: --cpu ${option}: expected auto, none or one of the CPUs ${allowed.join(',')}`)
    process.exit(2)
  }
  return cpu
}

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), component: 'vxlan', cluster, node, msg, ...fields }) + '\n')
}

function readPeersFile(): VxlanPeer[] {
  const peers = readJsonFile<VxlanPeer[]>(paths.peers) ?? []
  if (!Array.isArray(peers)) throw new Error(`${paths.peers} does not hold a list of peers`)
  return peers
}

// --- state shared with the data path --------------------------------------
const peerMemory = sharedPeerMemory()
const counters = sharedCounters()
const stopFlag = new Int32Array(new SharedArrayBuffer(4))
let peers: VxlanPeer[] = []

function setPeers(next: VxlanPeer[], why: string): void {
  const table = PeerTable.from(next) // throws on a bad MAC or address: nothing changes
  publishPeers(peerMemory, table)
  const before = new Set(peers.map(p => `${p.mac}@${p.underlayIP}`))
  const after = new Set(next.map(p => `${p.mac}@${p.underlayIP}`))
  peers = next
  log('peers', {
    why,
    peers: next.length,
    added: next.filter(p => !before.has(`${p.mac}@${p.underlayIP}`)).map(p => p.node ?? p.underlayIP),
    removed: [...before].filter(k => !after.has(k)).length,
  })
}

// --- start ----------------------------------------------------------------
let tap: Tap
let udp: UdpSocket
let innerMtu: number
try {
  mkdirSync(paths.dir, { recursive: true })
  checkSocketPath(paths.socket)
  setPeers(readPeersFile(), 'start')
  const c = libc()
  tap = openTap(c, device, offloads)
  udp = openUdpSocket(c, local, port, { offloads })
  // `ip netns exec` mounts this namespace's /sys.
  innerMtu = Number(readFileSync(`/sys/class/net/${device}/mtu`, 'utf8'))
} catch (e) {
  log('fatal', { detail: (e as Error).message })
  process.exit(1)
}
const offloadInfo = {
  vnetHdr: tap.vnetHdr, csum: tap.csum, tso4: tap.tso4, tsoEcn: tap.tsoEcn, udpGso: udp.gso, udpGro: udp.gro, coalesce: coalesce && tap.vnetHdr,
  verifyChecksums,
}

// Workers load TypeScript through tsx like this process; a worker does not
// inherit the loader hooks, so a small bootstrap registers them first.
const tsxApi = import.meta.resolve('tsx/esm/api')
const workerUrl = new URL('./datapath-worker.ts', import.meta.url).href
const bootstrap = `import(${JSON.stringify(tsxApi)}).then(m => { m.register(); return import(${JSON.stringify(workerUrl)}) })`

// For profiling the data path, e.g. KUBEWIRE_VXLAN_V8_FLAGS=--perf-basic-prof
// (perf then names the JIT's functions) or --trace-deopt.
if (process.env.KUBEWIRE_VXLAN_V8_FLAGS) setFlagsFromString(process.env.KUBEWIRE_VXLAN_V8_FLAGS)
const datapathCpu = chooseDatapathCpu(values.cpu)
/** Each data-path thread's current placement mode (placement.ts), for stats. */
const placement: Record<string, PlacementMode> = {}
const realtime = Number(values.realtime)
if (!Number.isInteger(realtime) || realtime < 0 || realtime > 99) {
  console.error(`kubewire-vxlan: --realtime ${values.realtime}: expected a SCHED_FIFO priority 1-99, or 0 for none`)
  process.exit(2)
}
const keepWarmMs = Number(values['keep-warm'])
if (!Number.isInteger(keepWarmMs) || keepWarmMs < 0 || keepWarmMs > 1000) {
  console.error(`kubewire-vxlan: --keep-warm ${values['keep-warm']}: expected whole milliseconds 0-1000 (0: off)`)
  process.exit(2)
}
let stopping = false
const roles = threads === 2 ? (['tx', 'rx'] as const) : (['both'] as const)
const workers = roles.map(role => {
  const data: DatapathWorkerData = {
    directions: role, tapFd: tap.fd, udpFd: udp.fd, vni, port, vnetHdr: tap.vnetHdr, udpGso: udp.gso, coalesce, verifyChecksums, innerMtu,
    peers: peerMemory, counters, control: stopFlag, cpu: datapathCpu, realtime, keepWarmMs,
  }
  const worker = new Worker(bootstrap, { eval: true, workerData: data, name: `kubewire-vxlan-${role}` })
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: { ready?: string; warning?: string; fatal?: string; placement?: PlacementMode }) => {
      if (m.ready) resolve()
      if (m.placement) {
        placement[role] = m.placement
        log('placement', { thread: role, mode: m.placement })
      }
      if (m.warning) log('warning', { thread: role, detail: m.warning })
      if (m.fatal) {
        log('fatal', { thread: role, detail: m.fatal })
        reject(new Error(m.fatal))
        void shutdown(1)
      }
    })
    worker.on('error', e => {
      log('fatal', { thread: role, detail: e.stack ?? String(e) })
      reject(e)
      void shutdown(1)
    })
    worker.on('exit', code => {
      if (!stopping) {
        log('fatal', { thread: role, detail: `data-path thread exited (${code})` })
        reject(new Error(`${role} thread exited`))
        void shutdown(1)
      }
    })
  })
  return { role, worker, ready }
})

async function shutdown(code: number): Promise<void> {
  if (stopping) return
  stopping = true
  Atomics.store(stopFlag, 0, 1)
  const exited = Promise.all(workers.map(w => new Promise(r => w.worker.once('exit', r))))
  await Promise.race([exited, new Promise(r => setTimeout(r, 2_000).unref())])
  try {
    if (readFileSync(paths.pid, 'utf8').trim() === String(process.pid)) rmSync(paths.pid, { force: true })
  } catch {
    // no pid file
  }
  log('stopped', { code })
  process.exit(code)
}

process.on('SIGTERM', () => void shutdown(0))
process.on('SIGINT', () => void shutdown(0))
process.on('SIGHUP', () => {
  try {
    setPeers(readPeersFile(), 'SIGHUP')
  } catch (e) {
    log('error', { detail: `cannot reload ${paths.peers}: ${(e as Error).message}` })
  }
})

// --- control socket -------------------------------------------------------
function stats(): VxlanStats {
  return {
    cluster, node, pid: process.pid, startedAt, device, local, port, vni,
    offloads: offloadInfo,
    socketBuffers: { sndbuf: udp.sndbuf, rcvbuf: udp.rcvbuf },
    placement,
    peers,
    ...snapshotCounters(counters),
  }
}

function handle(request: ControlRequest): ControlReply {
  switch (request.op) {
    case 'ping':
      return { ok: true, cluster, node, pid: process.pid, startedAt }
    case 'stats':
      return { ok: true, stats: stats() }
    case 'reload':
      setPeers(readPeersFile(), 'reload')
      return { ok: true, peers: peers.length }
    case 'peers':
      if (!Array.isArray(request.peers)) return { ok: false, error: 'peers must be a list' }
      setPeers(request.peers, 'sync')
      return { ok: true, peers: peers.length }
    default:
      return { ok: false, error: `unknown op ${JSON.stringify((request as { op?: unknown }).op)}` }
  }
}

function serve(conn: Socket): void {
  let text = ''
  conn.setEncoding('utf8')
  conn.on('error', () => {})
  conn.on('data', (chunk: string) => {
    text += chunk
    if (text.length > 1 << 20) {
      conn.destroy()
      return
    }
    let nl: number
    while ((nl = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, nl)
      text = text.slice(nl + 1)
      let reply: ControlReply
      try {
        reply = handle(JSON.parse(line) as ControlRequest)
      } catch (e) {
        reply = { ok: false, error: (e as Error).message }
      }
      conn.write(JSON.stringify(reply) + '\n')
    }
  })
}

try {
  await Promise.all(workers.map(w => w.ready))
} catch {
  await new Promise(() => {}) // shutdown() is exiting
}
try {
  unlinkSync(paths.socket) // a previous instance's
} catch {
  // none
}
const server = createServer(serve)
server.on('error', e => {
  log('fatal', { detail: `control socket ${paths.socket}: ${e.message}` })
  void shutdown(1)
})
server.listen(paths.socket, () => {
  writeFileSync(paths.pid, `${process.pid}\n`)
  log('ready', { pid: process.pid, threads, keepWarmMs, innerMtu, device, local, port, vni, offloads: offloadInfo, socketBuffers: { sndbuf: udp.sndbuf, rcvbuf: udp.rcvbuf }, peers: peers.length })
})
