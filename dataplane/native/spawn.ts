// Starting a detached process without forking the caller: posix_spawn through
// koffi. Node's child_process.spawn forks, and fork copies the page tables of
// the whole process: from a node agent of ~150 MB that is ~6 ms of kernel time
// per process, paid on the main thread, so 33 pods arriving at once on a node
// spend ~200 ms just forking their containers (measured: 33 spawns from a
// 150 MB process 213 ms, from a 0 MB one 55 ms). glibc's posix_spawn uses
// clone(CLONE_VM | CLONE_VFORK): the child borrows the parent's memory until
// it execs, whatever the parent's size.
//
// The child is what Node's `spawn(..., { detached: true })` makes: its own
// session, stdin /dev/null, stdout and stderr on the given descriptor, every
// signal back to its default disposition (Node ignores SIGPIPE, and ignored
// signals survive exec) and none blocked. Node's own SIGCHLD handling only
// waits for the children it spawned, so these are reaped here: each pid is
// kept until waitpid() collects it, by a timer that runs while any is left.
import { closeSync, openSync } from 'node:fs'
import { constants } from 'node:os'
import { KubewireError } from '../errors.ts'
import { libc, libcLibrary } from './libc.ts'

const POSIX_SPAWN_SETSIGDEF = 0x04
const POSIX_SPAWN_SETSIGMASK = 0x08
const POSIX_SPAWN_SETSID = 0x80
const O_RDONLY = 0
const O_CLOEXEC = 0x80000
const CLONE_NEWNET = 0x40000000
const WNOHANG = 1
const SIGKILL = 9
const SIGSTOP = 19
/** glibc's sizes are 80, 336 and 128 bytes (x86-64 and arm64): room to spare. */
const FILE_ACTIONS_BYTES = 256
const ATTR_BYTES = 512
const SIGSET_BYTES = 256
const REAP_EVERY_MS = 1000

interface Spawner {
  fileActionsInit(actions: Buffer): number
  fileActionsAddOpen(actions: Buffer, fd: number, path: string, flags: number, mode: number): number
  fileActionsAddDup2(actions: Buffer, fd: number, newFd: number): number
  fileActionsDestroy(actions: Buffer): number
  attrInit(attr: Buffer): number
  attrSetFlags(attr: Buffer, flags: number): number
  attrSetSigDefault(attr: Buffer, set: Buffer): number
  attrSetSigMask(attr: Buffer, set: Buffer): number
  attrDestroy(attr: Buffer): number
  sigEmptySet(set: Buffer): number
  sigAddSet(set: Buffer, signal: number): number
  spawnp(pid: Int32Array, file: string, actions: Buffer, attr: Buffer, argv: (string | null)[], envp: (string | null)[]): number
  waitpid(pid: number, status: Int32Array, options: number): number
  pipe2(fds: Int32Array, flags: number): number
  setns(fd: number, nstype: number): number
  errno(): number
  strerror(errnum: number): string
}

let loaded: Spawner | undefined

function spawner(): Spawner {
  if (loaded) return loaded
  const lib = libcLibrary()
  const f = (signature: string) => lib.func(signature) as (...args: unknown[]) => number
  const fileActionsInit = f('int posix_spawn_file_actions_init(void *actions)')
  const fileActionsAddOpen = f('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int flags, unsigned int mode)')
  const fileActionsAddDup2 = f('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)')
  const fileActionsDestroy = f('int posix_spawn_file_actions_destroy(void *actions)')
  const attrInit = f('int posix_spawnattr_init(void *attr)')
  const attrSetFlags = f('int posix_spawnattr_setflags(void *attr, short flags)')
  const attrSetSigDefault = f('int posix_spawnattr_setsigdefault(void *attr, const void *set)')
  const attrSetSigMask = f('int posix_spawnattr_setsigmask(void *attr, const void *set)')
  const attrDestroy = f('int posix_spawnattr_destroy(void *attr)')
  const sigEmptySet = f('int sigemptyset(void *set)')
  const sigAddSet = f('int sigaddset(void *set, int signum)')
  const spawnp = f('int posix_spawnp(_Out_ int *pid, const char *file, const void *actions, const void *attr, const char **argv, const char **envp)')
  const waitpid = f('int waitpid(int pid, _Out_ int *status, int options)')
  const pipe2 = f('int pipe2(_Out_ int *fds, int flags)')
  const setns = f('int setns(int fd, int nstype)')
  loaded = {
    fileActionsInit, fileActionsAddOpen, fileActionsAddDup2, fileActionsDestroy,
    attrInit, attrSetFlags, attrSetSigDefault, attrSetSigMask, attrDestroy,
    sigEmptySet, sigAddSet, spawnp, waitpid, pipe2, setns,
    errno: () => libc().errno(),
    strerror: errnum => libc().strerror(errnum),
  }
  return loaded
}

const unreaped = new Set<number>()
let reaper: NodeJS.Timeout | undefined

/** Collect the exit status of every spawned child that has ended (they are nobody else's to wait for). */
export function reapSpawned(): void {
  const s = spawner()
  const status = new Int32Array(1)
  for (const pid of unreaped) if (s.waitpid(pid, status, WNOHANG) !== 0) unreaped.delete(pid)
  if (unreaped.size === 0 && reaper) {
    clearInterval(reaper)
    reaper = undefined
  }
}

/**
 * Start `argv` (found on PATH) detached with exactly `env`, output on `outFd`,
 * in the network namespace `netns` (a path such as /run/netns/NAME) when
 * given; returns its pid once it runs.
 */
export function spawnDetached(argv: readonly string[], env: Record<string, string>, outFd: number, netns?: string): number {
  const start = () => posixSpawn(argv, env, { stdin: null, stdout: outFd, stderr: outFd }, true)
  const pid = netns === undefined ? start() : inNetns(netns, start)
  unreaped.add(pid)
  reaper ??= setInterval(reapSpawned, REAP_EVERY_MS).unref()
  return pid
}

export interface PipedChild {
  pid: number
  /** The parent's ends: write to stdin, read stdout and stderr. */
  stdin: number
  stdout: number
  stderr: number
}

/** Start `argv` (found on PATH) with the caller's environment and pipes on its stdin, stdout and stderr; wait for it with waitExit. */
export function spawnPiped(argv: readonly string[]): PipedChild {
  const s = spawner()
  const pipes = [0, 1, 2].map(() => {
    const fds = new Int32Array(2)
    if (s.pipe2(fds, O_CLOEXEC) !== 0) throw new KubewireError('ESPAWN', `cannot make a pipe for ${argv[0]}: ${s.strerror(s.errno())}`)
    return { read: fds[0] as number, write: fds[1] as number }
  })
  const [stdin, stdout, stderr] = pipes as [Pipe, Pipe, Pipe]
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined))
  try {
    const pid = posixSpawn(argv, env, { stdin: stdin.read, stdout: stdout.write, stderr: stderr.write }, false)
    return { pid, stdin: stdin.write, stdout: stdout.read, stderr: stderr.read }
  } catch (e) {
    for (const fd of [stdin.write, stdout.read, stderr.read]) closeSync(fd)
    throw e
  } finally {
    closeSync(stdin.read)
    closeSync(stdout.write)
    closeSync(stderr.write)
  }
}

let ownNetns: number | undefined

/**
 * Run `fn` with this thread in the network namespace at `path`, then back.
 * setns() moves only the calling thread (Node's main thread here; libuv's
 * threads stay), and a child it spawns meanwhile starts in that namespace:
 * what `nsenter --net` would do, without its process. Nothing else runs on
 * the thread in between (`fn` is synchronous). Should the way back fail, the
 * process exits: its next connections would be made in the pod's namespace.
 */
export function inNetns<T>(path: string, fn: () => T): T {
  const s = spawner()
  ownNetns ??= openSync('/proc/thread-self/ns/net', 'r')
  const target = openSync(path, 'r')
  try {
    if (s.setns(target, CLONE_NEWNET) !== 0) throw new KubewireError('ENETNS', `cannot enter network namespace ${path}: ${s.strerror(s.errno())}`)
    try {
      return fn()
    } finally {
      if (s.setns(ownNetns, CLONE_NEWNET) !== 0) {
        process.stderr.write(`kubewire: cannot return from network namespace ${path}: ${s.strerror(s.errno())}; exiting\n`)
        process.exit(70)
      }
    }
  } finally {
    closeSync(target)
  }
}

interface Pipe {
  read: number
  write: number
}

export interface ExitStatus {
  exitCode: number | null
  signal: NodeJS.Signals | null
}

/** Resolves with how a spawnPiped child ended (polls waitpid without blocking, a few ms apart). */
export async function waitExit(pid: number): Promise<ExitStatus> {
  const s = spawner()
  const status = new Int32Array(1)
  let delay = 1
  for (;;) {
    const rc = s.waitpid(pid, status, WNOHANG)
    if (rc === pid) return decodeWaitStatus(status[0] as number)
    if (rc < 0) throw new KubewireError('ECHILD', `cannot wait for process ${pid}: ${s.strerror(s.errno())}`)
    await new Promise(r => setTimeout(r, delay))
    delay = Math.min(delay * 2, 50)
  }
}

/** A waitpid() status as Node reports a child's end. */
export function decodeWaitStatus(status: number): ExitStatus {
  const termSignal = status & 0x7f
  if (termSignal === 0) return { exitCode: (status >> 8) & 0xff, signal: null }
  const name = Object.entries(constants.signals).find(([, n]) => n === termSignal)?.[0] as NodeJS.Signals | undefined
  return { exitCode: null, signal: name ?? 'SIGKILL' }
}

function posixSpawn(argv: readonly string[], env: Record<string, string>, stdio: { stdin: number | null; stdout: number; stderr: number }, newSession: boolean): number {
  const [file] = argv
  if (file === undefined) throw new KubewireError('EBADCMD', 'no command to run')
  const s = spawner()
  const actions = Buffer.alloc(FILE_ACTIONS_BYTES)
  const attr = Buffer.alloc(ATTR_BYTES)
  const defaults = Buffer.alloc(SIGSET_BYTES)
  const none = Buffer.alloc(SIGSET_BYTES)
  s.fileActionsInit(actions)
  s.attrInit(attr)
  try {
    if (stdio.stdin === null) s.fileActionsAddOpen(actions, 0, '/dev/null', O_RDONLY, 0)
    else s.fileActionsAddDup2(actions, stdio.stdin, 0)
    s.fileActionsAddDup2(actions, stdio.stdout, 1)
    s.fileActionsAddDup2(actions, stdio.stderr, 2)
    s.sigEmptySet(defaults)
    for (let signal = 1; signal < 32; signal++) if (signal !== SIGKILL && signal !== SIGSTOP) s.sigAddSet(defaults, signal)
    s.sigEmptySet(none)
    s.attrSetSigDefault(attr, defaults)
    s.attrSetSigMask(attr, none)
    s.attrSetFlags(attr, (newSession ? POSIX_SPAWN_SETSID : 0) | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
    const pid = new Int32Array(1)
    const envp = Object.entries(env).map(([k, v]) => `${k}=${v}`)
    const rc = s.spawnp(pid, file, actions, attr, [...argv, null], [...envp, null])
    if (rc !== 0) throw new SpawnError(file, rc, s.strerror(rc))
    return pid[0] as number
  } finally {
    s.fileActionsDestroy(actions)
    s.attrDestroy(attr)
  }
}

/** posix_spawn refused: `errno` is ENOENT (2) when the program is not on PATH. */
export class SpawnError extends KubewireError {
  constructor(
    readonly file: string,
    readonly errno: number,
    text: string,
  ) {
    super('ESPAWN', `cannot start ${file}: ${text}`)
  }
}
