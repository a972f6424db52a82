// The cluster's addressing plan (DESIGN.md): an underlay /24 whose .1 is the
// host and whose .11, .12, ... are the nodes (the LoadBalancer pool .200-.250
// stays free); the cluster CIDR cut into one /24 per node, node-N getting
// subnet N (node-1 -> 10.244.1.0/24, gateway 10.244.1.1); the service CIDR apart.
import { KubewireError } from '../errors.ts'
import { MAX_NODES } from '../names.ts'
import { gatewayOf } from './address-pool.ts'
import { addressAt, type Cidr, overlaps, parseCidr, subnetAt } from './cidr.ts'

export const DEFAULTS = {
  underlayCidr: '198.18.0.0/24',
  clusterCidr: '10.244.0.0/16',
  serviceCidr: '10.96.0.0/12',
  nodeSubnetPrefix: 24,
  underlayMtu: 1500,
} as const

const FIRST_NODE_HOST = 10
const LB_POOL_FIRST = 200
const LB_POOL_LAST = 250

export interface AddressingInput {
  underlayCidr: string
  clusterCidr: string
  serviceCidr: string
  nodeSubnetPrefix: number
}

export interface NodeAddresses {
  index: number
  underlayIP: string
  podCIDR: string
  podGateway: string
}

export class AddressingPlan {
  readonly underlay: Cidr
  readonly cluster: Cidr
  readonly service: Cidr
  readonly nodeSubnetPrefix: number

  constructor(input: AddressingInput) {
    this.underlay = parseCidr(input.underlayCidr, 'underlay CIDR')
    this.cluster = parseCidr(input.clusterCidr, 'cluster CIDR')
    this.service = parseCidr(input.serviceCidr, 'service CIDR')
    this.nodeSubnetPrefix = input.nodeSubnetPrefix
    if (this.underlay.prefix > 24) throw new KubewireError('EBADCIDR', `underlay ${this.underlay.text} must be a /24 or larger`)
    if (this.nodeSubnetPrefix < this.cluster.prefix + 1 || this.nodeSubnetPrefix > 28) {
      throw new KubewireError('EBADCIDR', `node subnets /${this.nodeSubnetPrefix} do not fit cluster CIDR ${this.cluster.text}`)
    }
    const pairs: [string, Cidr, string, Cidr][] = [
      ['underlay', this.underlay, 'cluster', this.cluster],
      ['underlay', this.underlay, 'service', this.service],
      ['cluster', this.cluster, 'service', this.service],
    ]
    for (const [an, a, bn, b] of pairs) {
      if (overlaps(a, b)) throw new KubewireError('EBADCIDR', `${an} CIDR ${a.text} overlaps ${bn} CIDR ${b.text}`)
    }
  }

  get hostIP(): string {
    return addressAt(this.underlay, 1)
  }

  /** The LoadBalancer pool: .200-.250 of the underlay's first /24, announced on the underlay. */
  get loadBalancerPool(): { first: string; last: string } {
    return { first: addressAt(this.underlay, LB_POOL_FIRST), last: addressAt(this.underlay, LB_POOL_LAST) }
  }

  get maxNodes(): number {
    return Math.min(MAX_NODES, LB_POOL_FIRST - FIRST_NODE_HOST - 1, 2 ** (this.nodeSubnetPrefix - this.cluster.prefix) - 1)
  }

  node(index: number): NodeAddresses {
    if (!Number.isInteger(index) || index < 1 || index > this.maxNodes) {
      throw new KubewireError('ERANGE', `node index ${index} is out of range 1-${this.maxNodes}`)
    }
    const subnet = subnetAt(this.cluster, this.nodeSubnetPrefix, index)
    return {
      index,
      underlayIP: addressAt(this.underlay, FIRST_NODE_HOST + index),
      podCIDR: subnet.text,
      podGateway: gatewayOf(subnet),
    }
  }
}
