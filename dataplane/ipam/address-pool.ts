// Pod address allocation inside one node's subnet. Pure: the caller keeps the
// table (address -> owner) and persists it; this decides which address is next.
// The network address, the gateway (.1) and the broadcast address are never handed out.
import { KubewireError } from '../errors.ts'
import { addressAt, type Cidr, contains } from './cidr.ts'

/** address -> owner ("namespace/name"), for one subnet. */
export type AllocationTable = Record<string, string>

export function gatewayOf(subnet: Cidr): string {
  return addressAt(subnet, 1)
}

/** Lowest free pod address of `subnet`; the owner is recorded in `table`. An owner holding one already keeps it. */
export function allocateAddress(subnet: Cidr, table: AllocationTable, owner: string): string {
  const held = Object.keys(table).find(ip => table[ip] === owner)
  if (held) return held
  for (let offset = 2; offset < subnet.size - 1; offset++) {
    const ip = addressAt(subnet, offset)
    if (!(ip in table)) {
      table[ip] = owner
      return ip
    }
  }
  throw new KubewireError('EIPAMFULL', `no free address left in ${subnet.text} for ${owner}`)
}

/** Free what `owner` holds; returns the freed address, if any. */
export function releaseAddress(table: AllocationTable, owner: string): string | undefined {
  const held = Object.keys(table).find(ip => table[ip] === owner)
  if (held) delete table[held]
  return held
}

/** Check a persisted table: every key inside the subnet and usable, no owner twice. */
export function validateTable(subnet: Cidr, table: AllocationTable): void {
  const owners = new Set<string>()
  for (const [ip, owner] of Object.entries(table)) {
    if (!contains(subnet, ip) || ip === addressAt(subnet, 0) || ip === gatewayOf(subnet)) {
      throw new KubewireError('EIPAMCORRUPT', `IPAM table for ${subnet.text} holds unusable address ${ip}`)
    }
    if (owners.has(owner)) throw new KubewireError('EIPAMCORRUPT', `IPAM table for ${subnet.text} gives ${owner} two addresses`)
    owners.add(owner)
  }
}
