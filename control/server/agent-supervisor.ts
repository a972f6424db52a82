// The control plane supervises one node agent per node (DESIGN.md: "The
// control plane supervises the agents"): each runs inside its node's network
// namespace, its output appended to a log file, and is started again with
// back-off when it exits. Pods keep running while an agent restarts; the new
// one adopts them.
//
// Agents enter only the node's network namespace (`nsenter --net`), not the
// private mount namespace `ip netns exec` would give them: the pod namespaces
// an agent makes are bind mounts under /run/netns, and they must land in the
// host's mount namespace, where the CLI, `down` and the next agent see them.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const AGENT_MAIN = fileURLToPath(new URL('../agent/main.ts', import.meta.url))
/** The repository root: `--import tsx` resolves from the working directory. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface AgentSpec {
  node: string
  netns: string
  logPath: string
  args: string[]
}

interface Supervised {
  spec: AgentSpec
  child: ChildProcess | undefined
  restarts: number
  timer: NodeJS.Timeout | undefined
  stopping: boolean
}

export class AgentSupervisor {
  private readonly agents = new Map<string, Supervised>()

  constructor(private readonly log: (line: string) => void) {}

  /** Run exactly these agents: start new ones, stop removed ones. */
  async reconcile(specs: readonly AgentSpec[]): Promise<void> {
    const wanted = new Set(specs.map(s => s.node))
    for (const [node, agent] of this.agents) if (!wanted.has(node)) await this.stopOne(node, agent)
    for (const spec of specs) {
      if (!this.agents.has(spec.node)) {
        const agent: Supervised = { spec, child: undefined, restarts: 0, timer: undefined, stopping: false }
        this.agents.set(spec.node, agent)
        this.start(agent)
      }
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.agents].map(([node, agent]) => this.stopOne(node, agent)))
  }

  private start(agent: Supervised): void {
    mkdirSync(dirname(agent.spec.logPath), { recursive: true })
    const log = openSync(agent.spec.logPath, 'a', 0o600)
    const child = spawn(
      'nsenter',
      [`--net=/run/netns/${agent.spec.netns}`, '--', process.execPath, '--import', 'tsx', AGENT_MAIN, ...agent.spec.args],
      { stdio: ['ignore', log, log], env: process.env, cwd: REPO_ROOT },
    )
    closeSync(log)
    agent.child = child
    const startedAt = Date.now()
    child.on('exit', (code, signal) => {
      agent.child = undefined
      if (agent.stopping) return
      if (Date.now() - startedAt > 60_000) agent.restarts = 0
      const delay = Math.min(30_000, 500 * 2 ** agent.restarts++)
      this.log(`agent ${agent.spec.node} exited (${signal ?? code}); restarting in ${delay} ms`)
      agent.timer = setTimeout(() => this.start(agent), delay)
    })
  }

  private async stopOne(node: string, agent: Supervised): Promise<void> {
    agent.stopping = true
    clearTimeout(agent.timer)
    this.agents.delete(node)
    const child = agent.child
    if (!child || child.exitCode !== null) return
    const exited = new Promise(r => child.once('exit', r))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
}
