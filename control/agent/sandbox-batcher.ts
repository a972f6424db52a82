// Pod sandboxes (network namespace, veth, address) are made in batches: the
// requests of every pod worker that asks while a batch is being made are
// collected and made together by the next one, so a Deployment's 100 pods cost
// a handful of `ip` processes, not 300. Addresses come from the node's IPAM
// file, loaded and saved once per batch.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { IpamFile } from '../../dataplane/ipam/ipam-file.ts'
import { createPodNetworks, deletePodNetworks, type PodNetworkRef, type PodNetworkSpec } from '../../dataplane/network/pod-network.ts'

export interface SandboxRequest {
  owner: string
  netns: string
  veth: string
}

export interface SandboxNode {
  nodeNetns: string
  podCIDR: string
  podPrefixLength: number
  podGateway: string
  podMtu: number
  ipamPath: string
}

interface Pending {
  request: SandboxRequest
  resolve: (ip: string) => void
  reject: (e: unknown) => void
}

export class SandboxBatcher {
  private queue: Pending[] = []
  private running = false

  constructor(private readonly node: SandboxNode) {}

  /** Makes the sandbox (idempotent: an owner keeps its address); resolves with the pod's IP. */
  create(request: SandboxRequest): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject })
      if (!this.running) void this.drain()
    })
  }

  async delete(ref: { owner: string; netns: string; veth: string }): Promise<void> {
    await deletePodNetworks([{ netns: ref.netns, nodeNetns: this.node.nodeNetns, veth: ref.veth } satisfies PodNetworkRef])
    const ipam = IpamFile.load(this.node.ipamPath)
    ipam.release(ref.owner)
    ipam.save()
  }

  private async drain(): Promise<void> {
    this.running = true
    try {
      while (this.queue.length) {
        const batch = this.queue
        this.queue = []
        // IPAM for the whole batch at once; this agent is its node's only writer.
        let specs: PodNetworkSpec[]
        try {
          mkdirSync(dirname(this.node.ipamPath), { recursive: true, mode: 0o700 })
          const ipam = IpamFile.load(this.node.ipamPath)
          specs = batch.map(p => ({
            netns: p.request.netns,
            nodeNetns: this.node.nodeNetns,
            veth: p.request.veth,
            ip: ipam.allocate(this.node.podCIDR, p.request.owner),
            prefixLength: this.node.podPrefixLength,
            gateway: this.node.podGateway,
            mtu: this.node.podMtu,
          }))
          ipam.save()
        } catch (e) {
          for (const p of batch) p.reject(e)
          continue
        }
        try {
          await createPodNetworks(specs)
          batch.forEach((p, i) => p.resolve(specs[i]!.ip))
        } catch {
          // One bad pod must not fail the others: retry each alone to find it.
          for (const [i, p] of batch.entries()) {
            try {
              await createPodNetworks([specs[i]!])
              p.resolve(specs[i]!.ip)
            } catch (e) {
              p.reject(e)
            }
          }
        }
      }
    } finally {
      this.running = false
    }
  }
}
