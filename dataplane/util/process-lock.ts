// A cross-process lock held by binding an abstract unix socket (Linux): binding is
// atomic, and the kernel releases the name the instant the holder dies, so a crash
// never leaves a stale lock behind (lock files would need stale-pid guessing).
// Abstract names are per network namespace; kubewire's CLI runs in the root one.
import { createServer, type Server } from 'node:net'
import { KubewireError } from '../errors.ts'

export interface LockOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number
  /** Used in the error when the lock cannot be had. */
  what?: string
}

function tryBind(name: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(null) : reject(e)))
    server.listen({ path: `\0${name}` }, () => {
      server.unref() // holding a lock must not keep the process alive by itself
      resolve(server)
    })
  })
}

/** Run `fn` while holding the named lock. */
export async function withLock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  let delay = 2
  let server = await tryBind(name)
  while (!server) {
    if (Date.now() > deadline) {
      throw new KubewireError('ELOCKED', `timed out waiting for ${options.what ?? name}: another kubewire command holds it`)
    }
    await new Promise(r => setTimeout(r, delay))
    delay = Math.min(delay * 2, 50)
    server = await tryBind(name)
  }
  try {
    return await fn()
  } finally {
    await new Promise<void>(r => server.close(() => r()))
  }
}
