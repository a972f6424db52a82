// The fixed header each netlink family puts between nlmsghdr and the
// attributes (pure), as the kernel's uapi structs lay them out: nfnetlink's
// nfgenmsg (<linux/netfilter/nfnetlink.h>), rtnetlink's ifinfomsg, ifaddrmsg
// and rtmsg (<linux/rtnetlink.h>, <linux/if_addr.h>). NetlinkWriter.begin()
// takes one of these.

/** struct nfgenmsg: family, version 0, resource id (network order). */
export function nfgenmsg(family: number, resId = 0): Uint8Array {
  return Uint8Array.of(family, 0, resId >> 8, resId & 255)
}

/** struct ifinfomsg: family, pad, type, index, flags, change. */
export function ifinfomsg(family: number, index: number, flags = 0, change = 0): Uint8Array {
  const b = Buffer.alloc(16)
  b.writeUInt8(family, 0)
  b.writeInt32LE(index, 4)
  b.writeUInt32LE(flags, 8)
  b.writeUInt32LE(change, 12)
  return b
}

/** struct ifaddrmsg: family, prefix length, flags, scope, index. */
export function ifaddrmsg(family: number, prefixLength: number, scope: number, index: number): Uint8Array {
  const b = Buffer.alloc(8)
  b.writeUInt8(family, 0)
  b.writeUInt8(prefixLength, 1)
  b.writeUInt8(scope, 3)
  b.writeUInt32LE(index, 4)
  return b
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
