// A pod's process: started inside the pod's network namespace with its own UTS
// (hostname = pod name), mount and PID namespaces, detached from the caller, its
// output appended to a log file. Stopping is graceful: SIGTERM to every process
// in the pod's network namespace, SIGKILL after the grace period.
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { KubewireError } from '../errors.ts'
import { isAlive, pidsInNetns } from '../netns/netns.ts'

const POD_INIT = fileURLToPath(new URL('./pod-init.sh', import.meta.url))

export interface PodProcessSpec {
  netns: string
  hostname: string
  argv: readonly string[]
  logPath: string
  env?: Record<string, string>
}

/** Start the process; resolves with the pid of its outermost process once it has started. */
export function startPodProcess(spec: PodProcessSpec): Promise<number> {
  if (spec.argv.length === 0) throw new KubewireError('EBADCMD', 'no command to run')
  const log = openSync(spec.logPath, 'a', 0o600)
  const argv = [
    'netns', 'exec', spec.netns,
    'unshare', '--uts', '--mount', '--pid', '--fork', '--mount-proc', '--kill-child',
    '--', '/bin/sh', POD_INIT, spec.hostname, ...spec.argv,
  ]
  return new Promise((resolve, reject) => {
    const child = spawn('ip', argv, {
      detached: true,
      stdio: ['ignore', log, log],
      env: spec.env ?? {
        PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        HOME: '/root',
        HOSTNAME: spec.hostname,
        LANG: 'C.UTF-8',
      },
    })
    closeSync(log)
    child.once('error', e => reject(new KubewireError('ESPAWN', `cannot start pod process in ${spec.netns}: ${e.message}`)))
    child.once('spawn', () => {
      child.unref()
      resolve(child.pid as number)
    })
  })
}

/**
 * Stop every process in the given namespaces: SIGTERM, wait until they are gone
 * or `graceMs` passed, then SIGKILL and wait again. Resolves when none is left.
 */
export async function stopProcessesInNetns(netnsNames: readonly string[], graceMs: number): Promise<number> {
  const pids = [...pidsInNetns(netnsNames).values()].flat()
  if (pids.length === 0) return 0
  signalAll(pids, 'SIGTERM')
  if (!(await waitGone(pids, graceMs))) {
    // Anything started meanwhile (a fork) is caught by a second scan.
    const left = [...pidsInNetns(netnsNames).values()].flat()
    signalAll(left, 'SIGKILL')
    if (!(await waitGone(left, 5_000))) {
      throw new KubewireError('ESTUCK', `processes ${left.filter(isAlive).join(', ')} survived SIGKILL`)
    }
  }
  return pids.length
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}

async function waitGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  let delay = 2
  for (;;) {
    if (!pids.some(isAlive)) return true
    if (Date.now() >= deadline) return false
    await new Promise(r => setTimeout(r, delay))
    delay = Math.min(delay * 2, 50)
  }
}
