// Integration test helpers: each test file gets its own cluster name and state
// directory, drives the real `kubewire` CLI in a child process, and checks at
// teardown that nothing of its cluster is left on the machine.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RESOURCES, type ApiClient } from '../../../control/client/api-client.ts'

export const REPO = fileURLToPath(new URL('../../../', import.meta.url))
export const CLI = join(REPO, 'bin', 'kubewire.js')
export const HOSTNAME_SERVER = join(REPO, 'scripts', 'hostname-server.mjs')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export function uniqueClusterName(): string {
  return `t${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`
}

/** A state directory for this test file, like a fresh machine's /var/lib/kubewire. */
export function isolatedHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'kw-test-'))
  process.env.KUBEWIRE_HOME = home
  return home
}

export function removeHome(home: string): void {
  rmSync(home, { recursive: true, force: true })
}

/** Run the CLI as a user would; never throws on a non-zero exit. */
export function kubewire(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', b => (stdout += b))
    child.stderr.on('data', b => (stderr += b))
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

/** Like kubewire() but throws with the output when the command fails. */
export async function kubewireOk(args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  const r = await kubewire(args, env)
  if (r.code !== 0) throw new Error(`kubewire ${args.join(' ')} failed (${r.code}):\n${r.stdout}${r.stderr}`)
  return r.stdout
}

/** Poll `check` until it returns a value other than undefined/false, or fail after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let delay = 10
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(r => setTimeout(r, delay))
    delay = Math.min(delay * 2, 200)
  }
}

/** Everything on this machine whose name says it belongs to cluster `name`. */
export function leftovers(name: string): string[] {
  const mine = (s: string) => s === `kw-${name}` || s.startsWith(`kw-${name}-`)
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n').map(l => l.split(' ')[0] ?? '').filter(mine).map(n => `netns ${n}`)
  const links = (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[])
    .map(l => l.ifname).filter(mine).map(l => `link ${l}`)
  const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })
    .split('\n').map(l => l.split(' ').pop() ?? '').filter(mine).map(t => `nft table ${t}`)
  return [...netns, ...links, ...tables]
}

/** Leftovers, waiting out the kernel's asynchronous removal of links whose namespace just went. */
export async function leftoversSettled(name: string): Promise<string[]> {
  try {
    await waitFor('links of deleted namespaces to go', () => leftovers(name).length === 0, 3_000)
  } catch {
    // report what is still there
  }
  return leftovers(name)
}

/** `curl` from inside a pod or node; returns the body, or undefined on failure. */
export async function curlFrom(target: string, url: string, env: Record<string, string> = {}): Promise<string | undefined> {
  const r = await kubewire(['exec', target, '--', 'curl', '-sS', '--max-time', '2', url], env)
  return r.code === 0 ? r.stdout : undefined
}

export async function pingFrom(target: string, ip: string, env: Record<string, string> = {}): Promise<boolean> {
  const r = await kubewire(['exec', target, '--', 'ping', '-c', '1', '-W', '2', ip], env)
  return r.code === 0
}

export interface RunOptions {
  node?: string
  image?: string
  command?: string[]
  env?: Record<string, string>
}

/** `kubewire run`, then wait for Ready, then the pod's IP (read through the API with the cluster's kubeconfig). */
export async function runPod(name: string, options: RunOptions = {}): Promise<{ ip: string; node: string }> {
  const args = ['run', name, ...(options.node ? ['--node', options.node] : []), ...(options.image ? ['--image', options.image] : [])]
  await kubewireOk([...args, ...(options.command ? ['--', ...options.command] : [])], options.env)
  await kubewireOk(['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=60s'], options.env)
  const pod = await getPod(name, options.env)
  return { ip: pod.status.podIP, node: pod.spec.nodeName }
}

export async function getPod(name: string, env: Record<string, string> = {}): Promise<{ status: { podIP: string; phase: string }; spec: { nodeName: string } }> {
  const { HttpClient } = await import('../../../control/client/http-client.ts')
  const cluster = env.KUBEWIRE_CLUSTER ?? process.env.KUBEWIRE_CLUSTER
  const home = env.KUBEWIRE_HOME ?? process.env.KUBEWIRE_HOME
  const client = await HttpClient.fromKubeconfig(join(home as string, 'clusters', cluster as string, 'kubeconfig'))
  try {
    return (await client.get({ group: '', version: 'v1', resource: 'pods' }, 'default', name)) as never
  } finally {
    client.close()
  }
}

/** A node's underlay address (its InternalIP), as the host reaches it. */
export async function nodeInternalIP(client: ApiClient, node: string): Promise<string> {
  const n = await client.get(RESOURCES.nodes, undefined, node)
  const addresses = ((n as { status?: unknown }).status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? []
  const internal = addresses.find(a => a.type === 'InternalIP')
  if (!internal) throw new Error(`node ${node} has no InternalIP`)
  return internal.address
}
