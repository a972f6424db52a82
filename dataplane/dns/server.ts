// The cluster DNS server: UDP and TCP on one address and port, answering
// from the prepared zone (responder.ts), forwarding outside names only to
// upstreams the user configured and only for allowed clients.
//
// Why this shape: the zone (cluster-zone.ts) is updated by the API glue with
// setZone() or one Service at a time; queries never wait for an update (a
// large rebuild happens in slices and is swapped in whole). Every path that
// reads client bytes is wrapped so that nothing a client sends can crash the
// process: the worst it gets is FORMERR or a silent, counted drop.
//
// Safety (DESIGN.md): with no upstream configured nothing is ever sent off
// the machine; names outside the zone get REFUSED. Clients outside
// `allowedSources` are never recursed for, whatever the upstreams.

import dgram from 'node:dgram'
import net from 'node:net'
import { KubewireError } from '../errors.ts'
import { type Cidr, parseCidr } from '../ipam/cidr.ts'
import { ClusterZone, type ZoneUpdate } from './cluster-zone.ts'
import { Forwarder, parseUpstream } from './forwarder.ts'
import { type DnsCounters, DROP, newCounters, OUTSIDE, Responder } from './responder.ts'
import { FrameReader } from './tcp-frames.ts'
import { BatchUdp, batchUdpAvailable } from './udp-batch.ts'
import { type DnsService, parseIpv4, type ZoneSpec } from './zone.ts'

export interface DnsServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  address?: string
  /** Port for UDP and TCP (default 53; 0 picks a free one for both). */
  port?: number
  /** Upstream servers for names outside the zone, `ip` or `ip:port`; none (default): REFUSED. */
  upstreams?: string[]
  /** CIDRs of clients that may use the upstreams (e.g. the pod CIDR and the node range); default none. */
  allowedSources?: string[]
  /** Largest UDP response, advertised in EDNS (default 1232). */
  maxUdpPayload?: number
  /** A TCP connection idle this long is closed (default 10 s). */
  tcpIdleTimeoutMs?: number
  /** TCP connections at once (default 1000). */
  maxTcpConnections?: number
  /** SERVFAIL when an upstream has not answered in this time (default 2 s). */
  forwardTimeoutMs?: number
  /** The zone's settings until the first setZone (domain, TTL, pod mode, nameserver). */
  zone?: Pick<ZoneSpec, 'domain' | 'ttl' | 'podRecords' | 'nameserverIP'>
  /**
   * UDP threads with recvmmsg/sendmmsg (udp-batch-worker.ts), sharing the
   * port with SO_REUSEPORT when more than one; 0: a Node dgram socket on the
   * main thread. Default 1 where the libc binding loads (Linux x64/arm64), else 0.
   */
  udpThreads?: number
}

/** A TCP connection holding this much unsent output is closed (it does not read its answers). */
const TCP_MAX_BACKLOG = 1 << 20

export class DnsServer {
  readonly zone: ClusterZone
  private readonly own: DnsCounters = newCounters()
  private readonly responder: Responder
  private readonly forwarder: Forwarder | undefined
  private readonly allowed: Cidr[]
  private readonly options: Required<Pick<DnsServerOptions, 'address' | 'port' | 'tcpIdleTimeoutMs' | 'maxTcpConnections'>>
  private readonly batch: BatchUdp | undefined
  private udp: dgram.Socket | undefined
  private tcp: net.Server | undefined
  private readonly connections = new Set<net.Socket>()
  private boundPort = 0
  /** Responses are written here first (room for the largest TCP message and its length). */
  private readonly scratch = Buffer.allocUnsafe(2 + 65535)

  constructor(options: DnsServerOptions = {}) {
    const upstreams = options.upstreams ?? []
    const parsedUpstreams = upstreams.map(parseUpstream)
    this.allowed = (options.allowedSources ?? []).map(c => parseCidr(c, 'allowed DNS source range'))
    this.options = {
      address: options.address ?? '127.0.0.1',
      port: options.port ?? 53,
      tcpIdleTimeoutMs: options.tcpIdleTimeoutMs ?? 10_000,
      maxTcpConnections: options.maxTcpConnections ?? 1000,
    }
    if (!parseIpv4(this.options.address)) throw new KubewireError('EBADADDRESS', `invalid DNS listen address "${this.options.address}"`)
    const recursion = upstreams.length > 0
    // The main thread's zone answers TCP; each change to it is mirrored to the UDP threads (created below).
    this.zone = new ClusterZone(options.zone, op => this.batch ? this.batch.apply(op) : Promise.resolve())
    this.responder = new Responder(this.zone, this.own, { maxUdpPayload: options.maxUdpPayload, recursion })
    if (recursion) {
      this.forwarder = new Forwarder(parsedUpstreams, this.own, { timeoutMs: options.forwardTimeoutMs, advertisedSize: options.maxUdpPayload })
    }
    const threads = options.udpThreads ?? (batchUdpAvailable() ? 1 : 0)
    if (threads > 0) {
      this.batch = new BatchUdp({
        threads, address: this.options.address, upstreams, allowed: this.allowed.map(c => [c.base, c.size]),
        maxUdpPayload: options.maxUdpPayload, forwardTimeoutMs: options.forwardTimeoutMs, zone: options.zone ?? {},
      })
    }
  }

  /** The port UDP and TCP listen on (after start()). */
  get port(): number { return this.boundPort }
  get address(): string { return this.options.address }

  /** What the server counted so far, all threads summed (a fresh object each time). */
  get counters(): DnsCounters {
    const sum = { ...this.own }
    this.batch?.addCountersTo(sum)
    return sum
  }

  /** heapUsed of the main thread and of each UDP thread (after a GC where --expose-gc allows). */
  async heapUsed(): Promise<{ main: number; udpThreads: number[] }> {
    const gc = (globalThis as { gc?: () => void }).gc
    if (gc) gc()
    const main = process.memoryUsage().heapUsed
    return { main, udpThreads: (await this.batch?.heapUsed()) ?? [] }
  }

  /** Bind TCP and UDP on the same port (port 0: a free one for both). */
  async start(): Promise<void> {
    const { address, port } = this.options
    for (let attempt = 0; ; attempt++) {
      const tcp = await listenTcp(address, port, this.options.maxTcpConnections, s => this.onConnection(s))
      const chosen = (tcp.address() as net.AddressInfo).port
      try {
        if (this.batch) await this.batch.start(chosen)
        else this.udp = await bindUdp(address, chosen, (msg, rinfo) => this.onDatagram(msg, rinfo), () => { this.own.dropped++ })
      } catch (err) {
        await new Promise(resolve => tcp.close(resolve))
        // Port 0: the free TCP port may be taken for UDP; try another.
        if (port === 0 && attempt < 20 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue
        throw err
      }
      this.tcp = tcp
      this.boundPort = chosen
      return
    }
  }

  async close(): Promise<void> {
    this.forwarder?.close()
    for (const s of this.connections) s.destroy()
    await Promise.all([
      this.batch?.stop(),
      new Promise<void>(resolve => (this.udp ? this.udp.close(() => resolve()) : resolve())),
      new Promise<void>(resolve => (this.tcp ? this.tcp.close(() => resolve()) : resolve())),
    ])
    this.udp = undefined
    this.tcp = undefined
  }

  /**
   * Make the zone `spec` (only what changed is rebuilt). Resolves when every
   * thread serves the new answers; `ms` is that time, the DNS programming latency.
   */
  setZone(spec: ZoneSpec): Promise<ZoneUpdate> {
    return this.zone.setZone(spec)
  }

  /** Add or replace one Service. */
  updateService(service: DnsService): Promise<ZoneUpdate> {
    return this.zone.updateService(service)
  }

  removeService(namespace: string, name: string): Promise<ZoneUpdate> {
    return this.zone.removeService(namespace, name)
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const c = this.own
    c.received++
    const out = this.scratch
    let end: number
    try {
      end = this.responder.answer(msg, false, out, 0)
      if (end === OUTSIDE) end = this.outside(msg, false, rinfo.address, r => this.sendUdp(r, rinfo), out, 0)
    } catch {
      c.dropped++
      return
    }
    if (end !== DROP) this.sendUdp(Buffer.from(out.subarray(0, end)), rinfo)
  }

  private sendUdp(response: Buffer, rinfo: dgram.RemoteInfo): void {
    this.own.answered++
    this.udp?.send(response, rinfo.port, rinfo.address)
  }

  // A name outside the zone: forward for an allowed client (answer later), else REFUSED now.
  private outside(msg: Buffer, tcp: boolean, client: string, later: (response: Buffer) => void, out: Buffer, at: number): number {
    if (!this.forwarder || !this.isAllowed(client)) return this.responder.refuse(msg, tcp, out, at)
    this.forwarder.forward(msg, later)
    return DROP
  }

  private isAllowed(ip: string): boolean {
    const parts = parseIpv4(ip.startsWith('::ffff:') ? ip.slice(7) : ip)
    if (!parts) return false
    const n = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0
    for (const c of this.allowed) if (n >= c.base && n < c.base + c.size) return true
    return false
  }

  private onConnection(socket: net.Socket): void {
    this.connections.add(socket)
    const reader = new FrameReader()
    const c = this.own
    const client = socket.remoteAddress ?? ''
    const write = (framed: Buffer): void => {
      if (socket.destroyed) return
      c.answered++
      socket.write(framed)
      if (socket.writableLength > TCP_MAX_BACKLOG) socket.destroy()
    }
    const later = (response: Buffer): void => {
      const framed = Buffer.allocUnsafe(response.length + 2)
      framed.writeUInt16BE(response.length, 0)
      response.copy(framed, 2)
      write(framed)
    }
    socket.setNoDelay(true)
    socket.setTimeout(this.options.tcpIdleTimeoutMs, () => socket.destroy())
    socket.on('error', () => socket.destroy())
    socket.on('close', () => this.connections.delete(socket))
    socket.on('data', chunk => {
      try {
        reader.push(chunk, msg => {
          c.received++
          c.tcp++
          const out = this.scratch
          let end = this.responder.answer(msg, true, out, 2)
          if (end === OUTSIDE) end = this.outside(msg, true, client, later, out, 2)
          if (end === DROP) return
          out.writeUInt16BE(end - 2, 0)
          write(Buffer.from(out.subarray(0, end)))
        })
      } catch {
        c.dropped++
        socket.destroy()
      }
    })
  }
}

function bindUdp(
  address: string, port: number, onMessage: (msg: Buffer, rinfo: dgram.RemoteInfo) => void, onError: () => void,
): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    // IP literals only: a lookup that answers at once saves a tick per response.
    const socket = dgram.createSocket({ type: 'udp4', lookup: (host, _opts, cb) => cb(null, host, 4) })
    socket.once('error', reject)
    socket.bind(port, address, () => {
      socket.off('error', reject)
      socket.on('error', onError)
      socket.on('message', onMessage)
      resolve(socket)
    })
  })
}

function listenTcp(address: string, port: number, maxConnections: number, onConnection: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer(onConnection)
    server.maxConnections = maxConnections
    server.once('error', reject)
    server.listen({ port, host: address, exclusive: true }, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}
