// Overlay leases through the API, as flannel keeps them on Node objects: each
// agent publishes its node's backend type, backend data (e.g. the VTEP MAC)
// and underlay address as annotations next to spec.podCIDR; every agent reads
// all Nodes' leases to program its own backend. Only the backend interprets
// its data. Pure.
import type { KubeObject } from '../client/api-client.ts'
import type { Lease } from '../../dataplane/overlay/backend.ts'

export const ANNOTATION_BACKEND_TYPE = 'kubewire.dev/backend-type'
export const ANNOTATION_BACKEND_DATA = 'kubewire.dev/backend-data'
export const ANNOTATION_PUBLIC_IP = 'kubewire.dev/public-ip'
/** The peers this node's overlay has programmed (sorted names): `up` waits for it. */
export const ANNOTATION_OVERLAY_PEERS = 'kubewire.dev/overlay-peers'

export function leaseAnnotations(backend: string, data: Record<string, string>, publicIP: string): Record<string, string> {
  return {
    [ANNOTATION_BACKEND_TYPE]: backend,
    [ANNOTATION_BACKEND_DATA]: JSON.stringify(data),
    [ANNOTATION_PUBLIC_IP]: publicIP,
  }
}

/** The lease a Node object carries, or undefined while it carries none (yet). */
export function leaseFromNode(node: KubeObject): Lease | undefined {
  const annotations = node.metadata.annotations ?? {}
  const podCIDR = (node.spec as { podCIDR?: string } | undefined)?.podCIDR
  const backend = annotations[ANNOTATION_BACKEND_TYPE]
  const underlayIP = annotations[ANNOTATION_PUBLIC_IP]
  if (!podCIDR || !backend || !underlayIP || !node.metadata.name) return undefined
  let data: Record<string, string> = {}
  try {
    const parsed = JSON.parse(annotations[ANNOTATION_BACKEND_DATA] ?? '{}') as unknown
    if (parsed && typeof parsed === 'object') data = parsed as Record<string, string>
  } catch {
    return undefined
  }
  return { node: node.metadata.name, podCIDR, underlayIP, backend, data }
}
