// The one place that spawns processes (`ip`, `nft`, `unshare`, ...): always an argv
// array, never a shell string; failures throw a CommandError carrying argv, exit
// code and stderr. Tests can swap in a recording runner through `Runner`.
// Children are started with posix_spawn (native/spawn.ts): forking a large
// agent costs ~6 ms of kernel time a command, and a node starting 33 pods runs
// dozens of `ip` batches.
import { Socket } from 'node:net'
import { type PipedChild, SpawnError, spawnPiped, waitExit } from '../native/spawn.ts'
import { CommandError } from '../errors.ts'

const ENOENT = 2

export interface CommandResult {
  stdout: string
  stderr: string
  exitCode: number
}

export interface RunOptions {
  /** Written to the child's stdin (then closed). */
  input?: string
  /** Resolve with the result instead of throwing when the exit code is not 0. */
  allowFailure?: boolean
}

export type Runner = (argv: readonly string[], options?: RunOptions) => Promise<CommandResult>

export const runCommand: Runner = async (argv, options = {}) => {
  const [file] = argv
  if (!file) throw new TypeError('runCommand: empty argv')
  // posix_spawn, not child_process.spawn: no fork of this (possibly large) process per command (native/spawn.ts).
  let child: PipedChild
  try {
    child = spawnPiped(argv)
  } catch (e) {
    throw new CommandError(argv, null, e instanceof SpawnError && e.errno === ENOENT ? `${file}: command not found` : (e as Error).message)
  }
  const stdin = new Socket({ fd: child.stdin, readable: false, writable: true })
  const stdout = new Socket({ fd: child.stdout, readable: true, writable: false })
  const stderr = new Socket({ fd: child.stderr, readable: true, writable: false })
  stdin.on('error', () => {}) // a child that exits early closes its stdin; the exit code tells
  stdin.end(options.input ?? '')
  const [out, err] = await Promise.all([collect(stdout), collect(stderr)])
  const { exitCode, signal } = await waitExit(child.pid)
  stdin.destroy()
  const result = { stdout: out, stderr: err, exitCode: exitCode ?? -1 }
  if (exitCode === 0 || (options.allowFailure && signal === null)) return result
  throw new CommandError(argv, exitCode, result.stderr, signal)
}

function collect(stream: Socket): Promise<string> {
  return new Promise(resolve => {
    const chunks: Buffer[] = []
    stream.on('data', (b: Buffer) => chunks.push(b))
    stream.on('error', () => {})
    stream.on('close', () => resolve(Buffer.concat(chunks).toString()))
  })
}

let current: Runner = runCommand

/** The runner data-plane modules use; tests may replace it. */
export function runner(): Runner {
  return current
}

export function setRunner(next: Runner): Runner {
  const previous = current
  current = next
  return previous
}

/** Run many items through `fn` with at most `limit` in flight (order of results kept). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  })
  await Promise.all(workers)
  return results
}
