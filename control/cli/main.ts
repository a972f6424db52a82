// The kubewire command line. Verbs and output follow kubectl where there is a
// kubectl equivalent; every command acts on the cluster named by --name, else
// $KUBEWIRE_CLUSTER, else the one brought up last.
import { spawn } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { KubewireError } from '../../dataplane/errors.ts'
import { backendTypes } from '../../dataplane/overlay/backends.ts'
import { readVxlanStats } from '../../dataplane/overlay/vxlan.ts'
import { StatusError } from '../api/status-error.ts'
import type { ApiClient } from '../client/api-client.ts'
import { HttpClient } from '../client/http-client.ts'
import { clusterFiles } from '../cluster/cluster-files.ts'
import { currentCluster, loadState, resolveCluster } from '../cluster/cluster-state.ts'
import { ADDONS, type Addon, clusterDown, clusterUp, nodeAdd, nodeRemove } from '../cluster/lifecycle.ts'
import { execArgv, followLog, hasCondition, nodeTable, podSummary, readLog, runPod, waitFor } from './cluster-verbs.ts'
import { lookupResource, qualifiedKind, qualifiedResource, refOf as kindRef } from './kubectl/resource-kinds.ts'
import { KubectlError } from './kubectl/errors.ts'
import { HttpDiscovery, kubectlVerbs, splitGlobalFlags } from './kubectl/index.ts'
import { humanAge, renderTable } from './table.ts'

const usage = (): string => `kubewire: Kubernetes networking, emulated for real with Linux namespaces

Cluster:
  kubewire up [--name C] [--nodes N] [--backend ${backendTypes().join('|')}] [--underlay CIDR]
              [--node-backend NODE=BACKEND]... [--node-monitor-grace-period 40s] [--addons dns,ingress|none]
              [--default-unreachable-toleration 300s]
  kubewire down [--name C]
  kubewire status [--name C]
  kubewire node add | kubewire node remove NODE
  kubewire overlay stats [NODE...] [-o json]     (vxlan backend: frames, bytes, drops by reason)

Pods:
  kubewire run NAME [--image IMG] [--node NODE] [-n NS] [--command] [-- CMD|ARG...]
  kubewire exec POD|NODE [-c CONTAINER] [-n NS] -- CMD [ARG...]
  kubewire logs POD [-c CONTAINER] [-n NS] [-f] [--previous]
  kubewire wait --for=condition=COND[=STATUS]|--for=delete TYPE/NAME [-n NS] [--timeout=30s]

Like kubectl (add --cluster C to pick a cluster):
  kubewire apply -f FILE|DIR|-        kubewire create -f FILE | namespace NAME | deployment NAME --image=IMG
  kubewire create job NAME --from=cronjob/CJ | --image=IMG
  kubewire get KIND [NAME] [-n NS|-A] [-l SEL] [-o wide|json|yaml|name|jsonpath=...] [-w]
  kubewire describe KIND NAME         kubewire delete (-f FILE | KIND NAME... | KIND -l SEL)
  kubewire scale deployment|statefulset/NAME --replicas=N
  kubewire rollout status|history|undo|restart deployment|statefulset|daemonset/NAME   (pause|resume: deployments)
  kubewire set image KIND/NAME CONTAINER=IMAGE         kubewire label|annotate KIND NAME K=V
  kubewire patch KIND NAME -p PATCH [--type strategic|merge|json] [--subresource status|scale]
  kubewire expose deployment NAME --port=P             kubewire api-resources | version

Every command acts on the cluster named by --name, else $KUBEWIRE_CLUSTER,
else the one brought up last. Nodes are node-1 ... node-N. The cluster's
kubeconfig works with kubectl too: kubewire status prints its path.`

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
    const kubectl = kubectlVerbs[verb]
    if (!handler && !kubectl) throw new KubewireError('EUSAGE', `unknown command "${verb}" for "kubewire"\n\n${usage()}`)
    if (process.getuid?.() !== 0) {
      throw new KubewireError('ENOTROOT', 'kubewire needs root: it creates network namespaces, links and nftables tables (try: sudo npx kubewire ...)')
    }
    if (handler) return await handler(args, command, io)
    return await runKubectlVerb(verb, args, command, io)
  } catch (e) {
    if (e instanceof StatusError) {
      io.err(`Error from server (${e.status.reason}): ${e.status.message}`)
      return 1
    }
    if (e instanceof KubewireError || e instanceof KubectlError) {
      io.err(`error: ${e.message}`)
      return 1
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`error: ${e.message}\nSee 'kubewire help'.`)
      return 1
    }
    throw e
  } finally {
    openClients.forEach(c => c.close())
    openClients.length = 0
  }
}

type Handler = (args: string[], command: string[] | undefined, io: Io) => Promise<number>

const clusterOption = { name: { type: 'string' } } as const
const namespaceOption = { namespace: { type: 'string', short: 'n' } } as const
const openClients: HttpClient[] = []

/** An API client for the cluster, from its kubeconfig. */
async function clientFor(cluster: string): Promise<ApiClient> {
  loadState(cluster)
  const client = await HttpClient.fromKubeconfig(clusterFiles(cluster).kubeconfig)
  openClients.push(client)
  return client
}

function seconds(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text)
  if (!m) throw new KubewireError('EUSAGE', `invalid ${what} "${text}": use a duration such as 30s or 2m`)
  const n = Number(m[1])
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n
}

/** `--addons dns,ingress` or `--addons none`. */
function parseAddons(text: string): Addon[] {
  if (text === 'none' || text === '') return []
  const names = text.split(',').map(a => a.trim())
  for (const a of names) {
    if (!(ADDONS as readonly string[]).includes(a)) throw new KubewireError('EUSAGE', `--addons: unknown add-on "${a}" (known: ${ADDONS.join(', ')}, or none)`)
  }
  return names as Addon[]
}

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
        'node-monitor-grace-period': { type: 'string' },
        'default-unreachable-toleration': { type: 'string' },
        addons: { type: 'string' },
      },
    })
    const grace = values['node-monitor-grace-period']
    const toleration = values['default-unreachable-toleration']
    const nodeBackends: Record<string, string> = {}
    for (const pair of values['node-backend'] ?? []) {
      const [node, type] = pair.split('=')
      if (!node || !type) throw new KubewireError('EUSAGE', `--node-backend takes NODE=BACKEND (e.g. node-2=vxlan-kernel), not "${pair}"`)
      nodeBackends[node] = type
    }
    const addons = values.addons === undefined ? undefined : parseAddons(values.addons)
    const name = values.name ?? process.env.KUBEWIRE_CLUSTER ?? 'demo'
    const nodes = values.nodes === undefined ? 2 : Number(values.nodes)
    const backend = values.backend ?? 'vxlan'
    const started = performance.now()
    io.out(`Creating cluster "${name}" (${nodes} node${nodes === 1 ? '' : 's'}, backend ${backend}) ...`)
    const state = await clusterUp({
      name, nodes, backend, nodeBackends,
      ...(values.underlay ? { underlayCidr: values.underlay } : {}),
      ...(grace ? { nodeMonitorGracePeriodSeconds: seconds(grace, '--node-monitor-grace-period', 40) } : {}),
      ...(toleration ? { defaultUnreachableTolerationSeconds: seconds(toleration, '--default-unreachable-toleration', 300) } : {}),
      ...(addons ? { addons } : {}),
    })
    const secs = ((performance.now() - started) / 1000).toFixed(2)
    io.out(`Cluster "${state.name}" is up in ${secs}s. Underlay ${state.addressing.underlayCidr} on bridge kw-${state.name}.`)
    io.out(await nodeTable(await clientFor(state.name), state))
    io.out(`\nKubeconfig: ${clusterFiles(state.name).kubeconfig}`)
    io.out(`Next: kubewire run web --image nginx, kubewire status, kubewire down --name ${state.name}`)
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
    const client = await clientFor(state.name)
    const current = currentCluster() === state.name ? ' (current)' : ''
    const host = state.addressing.underlayCidr.replace(/0\/\d+$/, '1')
    io.out(renderTable(
      ['CLUSTER', 'BACKEND', 'UNDERLAY', 'HOST', 'CLUSTER-CIDR', 'SERVICE-CIDR', 'AGE'],
      [[state.name + current, state.backend, state.addressing.underlayCidr, host, state.addressing.clusterCidr, state.addressing.serviceCidr, humanAge(state.createdAt)]],
    ))
    io.out(`API server: https://${host}:6443   kubeconfig: ${clusterFiles(state.name).kubeconfig}\n`)
    io.out(await nodeTable(client, state))
    io.out('')
    io.out(await podSummary(client))
    return 0
  },

  async run(args, command, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...clusterOption, ...namespaceOption, node: { type: 'string' }, image: { type: 'string' }, restart: { type: 'string' }, command: { type: 'boolean' },
      },
    })
    const [pod, ...extra] = positionals
    if (!pod || extra.length) throw new KubewireError('EUSAGE', 'usage: kubewire run NAME [--image IMG] [--node NODE] [-- CMD [ARG...]]')
    const client = await clientFor(resolveCluster(values.name))
    await runPod(client, {
      name: pod,
      namespace: values.namespace ?? 'default',
      ...(values.image ? { image: values.image } : {}),
      ...(values.node ? { node: values.node } : {}),
      // As kubectl run: with an image, words after -- are its args unless --command; without one, a host command.
      ...(command ? (values.image && !values.command ? { args: command } : { command }) : {}),
      ...(values.restart ? { restartPolicy: values.restart } : {}),
    })
    io.out(`pod/${pod} created`)
    return 0
  },

  async exec(args, command, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...clusterOption, ...namespaceOption, container: { type: 'string', short: 'c' }, stdin: { type: 'boolean', short: 'i' }, tty: { type: 'boolean', short: 't' } },
    })
    const [target] = positionals
    if (!target || !command?.length) throw new KubewireError('EUSAGE', 'usage: kubewire exec POD|NODE [-c CONTAINER] -- CMD [ARG...]')
    const state = loadState(resolveCluster(values.name))
    const client = await clientFor(state.name)
    return await spawnInherit(await execArgv(client, state, target, values.namespace, values.container, command, io.err), io)
  },

  async logs(args, _command, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...clusterOption, ...namespaceOption, container: { type: 'string', short: 'c' }, follow: { type: 'boolean', short: 'f' }, previous: { type: 'boolean', short: 'p' } },
    })
    const [target] = positionals
    if (!target) throw new KubewireError('EUSAGE', 'usage: kubewire logs POD [-c CONTAINER] [-f] [--previous]')
    const state = loadState(resolveCluster(values.name))
    const client = await clientFor(state.name)
    const { path, text } = await readLog(client, state, values.namespace ?? 'default', target, values.container, values.previous ?? false, io.err)
    process.stdout.write(text)
    if (values.follow) await followLog(path, statSync(path).size, chunk => process.stdout.write(chunk))
    return 0
  },

  async node(args, _command, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: clusterOption })
    const [action, nodeName] = positionals
    const cluster = resolveCluster(values.name)
    if (action === 'add' && !nodeName) {
      const node = await nodeAdd(cluster)
      io.out(`node/${node.name} added (${node.underlayIP}, pods ${node.podCIDR})`)
      return 0
    }
    if (action === 'remove' && nodeName) {
      await nodeRemove(cluster, nodeName)
      io.out(`node/${nodeName} removed`)
      return 0
    }
    throw new KubewireError('EUSAGE', 'usage: kubewire node add | kubewire node remove NODE')
  },

  async overlay(args, _command, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...clusterOption, output: { type: 'string', short: 'o' } } })
    const [action, ...nodes] = positionals
    if (action !== 'stats') throw new KubewireError('EUSAGE', 'usage: kubewire overlay stats [NODE...] [-o json]')
    const state = loadState(resolveCluster(values.name))
    const chosen = state.nodes.filter(n => nodes.length === 0 || nodes.includes(n.name))
    const rows: string[][] = []
    const all: Record<string, unknown> = {}
    for (const node of chosen) {
      if (node.backend !== 'vxlan') {
        rows.push([node.name, node.backend, '-', '-', '-', '-', 'counters only for the vxlan backend'])
        continue
      }
      const stats = await readVxlanStats(clusterFiles(state.name).run, node.name)
      all[node.name] = stats
      const drops = [...Object.entries(stats.drops.tx).map(([k, n]) => [`tx-${k}`, n] as const), ...Object.entries(stats.drops.rx).map(([k, n]) => [`rx-${k}`, n] as const)]
        .filter(([, n]) => n > 0).map(([why, n]) => `${why}=${n}`).join(' ') || 'none'
      const tx = stats.tx as Record<string, number>
      const rx = stats.rx as Record<string, number>
      rows.push([node.name, node.backend, String(tx.frames ?? 0), String(tx.bytes ?? 0), String(rx.frames ?? 0), String(rx.bytes ?? 0), drops])
    }
    if (values.output === 'json') io.out(JSON.stringify(all, null, 2))
    else io.out(renderTable(['NODE', 'BACKEND', 'TX-FRAMES', 'TX-BYTES', 'RX-FRAMES', 'RX-BYTES', 'DROPS'], rows))
    return 0
  },

  async wait(args, _command, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...clusterOption, ...namespaceOption, for: { type: 'string' }, timeout: { type: 'string' } },
    })
    const [target] = positionals
    const usage = 'usage: kubewire wait --for=condition=COND|--for=delete TYPE/NAME [--timeout=30s]'
    const slash = target?.indexOf('/') ?? -1
    if (!target || slash <= 0 || slash === target.length - 1 || !values.for) throw new KubewireError('EUSAGE', usage)
    const def = lookupResource(target.slice(0, slash))
    const name = target.slice(slash + 1)
    const namespace = def.namespaced ? (values.namespace ?? 'default') : undefined
    const shown = `${qualifiedKind(def)}/${name}`
    const client = await clientFor(resolveCluster(values.name))
    const timeoutMs = seconds(values.timeout, '--timeout', 30) * 1000
    const get = () => client.get(kindRef(def), namespace, name)
    if (values.for === 'delete') {
      await waitFor(`${shown} to be deleted`, timeoutMs, async () =>
        get().then(() => false, e => ((e as { code?: string }).code === 'NotFound' ? true : Promise.reject(e))),
      )
    } else {
      const condition = /^condition=([\w.-]+)(?:=(\w+))?$/.exec(values.for)
      if (!condition) throw new KubewireError('EUSAGE', `unrecognized condition: "${values.for}"`)
      const [, type, wanted = 'True'] = condition as unknown as [string, string, string | undefined]
      await waitFor(`the condition on ${qualifiedResource(def)}/${name}`, timeoutMs, async () => hasCondition(await get(), type, wanted))
    }
    io.out(`${shown} condition met`)
    return 0
  },
}

/**
 * The kubectl verbs (apply, get, describe, delete, scale, rollout, ...): the
 * cluster comes from kubectl's own global flag --cluster (or --kubeconfig),
 * else $KUBEWIRE_CLUSTER, else the current one, since --name means other
 * things to these verbs (expose --name). Ctrl-C ends a watch cleanly.
 */
async function runKubectlVerb(verb: string, args: string[], command: string[] | undefined, io: Io): Promise<number> {
  const global = splitGlobalFlags(args)
  let kubeconfig = global.kubeconfig
  if (kubeconfig === undefined) {
    const cluster = resolveCluster(global.cluster)
    loadState(cluster) // a cluster that does not exist is an error naming it, not a missing file
    kubeconfig = clusterFiles(cluster).kubeconfig
  }
  if (!existsSync(kubeconfig)) throw new KubewireError('ENOENT', `stat ${kubeconfig}: no such file or directory`)
  const client = await HttpClient.fromKubeconfig(kubeconfig)
  openClients.push(client)
  const abort = new AbortController()
  const onInterrupt = () => abort.abort()
  process.once('SIGINT', onInterrupt)
  try {
    return await (kubectlVerbs[verb] as NonNullable<(typeof kubectlVerbs)[string]>)(global.args, command, io, {
      client,
      discovery: await HttpDiscovery.fromKubeconfig(kubeconfig),
      signal: abort.signal,
    })
  } finally {
    process.off('SIGINT', onInterrupt)
  }
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
