// Bringing a cluster up and down. `up` decides the addressing, builds the
// underlay and nodes, lets the backend program every node, and records the
// cluster; a failure anywhere sweeps what was made. `down` sweeps by name,
// so it also cleans up after a crashed `up`.
import { rmSync } from 'node:fs'
import { KubewireError } from '../../dataplane/errors.ts'
import { ipJson } from '../../dataplane/exec/ip.ts'
import { AddressingPlan, DEFAULTS } from '../../dataplane/ipam/addressing-plan.ts'
import { networkOf } from '../../dataplane/ipam/cidr.ts'
import { type AddressInUse, chooseUnderlay } from '../../dataplane/ipam/underlay-choice.ts'
import { ClusterNames, nodeName } from '../../dataplane/names.ts'
import { createClusterNetwork, NODE_UNDERLAY_DEVICE } from '../../dataplane/network/cluster-network.ts'
import { listNetns } from '../../dataplane/netns/netns.ts'
import { type BackendNode, getBackend, type Lease } from '../../dataplane/overlay/backends.ts'
import { type SweepResult, sweepCluster } from '../../dataplane/cleanup.ts'
import {
  type ClusterState,
  clusterExists,
  type NodeRecord,
  removeClusterFiles,
  saveState,
  setCurrentCluster,
  withClusterLock,
  withGlobalLock,
} from './cluster-state.ts'
import { runDir } from './paths.ts'

export interface UpOptions {
  name: string
  nodes: number
  backend: string
  /** Per-node exceptions to `backend`, e.g. { 'node-2': 'vxlan-kernel' } (wire-compatibility tests). */
  nodeBackends?: Record<string, string>
  underlayCidr?: string
  clusterCidr?: string
  serviceCidr?: string
}

export async function clusterUp(options: UpOptions): Promise<ClusterState> {
  const names = new ClusterNames(options.name)
  const backendOf = (node: string) => getBackend(options.nodeBackends?.[node] ?? options.backend, { cluster: names.cluster })
  const backend = backendOf(nodeName(1))
  return withGlobalLock(() =>
    withClusterLock(names.cluster, async () => {
      if (clusterExists(names.cluster) || listNetns().some(n => names.owns(n))) {
        throw new KubewireError(
          'EEXIST',
          `cluster "${names.cluster}" already exists (remove it with: kubewire down --name ${names.cluster})`,
        )
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
        const addresses = plan.node(i + 1)
        const name = nodeName(i + 1)
        return {
          name, ...addresses, netns: names.nodeNetns(name), uplink: names.nodeUplink(i + 1), backend: backendOf(name).type, backendData: {},
        }
      })
      for (const node of Object.keys(options.nodeBackends ?? {})) {
        if (!nodes.some(n => n.name === node)) throw new KubewireError('ENOTFOUND', `--node-backend names ${node}, which this cluster does not have`)
      }
      const mtus = new Set(nodes.map(n => backendOf(n.name).podMtu(DEFAULTS.underlayMtu)))
      if (mtus.size > 1) throw new KubewireError('EBACKEND', 'these backends give pods different MTUs; mix only backends of one kind (vxlan with vxlan-kernel)')
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
        pods: {},
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
          nodes: nodes.map(n => ({
            netns: n.netns,
            uplink: n.uplink,
            underlayIP: n.underlayIP,
            podGateway: n.podGateway,
            podPrefixLength: plan.nodeSubnetPrefix,
          })),
        })
        for (const node of nodes) node.backendData = await backendOf(node.name).register(backendNode(state, node))
        const leases = nodes.map(n => leaseOf(state, n))
        await Promise.all(nodes.map(n => backendOf(n.name).sync(backendNode(state, n), leases.filter(l => l.node !== n.name))))
        saveState(state)
        setCurrentCluster(state.name)
        return state
      } catch (e) {
        await sweepCluster(names).catch(() => {})
        removeClusterFiles(names.cluster)
        throw e
      }
    }),
  )
}

export interface DownResult extends SweepResult {
  found: boolean
}

export async function clusterDown(cluster: string): Promise<DownResult> {
  const names = new ClusterNames(cluster)
  return withClusterLock(names.cluster, async () => {
    const found = clusterExists(names.cluster)
    const swept = await sweepCluster(names)
    removeClusterFiles(names.cluster)
    rmSync(runDir(names.cluster), { recursive: true, force: true })
    return { ...swept, found: found || swept.namespaces.length > 0 || swept.links.length > 0 }
  })
}

export function backendNode(state: ClusterState, node: NodeRecord): BackendNode {
  return {
    name: node.name,
    netns: node.netns,
    underlayDevice: NODE_UNDERLAY_DEVICE,
    underlayIP: node.underlayIP,
    underlayMtu: state.underlayMtu,
    podCIDR: node.podCIDR,
    clusterCidr: state.addressing.clusterCidr,
  }
}

export function leaseOf(state: ClusterState, node: NodeRecord): Lease {
  return { node: node.name, podCIDR: node.podCIDR, underlayIP: node.underlayIP, backend: node.backend, data: node.backendData }
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
