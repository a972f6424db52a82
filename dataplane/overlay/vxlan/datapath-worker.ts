// The data-path thread: reads the TAP and sends VXLAN, receives VXLAN and
// writes the TAP. This file is the thin shell around encap-path.ts and
// decap-path.ts: the loop, the native buffers and the syscalls.
//
// Why a worker thread with blocking calls: the control thread (the process's
// main thread: control socket, stats, logs) must never stall packets, and a
// data path that owns its thread needs no event loop round trip per batch.
// The loop drains what poll() says is readable: TAP frames until EAGAIN, then
// one sendmmsg for the batch; a recvmmsg batch (UDP GRO: up to 64 datagrams
// per message), coalesced and written; then sleeps in poll() on both fds. The
// poll timeout (250 ms) bounds how long a quiet thread takes to notice a stop
// request; a peer-table change is seen at the start of the next batch (one
// Atomics.load per batch).
//
// Why one thread for both directions (the default; `--threads 2` splits them):
// measured on 2 cores, two threads were no faster under TCP load (data one
// way, ACKs the other), and one thread answers a ping with one wake-up less:
// the node answers inside our TAP write, so the reply is read and sent
// before the thread sleeps again. Wake-ups are most of a user-space path's
// latency (each costs ~100 us on an idle virtual CPU).
//
// Memory that the kernel reads through pointers (message vectors, receive
// slots, iovecs, the poll structure) is allocated once, outside the V8 heap.
import { closeSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { parentPort, workerData } from 'node:worker_threads'
import { RX, RX_DROP, TX, TX_DROP } from './counters.ts'
import { DecapPath, type FrameSink, MAX_WRITE_PARTS, RECV_HEADROOM } from './decap-path.ts'
import { type DatagramSink, EncapPath } from './encap-path.ts'
import {
  AF_UNIX, EAGAIN, EINTR, errnoText, type Libc, libc, MSG_DONTWAIT, POLLIN, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK,
} from '../../native/libc.ts'
import { formatMac } from './ethernet.ts'
import { KEEP_WARM_PEER_MAC, keepWarmFrames } from './keep-warm-frames.ts'
import { RecvVector, SendVector } from './mmsg.ts'
import { type PlacementMode, PlacementGovernor } from './placement.ts'
import { PeerTable, publishedSequence, readPublishedPeers } from './peer-table.ts'
import { openUdpSocket } from './udp-socket.ts'

export interface DatapathWorkerData {
  /** Which directions this thread moves: both (one thread), or one of them. */
  directions: 'both' | 'tx' | 'rx'
  tapFd: number
  udpFd: number
  vni: number
  port: number
  vnetHdr: boolean
  udpGso: boolean
  coalesce: boolean
  /** Verify inner TCP checksums before merging segments (see decap-path.ts). */
  verifyChecksums: boolean
  /** The TAP's MTU: longer inner frames are a kernel peer's unsegmented GSO. */
  innerMtu: number
  peers: Int32Array
  counters: Float64Array
  /** [0]: set to 1 to stop. */
  control: Int32Array
  /** The CPU this thread is bound to, or -1 to let the scheduler choose (see encapsulator.ts). */
  cpu: number
  /** SCHED_FIFO priority of this thread, 0 for the normal scheduler (see encapsulator.ts). */
  realtime: number
  /** While traffic is recent, run a keep-warm round after this long without any (ms); 0: never (KeepWarm). */
  keepWarmMs: number
}

/** Messages per sendmmsg / recvmmsg call. */
const TX_BATCH = 64
/** iovecs per sendmmsg call: a 64 KiB TSO frame takes ~2 x 46 (headers and payload per segment). */
const TX_IOVECS = 1024
const RX_BATCH = 32
/** Frames read from the TAP before a send, each slot holds the largest TSO frame. */
const TX_SLOTS = 32
/** Bytes per slot: a 64 KiB frame plus vnet header, rounded up to 16. */
const SLOT_BYTES = 65600
const POLL_MS = 250
/** How long to back off after an unexpected error, so a broken fd cannot make us spin. */
const ERROR_BACKOFF_MS = 10

/**
 * Addresses of the buffers the data path hands to the kernel. Frames
 * alternate between two buffers (headers in an arena, payload in a read
 * slot), so two entries; koffi.address costs ~60 ns, a hit a compare.
 */
class AddressCache {
  readonly #c: Libc
  #a: Buffer | undefined
  #aAddress = 0
  #b: Buffer | undefined
  #bAddress = 0

  constructor(c: Libc) {
    this.#c = c
  }

  of(buf: Buffer): number {
    if (buf === this.#a) return this.#aAddress
    if (buf === this.#b) {
      // Most recent first.
      const t = this.#a
      const ta = this.#aAddress
      this.#a = buf
      this.#aAddress = this.#bAddress
      this.#b = t
      this.#bAddress = ta
      return this.#aAddress
    }
    this.#b = this.#a
    this.#bAddress = this.#aAddress
    this.#a = buf
    this.#aAddress = this.#c.addressOf(buf)
    return this.#aAddress
  }
}

/** Queues datagrams into a SendVector; flush() is one sendmmsg per batch (more after an error). */
class MmsgSender implements DatagramSink {
  readonly #c: Libc
  readonly #fd: number
  readonly #vec: SendVector
  readonly #port: number
  readonly #counters: Float64Array
  readonly #addresses: AddressCache
  #count = 0

  constructor(c: Libc, fd: number, vec: SendVector, port: number, counters: Float64Array) {
    this.#c = c
    this.#fd = fd
    this.#vec = vec
    this.#port = port
    this.#counters = counters
    this.#addresses = new AddressCache(c)
  }

  begin(ip: number, gsoSize: number, datagrams: number, parts: number): void {
    if (this.#count === this.#vec.capacity || this.#vec.iovFree < parts) this.flush()
    this.#vec.begin(this.#count++, ip, this.#port, gsoSize)
    this.#counters[TX.datagrams]! += datagrams
    this.#counters[TX.sends]! += 1
  }

  part(buf: Buffer, offset: number, length: number): void {
    this.#vec.addPart(this.#count - 1, this.#addresses.of(buf) + offset, length)
  }

  flush(): void {
    const n = this.#count
    let i = 0
    while (i < n) {
      const sent = this.#c.sendmmsg(this.#fd, this.#vec.messageAddress(i), n - i, 0)
      this.#counters[TX.batches]! += 1
      if (sent > 0) {
        i += sent
        continue
      }
      if (this.#c.errno() === EINTR) continue
      this.#counters[TX_DROP['send-error']]! += 1
      i++
    }
    this.#count = 0
    this.#vec.reset()
  }
}

class TapWriter implements FrameSink {
  readonly #c: Libc
  readonly #fd: number
  readonly #addresses: AddressCache
  readonly #iov: { buf: Buffer; address: number }
  readonly #iovView: DataView

  constructor(c: Libc, fd: number) {
    this.#c = c
    this.#fd = fd
    this.#addresses = new AddressCache(c)
    this.#iov = c.allocNative(MAX_WRITE_PARTS * 16)
    this.#iovView = new DataView(this.#iov.buf.buffer, this.#iov.buf.byteOffset, MAX_WRITE_PARTS * 16)
  }

  writeParts(bufs: readonly Buffer[], offsets: Int32Array, lengths: Int32Array, count: number): boolean {
    const v = this.#iovView
    for (let i = 0; i < count; i++) {
      const address = this.#addresses.of(bufs[i]!) + offsets[i]!
      v.setUint32(i * 16, address % 0x100000000, true)
      v.setUint32(i * 16 + 4, Math.floor(address / 0x100000000), true)
      v.setUint32(i * 16 + 8, lengths[i]!, true)
      v.setUint32(i * 16 + 12, 0, true)
    }
    for (;;) {
      if (this.#c.writev(this.#fd, this.#iov.address, count) >= 0) return true
      if (this.#c.errno() !== EINTR) return false
    }
  }

  write(buf: Buffer, offset: number, length: number): boolean {
    const address = this.#addresses.of(buf) + offset
    for (;;) {
      if (this.#c.write(this.#fd, address, length) >= 0) return true
      if (this.#c.errno() !== EINTR) return false
    }
  }
}

/** A path's peer table kept in step with the published one (one Atomics.load when unchanged). */
function peerFollower(shared: Int32Array, apply: (table: PeerTable) => void): () => void {
  let seen = -1
  return () => {
    const seq = publishedSequence(shared)
    if (seq === seen) return
    const published = readPublishedPeers(shared)
    if (published) {
      seen = published.sequence
      apply(published.table)
    }
  }
}

/** TAP -> UDP: reads until the TAP is drained (or the slots are full), then sends the batch. */
class TxPump {
  readonly #c: Libc
  readonly #fd: number
  readonly #counters: Float64Array
  readonly #sender: MmsgSender
  readonly path: EncapPath
  readonly #slots: { buf: Buffer; address: number }
  // Without a vnet header, reads land 10 bytes in: the path treats that gap as an empty header.
  readonly #readOffset: number
  /** Set after an unexpected error: the caller backs off. */
  failed = false
  /** The last pump() emptied the TAP (it ended on EAGAIN, not on a full batch). */
  drained = true

  constructor(c: Libc, d: DatapathWorkerData) {
    this.#c = c
    this.#fd = d.tapFd
    this.#counters = d.counters
    this.#sender = new MmsgSender(c, d.udpFd, new SendVector(c.allocNative(SendVector.bytes(TX_BATCH, TX_IOVECS)), TX_BATCH, TX_IOVECS), d.port, d.counters)
    this.path = new EncapPath({ vni: d.vni, vnetHdr: d.vnetHdr, udpGso: d.udpGso, counters: d.counters, sink: this.#sender })
    this.#slots = c.allocNative(TX_SLOTS * SLOT_BYTES)
    this.#readOffset = d.vnetHdr ? 0 : 10
  }

  /** Returns how many frames were read. */
  pump(): number {
    const c = this.#c
    let slot = 0
    let frames = 0
    this.failed = false
    this.drained = false
    while (slot < TX_SLOTS) {
      const base = slot * SLOT_BYTES
      const n = c.read(this.#fd, this.#slots.address + base + this.#readOffset, SLOT_BYTES - this.#readOffset)
      if (n < 0) {
        const err = c.errno()
        if (err === EINTR) continue
        if (err !== EAGAIN) {
          this.#counters[TX_DROP['tap-read-error']]! += 1
          this.failed = true
        }
        this.drained = true
        break
      }
      frames++
      try {
        if (this.path.frame(this.#slots.buf, base, n + this.#readOffset)) slot++
      } catch (e) {
        this.#counters[TX_DROP['internal-error']]! += 1
        reportOnce(e)
      }
    }
    this.#sender.flush()
    return frames
  }
}

/** UDP -> TAP: one recvmmsg batch, validated, coalesced and written. */
class RxPump {
  readonly #c: Libc
  readonly #fd: number
  readonly #counters: Float64Array
  readonly path: DecapPath
  readonly #slots: { buf: Buffer; address: number }
  readonly #vec: RecvVector
  failed = false
  /** The last pump() emptied the socket (recvmmsg returned less than a full batch). */
  drained = true
  #prepared = RX_BATCH

  constructor(c: Libc, d: DatapathWorkerData) {
    this.#c = c
    this.#fd = d.udpFd
    this.#counters = d.counters
    this.path = new DecapPath({
      vni: d.vni, vnetHdr: d.vnetHdr, coalesce: d.coalesce, verifyChecksums: d.verifyChecksums, innerMtu: d.innerMtu, counters: d.counters,
      tap: new TapWriter(c, d.tapFd),
    })
    this.#slots = c.allocNative(RX_BATCH * SLOT_BYTES)
    this.#vec = new RecvVector(c.allocNative(RecvVector.bytes(RX_BATCH)), RX_BATCH, this.#slots.address + RECV_HEADROOM, SLOT_BYTES, SLOT_BYTES - RECV_HEADROOM)
  }

  /** Returns how many messages were received. */
  pump(): number {
    const c = this.#c
    const vec = this.#vec
    this.failed = false
    vec.prepare(this.#prepared) // only what the kernel wrote last time
    this.#prepared = 0
    let n = c.recvmmsg(this.#fd, vec.address, RX_BATCH, MSG_DONTWAIT, 0)
    while (n < 0 && c.errno() === EINTR) n = c.recvmmsg(this.#fd, vec.address, RX_BATCH, MSG_DONTWAIT, 0)
    this.drained = n < RX_BATCH
    if (n < 0) {
      if (c.errno() !== EAGAIN) {
        this.#counters[RX_DROP['recv-error']]! += 1
        this.failed = true
      }
      return 0
    }
    this.#prepared = n
    this.#counters[RX.batches]! += 1
    try {
      for (let i = 0; i < n; i++) {
        this.path.message(this.#slots.buf, i * SLOT_BYTES + RECV_HEADROOM, vec.messageLength(i), vec.sourceIp(i), vec.groSize(i), vec.flags(i))
      }
      this.path.flush()
    } catch (e) {
      this.#counters[RX_DROP['internal-error']]! += 1
      reportOnce(e)
    }
    return n
  }
}

/** How long after the last packet the keep-warm rounds go on (ms). */
const KEEP_WARM_FOR_MS = 1000

/**
 * Keeps the data path's code and memory warm while traffic is light but
 * recent (why, with figures: keep-warm-frames.ts). A round sends an ICMP echo
 * and a small TCP segment through this thread's own classes: written into a
 * socket pair that stands in for the TAP, read and encapsulated by a TxPump,
 * sent to a UDP socket on 127.0.0.1 in the node's namespace, received,
 * validated and written back into the pair by an RxPump, and read once more.
 * The same code and the same kinds of syscalls as a ping; measured here, a
 * round costs about 15 syscalls and 100-150 us of CPU, 2-3% of a CPU per node
 * at one round per 5 ms. Nothing reaches a device or another namespace
 * (tcpdump -i lo in the node's namespace shows the datagrams), and the
 * counters are its own (only keepWarmRounds is counted). Rounds run only
 * after `keepWarmMs` without traffic and stop KEEP_WARM_FOR_MS after the last
 * packet, so an idle node costs nothing and a busy one never runs them.
 */
class KeepWarm {
  readonly #c: Libc
  readonly #tx: TxPump
  readonly #rx: RxPump
  readonly #tapEnd: number
  readonly #frameEnd: number
  readonly #udpFd: number
  readonly #frames: { buf: Buffer; address: number }[]
  readonly #rounds: Float64Array
  readonly #scratch: { buf: Buffer; address: number }

  /** Throws when the socket pair or the loopback socket cannot be had (e.g. 127.0.0.1:port is taken). */
  constructor(c: Libc, d: DatapathWorkerData) {
    this.#c = c
    const pair = c.socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC)
    if (!pair) throw new Error(`socketpair: ${errnoText(c, c.errno())}`)
    try {
      this.#udpFd = openUdpSocket(c, '127.0.0.1', d.port, { bufferBytes: 1 << 18, offloads: d.udpGso }).fd
    } catch (e) {
      closeSync(pair[0])
      closeSync(pair[1])
      throw e
    }
    ;[this.#tapEnd, this.#frameEnd] = pair
    this.#rounds = d.counters
    this.#scratch = c.allocNative(SLOT_BYTES)
    // Counters of its own: the rounds are not traffic.
    const own: DatapathWorkerData = { ...d, tapFd: this.#tapEnd, udpFd: this.#udpFd, counters: new Float64Array(d.counters.length) }
    this.#tx = new TxPump(c, own)
    // What the decapsulator writes into the pair, the encapsulator's side reads.
    this.#rx = new RxPump(c, { ...own, tapFd: this.#frameEnd })
    const table = PeerTable.from([{ mac: formatMac(KEEP_WARM_PEER_MAC), underlayIP: '127.0.0.1', partialChecksums: true }])
    this.#tx.path.peers = this.#rx.path.peers = table
    this.#frames = keepWarmFrames(d.vnetHdr).map(f => {
      const native = c.allocNative(f.length)
      f.copy(native.buf)
      return native
    })
  }

  round(): void {
    const c = this.#c
    for (const f of this.#frames) c.write(this.#frameEnd, f.address, f.buf.length)
    this.#tx.pump()
    this.#rx.pump()
    // The frames are back in the pair: take them out, or they would go round again.
    while (c.read(this.#tapEnd, this.#scratch.address, SLOT_BYTES) >= 0);
    this.#rounds[TX.keepWarmRounds]! += 1
  }

  close(): void {
    closeSync(this.#tapEnd)
    closeSync(this.#frameEnd)
    closeSync(this.#udpFd)
  }
}

/**
 * Applies a placement mode to this thread (placement.ts): latency binds it to
 * the shared CPU at real-time priority, throughput gives it back to every CPU
 * and the normal scheduler. A refusal (a cpuset, no CAP_SYS_NICE) is reported
 * once and the thread carries on where it is.
 */
function placer(d: DatapathWorkerData, c: Libc): ((mode: PlacementMode) => void) | undefined {
  if (d.cpu < 0 && d.realtime === 0) return undefined
  const allCpus = c.threadCpus()
  const warned = new Set<string>()
  const check = (result: number, what: string) => {
    if (result >= 0 || warned.has(what)) return
    warned.add(what)
    parentPort?.postMessage({ warning: `cannot ${what}: ${errnoText(c, c.errno())}; the data path runs where and as the scheduler decides` })
  }
  return mode => {
    const latency = mode === 'latency'
    if (d.cpu >= 0) check(c.setThreadCpus(latency ? [d.cpu] : allCpus), latency ? `bind the data path to CPU ${d.cpu}` : 'unbind the data path')
    if (d.realtime > 0) check(c.setThreadRealtime(latency ? d.realtime : 0), latency ? `give the data path real-time priority ${d.realtime}` : 'end real-time priority')
    parentPort?.postMessage({ placement: mode })
  }
}

function run(d: DatapathWorkerData, c: Libc): void {
  const place = placer(d, c)
  const governor = place ? new PlacementGovernor(performance.now()) : undefined
  place?.('latency')
  const tx = d.directions !== 'rx' ? new TxPump(c, d) : undefined
  const rx = d.directions !== 'tx' ? new RxPump(c, d) : undefined
  const followPeers = peerFollower(d.peers, table => {
    if (tx) tx.path.peers = table
    if (rx) rx.path.peers = table
  })
  // struct pollfd[]: { int fd; short events; short revents }
  const fds = [...(tx ? [d.tapFd] : []), ...(rx ? [d.udpFd] : [])]
  const pollfds = c.allocNative(8 * fds.length)
  fds.forEach((fd, i) => {
    pollfds.buf.writeInt32LE(fd, i * 8)
    pollfds.buf.writeInt16LE(POLLIN, i * 8 + 4)
  })
  const txRevents = 6
  const rxRevents = tx ? 14 : 6
  let keepWarm: KeepWarm | undefined
  if (d.keepWarmMs > 0 && d.directions === 'both') {
    try {
      keepWarm = new KeepWarm(c, d)
    } catch (e) {
      parentPort?.postMessage({ warning: `no keep-warm rounds: ${(e as Error).message}` })
    }
  }
  let lastTraffic = -Infinity
  // Which side may have something to read: both at first, then what poll()
  // reported, plus whatever a pump left behind.
  let txReady = true
  let rxReady = true
  parentPort?.postMessage({ ready: d.directions })
  while (Atomics.load(d.control, 0) === 0) {
    followPeers()
    // One clock read per turn serves the governor and the keep-warm rounds.
    const turnStart = governor || keepWarm ? performance.now() : 0
    if (governor) {
      const change = governor.tick(turnStart)
      if (change) place!(change)
    }
    let moved = 0
    if (rx && rxReady) {
      moved = rx.pump()
      // Frames we wrote into the TAP often come straight back as replies
      // (the node answers within the write): look at the TAP too.
      if (moved > 0) txReady = true
    }
    if (tx && txReady) moved += tx.pump()
    if (moved > 0) lastTraffic = turnStart
    if (tx?.failed || rx?.failed) {
      c.poll(0, 0, ERROR_BACKOFF_MS) // e.g. EIO while the device is down: do not spin
      txReady = rxReady = true
      continue
    }
    txReady = tx !== undefined && txReady && !tx.drained
    rxReady = rx !== undefined && rxReady && !rx.drained
    if (txReady || rxReady) continue
    // Both sides drained: sleep until either has something. (Polling a
    // little longer before sleeping was measured, plain and with
    // sched_yield: on a busy 2-core machine it costs more than the wake-up it
    // saves, because it takes the CPU from the very processes that produce
    // the next packet.)
    const sleepStart = governor || keepWarm ? performance.now() : 0
    const warm = keepWarm !== undefined && sleepStart - lastTraffic < KEEP_WARM_FOR_MS
    const ready = c.poll(pollfds.address, fds.length, warm ? d.keepWarmMs : POLL_MS)
    if (governor) governor.slept(performance.now() - sleepStart)
    if (ready === 0 && warm) {
      try {
        keepWarm!.round()
      } catch (e) {
        reportOnce(e)
      }
    }
    if (ready > 0) {
      txReady = tx !== undefined && pollfds.buf.readInt16LE(txRevents) !== 0
      rxReady = rx !== undefined && pollfds.buf.readInt16LE(rxRevents) !== 0
    } else if (ready < 0) {
      txReady = rxReady = true
    }
  }
  keepWarm?.close()
}

let reported = false
function reportOnce(e: unknown): void {
  if (reported) return
  reported = true
  parentPort?.postMessage({ warning: `data path error (counted as internal-error, later ones only counted): ${(e as Error).stack ?? String(e)}` })
}

const data = workerData as DatapathWorkerData
const c = libc()
try {
  run(data, c)
} catch (e) {
  parentPort?.postMessage({ fatal: `${data.directions} thread failed: ${(e as Error).stack ?? String(e)}; ${errnoText(c, c.errno())}` })
}
