// Clusters side by side each need their own underlay subnet in the root
// namespace (two bridges holding 198.18.0.1/24 would make the host's routing
// ambiguous). The default is the first /24 of the RFC 2544 benchmarking range
// 198.18.0.0/15 that no root-namespace address overlaps. Pure: the caller
// reads the addresses in use.
import { KubewireError } from '../errors.ts'
import { type Cidr, overlaps, parseCidr, subnetAt } from './cidr.ts'

export const UNDERLAY_RANGE = '198.18.0.0/15'

export interface AddressInUse {
  cidr: Cidr
  device: string
}

export function chooseUnderlay(inUse: readonly AddressInUse[], requested?: string): Cidr {
  if (requested) {
    const cidr = parseCidr(requested, 'underlay CIDR')
    const clash = inUse.find(a => overlaps(a.cidr, cidr))
    if (clash) {
      throw new KubewireError('EUNDERLAYINUSE', `underlay ${cidr.text} overlaps ${clash.cidr.text} on ${clash.device} in the root namespace`)
    }
    return cidr
  }
  const range = parseCidr(UNDERLAY_RANGE)
  for (let i = 0; i < 2 ** (24 - range.prefix); i++) {
    const candidate = subnetAt(range, 24, i)
    if (!inUse.some(a => overlaps(a.cidr, candidate))) return candidate
  }
  throw new KubewireError('EUNDERLAYINUSE', `every /24 of ${UNDERLAY_RANGE} is in use; pass --underlay`)
}
