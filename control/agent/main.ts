// A node agent process (kubelet, proxy and overlay roles of one node). It runs
// inside its node's network namespace, started and restarted by the control
// plane, and talks to the API server over HTTPS like any kubelet. Stopping it
// leaves pods running; the next agent adopts them.
// Usage: node --import tsx control/agent/main.ts --cluster NAME --node NODE
import { parseArgs } from 'node:util'
import { parseCidr } from '../../dataplane/ipam/cidr.ts'
import { ClusterNames } from '../../dataplane/names.ts'
import { getBackend } from '../../dataplane/overlay/backends.ts'
import { RESOURCES, type Informer } from '../client/api-client.ts'
import { HttpClient } from '../client/http-client.ts'
import { createInformer } from '../client/informer.ts'
import { agentTitle, clusterFiles } from '../cluster/cluster-files.ts'
import { heartbeatMs, loadState } from '../cluster/cluster-state.ts'
import { backendNode } from '../cluster/node-view.ts'
import { Kubelet } from './kubelet.ts'
import { OverlayAgent } from './overlay.ts'
import { leaseAnnotations } from './overlay-leases.ts'
import { SandboxBatcher } from './sandbox-batcher.ts'
import { ipBatch } from '../../dataplane/exec/ip.ts'
import { POD_BRIDGE } from '../../dataplane/network/pod-network.ts'
import { Proxier } from '../../dataplane/proxy/proxier.ts'
import { ProxyAgent } from './proxy.ts'
import { LoadBalancerAnnouncer } from './lb-announcer.ts'
import { AddressingPlan } from '../../dataplane/ipam/addressing-plan.ts'

const { values } = parseArgs({ options: { cluster: { type: 'string' }, node: { type: 'string' } } })
const { cluster, node: nodeName } = values
if (!cluster || !nodeName) throw new Error('usage: control/agent/main.ts --cluster NAME --node NODE')
process.title = agentTitle(cluster, nodeName)
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${nodeName}: ${line}\n`)

const state = loadState(cluster)
const node = state.nodes.find(n => n.name === nodeName)
if (!node) throw new Error(`node ${nodeName} is not in cluster ${cluster}`)
const files = clusterFiles(cluster)
const names = new ClusterNames(cluster)
const client = await HttpClient.fromKubeconfig(files.kubeconfig)
const informer = (ref: Parameters<typeof createInformer>[1], options: { labelSelector?: string; fieldSelector?: string } = {}) =>
  createInformer(client, ref, {
    ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
    ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
    onError: e => log(`watch ${ref.resource}: ${(e as Error).message}`),
  }) as Informer

// Overlay: make this node's devices and publish its lease on the Node.
const backend = getBackend(node.backend, { cluster })
const self = backendNode(state, node)
const backendData = await backend.register(self)

// Proxy: this node's nftables table for Services. Processes of the node itself
// reach ClusterIPs too (the node has no default route: give the service range one).
await ipBatch(null, [`route replace ${state.addressing.serviceCidr} dev ${POD_BRIDGE}`])
const nodes = informer(RESOURCES.nodes)
const services = informer(RESOURCES.services)
const endpointslices = informer(RESOURCES.endpointslices)
const proxy = new ProxyAgent(
  client,
  services,
  endpointslices,
  nodes,
  new Proxier(names.nftTable('proxy'), { clusterCidr: state.addressing.clusterCidr, serviceCidr: state.addressing.serviceCidr, localPodCidr: node.podCIDR, podBridge: POD_BRIDGE }),
  nodeName,
  log,
)
// LoadBalancer addresses this node wins are announced on its eth0 (MetalLB L2).
const announcer = new LoadBalancerAnnouncer(services, endpointslices, nodes, nodeName, new AddressingPlan(state.addressing).loadBalancerPool, log)

const kubelet = new Kubelet({
  client,
  informer,
  podCIDR: node.podCIDR,
  heartbeatMs: heartbeatMs(state),
  nodeAnnotations: leaseAnnotations(backend.type, backendData, node.underlayIP),
  node: {
    cluster,
    nodeName,
    hostIP: node.underlayIP,
    stateDir: files.state,
    runDir: files.nodeRun(nodeName),
    mountLedger: files.mountLedger,
    unserved: pod => proxy.unserved(pod),
    podNetns: (namespace, name) => names.podNetns(namespace, name),
    sandboxes: new SandboxBatcher({
      nodeNetns: node.netns,
      podCIDR: node.podCIDR,
      podPrefixLength: parseCidr(node.podCIDR).prefix,
      podGateway: node.podGateway,
      podMtu: backend.podMtu(state.underlayMtu),
      ipamPath: files.nodeIpam(nodeName),
    }),
  },
  log,
})
await kubelet.start()
const overlay = new OverlayAgent(client, nodes, backend, self, log)
await overlay.start()
await proxy.start()
await announcer.start()
log(`agent running (backend ${backend.type})`)

async function shutdown(signal: string): Promise<void> {
  log(`${signal}: stopping (pods keep running)`)
  await announcer.stop().catch(e => log(`lb: withdrawing at stop failed: ${(e as Error).message}`))
  await kubelet.stop()
  client.close()
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))

// An agent belongs to the control plane that started it: if that process is
// gone (killed), step aside so the next control plane's agent is the only one.
const parent = process.ppid
setInterval(() => {
  if (process.ppid !== parent) void shutdown('control plane gone')
}, 1000).unref()
