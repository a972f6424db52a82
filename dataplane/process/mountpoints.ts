// Containers share the host's filesystem (there are no images), and a volume's
// mountPath may not exist on the host. The bind mount itself lives in the
// container's private mount namespace, but its mountpoint must exist: we create
// it, and write it to a ledger so `kubewire down` removes what we created
// (only if still empty), leaving the host as it was.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/** Make `target` exist as a directory (or an empty file), recording each path created. */
export function ensureMountpoint(target: string, isFile: boolean, ledger: string): void {
  if (existsSync(target)) return
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

/** Remove what the ledger lists, deepest first, where it is still empty; then the ledger. */
export function removeCreatedMountpoints(ledger: string): string[] {
  let paths: string[]
  try {
    paths = readFileSync(ledger, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const path of [...new Set(paths)].sort((a, b) => b.length - a.length)) {
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
  return removed
}
