// The encapsulator's control channel and files, under
// `<runDir>/vxlan/` (runDir: the cluster's run directory, which `down` removes):
//
//   <node>.sock        unix socket: one JSON request per line, one JSON reply per line
//   <node>.peers.json  the last peer set sync() gave the node (read again on start)
//   <node>.pid         the running encapsulator's pid
//   <node>.log         its stdout and stderr (one JSON object per line)
//
// Requests: {"op":"ping"} -> {ok, cluster, node, pid, startedAt};
// {"op":"peers","peers":[{mac,underlayIP,node}]} -> {ok, peers}: replaces the
// FDB live; {"op":"stats"} -> {ok, stats}; {"op":"reload"} re-reads the
// peers file (SIGHUP does the same).
//
// Why a socket and a file: the socket applies a change at once and answers,
// so sync() knows the data path has the table before it adds routes; the
// file makes the peer set survive an encapsulator restart, which therefore
// needs nobody to call sync() again. A filesystem socket (not an abstract
// one) because the CLI runs in the root namespace and the encapsulator in the
// node's: abstract unix sockets belong to a network namespace, paths do not.
import { createConnection } from 'node:net'
import { join } from 'node:path'
import { KubewireError } from '../../errors.ts'
import type { CounterSnapshot } from './counters.ts'
import type { VxlanPeer } from './peer-table.ts'
import type { PlacementMode } from './placement.ts'

export interface VxlanPaths {
  dir: string
  socket: string
  peers: string
  pid: string
  log: string
}

/** Longest unix socket path Linux takes (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107

export function vxlanPaths(runDir: string, node: string): VxlanPaths {
  const dir = join(runDir, 'vxlan')
  return {
    dir,
    socket: join(dir, `${node}.sock`),
    peers: join(dir, `${node}.peers.json`),
    pid: join(dir, `${node}.pid`),
    log: join(dir, `${node}.log`),
  }
}

/** The process title an encapsulator sets, so `ps` (and a stale-process check) can tell it apart. */
export function encapsulatorTitle(cluster: string, node: string): string {
  return `kubewire-vxlan ${cluster} ${node}`
}

export function checkSocketPath(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new KubewireError('ENAMETOOLONG', `control socket path is over ${MAX_SOCKET_PATH} bytes (use a shorter run directory): ${path}`)
  }
}

/** What the encapsulator reports about itself. */
export interface VxlanStats extends CounterSnapshot {
  cluster: string
  node: string
  pid: number
  startedAt: string
  device: string
  local: string
  port: number
  vni: number
  offloads: { vnetHdr: boolean; csum: boolean; tso4: boolean; tsoEcn: boolean; udpGso: boolean; udpGro: boolean; coalesce: boolean; verifyChecksums: boolean }
  socketBuffers: { sndbuf: number; rcvbuf: number }
  /** Placement mode of each data-path thread (`both`, or `tx` and `rx`); empty if placement is off. */
  placement: Record<string, PlacementMode>
  peers: VxlanPeer[]
}

export type ControlRequest =
  | { op: 'ping' }
  | { op: 'stats' }
  | { op: 'reload' }
  | { op: 'peers'; peers: VxlanPeer[] }

export interface PingReply {
  ok: true
  cluster: string
  node: string
  pid: number
  startedAt: string
}

export type ControlReply = { ok: false; error: string } | PingReply | { ok: true; stats: VxlanStats } | { ok: true; peers: number }

/** One request, one reply. Rejects with the connection error (e.g. ENOENT, ECONNREFUSED) or a timeout. */
export function controlRequest(socketPath: string, request: ControlRequest, timeoutMs = 2_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath)
    let text = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new KubewireError('ETIMEDOUT', `no answer from ${socketPath} within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'))
    socket.on('data', (chunk: string) => {
      text += chunk
      const nl = text.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      socket.end()
      try {
        resolve(JSON.parse(text.slice(0, nl)) as ControlReply)
      } catch (e) {
        reject(new KubewireError('EPROTO', `bad reply from ${socketPath}: ${(e as Error).message}`))
      }
    })
    socket.on('error', e => {
      clearTimeout(timer)
      reject(e)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      reject(new KubewireError('EPROTO', `${socketPath} closed without a reply`))
    })
  })
}

function unwrap<T extends ControlReply>(reply: ControlReply, socketPath: string): Exclude<T, { ok: false }> {
  if (!reply.ok) throw new KubewireError('EVXLAN', `encapsulator at ${socketPath}: ${reply.error}`)
  return reply as Exclude<T, { ok: false }>
}

/** The ping reply, or undefined if nothing answers at the socket. */
export async function pingEncapsulator(runDir: string, node: string, timeoutMs = 1_000): Promise<PingReply | undefined> {
  const { socket } = vxlanPaths(runDir, node)
  try {
    const reply = await controlRequest(socket, { op: 'ping' }, timeoutMs)
    return reply.ok && 'pid' in reply ? reply : undefined
  } catch {
    return undefined
  }
}

/**
 * Counters, offloads and peers of `node`'s encapsulator in the cluster whose
 * run directory is `runDir`. Throws a KubewireError 'ENOTRUNNING' when none
 * answers.
 */
export async function readVxlanStats(runDir: string, node: string): Promise<VxlanStats> {
  const { socket } = vxlanPaths(runDir, node)
  let reply: ControlReply
  try {
    reply = await controlRequest(socket, { op: 'stats' })
  } catch (e) {
    throw new KubewireError('ENOTRUNNING', `no VXLAN encapsulator answers for ${node} at ${socket}: ${(e as Error).message}`, { cause: e })
  }
  const ok = unwrap<{ ok: true; stats: VxlanStats }>(reply, socket)
  if (!('stats' in ok)) throw new KubewireError('EPROTO', `unexpected reply from ${socket}`)
  return ok.stats
}

/**
 * Gives the running encapsulator a new peer set, retrying while it is still
 * starting (no socket yet, or nobody listening) until `waitMs` passed.
 */
export async function pushPeers(runDir: string, node: string, peers: readonly VxlanPeer[], waitMs: number): Promise<void> {
  const { socket } = vxlanPaths(runDir, node)
  const deadline = Date.now() + waitMs
  let delay = 20
  for (;;) {
    try {
      unwrap(await controlRequest(socket, { op: 'peers', peers: [...peers] }), socket)
      return
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      const starting = code === 'ENOENT' || code === 'ECONNREFUSED'
      if (!starting || Date.now() + delay > deadline) throw e
    }
    await new Promise(r => setTimeout(r, delay))
    delay = Math.min(delay * 2, 200)
  }
}
