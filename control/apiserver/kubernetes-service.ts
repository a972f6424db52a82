// The `kubernetes` Service in `default`: how pods reach the API server
// (https://kubernetes.default.svc, 10.96.0.1:443), kept by the API server
// itself as kube-apiserver's endpoint reconciler does — the Service with the
// first address of the service range, and, when the server knows the address
// it is reachable at, the Endpoints and EndpointSlice behind it.

import { isAlreadyExists, isNotFound } from '../api/status-error.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import type { KubeObject } from '../client/api-client.ts'
import { endpointSlices } from './kinds/endpoint-slice.ts'
import { endpoints } from './kinds/endpoints.ts'
import { services } from './kinds/service.ts'
import { firstServiceIp } from './kinds/service-allocation.ts'
import type { ResourceDefinition } from './resource-definition.ts'
import type { HandlerCore } from './verbs/core.ts'
import { createObject } from './verbs/create.ts'
import { getObject } from './verbs/read.ts'
import { updateObject } from './verbs/update.ts'

export interface KubernetesServiceOptions {
  /** The port the API server listens on (the Service's targetPort). */
  port: number
  /** Addresses pods and nodes reach the API server at; none: no Endpoints are written. */
  addresses?: readonly string[]
}

const LABELS = { component: 'apiserver', provider: 'kubernetes' }

/** The `kubernetes` Service's port (https); its cluster IP is the first of the service range. */
export const KUBERNETES_SERVICE_PORT = 443

async function ensure(core: HandlerCore, def: ResourceDefinition, desired: KubeObject, same: (stored: KubeObject) => boolean): Promise<void> {
  const name = desired.metadata.name ?? ''
  let stored: KubeObject | undefined
  try {
    stored = await getObject(core, def, 'default', name)
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
  if (stored === undefined) {
    try {
      await createObject(core, def, 'default', desired)
    } catch (err) {
      if (!isAlreadyExists(err)) throw err
    }
    return
  }
  if (same(stored)) return
  await updateObject(core, def, 'default', name, { ...stored, ...desired, metadata: { ...stored.metadata, ...desired.metadata } }, undefined)
}

export async function reconcileKubernetesService(core: HandlerCore, options: KubernetesServiceOptions): Promise<void> {
  const ports = [{ name: 'https', port: KUBERNETES_SERVICE_PORT, protocol: 'TCP', targetPort: options.port }]
  const clusterIP = firstServiceIp(core.settings.serviceCidr)
  await ensure(
    core,
    services,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: LABELS },
      spec: { type: 'ClusterIP', clusterIP, ports, sessionAffinity: 'None' },
    },
    stored => jsonEqual((stored.spec as { ports?: unknown }).ports, ports),
  )
  const addresses = options.addresses ?? []
  if (addresses.length === 0) return
  const subsets = [{ addresses: addresses.map(ip => ({ ip })), ports: [{ name: 'https', port: options.port, protocol: 'TCP' }] }]
  await ensure(
    core,
    endpoints,
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets,
    },
    stored => jsonEqual(stored.subsets, subsets),
  )
  const sliceEndpoints = addresses.map(ip => ({ addresses: [ip], conditions: { ready: true } }))
  const slicePorts = [{ name: 'https', port: options.port, protocol: 'TCP' }]
  await ensure(
    core,
    endpointSlices,
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      addressType: 'IPv4',
      endpoints: sliceEndpoints,
      ports: slicePorts,
    },
    stored => jsonEqual(stored.endpoints, sliceEndpoints) && jsonEqual(stored.ports, slicePorts),
  )
}
