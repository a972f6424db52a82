// Containers as processes. Each container of a pod is started inside the pod's
// network namespace with its own UTS (hostname = pod name), mount and PID
// namespaces, detached from the caller, output appended to its log file. Its
// init mounts the pod's /sys and its volumes (bind mounts, private to its
// mount namespace) with one `mount --all` of a mount table written for it:
// one process, not one or two a volume (every exec costs; glibc's start-up
// alone runs cpuid, which traps in a VM). The outermost process (`unshare`,
// which waits for the container) is the handle kept; the container init
// (container-init.sh) is its only child. It is started with posix_spawn from
// the pod's network namespace (native/spawn.ts), not by forking the agent.
//
// Stopping is graceful: SIGTERM to the init, which forwards it; SIGKILL of the
// outer process after the grace period (`--kill-child` takes the whole PID
// namespace with it).
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { KubewireError } from '../errors.ts'
import { spawnDetached } from '../native/spawn.ts'
import { childPids, isAlive, NETNS_DIR, pidsInNetns } from '../netns/netns.ts'

const CONTAINER_INIT = fileURLToPath(new URL('./container-init.sh', import.meta.url))

export interface Mount {
  source: string
  target: string
  readOnly: boolean
}

export interface ContainerSpec {
  podNetns: string
  hostname: string
  argv: readonly string[]
  env: Record<string, string>
  workingDir?: string
  mounts: readonly Mount[]
  logPath: string
  /** Written by the init when the container exits: "<code> <finishedAt>". */
  exitPath: string
  /** Where the container's mount table (fstab) is written for its init. */
  mountTablePath: string
}

/** A field of an fstab line: space, tab, newline and backslash as octal escapes, as libmount reads them. */
export function fstabField(value: string): string {
  return value.replace(/[\\ \t\n]/g, c => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)
}

/**
 * The container's mount table, in order (`mount --all` mounts top to bottom):
 * first a sysfs of the pod's network namespace on /sys (what `ip netns exec`
 * would mount: /sys/class/net shows eth0), then the bind mounts. `mount --all`
 * skips a line whose source is already mounted at its target, and the copy of
 * the host's mounts has `sysfs` on /sys: ours is named kubewire-sysfs, which
 * is also how it shows in the container's mount list.
 */
export function mountTable(mounts: readonly Mount[]): string {
  const lines = ['kubewire-sysfs /sys sysfs rw 0 0', ...mounts.map(m => `${fstabField(m.source)} ${fstabField(m.target)} none ${m.readOnly ? 'bind,ro' : 'bind'} 0 0`)]
  return lines.map(l => `${l}\n`).join('')
}

export const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Start the container; resolves with the pid of its outermost process once it runs. */
export function startContainer(spec: ContainerSpec): Promise<number> {
  if (spec.argv.length === 0) throw new KubewireError('EBADCMD', 'no command to run')
  writeFileSync(spec.mountTablePath, mountTable(spec.mounts), { mode: 0o600 })
  const log = openSync(spec.logPath, 'a', 0o600)
  const argv = [
    'unshare', '--uts', '--mount', '--pid', '--fork', '--mount-proc', '--kill-child',
    '--', '/bin/sh', CONTAINER_INIT, spec.hostname, spec.exitPath, spec.workingDir ?? '', spec.mountTablePath,
    ...spec.argv,
  ]
  // posix_spawn, not child_process.spawn: no fork of the (large) agent per
  // container; and started in the pod's network namespace by the spawning
  // thread (native/spawn.ts), not through `ip netns exec` or `nsenter`, which
  // cost a process each (and `ip netns exec` a mount namespace and a /sys of
  // its own: unshare makes the container's mount namespace anyway, and its
  // init mounts the pod's /sys).
  try {
    return Promise.resolve(spawnDetached(argv, spec.env, log, `${NETNS_DIR}/${spec.podNetns}`))
  } catch (e) {
    return Promise.reject(new KubewireError('ESPAWN', `cannot start a container in ${spec.podNetns}: ${(e as Error).message}`))
  } finally {
    closeSync(log)
  }
}

/** The container's init (pid 1 of its PID namespace): the only child of the outer process. */
export function containerInitPid(outerPid: number): number | undefined {
  return childPids(outerPid)[0]
}

export interface ExitRecord {
  exitCode: number
  finishedAt: string
}

/** How the container ended, if its init recorded it. */
export function readExit(exitPath: string): ExitRecord | undefined {
  try {
    const [code, finishedAt] = readFileSync(exitPath, 'utf8').trim().split(' ')
    const exitCode = Number(code)
    return Number.isInteger(exitCode) && finishedAt ? { exitCode, finishedAt } : undefined
  } catch {
    return undefined
  }
}

/** Stop one container: SIGTERM to its init, SIGKILL to the whole container after `graceMs`. */
export async function stopContainer(outerPid: number, graceMs: number): Promise<void> {
  if (!isAlive(outerPid)) return
  const init = containerInitPid(outerPid)
  // Just started, unshare may not have forked the init yet: terminate() finds
  // it among unshare's children when it appears. Its SIGTERM is the graceful
  // way out (the command gets it, the exit is recorded).
  if (graceMs > 0 && (await terminate(init === undefined ? [] : [init], graceMs, () => childPids(outerPid), () => [outerPid]))) return
  signal(outerPid, 'SIGKILL')
  const lateInit = init ?? containerInitPid(outerPid)
  if (lateInit !== undefined) signal(lateInit, 'SIGKILL')
  if (!(await waitGone([outerPid], 5_000))) throw new KubewireError('ESTUCK', `container process ${outerPid} survived SIGKILL`)
}

/**
 * Stop every process in the given namespaces (what is left of whole pods, or a
 * cluster being swept): SIGTERM, then SIGKILL after `graceMs`. Resolves when none is left.
 */
export async function stopProcessesInNetns(netnsNames: readonly string[], graceMs: number): Promise<number> {
  const inNamespaces = () => [...pidsInNetns(netnsNames).values()].flat()
  const pids = inNamespaces()
  if (pids.length === 0) return 0
  if (!(await terminate(pids, graceMs, inNamespaces))) {
    // Anything started meanwhile (a fork) is caught by a second scan.
    const left = [...pidsInNetns(netnsNames).values()].flat()
    for (const pid of left) signal(pid, 'SIGKILL')
    if (!(await waitGone(left, 5_000))) {
      throw new KubewireError('ESTUCK', `processes ${left.filter(isAlive).join(', ')} survived SIGKILL`)
    }
  }
  return pids.length
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {
    // already gone
  }
}

/**
 * SIGTERM to `pids` and to the PID-namespace inits that `scan()` finds later
 * (one that `unshare` forks just now; unshare itself ignores SIGTERM), until
 * `awaited()` is empty or `graceMs` has passed; true if they went. An init
 * still alive that had no SIGTERM handler when it was sent one is sent it
 * again at every check: the pid 1 of a PID namespace drops a signal it has no
 * handler for, so a container init still starting (before its trap) would
 * otherwise sleep through the whole grace period and be killed without a
 * chance to stop its command. Nothing else is signalled twice (a second
 * SIGTERM can mean "hurry"), and processes that appear later and are not
 * inits are left to their init: they are its command, or its exit record.
 */
export async function terminate(
  pids: readonly number[], graceMs: number, scan: () => readonly number[] = () => pids, awaited: () => readonly number[] = scan,
): Promise<boolean> {
  const delivered = new Set<number>()
  const deadline = Date.now() + graceMs
  const send = (pid: number, initsOnly: boolean) => {
    if (delivered.has(pid)) return
    const state = signalState(pid)
    if (!state || (initsOnly && !state.namespaceInit)) return
    if (state.catchesTerm) delivered.add(pid)
    signal(pid, 'SIGTERM')
  }
  for (const pid of pids) send(pid, false)
  let delay = 2
  for (;;) {
    if (!awaited().some(isAlive)) return true
    if (Date.now() >= deadline) return false
    await new Promise(r => setTimeout(r, delay))
    delay = Math.min(delay * 2, 50)
    for (const pid of scan()) send(pid, true)
  }
}

/**
 * What /proc/PID/status says about a live process for terminate(): whether it
 * has a SIGTERM handler (SigCgt bit 15) and whether it is the pid 1 of a PID
 * namespace below ours (NSpid ends in 1); undefined if it is gone or a zombie.
 */
function signalState(pid: number): { catchesTerm: boolean; namespaceInit: boolean } | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  if (/^State:\s*Z/m.test(status)) return undefined
  const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'
  const ids = /^NSpid:\s*(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? []
  return {
    catchesTerm: (BigInt(`0x${caught}`) & (1n << 14n)) !== 0n,
    namespaceInit: ids.length > 1 && ids[ids.length - 1] === '1',
  }
}

/** Resolves true once none of `pids` is alive, false after `timeoutMs`. */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  let delay = 2
  for (;;) {
    if (!pids.some(isAlive)) return true
    if (Date.now() >= deadline) return false
    await new Promise(r => setTimeout(r, delay))
    delay = Math.min(delay * 2, 50)
  }
}
