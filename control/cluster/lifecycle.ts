// Bringing a cluster up and down. `up` decides the addressing, builds the
// underlay and the node namespaces, writes the API token, starts the control
// plane (which starts one agent per node), and waits until every node is
// Ready and its overlay has programmed every peer; a failure anywhere sweeps
// what was made. `down` stops the control plane, then sweeps by name, so it
// also cleans up after a crashed `up`.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { KubewireError } from '../../dataplane/errors.ts'
import { ipBatch, ipJson } from '../../dataplane/exec/ip.ts'
import { AddressingPlan, DEFAULTS } from '../../dataplane/ipam/addressing-plan.ts'
import { networkOf } from '../../dataplane/ipam/cidr.ts'
import { type AddressInUse, chooseUnderlay } from '../../dataplane/ipam/underlay-choice.ts'
import { ClusterNames, nodeName } from '../../dataplane/names.ts'
import { createClusterNetwork } from '../../dataplane/network/cluster-network.ts'
import { listNetns, pidsWithTitle } from '../../dataplane/netns/netns.ts'
import { getBackend } from '../../dataplane/overlay/backends.ts'
import { removeCreatedMountpoints } from '../../dataplane/process/mountpoints.ts'
import { stopProcessesInNetns, waitGone } from '../../dataplane/process/container.ts'
import { type SweepResult, sweepCluster } from '../../dataplane/cleanup.ts'
import { readJsonFile } from '../../dataplane/util/json-file.ts'
import { generateToken } from '../apiserver/tls/kubeconfig.ts'
import { ensureServiceAccountKey } from '../apiserver/tls/service-account-token.ts'
import { RESOURCES, type KubeObject } from '../client/api-client.ts'
import { HttpClient } from '../client/http-client.ts'
import { ANNOTATION_OVERLAY_PEERS } from '../agent/overlay-leases.ts'
import { isNodeReady } from '../controllers/objects.ts'
import { dnsAddonObjects, ingressAddonObjects } from './addons.ts'
import { clusterFiles, type ControlPlaneInfo, controlPlaneTitle } from './cluster-files.ts'
import {
  type ClusterState,
  clusterExists,
  loadState,
  type NodeRecord,
  removeClusterFiles,
  saveState,
  setCurrentCluster,
  withClusterLock,
  withGlobalLock,
} from './cluster-state.ts'

const CONTROL_PLANE_MAIN = fileURLToPath(new URL('../server/main.ts', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const READY_TIMEOUT_MS = 60_000

export interface UpOptions {
  name: string
  nodes: number
  backend: string
  /** Per-node exceptions to `backend`, e.g. { 'node-2': 'vxlan-kernel' } (wire-compatibility tests). */
  nodeBackends?: Record<string, string>
  underlayCidr?: string
  clusterCidr?: string
  serviceCidr?: string
  nodeMonitorGracePeriodSeconds?: number
  defaultUnreachableTolerationSeconds?: number
  /** Add-ons to deploy (default: all of ADDONS). */
  addons?: readonly Addon[]
}

/** The control plane of an existing cluster, if its process runs. */
export function controlPlaneRunning(cluster: string): boolean {
  return pidsWithTitle(controlPlaneTitle(cluster)).length > 0
}

/**
 * `up` on a cluster whose control plane is gone (killed, host restarted
 * kubewire's processes): start it again on the same store; agents adopt their pods.
 */
export async function clusterResume(cluster: string): Promise<ClusterState> {
  const state = loadState(cluster)
  await withClusterLock(cluster, async () => {
    await startControlPlane(cluster)
  })
  await waitForNodes(state)
  setCurrentCluster(cluster)
  return state
}

export async function clusterUp(options: UpOptions): Promise<ClusterState> {
  const names = new ClusterNames(options.name)
  if (clusterExists(names.cluster) && loadState(names.cluster).upCompletedAt && !controlPlaneRunning(names.cluster) && listNetns().includes(names.nodeNetns(nodeName(1)))) {
    return clusterResume(names.cluster)
  }
  const backendOf = (node: string) => getBackend(options.nodeBackends?.[node] ?? options.backend, { cluster: names.cluster })
  backendOf(nodeName(1))
  const state = await withGlobalLock(() =>
    withClusterLock(names.cluster, async () => {
      if (clusterExists(names.cluster) || listNetns().some(n => names.owns(n))) {
        throw new KubewireError('EEXIST', `cluster "${names.cluster}" already exists (remove it with: kubewire down --name ${names.cluster})`)
      }
      const underlay = chooseUnderlay(await rootAddresses(), options.underlayCidr)
      const plan = new AddressingPlan({
        underlayCidr: underlay.text,
        clusterCidr: options.clusterCidr ?? DEFAULTS.clusterCidr,
        serviceCidr: options.serviceCidr ?? DEFAULTS.serviceCidr,
        nodeSubnetPrefix: DEFAULTS.nodeSubnetPrefix,
      })
      if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > plan.maxNodes) {
        throw new KubewireError('ERANGE', `--nodes must be a whole number from 1 to ${plan.maxNodes}, not ${options.nodes}`)
      }
      const nodes: NodeRecord[] = Array.from({ length: options.nodes }, (_, i) => {
        const name = nodeName(i + 1)
        return { name, ...plan.node(i + 1), netns: names.nodeNetns(name), uplink: names.nodeUplink(i + 1), backend: backendOf(name).type, backendData: {} }
      })
      for (const node of Object.keys(options.nodeBackends ?? {})) {
        if (!nodes.some(n => n.name === node)) throw new KubewireError('ENOTFOUND', `--node-backend names ${node}, which this cluster does not have`)
      }
      if (new Set(nodes.map(n => backendOf(n.name).podMtu(DEFAULTS.underlayMtu))).size > 1) {
        throw new KubewireError('EBACKEND', 'these backends give pods different MTUs; mix only backends of one kind (vxlan with vxlan-kernel)')
      }
      const state: ClusterState = {
        apiVersion: 'kubewire.dev/v1alpha1',
        kind: 'Cluster',
        name: names.cluster,
        createdAt: new Date().toISOString(),
        backend: options.backend,
        addressing: {
          underlayCidr: plan.underlay.text,
          clusterCidr: plan.cluster.text,
          serviceCidr: plan.service.text,
          nodeSubnetPrefix: plan.nodeSubnetPrefix,
        },
        underlayMtu: DEFAULTS.underlayMtu,
        nodes,
        ...(options.nodeMonitorGracePeriodSeconds !== undefined ? { nodeMonitorGracePeriodSeconds: options.nodeMonitorGracePeriodSeconds } : {}),
        ...(options.defaultUnreachableTolerationSeconds !== undefined ? { defaultUnreachableTolerationSeconds: options.defaultUnreachableTolerationSeconds } : {}),
      }
      try {
        saveState(state)
        await createClusterNetwork({
          bridge: names.underlayBridge,
          hostIP: plan.hostIP,
          underlayPrefixLength: plan.underlay.prefix,
          underlayMtu: state.underlayMtu,
          clusterCidr: plan.cluster.text,
          masqueradeTable: names.nftTable('masq'),
          nodes: nodes.map(n => ({ netns: n.netns, uplink: n.uplink, underlayIP: n.underlayIP, podGateway: n.podGateway, podPrefixLength: plan.nodeSubnetPrefix })),
        })
        const files = clusterFiles(names.cluster)
        writeFileSync(files.token, `${generateToken()}\n`, { mode: 0o600 })
        ensureServiceAccountKey(files.serviceAccountKey)
        await startControlPlane(names.cluster)
        return state
      } catch (e) {
        await stopControlPlane(names.cluster).catch(() => {})
        await sweepCluster(names).catch(() => {})
        removeClusterFiles(names.cluster)
        throw e
      }
    }),
  )
  try {
    await waitForNodes(state)
    await applyAddons(state.name, options.addons ?? ADDONS)
  } catch (e) {
    await clusterDown(state.name).catch(() => {})
    throw e
  }
  await withClusterLock(state.name, async () => {
    const done = { ...loadState(state.name), upCompletedAt: new Date().toISOString() }
    saveState(done)
  })
  setCurrentCluster(state.name)
  return state
}

/** The add-ons a new cluster runs unless `up --addons` says otherwise, in the order they are created. */
export const ADDONS = ['dns', 'ingress'] as const
export type Addon = (typeof ADDONS)[number]

/** Creates the chosen add-ons (the cluster DNS, the ingress controller); `up` does not wait for them to be ready. */
async function applyAddons(cluster: string, addons: readonly Addon[]): Promise<void> {
  const addressing = loadState(cluster).addressing
  const objects = { dns: () => dnsAddonObjects(addressing), ingress: () => ingressAddonObjects() }
  const client = await HttpClient.fromKubeconfig(clusterFiles(cluster).kubeconfig)
  try {
    for (const object of ADDONS.filter(a => addons.includes(a)).flatMap(a => objects[a]())) {
      const ref = ADDON_RESOURCES[object.kind as string]
      if (!ref) throw new KubewireError('EADDON', `add-on object of unknown kind ${object.kind}`)
      await client.create(ref, object.metadata.namespace, object).catch((e: unknown) => {
        if ((e as { code?: string }).code !== 'AlreadyExists') throw e
      })
    }
  } finally {
    client.close()
  }
}

const ADDON_RESOURCES: Record<string, (typeof RESOURCES)[keyof typeof RESOURCES]> = {
  Namespace: RESOURCES.namespaces,
  IngressClass: RESOURCES.ingressclasses,
  Service: RESOURCES.services,
  Deployment: RESOURCES.deployments,
}

/** Starts the control plane detached and waits until it serves. */
export async function startControlPlane(cluster: string): Promise<ControlPlaneInfo> {
  const files = clusterFiles(cluster)
  mkdirSync(files.logs, { recursive: true, mode: 0o700 })
  rmSync(files.controlPlane, { force: true })
  const log = openSync(files.controlPlaneLog, 'a', 0o600)
  const child = spawn(process.execPath, ['--import', 'tsx', CONTROL_PLANE_MAIN, '--cluster', cluster], {
    detached: true,
    stdio: ['ignore', log, log],
    cwd: REPO_ROOT,
    env: process.env,
  })
  closeSync(log)
  let exited: string | undefined
  child.once('exit', (code, signal) => (exited = `${signal ?? code}`))
  child.unref()
  const deadline = Date.now() + 30_000
  for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
    const info = readJsonFile<ControlPlaneInfo>(files.controlPlane)
    if (info && info.pid === child.pid) return info
    if (exited !== undefined || Date.now() > deadline) {
      throw new KubewireError('ECONTROLPLANE', `the control plane ${exited ? `exited (${exited})` : 'did not start within 30 s'}:\n${tail(files.controlPlaneLog)}`)
    }
    await new Promise(r => setTimeout(r, delay))
  }
}

/** Waits until every node of the record is Ready and its overlay has every other node as a peer. */
export async function waitForNodes(state: ClusterState, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const files = clusterFiles(state.name)
  const client = await HttpClient.fromKubeconfig(files.kubeconfig)
  const wanted = state.nodes.map(n => n.name)
  const deadline = Date.now() + timeoutMs
  let missing: string[] = wanted
  try {
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      const nodes = (await client.list<KubeObject>(RESOURCES.nodes, undefined)).items
      missing = wanted.filter(name => {
        const node = nodes.find(n => n.metadata.name === name)
        if (!node || !isNodeReady(node)) return true
        const peers = (node.metadata.annotations?.[ANNOTATION_OVERLAY_PEERS] ?? '').split(',').filter(Boolean)
        return wanted.some(other => other !== name && !peers.includes(other))
      })
      if (missing.length === 0) return
      if (Date.now() > deadline) break
      await new Promise(r => setTimeout(r, delay))
    }
  } finally {
    client.close()
  }
  const logs = missing.map(n => `--- ${files.agentLog(n)}\n${tail(files.agentLog(n))}`).join('\n')
  throw new KubewireError('ENOTREADY', `nodes ${missing.join(', ')} did not become Ready within ${timeoutMs / 1000} s\n${logs}`)
}


/** Stops the control plane (it stops its agents first); also strays left by a crash. */
export async function stopControlPlane(cluster: string): Promise<number> {
  const files = clusterFiles(cluster)
  const pids = new Set(pidsWithTitle(controlPlaneTitle(cluster)))
  const info = readJsonFile<ControlPlaneInfo>(files.controlPlane)
  if (info && pidsWithTitle(controlPlaneTitle(cluster)).includes(info.pid)) pids.add(info.pid)
  for (const pid of pids) signal(pid, 'SIGTERM')
  if (!(await waitGone([...pids], 10_000))) {
    for (const pid of pids) signal(pid, 'SIGKILL')
    await waitGone([...pids], 5_000)
  }
  return pids.size
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {
    // gone
  }
}

export interface DownResult extends SweepResult {
  found: boolean
}

export async function clusterDown(cluster: string): Promise<DownResult> {
  const names = new ClusterNames(cluster)
  return withClusterLock(names.cluster, async () => {
    const found = clusterExists(names.cluster)
    const files = clusterFiles(names.cluster)
    const controlPlanes = await stopControlPlane(names.cluster)
    const swept = await sweepCluster(names)
    removeCreatedMountpoints(files.mountLedger)
    removeClusterFiles(names.cluster)
    rmSync(files.run, { recursive: true, force: true })
    return { ...swept, processes: swept.processes + controlPlanes, found: found || swept.namespaces.length > 0 || swept.links.length > 0 }
  })
}

function tail(path: string, lines = 15): string {
  if (!existsSync(path)) return '(no log)'
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
}

interface IpAddr {
  ifname: string
  addr_info: { family: string; local: string; prefixlen: number }[]
}

async function rootAddresses(): Promise<AddressInUse[]> {
  const links = await ipJson<IpAddr[]>(null, ['addr', 'show'])
  return links.flatMap(link =>
    link.addr_info.filter(a => a.family === 'inet').map(a => ({ device: link.ifname, cidr: networkOf(a.local, a.prefixlen) })),
  )
}

/**
 * `kubewire node add`: one more node namespace on the underlay, recorded, and
 * its agent started by the control plane (SIGHUP); resolves once it is Ready
 * and every node's overlay has it as a peer.
 */
export async function nodeAdd(cluster: string): Promise<NodeRecord> {
  const names = new ClusterNames(cluster)
  const { state, node } = await withClusterLock(cluster, async () => {
    const state = loadState(cluster)
    const plan = new AddressingPlan(state.addressing)
    const used = new Set(state.nodes.map(n => n.index))
    let index = 1
    while (used.has(index)) index++
    if (index > plan.maxNodes) throw new KubewireError('ERANGE', `the cluster has its maximum of ${plan.maxNodes} nodes`)
    const name = nodeName(index)
    const node: NodeRecord = { name, ...plan.node(index), netns: names.nodeNetns(name), uplink: names.nodeUplink(index), backend: state.backend, backendData: {} }
    await createClusterNetwork({
      bridge: names.underlayBridge,
      hostIP: plan.hostIP,
      underlayPrefixLength: plan.underlay.prefix,
      underlayMtu: state.underlayMtu,
      clusterCidr: plan.cluster.text,
      masqueradeTable: names.nftTable('masq'),
      nodes: [{ netns: node.netns, uplink: node.uplink, underlayIP: node.underlayIP, podGateway: node.podGateway, podPrefixLength: plan.nodeSubnetPrefix }],
    })
    state.nodes.push(node)
    state.nodes.sort((a, b) => a.index - b.index)
    saveState(state)
    return { state, node }
  })
  signalControlPlane(cluster, 'SIGHUP')
  await waitForNodes(state)
  return node
}

// Controlled by a DaemonSet (what kubectl drain --ignore-daemonsets leaves).
const isDaemonSetPod = (pod: KubeObject): boolean =>
  pod.metadata.ownerReferences?.some(r => r.controller === true && r.kind === 'DaemonSet') ?? false

/**
 * `kubewire node remove NODE`: drain (its pods, but DaemonSet pods, are
 * deleted gracefully and replaced elsewhere by their controllers), stop its
 * agent, delete the Node (every other overlay drops it) and the pods still
 * bound to it, then remove its namespace and link.
 */
export async function nodeRemove(cluster: string, node: string): Promise<void> {
  const state = loadState(cluster)
  const record = state.nodes.find(n => n.name === node)
  if (!record) throw new KubewireError('ENOTFOUND', `nodes "${node}" not found`)
  if (state.nodes.length === 1) throw new KubewireError('EUSAGE', `cannot remove ${node}: it is the cluster's last node`)
  const client = await HttpClient.fromKubeconfig(clusterFiles(cluster).kubeconfig)
  try {
    await client.patch(RESOURCES.nodes, undefined, node, { spec: { unschedulable: true } })
    // DaemonSet pods stay (kubectl drain --ignore-daemonsets): they tolerate
    // unschedulable, so their controller would put them straight back.
    const podsToDrain = async (): Promise<KubeObject[]> =>
      (await client.list(RESOURCES.pods, undefined, { fieldSelector: `spec.nodeName=${node}` })).items.filter(p => !isDaemonSetPod(p))
    const pods = await podsToDrain()
    await Promise.all(pods.map(p => client.delete(RESOURCES.pods, p.metadata.namespace, p.metadata.name as string).catch(() => {})))
    const deadline = Date.now() + READY_TIMEOUT_MS
    while ((await podsToDrain()).length > 0) {
      if (Date.now() > deadline) throw new KubewireError('ETIMEDOUT', `pods on ${node} were not removed within ${READY_TIMEOUT_MS / 1000} s`)
      await new Promise(r => setTimeout(r, 100))
    }
    await withClusterLock(cluster, async () => {
      const now = loadState(cluster)
      now.nodes = now.nodes.filter(n => n.name !== node)
      saveState(now)
    })
    signalControlPlane(cluster, 'SIGHUP')
    await waitGone(pidsWithTitle(`kubewire-agent ${cluster} ${node}`), 10_000)
    await client.delete(RESOURCES.nodes, undefined, node).catch(() => {})
    // What is still bound there (the DaemonSet pods) has no agent left to
    // finish it: deleted at once, as the pod garbage collector does.
    const left = (await client.list(RESOURCES.pods, undefined, { fieldSelector: `spec.nodeName=${node}` })).items
    await Promise.all(left.map(p => client.delete(RESOURCES.pods, p.metadata.namespace, p.metadata.name as string, { gracePeriodSeconds: 0 }).catch(() => {})))
  } finally {
    client.close()
  }
  const names = new ClusterNames(cluster)
  await sweepNode(names, record)
}

async function sweepNode(names: ClusterNames, node: NodeRecord): Promise<void> {
  await stopProcessesInNetns([node.netns], 2_000)
  await ipBatch(null, listNetns().includes(node.netns) ? [`netns del ${node.netns}`] : [])
  await ipBatch(null, [`link del ${node.uplink}`]).catch(() => {})
}

function signalControlPlane(cluster: string, name: NodeJS.Signals): void {
  const pids = pidsWithTitle(controlPlaneTitle(cluster))
  if (pids.length === 0) throw new KubewireError('ECONTROLPLANE', `the control plane of "${cluster}" is not running (start it with: kubewire up --name ${cluster})`)
  for (const pid of pids) signal(pid, name)
}
