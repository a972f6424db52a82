// The fixed header each netlink family puts between nlmsghdr and the
// attributes (pure), as the kernel's uapi structs lay them out: nfnetlink's
// nfgenmsg (<linux/netfilter/nfnetlink.h>), rtnetlink's ifinfomsg, ifaddrmsg
// and rtmsg (<linux/rtnetlink.h>, <linux/if_addr.h>). NetlinkWriter.begin()
// takes one of these.

/** struct nfgenmsg: family, version 0, resource id (network order). */
export function nfgenmsg(family: number, resId = 0): Uint8Array {
  return Uint8Array.of(family, 0, resId >> 8, resId & 255)
}

/** A 32-bit field in host byte order (little-endian: the only CPUs kubewire runs on). */
const host32 = (n: number): number[] => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255]

/** struct ifinfomsg: family, pad, type, index, flags, change. */
export function ifinfomsg(family: number, index: number, flags = 0, change = 0): Uint8Array {
  return Uint8Array.of(family, 0, 0, 0, ...host32(index), ...host32(flags), ...host32(change))
}

/** struct ifaddrmsg: family, prefix length, flags, scope, index. */
export function ifaddrmsg(family: number, prefixLength: number, scope: number, index: number): Uint8Array {
  return Uint8Array.of(family, prefixLength, 0, scope, ...host32(index))
}

export interface Route {
  family: number
  dstLength: number
  table: number
  protocol: number
  scope: number
  type: number
}

/** struct rtmsg: family, dst and src lengths, tos, table, protocol, scope, type, flags. */
export function rtmsg(r: Route): Uint8Array {
  return Uint8Array.of(r.family, r.dstLength, 0, 0, r.table, r.protocol, r.scope, r.type, 0, 0, 0, 0)
}
