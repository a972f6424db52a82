// Forwarding for names outside the cluster zone, kept simple: the client's
// query goes over UDP to one upstream the user configured (round robin), with
// an ID of ours; the answer comes back with the client's ID, or SERVFAIL
// after the timeout. No cache, no retries, no TCP to the upstream.
//
// Why so little: the cluster's own names are the job; forwarding exists so
// that a pod can resolve an outside name when (and only when) the user named
// an upstream. An answer is accepted only from the upstream it was sent to,
// with our ID and the same question, so nothing else can inject answers.

import dgram from 'node:dgram'
import { KubewireError } from '../errors.ts'
import { parseIpv4 } from './zone.ts'
import { HEADER_SIZE, parseQuery, Query, type ResponseLimits, RCODE_RESPONSE_MAX, RCODE_SERVFAIL, writeRcode } from './wire.ts'

export interface Upstream {
  address: string
  port: number
}

/** `ip` or `ip:port` (port 53 by default). */
export function parseUpstream(text: string): Upstream {
  const m = /^([0-9.]+)(?::([0-9]{1,5}))?$/.exec(text.trim())
  const port = m?.[2] === undefined ? 53 : Number(m[2])
  if (!m || !parseIpv4(m[1]!) || port < 1 || port > 65535) {
    throw new KubewireError('EBADUPSTREAM', `invalid DNS upstream "${text}": expected an IPv4 address, optionally with :port`)
  }
  return { address: m[1]!, port }
}

interface Pending {
  clientId: number
  upstream: Upstream
  /** The question bytes (name, type, class), lowercased, to match the answer. */
  question: string
  query: Buffer
  deadline: number
  reply: (response: Buffer) => void
}

export interface ForwarderOptions {
  timeoutMs?: number
  /** Queries in flight at most; beyond, SERVFAIL at once. */
  maxPending?: number
  /** The UDP payload size our SERVFAIL responses advertise. */
  advertisedSize?: number
}

export interface ForwardCounters {
  forwarded: number
  servfail: number
}

export class Forwarder {
  private socket: dgram.Socket | undefined
  private readonly pending = new Map<number, Pending>()
  private next = 0
  private sweeper: NodeJS.Timeout | undefined
  private readonly timeoutMs: number
  private readonly maxPending: number
  private readonly query = new Query()
  private readonly limits: ResponseLimits

  constructor(private readonly upstreams: Upstream[], private readonly counters: ForwardCounters, options: ForwarderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 2000
    this.maxPending = options.maxPending ?? 4096
    this.limits = { maxSize: RCODE_RESPONSE_MAX, advertisedSize: options.advertisedSize ?? 1232, recursion: true }
  }

  get inFlight(): number { return this.pending.size }

  /** Send `msg` (a parsed, well-formed query) upstream; `reply` gets the answer or SERVFAIL, exactly once. */
  forward(msg: Buffer, reply: (response: Buffer) => void): void {
    const upstream = this.upstreams[this.next++ % this.upstreams.length]
    if (!upstream || this.pending.size >= this.maxPending) {
      reply(this.servfail(msg))
      return
    }
    let id = (Math.random() * 0x10000) | 0
    while (this.pending.has(id)) id = (id + 1) & 0xffff
    const query = Buffer.from(msg)
    const clientId = query.readUInt16BE(0)
    query.writeUInt16BE(id, 0)
    const status = parseQuery(query, this.query)
    const question = status === 0 ? query.toString('latin1', HEADER_SIZE, this.query.questionEnd).toLowerCase() : ''
    this.pending.set(id, { clientId, upstream, question, query, deadline: Date.now() + this.timeoutMs, reply })
    this.counters.forwarded++
    this.ensureSocket().send(query, upstream.port, upstream.address)
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), Math.max(10, this.timeoutMs / 4))
      this.sweeper.unref()
    }
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = undefined
    for (const [id, p] of this.pending) {
      this.pending.delete(id)
      p.reply(this.servfail(p.query, p.clientId))
    }
    this.socket?.close()
    this.socket = undefined
  }

  private ensureSocket(): dgram.Socket {
    if (this.socket) return this.socket
    const s = dgram.createSocket('udp4')
    s.on('message', (msg, rinfo) => this.onAnswer(msg, rinfo))
    s.on('error', () => { /* an ICMP error or a failed send: the query times out */ })
    s.bind(0)
    s.unref()
    this.socket = s
    return s
  }

  private onAnswer(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < HEADER_SIZE || !(msg[2]! & 0x80)) return
    const id = msg.readUInt16BE(0)
    const p = this.pending.get(id)
    if (!p || rinfo.address !== p.upstream.address || rinfo.port !== p.upstream.port) return
    if (p.question !== '' && msg.toString('latin1', HEADER_SIZE, HEADER_SIZE + p.question.length).toLowerCase() !== p.question) return
    this.pending.delete(id)
    const answer = Buffer.from(msg)
    answer.writeUInt16BE(p.clientId, 0)
    p.reply(answer)
  }

  private sweep(): void {
    const now = Date.now()
    for (const [id, p] of this.pending) {
      if (p.deadline > now) continue
      this.pending.delete(id)
      p.reply(this.servfail(p.query, p.clientId))
    }
    if (this.pending.size === 0 && this.sweeper) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }

  private servfail(msg: Buffer, clientId?: number): Buffer {
    this.counters.servfail++
    parseQuery(msg, this.query)
    const out = Buffer.allocUnsafe(RCODE_RESPONSE_MAX)
    const end = writeRcode(msg, this.query, RCODE_SERVFAIL, this.limits, out, 0)
    if (clientId !== undefined) out.writeUInt16BE(clientId, 0)
    return out.subarray(0, end)
  }
}
