// Where a cluster's files live. State (cluster record, IPAM, pod logs) under
// $KUBEWIRE_HOME (default /var/lib/kubewire); runtime files under /run/kubewire.
// Tests point KUBEWIRE_HOME at a temporary directory.
import { join } from 'node:path'

export function stateRoot(): string {
  return process.env.KUBEWIRE_HOME ?? '/var/lib/kubewire'
}

export function clusterDir(cluster: string): string {
  return join(stateRoot(), 'clusters', cluster)
}

export function runDir(cluster: string): string {
  return join(process.env.KUBEWIRE_RUN ?? '/run/kubewire', cluster)
}

/** Names the cluster commands act on when neither --name nor KUBEWIRE_CLUSTER says (like kubectl's current context). */
export function currentClusterFile(): string {
  return join(stateRoot(), 'current')
}
