// How a node of the cluster record looks to an overlay backend.
import { NODE_UNDERLAY_DEVICE } from '../../dataplane/network/cluster-network.ts'
import type { BackendNode, Lease } from '../../dataplane/overlay/backends.ts'
import type { ClusterState, NodeRecord } from './cluster-state.ts'

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
