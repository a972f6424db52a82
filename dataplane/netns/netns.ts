// Named network namespaces as iproute2 keeps them (/run/netns/NAME), and the
// processes inside them, found by comparing /proc/PID/ns/net with the namespace
// file's inode: one directory scan for any number of namespaces, no `ip netns
// pids` process per namespace.
import { readdirSync, readFileSync, statSync } from 'node:fs'

export const NETNS_DIR = '/run/netns'

export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR).sort()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
}

export function netnsExists(name: string): boolean {
  try {
    statSync(`${NETNS_DIR}/${name}`)
    return true
  } catch {
    return false
  }
}

function netnsInode(name: string): bigint | undefined {
  try {
    return statSync(`${NETNS_DIR}/${name}`, { bigint: true }).ino
  } catch {
    return undefined
  }
}

/** Live (non-zombie) pids per namespace, for the given namespace names. */
export function pidsInNetns(names: readonly string[]): Map<string, number[]> {
  const byInode = new Map<bigint, string>()
  const result = new Map<string, number[]>()
  for (const name of names) {
    result.set(name, [])
    const ino = netnsInode(name)
    if (ino !== undefined) byInode.set(ino, name)
  }
  if (byInode.size === 0) return result
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid <= 0) continue
    let ino: bigint
    try {
      ino = statSync(`/proc/${pid}/ns/net`, { bigint: true }).ino
    } catch {
      continue // gone meanwhile, or a kernel thread
    }
    const name = byInode.get(ino)
    if (name !== undefined && isAlive(pid)) result.get(name)?.push(pid)
  }
  return result
}

/** True if the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // "pid (comm) S ..." - comm may hold spaces and parentheses; the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** Parent pid from /proc/PID/stat, or undefined if the process is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return undefined
  }
}

/** Live children of a process (this kernel has no /proc/PID/task/PID/children: scan). */
export function childPids(pid: number): number[] {
  const children: number[] = []
  for (const entry of readdirSync('/proc')) {
    const candidate = Number(entry)
    if (Number.isInteger(candidate) && candidate > 0 && parentPid(candidate) === pid && isAlive(candidate)) children.push(candidate)
  }
  return children
}

/** Pids whose command line starts with `title` (processes that set process.title). */
export function pidsWithTitle(title: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid <= 0) continue
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ')
      if ((cmdline === title || cmdline.startsWith(`${title} `) || cmdline.startsWith(`${title}\0`)) && isAlive(pid)) found.push(pid)
    } catch {
      // gone meanwhile
    }
  }
  return found
}
