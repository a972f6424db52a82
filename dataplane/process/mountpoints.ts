// Containers share the host's filesystem (there are no images), and a volume's
// mountPath may not exist on the host. The bind mount itself lives in the
// container's private mount namespace, but its mountpoint must exist: we create
// it, and write it to a ledger so `kubewire down` removes what we created
// (only if still empty), leaving the host as it was.
//
// Several clusters may mount on the same path. Removing a directory that is a
// mountpoint in another mount namespace detaches that mount there (Linux
// >= 3.18), so a cluster that created /state must not remove it while another
// cluster's containers use it: each ledger has a `.used` companion listing the
// existing paths its containers mounted on, the ledgers of all clusters sit
// side by side (/run/kubewire/<cluster>/mountpoints), and `down` hands a
// path still in use elsewhere over to that cluster's ledger instead.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

const usedPaths = new Map<string, Set<string>>()

/** The companion of a ledger listing existing paths that were mounted on. */
export const usedLedger = (ledger: string): string => `${ledger}.used`

function recordUse(target: string, ledger: string): void {
  let seen = usedPaths.get(ledger)
  if (!seen) usedPaths.set(ledger, (seen = new Set()))
  if (seen.has(target)) return
  seen.add(target)
  mkdirSync(dirname(ledger), { recursive: true })
  appendFileSync(usedLedger(ledger), `${target}\n`)
}

/** Make `target` exist as a directory (or an empty file), recording each path created (or, if it existed, that it is used). */
export function ensureMountpoint(target: string, isFile: boolean, ledger: string): void {
  if (existsSync(target)) return recordUse(target, ledger)
  const created: string[] = []
  let dir = isFile ? dirname(target) : target
  const missing: string[] = []
  while (!existsSync(dir)) {
    missing.unshift(dir)
    dir = dirname(dir)
  }
  for (const d of missing) {
    mkdirSync(d)
    created.push(d)
  }
  if (isFile) {
    writeFileSync(target, '', { flag: 'wx' })
    created.push(target)
  }
  if (created.length) {
    mkdirSync(dirname(ledger), { recursive: true })
    appendFileSync(ledger, created.map(p => `${p}\n`).join(''))
  }
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}

/** The other clusters' ledgers beside this one, with every path each created or uses. */
function otherLedgers(ledger: string): Array<{ ledger: string; paths: string[] }> {
  const own = dirname(ledger)
  const root = dirname(own)
  let entries: string[]
  try {
    entries = readdirSync(root)
  } catch {
    return []
  }
  return entries
    .map(entry => join(root, entry, basename(ledger)))
    .filter(other => dirname(other) !== own && (existsSync(other) || existsSync(usedLedger(other))))
    .map(other => ({ ledger: other, paths: [...readLines(other), ...readLines(usedLedger(other))] }))
}

/**
 * Remove what the ledger lists, deepest first, where it is still empty and no
 * other cluster uses it (at or below it; those are handed over to that
 * cluster's ledger); then the ledger and its companion.
 */
export function removeCreatedMountpoints(ledger: string): string[] {
  const paths = readLines(ledger)
  const others = otherLedgers(ledger)
  const removed: string[] = []
  for (const path of [...new Set(paths)].sort((a, b) => b.length - a.length)) {
    const user = others.find(o => o.paths.some(p => p === path || p.startsWith(`${path}/`)))
    if (user) {
      appendFileSync(user.ledger, `${path}\n`)
      continue
    }
    try {
      const stat = statSync(path)
      if (stat.isDirectory()) rmdirSync(path)
      else if (stat.size === 0) rmSync(path)
      else continue
      removed.push(path)
    } catch {
      // gone already, or not empty: leave it
    }
  }
  rmSync(ledger, { force: true })
  rmSync(usedLedger(ledger), { force: true })
  usedPaths.delete(ledger)
  return removed
}
