// Runs one probe the way the kubelet does: httpGet and tcpSocket from the
// node (the agent's namespace) to the pod's address, exec inside the
// container's namespaces. Success for HTTP is a status from 200 to 399.
// Every run is bounded by the probe's timeout.
import { spawn } from 'node:child_process'
import { request } from 'node:http'
import { connect } from 'node:net'

export interface HttpGetAction {
  path?: string
  port: number
  host?: string
  scheme?: 'HTTP' | 'HTTPS'
  httpHeaders?: { name: string; value: string }[]
}

export interface ProbeAction {
  httpGet?: HttpGetAction
  tcpSocket?: { port: number; host?: string }
  exec?: { command: string[] }
}

export interface ProbeTarget {
  podIP: string
  /** Init pid of the container (exec probes enter its namespaces). */
  containerInitPid?: number
}

export interface ProbeOutcome {
  ok: boolean
  message: string
}

export function runProbe(action: ProbeAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  if (action.httpGet) return httpProbe(action.httpGet, target.podIP, timeoutMs)
  if (action.tcpSocket) return tcpProbe(action.tcpSocket.host ?? target.podIP, action.tcpSocket.port, timeoutMs)
  if (action.exec) return execProbe(action.exec.command, target.containerInitPid, timeoutMs)
  return Promise.resolve({ ok: false, message: 'probe has no handler (httpGet, tcpSocket or exec)' })
}

function httpProbe(get: HttpGetAction, podIP: string, timeoutMs: number): Promise<ProbeOutcome> {
  const host = get.host ?? podIP
  const path = get.path ?? '/'
  const url = `http://${host}:${get.port}${path}`
  return new Promise(resolve => {
    const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.31', Accept: '*/*' }
    for (const h of get.httpHeaders ?? []) headers[h.name] = h.value
    const req = request({ host, port: get.port, path, method: 'GET', headers, timeout: timeoutMs, agent: false }, res => {
      res.resume()
      const code = res.statusCode ?? 0
      resolve(code >= 200 && code < 400 ? { ok: true, message: `HTTP ${code}` } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` })
    })
    req.on('timeout', () => {
      req.destroy()
      resolve({ ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` })
    })
    req.on('error', e => resolve({ ok: false, message: `Get "${url}": dial tcp ${host}:${get.port}: ${describe(e)}` }))
    req.end()
  })
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise(resolve => {
    const socket = connect({ host, port, timeout: timeoutMs })
    socket.once('connect', () => {
      socket.destroy()
      resolve({ ok: true, message: 'connected' })
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` })
    })
    socket.once('error', e => resolve({ ok: false, message: `dial tcp ${host}:${port}: ${describe(e)}` }))
  })
}

function execProbe(command: string[], initPid: number | undefined, timeoutMs: number): Promise<ProbeOutcome> {
  if (initPid === undefined) return Promise.resolve({ ok: false, message: 'container is not running' })
  return new Promise(resolve => {
    const child = spawn('nsenter', ['--target', String(initPid), '--net', '--uts', '--mount', '--pid', '--', ...command], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', b => (output += b))
    child.stderr.on('data', b => (output += b))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', e => {
      clearTimeout(timer)
      resolve({ ok: false, message: e.message })
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (signal) resolve({ ok: false, message: `command timed out after ${timeoutMs / 1000}s` })
      else resolve({ ok: code === 0, message: output.trim().slice(0, 512) || `exit code ${code}` })
    })
  })
}

/** The tail of Go's net error texts, as kubelet events show them. */
function describe(e: NodeJS.ErrnoException): string {
  if (e.code === 'ECONNREFUSED') return 'connect: connection refused'
  if (e.code === 'EHOSTUNREACH') return 'connect: no route to host'
  if (e.code === 'ENETUNREACH') return 'connect: network is unreachable'
  return e.message
}
