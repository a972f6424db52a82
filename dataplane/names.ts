// The one place that derives names. Everything kubewire makes carries the
// cluster's prefix `kw-<cluster>` so that `kubewire down` (and any test teardown)
// can sweep it by name, even after a crash, without trusting state files.
//
// Cluster names are 1-8 characters of [a-z0-9] starting with a letter and hold
// no dash: then prefix `kw-a-` can never match cluster `a1`'s objects, and the
// longest root-namespace link name (`kw-<8>-n<99>`) stays within Linux's 15.
import { createHash } from 'node:crypto'
import { KubewireError } from './errors.ts'

export const MAX_NODES = 99
const CLUSTER_NAME = /^[a-z][a-z0-9]{0,7}$/
// A DNS-1123 label (node names, namespaces) and subdomain (pod names), as Kubernetes has them.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export function validateClusterName(name: string): string {
  if (!CLUSTER_NAME.test(name)) {
    throw new KubewireError(
      'EBADNAME',
      `invalid cluster name "${name}": use 1-8 lowercase letters or digits, starting with a letter (e.g. "demo")`,
    )
  }
  return name
}

export function validatePodName(name: string): string {
  if (!DNS_SUBDOMAIN.test(name)) {
    throw new KubewireError(
      'EBADNAME',
      `invalid pod name "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    )
  }
  return name
}

export function validateNamespaceName(name: string): string {
  if (!DNS_LABEL.test(name)) {
    throw new KubewireError('EBADNAME', `invalid namespace "${name}": must be a lowercase RFC 1123 label`)
  }
  return name
}

export const nodeName = (index: number): string => `node-${index}`

/** Names of one cluster's objects. */
export class ClusterNames {
  readonly cluster: string
  /** Prefix of every namespace and root-namespace link of the cluster. */
  readonly prefix: string
  constructor(cluster: string) {
    this.cluster = validateClusterName(cluster)
    this.prefix = `kw-${cluster}`
  }

  /** The underlay bridge in the root namespace ("the LAN"), holding the host's address. */
  get underlayBridge(): string {
    return this.prefix
  }

  /** A node's network namespace, e.g. `kw-demo-node-1`. */
  nodeNetns(node: string): string {
    return `${this.prefix}-${node}`
  }

  /** Root-namespace end of node `index`'s underlay veth (the node's end is `eth0`). */
  nodeUplink(index: number): string {
    if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) {
      throw new KubewireError('EBADNAME', `node index ${index} out of range 1-${MAX_NODES}`)
    }
    return `${this.prefix}-n${index}`
  }

  /**
   * A pod's network namespace: `kw-demo-pod-<namespace>.<name>`. Namespaces hold no
   * dot, so the first dot splits the two unambiguously.
   */
  podNetns(namespace: string, pod: string): string {
    const name = `${this.prefix}-pod-${namespace}.${pod}`
    return name.length <= 200 ? name : `${this.prefix}-pod-${namespace}.${shortHash(`${namespace}/${pod}`, 16)}`
  }

  /** nftables table of this cluster for `purpose` (e.g. `masq`), in whichever namespace it lives. */
  nftTable(purpose: string): string {
    return `${this.prefix}-${purpose}`
  }

  /** True if a namespace or link name belongs to this cluster. */
  owns(name: string): boolean {
    return name === this.prefix || name.startsWith(`${this.prefix}-`)
  }
}

/** Host end of a pod's veth, inside its node's namespace: `veth` + 8 hex (≤ 15 chars). */
export function podVeth(namespace: string, pod: string): string {
  return `veth${shortHash(`${namespace}/${pod}`, 8)}`
}

export function shortHash(text: string, hexChars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexChars)
}
