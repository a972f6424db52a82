// The cluster record on disk (cluster.json): the addressing plan and the
// nodes, which the control plane and the agents read at start. Everything
// else (pods, deployments, ...) lives in the API's store; namespaces and links
// remain findable by name without any file (see cleanup).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KubewireError } from '../../dataplane/errors.ts'
import { type AddressingInput } from '../../dataplane/ipam/addressing-plan.ts'
import { validateClusterName } from '../../dataplane/names.ts'
import { readJsonFile, writeJsonFile } from '../../dataplane/util/json-file.ts'
import { withLock } from '../../dataplane/util/process-lock.ts'
import { clusterDir, currentClusterFile } from './paths.ts'

export interface NodeRecord {
  name: string
  index: number
  netns: string
  uplink: string
  underlayIP: string
  podCIDR: string
  podGateway: string
  /** The overlay backend of this node (normally the cluster's; mixing is for interop tests). */
  backend: string
  backendData: Record<string, string>
}

export interface ClusterState {
  apiVersion: 'kubewire.dev/v1alpha1'
  kind: 'Cluster'
  name: string
  createdAt: string
  backend: string
  addressing: AddressingInput
  underlayMtu: number
  nodes: NodeRecord[]
  /** Set once `up` finished (every node Ready): only such a cluster is resumed by a later `up`. */
  upCompletedAt?: string
  /** kube-controller-manager's node lifecycle knobs (defaults 40 s and 300 s). */
  nodeMonitorGracePeriodSeconds?: number
  defaultUnreachableTolerationSeconds?: number
}

export const DEFAULT_NODE_MONITOR_GRACE_SECONDS = 40

/** Agents post Ready well inside the grace period (kubelet: every 10 s against 40 s). */
export function heartbeatMs(state: ClusterState): number {
  return Math.min(10_000, ((state.nodeMonitorGracePeriodSeconds ?? DEFAULT_NODE_MONITOR_GRACE_SECONDS) * 1000) / 4)
}

export function statePath(cluster: string): string {
  return join(clusterDir(cluster), 'cluster.json')
}

export function loadState(cluster: string): ClusterState {
  const state = readJsonFile<ClusterState>(statePath(cluster))
  if (!state) {
    throw new KubewireError('ENOCLUSTER', `cluster "${cluster}" not found (bring one up with: kubewire up --name ${cluster})`)
  }
  return state
}

export function saveState(state: ClusterState): void {
  mkdirSync(join(clusterDir(state.name), 'logs'), { recursive: true, mode: 0o700 })
  writeJsonFile(statePath(state.name), state)
}

export function clusterExists(cluster: string): boolean {
  return existsSync(statePath(cluster))
}

export function listClusters(): string[] {
  try {
    return readdirSync(join(clusterDir('x'), '..')).filter(clusterExists).sort()
  } catch {
    return []
  }
}

export function removeClusterFiles(cluster: string): void {
  rmSync(clusterDir(cluster), { recursive: true, force: true })
  if (currentCluster() === cluster) rmSync(currentClusterFile(), { force: true })
}

export function currentCluster(): string | undefined {
  try {
    return readFileSync(currentClusterFile(), 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}

export function setCurrentCluster(cluster: string): void {
  mkdirSync(join(currentClusterFile(), '..'), { recursive: true, mode: 0o700 })
  writeFileSync(currentClusterFile(), `${cluster}\n`)
}

/** The cluster a command acts on: --name, else $KUBEWIRE_CLUSTER, else the one brought up last. */
export function resolveCluster(explicit: string | undefined): string {
  const name = explicit ?? process.env.KUBEWIRE_CLUSTER ?? currentCluster()
  if (!name) throw new KubewireError('ENOCLUSTER', 'no cluster: bring one up with "kubewire up", or name one with --name')
  return validateClusterName(name)
}

/** Serialises every change to one cluster's files across processes. */
export function withClusterLock<T>(cluster: string, fn: () => Promise<T>): Promise<T> {
  return withLock(`kubewire-cluster-${cluster}`, fn, { what: `the lock of cluster "${cluster}"` })
}

/** Serialises choices that span clusters (the underlay subnet of a new one). */
export function withGlobalLock<T>(fn: () => Promise<T>): Promise<T> {
  return withLock('kubewire-global', fn, { what: 'the kubewire host lock' })
}
