// The server's side of its UDP threads (udp-batch-worker.ts): start them,
// hand every zone change to each, sum their counters.
//
// A zone change resolves once every thread has applied it, so the server's
// setZone() means "served everywhere". Changes made before the threads run
// are kept and replayed in order when they start (every change is absolute
// for what it names, so replaying is exact).

import { closeSync, writeSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import koffi from 'koffi'
import { libc } from '../native/libc.ts'
import type { ZoneOp } from './cluster-zone.ts'
import { addCounters, COUNTER_NAMES, type DnsCounters } from './responder.ts'
import type { BatchWorkerData, WorkerReply, WorkerRequest } from './udp-batch-worker.ts'

/** Whether this machine can run the batched UDP path (Linux on x64/arm64 with the libc binding). */
export function batchUdpAvailable(): boolean {
  if (process.platform !== 'linux' || !(process.arch === 'x64' || process.arch === 'arm64')) return false
  try {
    libc()
    return true
  } catch {
    return false
  }
}

// Workers load TypeScript through tsx like this process; a worker does not
// inherit the loader hooks, so a small bootstrap registers them first.
function bootstrap(): string {
  const tsxApi = import.meta.resolve('tsx/esm/api')
  const workerUrl = new URL('./udp-batch-worker.ts', import.meta.url).href
  return `import(${JSON.stringify(tsxApi)}).then(m => { m.register(); return import(${JSON.stringify(workerUrl)}) })`
}

const EFD_CLOEXEC = 0x80000
const EFD_NONBLOCK = 0x800
let eventfdCall: ((initval: number, flags: number) => number) | undefined

/** A new eventfd (the threads' doorbell): the one call the overlay's libc binding does not have. */
function eventfd(): number {
  eventfdCall ??= koffi.load('libc.so.6').func('int eventfd(unsigned int initval, int flags)') as (initval: number, flags: number) => number
  const fd = eventfdCall(0, EFD_CLOEXEC | EFD_NONBLOCK)
  if (fd < 0) throw new Error(`eventfd failed: errno ${koffi.errno()}`)
  return fd
}

const ONE = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0])

interface Thread {
  worker: Worker
  counters: Float64Array
  exited: Promise<void>
  doorbell: number
}

export type BatchUdpOptions = Omit<BatchWorkerData, 'port' | 'counters' | 'control' | 'reusePort' | 'doorbell'> & { threads: number }

function ring(t: Thread): void {
  try {
    writeSync(t.doorbell, ONE)
  } catch {
    // EAGAIN: the counter is already set, the thread will wake anyway.
  }
}

export class BatchUdp {
  private threads: Thread[] = []
  private readonly control = new Int32Array(new SharedArrayBuffer(4))
  private seq = 0
  private readonly waiting = new Map<number, { left: number; resolve: (heap: number[]) => void; heap: number[] }>()
  private backlog: ZoneOp[] | undefined = []

  constructor(private readonly options: BatchUdpOptions) {}

  /** Start the threads on `port`; rejects (with the thread's error code, e.g. EADDRINUSE) if one cannot bind. */
  async start(port: number): Promise<void> {
    const n = Math.max(1, this.options.threads)
    const started: Thread[] = []
    const { threads: _threads, ...rest } = this.options
    try {
      for (let i = 0; i < n; i++) {
        const counters = new Float64Array(new SharedArrayBuffer(8 * COUNTER_NAMES.length))
        const doorbell = eventfd()
        const data: BatchWorkerData = { ...rest, port, reusePort: n > 1, counters, control: this.control, doorbell }
        const worker = new Worker(bootstrap(), { eval: true, workerData: data, name: `kubewire-dns-udp-${i}` })
        const exited = new Promise<void>(resolve => worker.once('exit', () => { closeSync(doorbell); resolve() }))
        const thread: Thread = { worker, counters, exited, doorbell }
        started.push(thread)
        await new Promise<void>((resolve, reject) => {
          const onMessage = (m: WorkerReply): void => {
            if ('ready' in m) resolve()
            else if ('error' in m) reject(Object.assign(new Error(m.error), { code: m.code }))
          }
          worker.once('message', onMessage)
          worker.once('error', reject)
          void thread.exited.then(() => reject(new Error('DNS UDP thread exited before it was ready')))
        })
        worker.removeAllListeners('message')
        worker.removeAllListeners('error')
        worker.on('message', (m: WorkerReply) => this.onReply(m))
        worker.on('error', () => { /* the thread died: its port share goes quiet; counters stay */ })
      }
    } catch (err) {
      Atomics.store(this.control, 0, 1)
      await Promise.all(started.map(t => t.worker.terminate()))
      throw err
    }
    this.threads = started
    const backlog = this.backlog ?? []
    this.backlog = undefined
    for (const op of backlog) void this.apply(op)
  }

  /** Apply a zone change in every thread; resolves when all serve it. */
  apply(op: ZoneOp): Promise<void> {
    if (this.backlog) {
      this.backlog.push(op)
      return Promise.resolve()
    }
    return this.ask({ zoneOp: op }).then(() => undefined)
  }

  /** Each thread's heapUsed (after a GC when the process runs with --expose-gc). */
  heapUsed(): Promise<number[]> {
    return this.ask({ heap: true })
  }

  addCountersTo(into: DnsCounters): void {
    for (const t of this.threads) addCounters(into, t.counters)
  }

  async stop(): Promise<void> {
    Atomics.store(this.control, 0, 1)
    for (const t of this.threads) ring(t)
    await Promise.all(this.threads.map(async t => {
      const timer = setTimeout(() => void t.worker.terminate(), 2000)
      await t.exited
      clearTimeout(timer)
    }))
    this.threads = []
    for (const w of this.waiting.values()) w.resolve(w.heap)
    this.waiting.clear()
  }

  private ask(request: { zoneOp: ZoneOp } | { heap: true }): Promise<number[]> {
    if (this.threads.length === 0) return Promise.resolve([])
    const seq = ++this.seq
    return new Promise(resolve => {
      this.waiting.set(seq, { left: this.threads.length, resolve, heap: [] })
      for (const t of this.threads) {
        t.worker.postMessage({ seq, ...request } as WorkerRequest)
        ring(t)
      }
    })
  }

  private onReply(m: WorkerReply): void {
    if (!('seq' in m)) return
    const w = this.waiting.get(m.seq)
    if (!w) return
    if (m.heapUsed !== undefined) w.heap.push(m.heapUsed)
    if (--w.left === 0) {
      this.waiting.delete(m.seq)
      w.resolve(w.heap)
    }
  }
}
