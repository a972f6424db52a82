// The kubewire command line. Verbs and output follow kubectl where there is a
// kubectl equivalent; every command acts on the cluster named by --name, else
// $KUBEWIRE_CLUSTER, else the one brought up last.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { KubewireError } from '../../dataplane/errors.ts'
import { backendTypes } from '../../dataplane/overlay/backends.ts'
import { netnsExists } from '../../dataplane/netns/netns.ts'
import { containerInitPid } from '../../dataplane/process/container.ts'
import { type ClusterState, currentCluster, loadState, resolveCluster } from '../cluster/cluster-state.ts'
import { clusterDown, clusterUp } from '../cluster/lifecycle.ts'
import { deletePods, findPod, podPhase, runPods } from '../cluster/pods.ts'
import { humanAge, renderTable } from './table.ts'

const usage = (): string => `kubewire: Kubernetes networking, emulated for real with Linux namespaces

Usage:
  kubewire up [--name C] [--nodes N] [--backend ${backendTypes().join('|')}] [--underlay CIDR]
              [--node-backend NODE=BACKEND]...
  kubewire down [--name C]
  kubewire status [--name C]
  kubewire run POD [--node NODE] [-n NAMESPACE] [-- CMD [ARG...]]
  kubewire exec POD|NODE [-n NAMESPACE] -- CMD [ARG...]
  kubewire logs POD [-n NAMESPACE]
  kubewire delete pod POD... [-n NAMESPACE] [--grace-period SECONDS]

Every command acts on the cluster named by --name, else $KUBEWIRE_CLUSTER,
else the one brought up last. Nodes are node-1 ... node-N.`

interface Io {
  out: (text: string) => void
  err: (text: string) => void
}

const stdio: Io = {
  out: text => process.stdout.write(text + '\n'),
  err: text => process.stderr.write(text + '\n'),
}

/** Runs one command line; resolves with the exit code. */
export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  const dash = argv.indexOf('--')
  const args = dash >= 0 ? argv.slice(0, dash) : [...argv]
  const command = dash >= 0 ? argv.slice(dash + 1) : undefined
  const verb = args.shift()
  try {
    if (!verb || verb === 'help' || verb === '--help' || verb === '-h') {
      io.out(usage())
      return verb ? 0 : 1
    }
    const handler = verbs[verb]
    if (!handler) throw new KubewireError('EUSAGE', `unknown command "${verb}" for "kubewire"\n\n${usage()}`)
    if (process.getuid?.() !== 0) {
      throw new KubewireError('ENOTROOT', 'kubewire needs root: it creates network namespaces, links and nftables tables (try: sudo npx kubewire ...)')
    }
    return await handler(args, command, io)
  } catch (e) {
    if (e instanceof KubewireError) {
      io.err(`error: ${e.message}`)
      return 1
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`error: ${e.message}\nSee 'kubewire help'.`)
      return 1
    }
    throw e
  }
}

type Handler = (args: string[], command: string[] | undefined, io: Io) => Promise<number>

const clusterOption = { name: { type: 'string' } } as const
const namespaceOption = { namespace: { type: 'string', short: 'n' } } as const

const verbs: Record<string, Handler> = {
  async up(args, _command, io) {
    const { values } = parseArgs({
      args,
      options: {
        ...clusterOption,
        nodes: { type: 'string' },
        backend: { type: 'string' },
        underlay: { type: 'string' },
        'node-backend': { type: 'string', multiple: true },
      },
    })
    const nodeBackends: Record<string, string> = {}
    for (const pair of values['node-backend'] ?? []) {
      const [node, type] = pair.split('=')
      if (!node || !type) throw new KubewireError('EUSAGE', `--node-backend takes NODE=BACKEND (e.g. node-2=vxlan-kernel), not "${pair}"`)
      nodeBackends[node] = type
    }
    const name = values.name ?? process.env.KUBEWIRE_CLUSTER ?? 'demo'
    const nodes = values.nodes === undefined ? 2 : Number(values.nodes)
    const backend = values.backend ?? 'host-gw'
    const started = performance.now()
    io.out(`Creating cluster "${name}" (${nodes} node${nodes === 1 ? '' : 's'}, backend ${backend}) ...`)
    const state = await clusterUp({ name, nodes, backend, nodeBackends, ...(values.underlay ? { underlayCidr: values.underlay } : {}) })
    const seconds = ((performance.now() - started) / 1000).toFixed(2)
    io.out(`Cluster "${state.name}" is up in ${seconds}s. Underlay ${state.addressing.underlayCidr} on bridge kw-${state.name}.`)
    io.out(renderNodes(state))
    io.out(`\nNext: kubewire run web -- <command>, kubewire status, kubewire down --name ${state.name}`)
    return 0
  },

  async down(args, _command, io) {
    const { values } = parseArgs({ args, options: clusterOption })
    const name = resolveCluster(values.name)
    const result = await clusterDown(name)
    if (!result.found) io.out(`cluster "${name}" not found; nothing to remove`)
    else {
      io.out(
        `Deleted cluster "${name}": ${result.namespaces.length} namespaces, ${result.links.length} links, ` +
          `${result.nftTables.length} nft tables, ${result.processes} processes.`,
      )
    }
    return 0
  },

  async status(args, _command, io) {
    const { values } = parseArgs({ args, options: clusterOption })
    const state = loadState(resolveCluster(values.name))
    const current = currentCluster() === state.name ? ' (current)' : ''
    io.out(renderTable(
      ['CLUSTER', 'BACKEND', 'UNDERLAY', 'HOST', 'CLUSTER-CIDR', 'AGE'],
      [[state.name + current, state.backend, state.addressing.underlayCidr, state.addressing.underlayCidr.replace(/0\/\d+$/, '1'), state.addressing.clusterCidr, humanAge(state.createdAt)]],
    ))
    io.out('')
    io.out(renderNodes(state))
    const pods = Object.values(state.pods)
    io.out('')
    if (pods.length === 0) io.out('No pods yet.')
    else {
      io.out(renderTable(
        ['NAMESPACE', 'NAME', 'STATUS', 'IP', 'NODE', 'AGE'],
        pods.map(p => [p.namespace, p.name, netnsExists(p.netns) ? podPhase(p) : 'Missing', p.ip, p.node, humanAge(p.createdAt)]),
      ))
    }
    return 0
  },

  async run(args, command, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...clusterOption, ...namespaceOption, node: { type: 'string' } },
    })
    const [pod, ...extra] = positionals
    if (!pod || extra.length) throw new KubewireError('EUSAGE', 'usage: kubewire run POD [--node NODE] [-- CMD [ARG...]]')
    const cluster = resolveCluster(values.name)
    const [record] = await runPods(cluster, [
      { name: pod, ...(values.namespace ? { namespace: values.namespace } : {}), ...(values.node ? { node: values.node } : {}), ...(command ? { command } : {}) },
    ])
    io.out(`pod/${pod} created on ${record?.node} with IP ${record?.ip}`)
    return 0
  },

  async exec(args, command, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...clusterOption, ...namespaceOption } })
    const [target] = positionals
    if (!target || !command?.length) throw new KubewireError('EUSAGE', 'usage: kubewire exec POD|NODE -- CMD [ARG...]')
    const state = loadState(resolveCluster(values.name))
    return await spawnInherit(execArgv(state, target, values.namespace, command), io)
  },

  async logs(args, _command, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...clusterOption, ...namespaceOption } })
    const [target] = positionals
    if (!target) throw new KubewireError('EUSAGE', 'usage: kubewire logs POD')
    const pod = findPod(loadState(resolveCluster(values.name)), target, values.namespace)
    if (existsSync(pod.logPath)) process.stdout.write(readFileSync(pod.logPath))
    else io.err(`pod "${target}" has written no logs`)
    return 0
  },

  async delete(args, _command, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...clusterOption, ...namespaceOption, 'grace-period': { type: 'string' } },
    })
    const [kind, ...podNames] = positionals
    if (!kind || !['pod', 'pods', 'po'].includes(kind) || podNames.length === 0) {
      throw new KubewireError('EUSAGE', 'usage: kubewire delete pod POD... (only pods can be deleted by name yet)')
    }
    const grace = values['grace-period'] === undefined ? undefined : Number(values['grace-period'])
    if (grace !== undefined && !(grace >= 0)) throw new KubewireError('EUSAGE', `--grace-period must be a number of seconds, not "${values['grace-period']}"`)
    const deleted = await deletePods(resolveCluster(values.name), podNames, {
      ...(values.namespace ? { namespace: values.namespace } : {}),
      ...(grace !== undefined ? { graceMs: grace * 1000 } : {}),
    })
    for (const p of deleted) io.out(`pod "${p.name}" deleted`)
    return 0
  },
}

function renderNodes(state: ClusterState): string {
  return renderTable(
    ['NODE', 'STATUS', 'UNDERLAY-IP', 'POD-CIDR', 'BACKEND', 'NAMESPACE'],
    state.nodes.map(n => [n.name, netnsExists(n.netns) ? 'Ready' : 'NotReady', n.underlayIP, n.podCIDR, n.backend, n.netns]),
  )
}

/**
 * argv that runs `command` in a node's network namespace, or in a pod's: a pod
 * whose process runs is entered through all its namespaces (network, UTS, mount,
 * PID) so the command sees its hostname and processes; otherwise its network only.
 */
function execArgv(state: ClusterState, target: string, namespace: string | undefined, command: string[]): string[] {
  const node = state.nodes.find(n => n.name === target)
  if (node && !namespace) return ['ip', 'netns', 'exec', node.netns, ...command]
  const pod = findPod(state, target, namespace)
  if (!netnsExists(pod.netns)) throw new KubewireError('ENOTFOUND', `pod "${target}" has no network namespace (${pod.netns}); delete and run it again`)
  const init = pod.pid === null ? undefined : containerInitPid(pod.pid)
  if (init === undefined) return ['ip', 'netns', 'exec', pod.netns, ...command]
  return ['nsenter', '--target', String(init), '--net', '--uts', '--mount', '--pid', '--', ...command]
}

function spawnInherit(argv: string[], io: Io): Promise<number> {
  return new Promise(resolve => {
    const [file, ...rest] = argv
    const child = spawn(file as string, rest, { stdio: 'inherit' })
    child.on('error', e => {
      io.err(`error: ${e.message}`)
      resolve(126)
    })
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)))
  })
}
