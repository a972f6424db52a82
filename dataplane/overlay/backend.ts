// Overlay backends behind one small interface, as flannel's pkg/backend does:
// a backend prepares a node's devices and says what its lease carries, then
// converges the node to the full set of peer leases. A full resync and an
// incremental change are the same call with a different list, so there is one
// code path to get right. Backends register themselves by name.
import { KubewireError } from '../errors.ts'

/** What a node publishes about itself (flannel's lease). Only the backend reads `data`. */
export interface Lease {
  node: string
  podCIDR: string
  underlayIP: string
  backend: string
  data: Record<string, string>
}

/** The node a backend acts on. */
export interface BackendNode {
  name: string
  netns: string
  underlayDevice: string
  underlayIP: string
  underlayMtu: number
  podCIDR: string
  clusterCidr: string
}

export interface Backend {
  readonly type: string
  /** MTU of pod interfaces on this backend. */
  podMtu(underlayMtu: number): number
  /** Make the node's devices; returns the backend data for its lease. */
  register(node: BackendNode): Promise<Record<string, string>>
  /** Converge the node to exactly these peer leases (all other nodes). */
  sync(node: BackendNode, peers: readonly Lease[]): Promise<void>
}

/** What a backend may need to know about its cluster. */
export interface BackendContext {
  cluster: string
}

const registry = new Map<string, (context: BackendContext) => Backend>()

export function registerBackend(type: string, factory: (context: BackendContext) => Backend): void {
  registry.set(type, factory)
}

export function backendTypes(): string[] {
  return [...registry.keys()].sort()
}

export function getBackend(type: string, context: BackendContext): Backend {
  const factory = registry.get(type)
  if (!factory) {
    throw new KubewireError('EBACKEND', `unknown backend "${type}" (available: ${backendTypes().join(', ')})`)
  }
  return factory(context)
}
