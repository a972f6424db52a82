// Batched iproute2: many `ip` lines go through one `ip [-n NS] -batch -` process
// instead of one process per step (that is what makes 100 pods take well under
// a second). A failing line aborts the batch and the error names the line.
import { runner } from './run-command.ts'

/** Run `lines` as one `ip -batch -` in namespace `netns` (null: the root namespace). */
export async function ipBatch(netns: string | null, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return
  const argv = netns ? ['ip', '-n', netns, '-batch', '-'] : ['ip', '-batch', '-']
  await runner()(argv, { input: lines.join('\n') + '\n' })
}

/** `ip -j ...` parsed, in a namespace or the root. */
export async function ipJson<T>(netns: string | null, args: readonly string[]): Promise<T> {
  const argv = netns ? ['ip', '-n', netns, '-j', ...args] : ['ip', '-j', ...args]
  const { stdout } = await runner()(argv)
  return (stdout.trim() ? JSON.parse(stdout) : []) as T
}

/** Run a command inside a named network namespace (`ip netns exec`). */
export async function inNetns(netns: string, argv: readonly string[], input?: string): Promise<string> {
  const { stdout } = await runner()(['ip', 'netns', 'exec', netns, ...argv], input === undefined ? {} : { input })
  return stdout
}
