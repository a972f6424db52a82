// vxlan-kernel: Linux's own vxlan device, programmed the way flannel's vxlan
// backend does it (static FDB + neighbour entries per peer, no learning, no
// multicast). The reference our TypeScript encapsulator must match on the wire
// (same VNI, port, VTEP MACs and addresses) and is measured against.
import { ipBatch, ipJson } from '../exec/ip.ts'
import { runner } from '../exec/run-command.ts'
import { linkNames } from '../network/links.ts'
import { type Backend, type BackendNode, type Lease, registerBackend } from './backend.ts'
import {
  LEASE_VTEP_MAC, peerEntries, VXLAN_DEVICE, VXLAN_OVERHEAD, VXLAN_PORT, VXLAN_VNI, vtepIP, vtepMac, type VxlanState, vxlanChanges,
} from './vtep.ts'

async function bridgeBatch(netns: string, lines: readonly string[]): Promise<void> {
  if (lines.length) await runner()(['bridge', '-n', netns, '-batch', '-'], { input: lines.join('\n') + '\n' })
}

/** Current FDB, neighbour and route entries of the device, as the pure diff wants them. */
export async function readVxlanState(netns: string, device: string): Promise<VxlanState> {
  const { stdout } = await runner()(['bridge', '-n', netns, '-j', 'fdb', 'show', 'dev', device])
  const fdb = (JSON.parse(stdout || '[]') as { mac: string; dst?: string }[]).filter(f => f.dst !== undefined)
  const neigh = await ipJson<{ dst: string; lladdr?: string }[]>(netns, ['neigh', 'show', 'dev', device])
  const routes = await ipJson<{ dst: string; gateway?: string }[]>(netns, ['route', 'show', 'dev', device])
  return { fdb, neigh, routes }
}

/** Apply peers to a VXLAN device (kernel or TAP): neighbours and FDB first, routes last, undone on failure. */
export async function syncVtepPeers(node: BackendNode, peers: readonly Lease[], withFdb: boolean): Promise<void> {
  const current = await readVxlanState(node.netns, VXLAN_DEVICE)
  if (!withFdb) current.fdb = []
  const changes = vxlanChanges(VXLAN_DEVICE, peerEntries(node.name, peers), current)
  await ipBatch(node.netns, changes.removeIp)
  if (withFdb) await bridgeBatch(node.netns, changes.removeBridge)
  if (withFdb) await bridgeBatch(node.netns, changes.bridge)
  await ipBatch(node.netns, changes.neigh)
  try {
    await ipBatch(node.netns, changes.routes)
  } catch (e) {
    // Leave no half-programmed peer behind: drop what this sync added.
    const undo = changes.neigh.map(l => l.replace(/^neigh replace (\S+) lladdr \S+ dev (\S+).*$/, 'neigh del $1 dev $2'))
    await runner()(['ip', '-n', node.netns, '-force', '-batch', '-'], { input: undo.join('\n') + '\n', allowFailure: true })
    throw e
  }
}

export function createVxlanKernelBackend(cluster: string): Backend {
  return {
    type: 'vxlan-kernel',
    podMtu: underlayMtu => underlayMtu - VXLAN_OVERHEAD,
    async register(node: BackendNode) {
      const mac = vtepMac(cluster, node.name)
      const lines: string[] = []
      if (!(await linkNames(node.netns)).has(VXLAN_DEVICE)) {
        lines.push(
          `link add ${VXLAN_DEVICE} address ${mac} mtu ${node.underlayMtu - VXLAN_OVERHEAD} type vxlan id ${VXLAN_VNI} ` +
            `local ${node.underlayIP} dev ${node.underlayDevice} dstport ${VXLAN_PORT} nolearning`,
        )
      }
      lines.push(`addr replace ${vtepIP(node.podCIDR)}/32 dev ${VXLAN_DEVICE}`, `link set ${VXLAN_DEVICE} up`)
      await ipBatch(node.netns, lines)
      return { [LEASE_VTEP_MAC]: mac }
    },
    sync: (node, peers) => syncVtepPeers(node, peers, true),
  }
}

registerBackend('vxlan-kernel', ({ cluster }) => createVxlanKernelBackend(cluster))
