// IPv4 CIDR math on top of `ip-address`: parse strictly (network address, no host
// bits), index into a range, and test membership. Addresses as dotted strings at
// the edges; unsigned 32-bit integers inside.
import { Address4 } from 'ip-address'
import { KubewireError } from '../errors.ts'

export interface Cidr {
  /** Canonical text, e.g. `10.244.0.0/16`. */
  readonly text: string
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number
  readonly prefix: number
  /** Number of addresses in the range. */
  readonly size: number
}

export function parseCidr(text: string, what = 'CIDR'): Cidr {
  let address: Address4
  try {
    address = new Address4(text)
  } catch {
    throw new KubewireError('EBADCIDR', `invalid ${what} "${text}": not an IPv4 CIDR such as 10.244.0.0/16`)
  }
  if (!text.includes('/')) throw new KubewireError('EBADCIDR', `invalid ${what} "${text}": missing /prefix`)
  const base = Number(address.startAddress().bigInt())
  if (Number(address.bigInt()) !== base) {
    throw new KubewireError(
      'EBADCIDR',
      `invalid ${what} "${text}": host bits set (did you mean ${address.startAddress().correctForm()}/${address.subnetMask}?)`,
    )
  }
  const prefix = address.subnetMask
  return { text: `${intToIp(base)}/${prefix}`, base, prefix, size: 2 ** (32 - prefix) }
}

export function ipToInt(ip: string): number {
  if (!Address4.isValid(ip) || ip.includes('/')) throw new KubewireError('EBADIP', `invalid IPv4 address "${ip}"`)
  return Number(new Address4(ip).bigInt())
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

/** The address `offset` places into the range (0 = network address). */
export function addressAt(cidr: Cidr, offset: number): string {
  if (!Number.isInteger(offset) || offset < 0 || offset >= cidr.size) {
    throw new KubewireError('ERANGE', `offset ${offset} is outside ${cidr.text}`)
  }
  return intToIp(cidr.base + offset)
}

export function contains(cidr: Cidr, ip: string): boolean {
  const n = ipToInt(ip)
  return n >= cidr.base && n < cidr.base + cidr.size
}

/** The `index`-th subnet of length `prefix` inside `cidr` (index 0 = the first). */
export function subnetAt(cidr: Cidr, prefix: number, index: number): Cidr {
  if (prefix < cidr.prefix || prefix > 32) {
    throw new KubewireError('ERANGE', `cannot split ${cidr.text} into /${prefix} subnets`)
  }
  const count = 2 ** (prefix - cidr.prefix)
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new KubewireError('ERANGE', `${cidr.text} has ${count} /${prefix} subnets; index ${index} is out of range`)
  }
  return parseCidr(`${intToIp(cidr.base + index * 2 ** (32 - prefix))}/${prefix}`)
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size
}

/** The network an interface address belongs to, e.g. 198.18.0.1/24 -> 198.18.0.0/24. */
export function networkOf(ip: string, prefix: number): Cidr {
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0
  return parseCidr(`${intToIp((ipToInt(ip) & mask) >>> 0)}/${prefix}`)
}
