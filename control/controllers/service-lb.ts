// LoadBalancer address allocation, pure (what MetalLB's controller decides):
// which address of the pool a Service of type LoadBalancer holds, and what
// its status.loadBalancer says.
//
// Rules:
// - Only Services of type LoadBalancer without a spec.loadBalancerClass
//   (a class names another implementation) get an address; one address
//   each, from the pool (default 198.18.0.200-198.18.0.250, DESIGN.md),
//   lowest free first.
// - spec.loadBalancerIP is honoured when it is a valid address of the pool
//   not held by another Service; otherwise allocation fails: a Warning
//   AllocationFailed Event and no ingress in the status (an address held
//   before is released). A full pool fails the same way.
// - The status is the source of truth: at start the allocations are rebuilt
//   from the ingress addresses the Services already report (the oldest
//   Service wins a disputed address), so addresses stay put across
//   restarts. A Service keeps the address it reports while it is in the
//   pool and not taken.
// - A Service that is deleted, or no longer of type LoadBalancer, releases
//   its address; the latter gets its status.loadBalancer cleared.
// - The status is `{loadBalancer: {ingress: [{ip}]}}`, written only when it
//   differs from the stored one.

import { KubewireError } from '../../dataplane/errors.ts'
import { intToIp, ipToInt } from '../../dataplane/ipam/cidr.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import type { EventType } from './events.ts'
import { byCreation, namespacedName } from './objects.ts'
import type { LoadBalancerStatus, Service } from './service-objects.ts'

export interface LoadBalancerPool {
  first: string
  last: string
}

export const DEFAULT_LOAD_BALANCER_POOL: LoadBalancerPool = { first: '198.18.0.200', last: '198.18.0.250' }

/** A pool as numbers, checked: two IPv4 addresses, first <= last. */
export interface PoolRange {
  first: number
  last: number
  text: string
}

export function parsePool(pool: LoadBalancerPool): PoolRange {
  const first = ipToInt(pool.first)
  const last = ipToInt(pool.last)
  if (first > last) throw new KubewireError('EBADPOOL', `LoadBalancer pool ${pool.first}-${pool.last}: first address is after the last`)
  return { first, last, text: `${pool.first}-${pool.last}` }
}

function inPool(pool: PoolRange, ip: string): boolean {
  let n: number
  try {
    n = ipToInt(ip)
  } catch {
    return false
  }
  return n >= pool.first && n <= pool.last
}

/** Which Service ("namespace/name") holds which address. */
export class Allocations {
  private readonly byIp = new Map<string, string>()
  private readonly byOwner = new Map<string, string>()

  ownerOf(ip: string): string | undefined {
    return this.byIp.get(ip)
  }

  ipOf(owner: string): string | undefined {
    return this.byOwner.get(owner)
  }

  /** Gives `ip` to `owner`, releasing what it held before. */
  assign(owner: string, ip: string): void {
    this.release(owner)
    this.byIp.set(ip, owner)
    this.byOwner.set(owner, ip)
  }

  /** Frees what `owner` holds; returns the address, if any. */
  release(owner: string): string | undefined {
    const ip = this.byOwner.get(owner)
    if (ip === undefined) return undefined
    this.byOwner.delete(owner)
    this.byIp.delete(ip)
    return ip
  }

  get size(): number {
    return this.byIp.size
  }
}

/** A Service this allocator serves: type LoadBalancer, no other implementation's class. */
export function wantsLoadBalancer(service: Service): boolean {
  return service.spec?.type === 'LoadBalancer' && !service.spec.loadBalancerClass && !service.metadata.deletionTimestamp
}

function ingressIPs(service: Service): string[] {
  return (service.status?.loadBalancer?.ingress ?? []).map(i => i.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '')
}

/** The allocations the stored statuses describe (at start): oldest Service first, one pool address each. */
export function rebuildAllocations(services: readonly Service[], pool: PoolRange): Allocations {
  const allocations = new Allocations()
  for (const service of [...services].filter(wantsLoadBalancer).sort(byCreation)) {
    const owner = namespacedName(service)
    const ip = ingressIPs(service).find(a => inPool(pool, a) && allocations.ownerOf(a) === undefined)
    if (ip !== undefined) allocations.assign(owner, ip)
  }
  return allocations
}

export interface LoadBalancerEvent {
  type: EventType
  reason: string
  message: string
}

export interface LoadBalancerDecision {
  /** The address the Service holds after this sync (undefined: none; release what it held). */
  ip?: string
  /** The status.loadBalancer to write; undefined when the stored one is right. */
  loadBalancer?: LoadBalancerStatus
  event?: LoadBalancerEvent
  /** Allocation failed for want of a free address: try again when one frees up. */
  waiting?: boolean
}

function statusFor(service: Service, ip: string | undefined): LoadBalancerStatus | undefined {
  const want: LoadBalancerStatus = ip === undefined ? {} : { ingress: [{ ip }] }
  const stored = service.status?.loadBalancer ?? {}
  const same = jsonEqual(stored.ingress ?? [], want.ingress ?? [])
  return same ? undefined : want
}

function failed(service: Service, message: string, waiting: boolean): LoadBalancerDecision {
  const decision: LoadBalancerDecision = {
    event: { type: 'Warning', reason: 'AllocationFailed', message: `Failed to allocate IP for "${namespacedName(service)}": ${message}` },
    waiting,
  }
  const status = statusFor(service, undefined)
  if (status) decision.loadBalancer = status
  return decision
}

function assigned(service: Service, ip: string, isNew: boolean): LoadBalancerDecision {
  const decision: LoadBalancerDecision = { ip }
  const status = statusFor(service, ip)
  if (status) decision.loadBalancer = status
  if (isNew) decision.event = { type: 'Normal', reason: 'IPAllocated', message: `Assigned IP ["${ip}"]` }
  return decision
}

/** One sync of one Service (of any type) against the current allocations. */
export function planLoadBalancer(service: Service, allocations: Allocations, pool: PoolRange): LoadBalancerDecision {
  const owner = namespacedName(service)
  if (!wantsLoadBalancer(service)) {
    // Another implementation's class: its status is not ours to touch.
    if (service.spec?.type === 'LoadBalancer' && service.spec.loadBalancerClass) return {}
    const status = statusFor(service, undefined)
    return status ? { loadBalancer: status } : {}
  }
  const held = allocations.ipOf(owner)
  const free = (ip: string): boolean => {
    const holder = allocations.ownerOf(ip)
    return holder === undefined || holder === owner
  }
  const requested = service.spec?.loadBalancerIP
  if (requested) {
    if (!inPool(pool, requested)) {
      return failed(service, `requested IP "${requested}" is not in the pool ${pool.text}`, false)
    }
    const holder = allocations.ownerOf(requested)
    if (holder !== undefined && holder !== owner) {
      return failed(service, `requested IP ${requested} is already allocated to ${holder}`, true)
    }
    return assigned(service, requested, held !== requested)
  }
  if (held !== undefined && inPool(pool, held)) return assigned(service, held, false)
  // The address the status reports, if it is still ours to have (a restart, a lost allocation).
  const reported = ingressIPs(service).find(ip => inPool(pool, ip) && free(ip))
  if (reported !== undefined) return assigned(service, reported, false)
  for (let n = pool.first; n <= pool.last; n++) {
    const ip = intToIp(n)
    if (free(ip)) return assigned(service, ip, true)
  }
  return failed(service, `no available IPs in pool ${pool.text}`, true)
}

/** Records a decision for `owner` in the allocations. */
export function applyDecision(allocations: Allocations, owner: string, decision: LoadBalancerDecision): void {
  if (decision.ip === undefined) allocations.release(owner)
  else allocations.assign(owner, decision.ip)
}
