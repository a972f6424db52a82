// The one place that spawns processes (`ip`, `nft`, `unshare`, ...): always an argv
// array, never a shell string; failures throw a CommandError carrying argv, exit
// code and stderr. Tests can swap in a recording runner through `Runner`.
import { spawn } from 'node:child_process'
import { CommandError } from '../errors.ts'

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

export const runCommand: Runner = (argv, options = {}) =>
  new Promise((resolve, reject) => {
    const [file, ...args] = argv
    if (!file) return reject(new TypeError('runCommand: empty argv'))
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(new CommandError(argv, null, e.code === 'ENOENT' ? `${file}: command not found` : e.message)),
    )
    child.on('close', (code, signal) => {
      const result = {
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        exitCode: code ?? -1,
      }
      if (code === 0 || (options.allowFailure && signal === null)) resolve(result)
      else reject(new CommandError(argv, code, result.stderr, signal))
    })
    child.stdin.on('error', () => {}) // a child that exits early closes its stdin; the exit code tells
    child.stdin.end(options.input ?? '')
  })

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
