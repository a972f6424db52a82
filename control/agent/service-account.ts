// In-cluster credentials for pods: what client-go's rest.InClusterConfig (and
// our built-in runtimes' in-cluster client) need to reach the API server from
// inside a pod, as the kubelet and the ServiceAccount admission provide them:
// - every container gets KUBERNETES_SERVICE_HOST (the `kubernetes` Service's
//   cluster IP: the first address of the service range), KUBERNETES_SERVICE_PORT
//   and KUBERNETES_SERVICE_PORT_HTTPS (443);
// - unless the pod says `automountServiceAccountToken: false`, a read-only
//   directory at /var/run/secrets/kubernetes.io/serviceaccount/ holds `token`
//   (the namespace's service-account token, control/apiserver/tls/service-account-token.ts),
//   `ca.crt` (the cluster CA) and `namespace`. A container that mounts a
//   volume of its own at that path keeps it, as with Kubernetes' admission.
// The pure parts decide what a pod gets; podCredentials writes the files into
// the node's directory for the namespace (serviceAccountDir, under the node's
// runtime directory, removed with the cluster) and hands out the mounts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Mount } from '../../dataplane/process/container.ts'
import { ensureMountpoint } from '../../dataplane/process/mountpoints.ts'
import { firstServiceIp } from '../apiserver/kinds/service-allocation.ts'
import { KUBERNETES_SERVICE_PORT } from '../apiserver/kubernetes-service.ts'
import { CA_CERT_FILE } from '../apiserver/tls/certificates.ts'
import { readServiceAccountKey, serviceAccountToken } from '../apiserver/tls/service-account-token.ts'
import { clusterFiles } from '../cluster/cluster-files.ts'
import { loadState } from '../cluster/cluster-state.ts'
import type { ContainerSpec, Pod, PodSpec } from './pod-spec.ts'
import { VolumeError } from './volumes.ts'

export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount'

/** What a cluster gives its pods. */
export interface InClusterSource {
  /** The `kubernetes` Service. */
  serviceHost: string
  servicePort: number
  /** The cluster CA, PEM. */
  caCert: string
  /** The signing key of service-account tokens. */
  serviceAccountKey: string
}

export interface PodCredentials {
  /** For every container (before its own `env`, which may override them). */
  env: Record<string, string>
  /** The container's service-account mount (none when the pod opted out or mounts its own). */
  mounts(container: ContainerSpec, ledger: string): Mount[]
}

/** The variables of the `kubernetes` Service that client-go's InClusterConfig reads. */
export function inClusterEnv(source: Pick<InClusterSource, 'serviceHost' | 'servicePort'>): Record<string, string> {
  const port = String(source.servicePort)
  return { KUBERNETES_SERVICE_HOST: source.serviceHost, KUBERNETES_SERVICE_PORT: port, KUBERNETES_SERVICE_PORT_HTTPS: port }
}

export function automountsServiceAccountToken(pod: Pod): boolean {
  const spec: PodSpec & { automountServiceAccountToken?: boolean } = pod.spec
  return spec.automountServiceAccountToken !== false
}

/** The files of the service-account directory, or undefined when the pod does not get one. */
export function serviceAccountFiles(pod: Pod, source: Pick<InClusterSource, 'caCert' | 'serviceAccountKey'>): Record<string, string> | undefined {
  if (!automountsServiceAccountToken(pod)) return undefined
  const namespace = pod.metadata.namespace ?? 'default'
  return { token: serviceAccountToken(source.serviceAccountKey, namespace), 'ca.crt': source.caCert, namespace }
}

/** The read-only bind mount of `hostDir`, unless the container mounts something at that path itself. */
export function serviceAccountMount(container: ContainerSpec, hostDir: string): Mount | undefined {
  const own = (container.volumeMounts ?? []).some(m => m.mountPath.replace(/\/+$/, '') === SERVICE_ACCOUNT_MOUNT_PATH)
  return own ? undefined : { source: hostDir, target: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true }
}

const sources = new Map<string, InClusterSource>()

/** The cluster's source, read from its files once per process. */
export function loadInClusterSource(cluster: string): InClusterSource {
  let source = sources.get(cluster)
  if (source === undefined) {
    const files = clusterFiles(cluster)
    try {
      source = {
        serviceHost: firstServiceIp(loadState(cluster).addressing.serviceCidr),
        servicePort: KUBERNETES_SERVICE_PORT,
        caCert: readFileSync(join(files.pki, CA_CERT_FILE), 'utf8'),
        serviceAccountKey: readServiceAccountKey(files.serviceAccountKey),
      }
    } catch (e) {
      throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "kube-api-access": cannot read the cluster's credentials: ${(e as Error).message}`)
    }
    sources.set(cluster, source)
  }
  return source
}

const written = new Map<string, string>()

/**
 * Writes the service-account directory `dir` (unless this process wrote the
 * same files there already) and returns the pod's env and mounts. The files
 * depend on the namespace only (the token is the namespace's), so a node keeps
 * one read-only directory a namespace for all its pods: four files and two
 * directories fewer to create a pod.
 */
export function podCredentials(pod: Pod, dir: string, source: InClusterSource): PodCredentials {
  const env = inClusterEnv(source)
  const files = serviceAccountFiles(pod, source)
  if (files === undefined) return { env, mounts: () => [] }
  const content = JSON.stringify(files)
  if (written.get(dir) !== content || !existsSync(dir)) {
    mkdirSync(dir, { recursive: true })
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o644 })
    written.set(dir, content)
  }
  return {
    env,
    mounts(container, ledger) {
      const mount = serviceAccountMount(container, dir)
      if (mount === undefined) return []
      ensureMountpoint(mount.target, false, ledger)
      return [mount]
    },
  }
}

/** A node's service-account directory for the pods of `namespace`. */
export function serviceAccountDir(nodeRunDir: string, namespace: string): string {
  return join(nodeRunDir, 'serviceaccount', namespace)
}
