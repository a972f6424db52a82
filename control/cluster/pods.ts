// Bare pods, before the control plane owns them: choose a node, take an
// address, build the sandbox network and start the command. Everything for a
// batch of pods is checked before anything is made, and a failure undoes the
// whole batch, so nothing is half-applied. Many pods in one call share the
// batched `ip` work (see dataplane/network/pod-network.ts).
import { KubewireError } from '../../dataplane/errors.ts'
import { IpamFile } from '../../dataplane/ipam/ipam-file.ts'
import { parseCidr } from '../../dataplane/ipam/cidr.ts'
import { ClusterNames, podVeth, validateNamespaceName, validatePodName } from '../../dataplane/names.ts'
import { isAlive } from '../../dataplane/netns/netns.ts'
import { getBackend } from '../../dataplane/overlay/backends.ts'
import { createPodNetworks, deletePodNetworks, type PodNetworkSpec } from '../../dataplane/network/pod-network.ts'
import { BASE_PATH, startContainer, stopProcessesInNetns } from '../../dataplane/process/container.ts'
import {
  type ClusterState,
  ipamPath,
  loadState,
  type NodeRecord,
  podKey,
  podLogPath,
  type PodRecord,
  saveState,
  withClusterLock,
} from './cluster-state.ts'

export interface PodRequest {
  name: string
  namespace?: string
  /** Node name; by default the node with the fewest pods. */
  node?: string
  /** Host command to run in the pod; none makes a sandbox only (like a pause pod). */
  command?: string[]
}

export const DEFAULT_NAMESPACE = 'default'
export const DEFAULT_GRACE_MS = 30_000

export async function runPods(cluster: string, requests: readonly PodRequest[]): Promise<PodRecord[]> {
  return withClusterLock(cluster, async () => {
    const state = loadState(cluster)
    const names = new ClusterNames(cluster)
    const records = planPods(state, names, requests)
    const ipam = IpamFile.load(ipamPath(cluster))
    for (const r of records) r.ip = ipam.allocate(nodeOf(state, r.node).podCIDR, podKey(r.namespace, r.name))
    const specs: PodNetworkSpec[] = records.map(r => {
      const node = nodeOf(state, r.node)
      const mtu = getBackend(node.backend, { cluster }).podMtu(state.underlayMtu)
      return {
        netns: r.netns,
        nodeNetns: node.netns,
        veth: r.veth,
        ip: r.ip,
        prefixLength: parseCidr(node.podCIDR).prefix,
        gateway: node.podGateway,
        mtu,
      }
    })
    await createPodNetworks(specs)
    try {
      for (const r of records) {
        if (r.command) {
          r.pid = await startContainer({
            podNetns: r.netns,
            hostname: r.name,
            argv: r.command,
            env: { PATH: process.env.PATH ?? BASE_PATH, HOME: '/root', HOSTNAME: r.name, LANG: 'C.UTF-8' },
            mounts: [],
            logPath: r.logPath,
            exitPath: `${r.logPath}.exit`,
          })
        }
      }
    } catch (e) {
      await stopProcessesInNetns(records.map(r => r.netns), 0).catch(() => {})
      await deletePodNetworks(specs).catch(() => {})
      throw e
    }
    // Only now is anything recorded: the IPAM file and the pods go to disk together.
    ipam.save()
    for (const r of records) state.pods[podKey(r.namespace, r.name)] = r
    saveState(state)
    return records
  })
}

/** Validate a batch and decide nodes and names; throws before anything is made. */
export function planPods(state: ClusterState, names: ClusterNames, requests: readonly PodRequest[]): PodRecord[] {
  const load = new Map(state.nodes.map(n => [n.name, 0]))
  for (const pod of Object.values(state.pods)) load.set(pod.node, (load.get(pod.node) ?? 0) + 1)
  const seen = new Set<string>()
  const vethOwners = new Map(Object.values(state.pods).map(p => [`${p.node}/${p.veth}`, podKey(p.namespace, p.name)]))
  return requests.map(req => {
    const namespace = validateNamespaceName(req.namespace ?? DEFAULT_NAMESPACE)
    const name = validatePodName(req.name)
    const key = podKey(namespace, name)
    if (state.pods[key] || seen.has(key)) throw new KubewireError('EEXIST', `pods "${name}" already exists`)
    seen.add(key)
    const node = req.node ? nodeOf(state, req.node) : leastLoaded(state.nodes, load)
    load.set(node.name, (load.get(node.name) ?? 0) + 1)
    if (req.command && req.command.length === 0) throw new KubewireError('EBADCMD', `pod "${name}": empty command`)
    const veth = podVeth(namespace, name)
    const clash = vethOwners.get(`${node.name}/${veth}`)
    if (clash) throw new KubewireError('EEXIST', `pod "${name}" would reuse interface ${veth} of pod ${clash}; pick another name`)
    vethOwners.set(`${node.name}/${veth}`, key)
    return {
      namespace,
      name,
      node: node.name,
      ip: '',
      netns: names.podNetns(namespace, name),
      veth,
      command: req.command ?? null,
      pid: null,
      logPath: podLogPath(state.name, namespace, name),
      createdAt: new Date().toISOString(),
    }
  })
}

export interface DeleteOptions {
  namespace?: string
  graceMs?: number
}

export async function deletePods(cluster: string, podNames: readonly string[], options: DeleteOptions = {}): Promise<PodRecord[]> {
  return withClusterLock(cluster, async () => {
    const state = loadState(cluster)
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const records = podNames.map(name => {
      const pod = state.pods[podKey(namespace, name)]
      if (!pod) throw new KubewireError('ENOTFOUND', `pods "${name}" not found`)
      return pod
    })
    await stopProcessesInNetns(records.map(r => r.netns), options.graceMs ?? DEFAULT_GRACE_MS)
    await deletePodNetworks(records.map(r => ({ netns: r.netns, nodeNetns: nodeOf(state, r.node).netns, veth: r.veth })))
    const ipam = IpamFile.load(ipamPath(cluster))
    for (const r of records) {
      ipam.release(podKey(r.namespace, r.name))
      delete state.pods[podKey(r.namespace, r.name)]
    }
    ipam.save()
    saveState(state)
    return records
  })
}

export type PodPhase = 'Running' | 'Completed'

/** Running while its process lives (or, for a sandbox-only pod, always). */
export function podPhase(pod: PodRecord): PodPhase {
  return pod.pid === null || isAlive(pod.pid) ? 'Running' : 'Completed'
}

export function findPod(state: ClusterState, name: string, namespace = DEFAULT_NAMESPACE): PodRecord {
  const pod = state.pods[podKey(namespace, name)]
  if (!pod) throw new KubewireError('ENOTFOUND', `pods "${name}" not found`)
  return pod
}

export function nodeOf(state: ClusterState, name: string): NodeRecord {
  const node = state.nodes.find(n => n.name === name)
  if (!node) throw new KubewireError('ENOTFOUND', `nodes "${name}" not found`)
  return node
}

function leastLoaded(nodes: readonly NodeRecord[], load: Map<string, number>): NodeRecord {
  let best = nodes[0]
  if (!best) throw new KubewireError('ENONODES', 'the cluster has no nodes')
  for (const n of nodes) if ((load.get(n.name) ?? 0) < (load.get(best.name) ?? 0)) best = n
  return best
}
