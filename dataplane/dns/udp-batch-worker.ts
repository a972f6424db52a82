// A UDP thread of the DNS server: its own socket on the server's port, its
// own copy of the zone, and a loop of recvmmsg -> answer -> sendmmsg.
//
// Why: in Node a dgram socket costs an event-loop callback, a Buffer and an
// address object per datagram in, and a send request per datagram out; with
// nothing else done, that caps a dgram server at about half of dnsmasq's
// rate on this machine. Here one recvmmsg takes up to BATCH queries, each is
// answered straight into native send slots (responder.ts writes into a given
// buffer), and one sendmmsg sends them all: the per-datagram cost is the
// kernel's and ours, no more.
//
// Zone changes (postMessage from the server) and upstream answers
// (forwarder.ts) are handled by the thread's event loop, so the loop returns
// to it at least every SLICE_MS while busy. When quiet it sleeps in poll() on
// the socket and a doorbell (an eventfd the server rings after each message
// and to stop): a change is applied as soon as it arrives, and a quiet server
// wakes IDLE_POLL_MS apart only (FORWARD_POLL_MS while upstream answers are
// awaited, since those arrive on the event loop's own socket). Counters go to
// shared memory after every batch. Nothing a client sends can throw out of
// the loop: an exception while answering drops that datagram, counted.
import { parentPort, workerData } from 'node:worker_threads'
import { AF_INET, EAGAIN, EINTR, errnoText, libc, MSG_DONTWAIT, MSG_TRUNC, POLLIN, SO_RCVBUF, SO_RCVBUFFORCE, SO_SNDBUF,
  SO_SNDBUFFORCE, SOCK_CLOEXEC, SOCK_DGRAM, SOL_SOCKET } from '../native/libc.ts'
import { ipv4ToU32, RecvVector, SendVector } from '../overlay/vxlan/mmsg.ts'
import { applyZoneOp, ClusterZone, type ZoneOp } from './cluster-zone.ts'
import { Forwarder, parseUpstream } from './forwarder.ts'
import { DROP, MAX_UDP_PAYLOAD, newCounters, OUTSIDE, publishCounters, Responder } from './responder.ts'
import type { ZoneSpec } from './zone.ts'

export interface BatchWorkerData {
  address: string
  port: number
  /** Set SO_REUSEPORT (several UDP threads share the port). */
  reusePort: boolean
  upstreams: string[]
  /** Allowed source ranges as [base, size] pairs. */
  allowed: [number, number][]
  maxUdpPayload: number | undefined
  forwardTimeoutMs: number | undefined
  zone: Pick<ZoneSpec, 'domain' | 'ttl' | 'podRecords' | 'nameserverIP'>
  counters: Float64Array
  /** [0]: set to 1 to stop (and ring the doorbell). */
  control: Int32Array
  /** An eventfd: readable when a message or a stop request waits. */
  doorbell: number
}

export type WorkerRequest = { seq: number; zoneOp: ZoneOp } | { seq: number; heap: true }
export type WorkerReply =
  | { ready: true }
  | { error: string; code: string }
  | { seq: number; done: true; heapUsed?: number }

const SO_REUSEPORT = 15
const BATCH = 64
const SLOT = MAX_UDP_PAYLOAD
const IDLE_POLL_MS = 250
const FORWARD_POLL_MS = 2
const ERROR_BACKOFF_MS = 10
const SLICE_MS = 2
const BUFFER_BYTES = 4 * 1024 * 1024

const data = workerData as BatchWorkerData
const port = parentPort!
const c = libc()
const counters = newCounters()
const zone = new ClusterZone(data.zone)
const responder = new Responder(zone, counters, { maxUdpPayload: data.maxUdpPayload, recursion: data.upstreams.length > 0 })
const forwarder = data.upstreams.length > 0
  ? new Forwarder(data.upstreams.map(parseUpstream), counters, { timeoutMs: data.forwardTimeoutMs, advertisedSize: data.maxUdpPayload })
  : undefined

function openSocket(): number {
  const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)
  if (fd < 0) throw Object.assign(new Error(`cannot create a UDP socket: ${errnoText(c, c.errno())}`), { code: 'ESOCKET' })
  const scratch = c.allocNative(16)
  const setInt = (name: number, value: number): boolean => {
    scratch.buf.writeInt32LE(value, 0)
    return c.setsockopt(fd, SOL_SOCKET, name, scratch.address, 4) === 0
  }
  if (data.reusePort) setInt(SO_REUSEPORT, 1)
  if (!setInt(SO_RCVBUFFORCE, BUFFER_BYTES)) setInt(SO_RCVBUF, BUFFER_BYTES)
  if (!setInt(SO_SNDBUFFORCE, BUFFER_BYTES)) setInt(SO_SNDBUF, BUFFER_BYTES)
  scratch.buf.fill(0)
  scratch.buf.writeUInt16LE(AF_INET, 0)
  scratch.buf.writeUInt16BE(data.port, 2)
  scratch.buf.writeUInt32BE(ipv4ToU32(data.address), 4)
  if (c.bind(fd, scratch.address, 16) < 0) {
    const errno = c.errno()
    const code = errno === 98 ? 'EADDRINUSE' : errno === 13 ? 'EACCES' : 'EBIND'
    throw Object.assign(new Error(`cannot bind UDP ${data.address}:${data.port}: ${errnoText(c, errno)}`), { code })
  }
  return fd
}

function isAllowed(ip: number): boolean {
  for (const [base, size] of data.allowed) if (ip >= base && ip < base + size) return true
  return false
}

let fd: number
try {
  fd = openSocket()
} catch (err) {
  port.postMessage({ error: (err as Error).message, code: (err as { code?: string }).code ?? 'EBIND' } satisfies WorkerReply)
  process.exit(0)
}

const slots = c.allocNative(BATCH * SLOT)
const recv = new RecvVector(c.allocNative(RecvVector.bytes(BATCH)), BATCH, slots.address, SLOT, SLOT)
const outs = c.allocNative(BATCH * SLOT)
const send = new SendVector(c.allocNative(SendVector.bytes(BATCH)), BATCH)
const single = new SendVector(c.allocNative(SendVector.bytes(1)), 1)
const reply = c.allocNative(65536)
// struct pollfd[2]: { int fd; short events; short revents }: the socket, the doorbell.
const pollfds = c.allocNative(16)
pollfds.buf.writeInt32LE(fd, 0)
pollfds.buf.writeInt16LE(POLLIN, 4)
pollfds.buf.writeInt32LE(data.doorbell, 8)
pollfds.buf.writeInt16LE(POLLIN, 12)
const DOORBELL_REVENTS = 14
const ring = c.allocNative(8)

function sendAll(vec: SendVector, n: number): void {
  let i = 0
  while (i < n) {
    const sent = c.sendmmsg(fd, vec.messageAddress(i), n - i, 0)
    if (sent > 0) {
      i += sent
      continue
    }
    if (sent < 0 && c.errno() === EINTR) continue
    // A full send buffer or an unreachable client: drop the rest of the batch, counted.
    counters.answered -= n - i
    counters.dropped += n - i
    publishCounters(counters, data.counters)
    return
  }
}

/** An answer that arrived later (from an upstream): one datagram. */
function sendLater(response: Buffer, ip: number, clientPort: number): void {
  if (response.length > reply.buf.length) return
  response.copy(reply.buf, 0)
  single.reset()
  single.set(0, reply.address, response.length, ip, clientPort, 0)
  counters.answered++
  publishCounters(counters, data.counters) // before the send: whoever gets the answer sees it counted
  sendAll(single, 1)
}

const FAILED = -1

// One recvmmsg batch answered and sent; returns how many datagrams came in (0: none waiting, FAILED: an error).
function batch(): number {
  recv.prepare(BATCH)
  const n = c.recvmmsg(fd, recv.address, BATCH, MSG_DONTWAIT, 0)
  if (n <= 0) {
    const errno = n < 0 ? c.errno() : EAGAIN
    return errno === EAGAIN || errno === EINTR ? 0 : FAILED
  }
  send.reset()
  let out = 0
  for (let i = 0; i < n; i++) {
    counters.received++
    const length = recv.messageLength(i)
    if (recv.flags(i) & MSG_TRUNC) {
      counters.dropped++
      continue
    }
    const ip = recv.sourceIp(i)
    const at = out * SLOT
    let end: number
    try {
      const msg = slots.buf.subarray(i * SLOT, i * SLOT + length)
      end = responder.answer(msg, false, outs.buf, at)
      if (end === OUTSIDE) {
        if (forwarder && isAllowed(ip)) {
          const clientPort = recv.sourcePort(i)
          forwarder.forward(msg, r => sendLater(r, ip, clientPort))
          end = DROP
        } else {
          end = responder.refuse(msg, false, outs.buf, at)
        }
      }
    } catch {
      counters.dropped++
      continue
    }
    if (end < 0) continue
    send.set(out, outs.address + at, end - at, ip, recv.sourcePort(i), 0)
    out++
  }
  counters.answered += out
  publishCounters(counters, data.counters) // before the send: whoever gets an answer sees it counted
  if (out > 0) sendAll(send, out)
  return n
}

function pump(): void {
  if (Atomics.load(data.control, 0) === 1) {
    c.close(fd)
    forwarder?.close()
    port.close()
    return
  }
  const until = performance.now() + SLICE_MS
  for (;;) {
    const n = batch()
    if (n === FAILED) {
      c.poll(0, 0, ERROR_BACKOFF_MS) // an unexpected error: do not spin on it
      break
    }
    if (performance.now() > until) break
    if (n === BATCH) continue
    // Wait for more, or for the doorbell (back to the event loop for the message).
    const ready = c.poll(pollfds.address, 2, forwarder && forwarder.inFlight > 0 ? FORWARD_POLL_MS : IDLE_POLL_MS)
    if (ready <= 0) break
    if (pollfds.buf.readInt16LE(DOORBELL_REVENTS) !== 0) {
      c.read(data.doorbell, ring.address, 8)
      break
    }
  }
  setImmediate(pump)
}

port.on('message', (m: WorkerRequest) => {
  if ('zoneOp' in m) {
    void applyZoneOp(zone, m.zoneOp).then(
      () => port.postMessage({ seq: m.seq, done: true } satisfies WorkerReply),
      () => port.postMessage({ seq: m.seq, done: true } satisfies WorkerReply),
    )
    return
  }
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc) gc()
  port.postMessage({ seq: m.seq, done: true, heapUsed: process.memoryUsage().heapUsed } satisfies WorkerReply)
})
port.postMessage({ ready: true } satisfies WorkerReply)
pump()
