// One owner per store directory.
//
// Two processes appending to the same WAL would interleave records and corrupt
// it, so the directory carries a LOCK file created with O_EXCL and holding the
// owner's pid. A lock left by a process that no longer exists (crash, SIGKILL)
// is taken over: it is first renamed aside, and only if the renamed file still
// names the dead pid is it discarded (two openers racing for one stale lock
// cannot both win). Within one process a registry of held directories does
// the same job, which also lets a restarted process that got the same pid
// (pid 1 in a container) take over its predecessor's lock.
//
// Known limit: a dead owner's pid reused by an unrelated live process makes
// the lock look held; the error names the pid so a person can check.

import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises'
import { LOCK_FILE, pathIn } from './store-files.ts'
import { LockedError } from './store.ts'

export interface DirLock {
  readonly file: string
  release(): Promise<void>
}

const heldInThisProcess = new Set<string>()
/** A lock file with no pid yet is being written right now, unless it is older than this. */
const UNWRITTEN_LOCK_GRACE_MS = 10_000

export async function acquireDirLock (dir: string): Promise<DirLock> {
  const realDir = await realpath(dir)
  const file = pathIn(realDir, LOCK_FILE)
  if (heldInThisProcess.has(realDir)) throw new LockedError(file, process.pid, 'already open in this process')
  heldInThisProcess.add(realDir)
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await tryCreate(file)) return makeLock(realDir, file)
      await takeOverIfStale(file)
    }
    throw new LockedError(file, await readPid(file), 'lost repeated races for the lock')
  } catch (err) {
    heldInThisProcess.delete(realDir)
    throw err
  }
}

async function tryCreate (file: string): Promise<boolean> {
  let handle
  try {
    handle = await open(file, 'wx') // O_CREAT | O_EXCL | O_WRONLY
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    await handle.writeFile(`${process.pid}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  return true
}

/** Returns if the lock was removed (or vanished); throws LockedError if it is live. */
async function takeOverIfStale (file: string): Promise<void> {
  const owner = await readOwner(file)
  if (owner === 'gone') return
  if (!owner.stale) throw new LockedError(file, owner.pid)
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await rename(file, aside)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return // someone else moved it
    throw err
  }
  const moved = await readOwner(aside)
  if (moved !== 'gone' && !moved.stale) {
    // We raced with a taker that had already replaced the stale lock: give it back.
    await rename(aside, file)
    throw new LockedError(file, moved.pid)
  }
  await unlink(aside).catch(() => {})
}

type Owner = 'gone' | { pid: number | undefined, stale: boolean }

async function readOwner (file: string): Promise<Owner> {
  let text: string
  let ageMs: number
  try {
    text = await readFile(file, 'utf8')
    ageMs = Date.now() - (await stat(file)).mtimeMs
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone'
    throw err
  }
  const pid = parsePid(text)
  if (pid === undefined) return { pid, stale: ageMs > UNWRITTEN_LOCK_GRACE_MS }
  // Our own pid but not in the registry: a previous incarnation of this pid.
  if (pid === process.pid) return { pid, stale: true }
  return { pid, stale: !isAlive(pid) }
}

async function readPid (file: string): Promise<number | undefined> {
  const owner = await readOwner(file)
  return owner === 'gone' ? undefined : owner.pid
}

function parsePid (text: string): number | undefined {
  const trimmed = text.trim()
  if (!/^\d+$/.test(trimmed)) return undefined
  const pid = Number(trimmed)
  return pid > 0 ? pid : undefined
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A killed owner not yet reaped by its parent is a zombie: it holds nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true // no /proc: trust kill(0)
  }
}

function makeLock (realDir: string, file: string): DirLock {
  let released = false
  return {
    file,
    async release () {
      if (released) return
      released = true
      try {
        if (parsePid(await readFile(file, 'utf8')) === process.pid) await unlink(file)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      } finally {
        heldInThisProcess.delete(realDir)
      }
    }
  }
}
