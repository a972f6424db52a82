// vxlan: flannel's VXLAN backend with the encapsulation done by our own
// TypeScript process instead of Linux's vxlan device, wire-compatible with it
// (VNI 1, UDP 8472, the same pinned VTEP MACs and addresses), so nodes of
// this backend and of `vxlan-kernel` talk to each other.
//
// Per node, as flannel does it for flannel.1: a device kwvx0 with the node's
// pinned VTEP MAC, MTU = underlay - 50 and the VTEP address (pod subnet .0/32);
// per remote node a permanent neighbour (its VTEP IP -> its VTEP MAC) and an
// onlink route to its pod subnet via that VTEP IP. Here kwvx0 is a persistent
// TAP (`ip tuntap add ... mode tap vnet_hdr`) rather than a vxlan device: the
// kernel hands it Ethernet frames, and the encapsulator (vxlan/encapsulator.ts,
// one process per node, inside the node's namespace) wraps them in VXLAN and
// sends them over UDP, and unwraps what arrives. A TAP has no FDB, so the
// MAC -> underlay address table that flannel programs into the kernel lives in
// the encapsulator; sync() hands it over the control socket before adding
// neighbours and routes (the same order as flannel: FDB, neighbour, route).
//
// Why the TAP is persistent and the process separate: the device, its
// address, routes and neighbours belong to the node and survive the
// encapsulator; restarting the encapsulator (register() starts one when none
// answers) re-attaches to the device and loses only frames in flight, and a
// node joining or leaving is one sync() per node with no restart. The peers
// also go to a file, so a restarted encapsulator has its table at once.
//
// The encapsulator is started detached (it must outlive whoever calls
// register(): the short-lived CLI, or a node agent that may restart), which
// the command runner cannot do: the runner waits for a command to exit. So,
// like pod processes, it is spawned here with its output appended to a log
// file; everything else goes through the runner. sync() starts it too when
// none answers, so a converging caller also heals a crashed encapsulator.
import { spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KubewireError } from '../errors.ts'
import { ipBatch, ipJson } from '../exec/ip.ts'
import { isAlive } from '../netns/netns.ts'
import { linkNames } from '../network/links.ts'
import { writeJsonFile } from '../util/json-file.ts'
import { type Backend, type BackendContext, type BackendNode, type Lease, registerBackend } from './backend.ts'
import { encapsulatorTitle, pingEncapsulator, pushPeers, vxlanPaths } from './vxlan/control.ts'
import type { VxlanPeer } from './vxlan/peer-table.ts'
import { syncVtepPeers } from './vxlan-kernel.ts'
import { LEASE_VTEP_MAC, VXLAN_DEVICE, VXLAN_OVERHEAD, VXLAN_PORT, VXLAN_VNI, vtepIP, vtepMac } from './vtep.ts'

export { encapsulatorTitle, readVxlanStats, type VxlanStats } from './vxlan/control.ts'

const ENCAPSULATOR = fileURLToPath(new URL('./vxlan/encapsulator.ts', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** How long sync() waits for a starting encapsulator to answer. */
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 3_000
/** USER_HZ: /proc/PID/stat counts in these (100 on every Linux architecture we run on). */
const CLOCK_TICKS = 100

export interface VxlanBackendOptions extends BackendContext {
  /**
   * The cluster's run directory (control socket, peers file, pid and log go
   * to `<runDir>/vxlan/`). Default: $KUBEWIRE_RUN or /run/kubewire, then the
   * cluster name, which is where `kubewire down` removes runtime files.
   */
  runDir?: string
  /** Ask the kernel for TAP and UDP offloads (default true; off only to measure them). */
  offloads?: boolean
}

/** The default run directory of a cluster (the same rule as the CLI's). */
export function defaultRunDir(cluster: string): string {
  return join(process.env.KUBEWIRE_RUN ?? '/run/kubewire', cluster)
}

interface IpLinkDetail {
  ifname: string
  address?: string
  mtu?: number
  linkinfo?: { info_kind?: string; info_data?: { type?: string; pi?: boolean; vnet_hdr?: boolean } }
}

/** `ip -batch` lines that make kwvx0 a persistent vnet_hdr TAP with this MAC and MTU, keeping a matching one. Pure. */
export function tapDeviceLines(current: IpLinkDetail | undefined, mac: string, mtu: number, address: string): string[] {
  const lines: string[] = []
  const info = current?.linkinfo
  const isOurTap = info?.info_kind === 'tun' && info.info_data?.type === 'tap' && info.info_data.vnet_hdr === true && info.info_data.pi !== true
  if (current && !isOurTap) lines.push(`link del ${VXLAN_DEVICE}`)
  if (!current || !isOurTap) lines.push(`tuntap add dev ${VXLAN_DEVICE} mode tap vnet_hdr`)
  if (!isOurTap || current?.address !== mac || current.mtu !== mtu) lines.push(`link set dev ${VXLAN_DEVICE} address ${mac} mtu ${mtu}`)
  lines.push(`addr replace ${address}/32 dev ${VXLAN_DEVICE}`, `link set dev ${VXLAN_DEVICE} up`)
  return lines
}

/** Lease data of a `vxlan` node: it takes inner checksums left partial (see vxlan/encap-path.ts). */
export const LEASE_PARTIAL_CSUM = 'vxlanPartialCsum'

/** What the encapsulator needs to know about its peers, from their leases. */
export function vxlanPeers(self: string, leases: readonly Lease[]): VxlanPeer[] {
  return leases
    .filter(l => l.node !== self && l.data[LEASE_VTEP_MAC])
    .map(l => ({
      node: l.node, mac: l.data[LEASE_VTEP_MAC] as string, underlayIP: l.underlayIP, partialChecksums: l.data[LEASE_PARTIAL_CSUM] === 'true',
    }))
}

export function createVxlanBackend(options: VxlanBackendOptions): Backend {
  const { cluster, offloads = true } = options
  const runDir = options.runDir ?? defaultRunDir(cluster)
  return {
    type: 'vxlan',
    podMtu: underlayMtu => underlayMtu - VXLAN_OVERHEAD,
    async register(node: BackendNode) {
      const mac = vtepMac(cluster, node.name)
      const current = (await linkNames(node.netns)).has(VXLAN_DEVICE)
        ? (await ipJson<IpLinkDetail[]>(node.netns, ['-d', 'link', 'show', 'dev', VXLAN_DEVICE]))[0]
        : undefined
      await ipBatch(node.netns, tapDeviceLines(current, mac, node.underlayMtu - VXLAN_OVERHEAD, vtepIP(node.podCIDR)))
      await ensureEncapsulator(cluster, runDir, node, offloads)
      return { [LEASE_VTEP_MAC]: mac, [LEASE_PARTIAL_CSUM]: 'true' }
    },
    async sync(node: BackendNode, peers: readonly Lease[]) {
      const list = vxlanPeers(node.name, peers)
      const paths = vxlanPaths(runDir, node.name)
      mkdirSync(paths.dir, { recursive: true })
      // The file first: an encapsulator starting right now reads it.
      writeJsonFile(paths.peers, list)
      await ensureEncapsulator(cluster, runDir, node, offloads)
      try {
        await pushPeers(runDir, node.name, list, START_TIMEOUT_MS)
      } catch (e) {
        throw new KubewireError('EVXLAN', `the VXLAN encapsulator of ${node.name} does not answer (${(e as Error).message}); its log ${paths.log} ends with:\n${logTail(paths.log)}`, { cause: e })
      }
      await syncVtepPeers(node, peers, false)
    },
  }
}

/**
 * Starts the node's encapsulator unless one answers on its control socket or
 * one is still starting (register() and sync() may both get here before it
 * answers; a second one could not attach to the TAP anyway). A process that
 * is ours but does not answer although it started long ago, or said it was
 * ready, is stopped first: it would hold the TAP and port 8472. Does not wait
 * for the new one to be ready: sync() does, so several nodes start in parallel.
 */
export async function ensureEncapsulator(cluster: string, runDir: string, node: BackendNode, offloads = true): Promise<void> {
  const running = await pingEncapsulator(runDir, node.name)
  if (running && running.cluster === cluster && running.node === node.name) return
  const paths = vxlanPaths(runDir, node.name)
  mkdirSync(paths.dir, { recursive: true })
  const readyPid = readPid(paths.pid)
  for (const pid of encapsulatorPids(cluster, node.name)) {
    if (pid !== readyPid && processAgeMs(pid) < START_TIMEOUT_MS) return // still starting
    await stopProcess(pid)
  }
  const argv = [
    'netns', 'exec', node.netns,
    process.execPath, '--import', import.meta.resolve('tsx'), ENCAPSULATOR,
    '--cluster', cluster, '--node', node.name, '--run-dir', runDir, '--local', node.underlayIP,
    '--device', VXLAN_DEVICE, '--port', String(VXLAN_PORT), '--vni', String(VXLAN_VNI),
    ...(offloads ? [] : ['--no-offloads']),
  ]
  const log = openSync(paths.log, 'a', 0o600)
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('ip', argv, {
        detached: true,
        stdio: ['ignore', log, log],
        cwd: REPO_ROOT, // tsx reads tsconfig.json from here
        env: {
          PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          LANG: 'C.UTF-8',
          // Tuning knobs of the encapsulator (threads, offloads, checksum verification), for measurements.
          ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('KUBEWIRE_VXLAN_'))),
        },
      })
      child.once('error', e => reject(new KubewireError('ESPAWN', `cannot start the VXLAN encapsulator of ${node.name}: ${e.message}`)))
      child.once('spawn', () => {
        child.unref()
        resolve()
      })
    })
  } finally {
    closeSync(log)
  }
}

/**
 * Live processes that are `node`'s encapsulator: by its process title once
 * it runs, by its command line (`ip netns exec ... encapsulator.ts --cluster
 * C --node N ...`) while it starts.
 */
export function encapsulatorPids(cluster: string, node: string): number[] {
  const title = encapsulatorTitle(cluster, node)
  const argv = `${ENCAPSULATOR}\0--cluster\0${cluster}\0--node\0${node}\0`
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue
    let cmdline: string
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    } catch {
      continue // gone meanwhile
    }
    const text = cmdline.replaceAll('\0', ' ').trim()
    if ((text === title || text.startsWith(`${title} `) || cmdline.includes(argv)) && isAlive(pid)) pids.push(pid)
  }
  return pids
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(pid) && pid > 1 ? pid : undefined
  } catch {
    return undefined
  }
}

/** How long ago the process started (from /proc: start time in clock ticks after boot). */
function processAgeMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
    const uptimeSeconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0])
    return uptimeSeconds * 1000 - (startTicks / CLOCK_TICKS) * 1000
  } catch {
    return Infinity
  }
}

/** SIGTERM, then SIGKILL if it is still there after a while. */
async function stopProcess(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return // already gone
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS
  while (isAlive(pid) && Date.now() < deadline) await new Promise(r => setTimeout(r, 20))
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      return
    }
    while (isAlive(pid)) await new Promise(r => setTimeout(r, 20))
  }
}

function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

registerBackend('vxlan', context => createVxlanBackend(context))
