// The files one cluster's processes share, by name, so the CLI, the control
// plane and the node agents agree on them: under the state directory the
// store, the PKI, the token, the service-account signing key, the
// kubeconfig, pod logs and volumes; under the runtime directory what running
// processes publish (the control plane's address) and per-node runtime
// records.
import { join } from 'node:path'
import { clusterDir, runDir } from './paths.ts'

export const API_PORT = 6443

export function clusterFiles(cluster: string) {
  const state = clusterDir(cluster)
  const run = runDir(cluster)
  return {
    state,
    run,
    store: join(state, 'store'),
    pki: join(state, 'pki'),
    token: join(state, 'token'),
    /** Signs pods' service-account tokens (control/apiserver/tls/service-account-token.ts). */
    serviceAccountKey: join(state, 'serviceaccount.key'),
    kubeconfig: join(state, 'kubeconfig'),
    logs: join(state, 'logs'),
    /** PersistentVolumeClaims' directories (claimVolumeDir), kept across pods, removed with the claim. */
    volumes: join(state, 'volumes'),
    controlPlaneLog: join(state, 'logs', 'control-plane.log'),
    agentLog: (node: string) => join(state, 'logs', `agent-${node}.log`),
    nodeIpam: (node: string) => join(state, 'nodes', node, 'ipam.json'),
    nodeRun: (node: string) => join(run, 'nodes', node),
    controlPlane: join(run, 'control-plane.json'),
    mountLedger: join(run, 'mountpoints'),
  }
}

/** Where a PersistentVolumeClaim's data lives: `<state>/volumes/<namespace>/<claim>`. */
export function claimVolumeDir(stateDir: string, namespace: string, claim: string): string {
  return join(stateDir, 'volumes', namespace, claim)
}

/** What the control plane publishes once it serves. */
export interface ControlPlaneInfo {
  pid: number
  url: string
  loopbackUrl: string
  startedAt: string
}

/** Process titles, so `ps` shows what is what and `down` can find strays. */
export const controlPlaneTitle = (cluster: string) => `kubewire-control-plane ${cluster}`
export const agentTitle = (cluster: string, node: string) => `kubewire-agent ${cluster} ${node}`
