// The pod's side of its sandbox network (lo up, eth0's address and default
// route), configured over rtnetlink from the agent itself instead of one
// `ip -n POD -batch` process a pod: that process (an exec, glibc's start-up,
// a fork) was half of a node's sandbox time when 33 pods arrive at once. The
// agent's thread enters the pod's namespace just long enough to open a
// NETLINK_ROUTE socket there (a socket stays in the namespace it was made in),
// then sends the same requests `ip` would, in the same order, one at a time,
// each acknowledged:
//   lo up; eth0 addrgenmode none (no IPv6 link-local: keeps DAD and router
//   solicitations out of captures); addr replace IP/LEN; eth0 up; route
//   replace default via GATEWAY.
// The messages are built by pure functions (podSideRequests), table-tested.
import { KubewireError } from '../errors.ts'
import { AF_NETLINK, EINTR, errnoText, libc, SOCK_CLOEXEC, SOCK_RAW } from '../native/libc.ts'
import { inNetns } from '../native/spawn.ts'
import { NETNS_DIR } from '../netns/netns.ts'

const NETLINK_ROUTE = 0
const NLMSG_ERROR = 2
const RTM_NEWLINK = 16
const RTM_GETLINK = 18
const RTM_NEWADDR = 20
const RTM_NEWROUTE = 24
const NLM_F_REQUEST = 0x1
const NLM_F_ACK = 0x4
const NLM_F_REPLACE = 0x100
const NLM_F_CREATE = 0x400
const AF_UNSPEC = 0
const AF_INET = 2
const AF_INET6 = 10
const IFF_UP = 0x1
const IFLA_IFNAME = 3
const IFLA_AF_SPEC = 26
const IFLA_INET6_ADDR_GEN_MODE = 8
const IN6_ADDR_GEN_MODE_NONE = 1
const IFA_ADDRESS = 1
const IFA_LOCAL = 2
const RTA_OIF = 4
const RTA_GATEWAY = 5
const RT_TABLE_MAIN = 254
const RTPROT_BOOT = 3
const RT_SCOPE_UNIVERSE = 0
const RTN_UNICAST = 1
const NLA_F_NESTED = 0x8000
const LO_INDEX = 1
const ANSWER_BYTES = 1 << 14

export interface PodSide {
  ip: string
  prefixLength: number
  gateway: string
}

/** One request: what it does (for errors) and its bytes. */
export interface Request {
  step: string
  bytes: Buffer
}

function ipv4(address: string): Buffer {
  const octets = address.split('.').map(Number)
  if (octets.length !== 4 || octets.some(o => !Number.isInteger(o) || o < 0 || o > 255)) throw new KubewireError('EBADADDR', `not an IPv4 address: ${address}`)
  return Buffer.from(octets)
}

/** An attribute: u16 length, u16 type, the value padded to 4 bytes. */
export function attribute(type: number, value: Buffer): Buffer {
  const length = 4 + value.length
  const out = Buffer.alloc((length + 3) & ~3)
  out.writeUInt16LE(length, 0)
  out.writeUInt16LE(type, 2)
  value.copy(out, 4)
  return out
}

/** A netlink message: nlmsghdr (length, type, flags, seq, pid 0), then the body. */
export function message(type: number, flags: number, seq: number, ...body: Buffer[]): Buffer {
  const payload = Buffer.concat(body)
  const header = Buffer.alloc(16)
  header.writeUInt32LE(16 + payload.length, 0)
  header.writeUInt16LE(type, 4)
  header.writeUInt16LE(flags | NLM_F_REQUEST | NLM_F_ACK, 6)
  header.writeUInt32LE(seq, 8)
  return Buffer.concat([header, payload])
}

/** struct ifinfomsg: family, pad, type, index, flags, change. */
function ifinfomsg(index: number, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16)
  b.writeUInt8(AF_UNSPEC, 0)
  b.writeInt32LE(index, 4)
  b.writeUInt32LE(flags, 8)
  b.writeUInt32LE(change, 12)
  return b
}

/** Looks eth0 up by name (the answer carries its index). */
export function getLinkRequest(name: string): Request {
  return { step: `link show ${name}`, bytes: message(RTM_GETLINK, 0, 1, ifinfomsg(0), attribute(IFLA_IFNAME, Buffer.from(`${name}\0`))) }
}

/** The requests after eth0's index is known, in `ip`'s order. */
export function podSideRequests(side: PodSide, eth0: number): Request[] {
  const addrgenmode = attribute(IFLA_AF_SPEC | NLA_F_NESTED, attribute(AF_INET6, attribute(IFLA_INET6_ADDR_GEN_MODE, Buffer.from([IN6_ADDR_GEN_MODE_NONE]))))
  const ifaddrmsg = Buffer.alloc(8)
  ifaddrmsg.writeUInt8(AF_INET, 0)
  ifaddrmsg.writeUInt8(side.prefixLength, 1)
  ifaddrmsg.writeUInt8(RT_SCOPE_UNIVERSE, 3)
  ifaddrmsg.writeUInt32LE(eth0, 4)
  const rtmsg = Buffer.from([AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0, 0, 0, 0])
  const oif = Buffer.alloc(4)
  oif.writeUInt32LE(eth0, 0)
  return [
    { step: 'link set lo up', bytes: message(RTM_NEWLINK, 0, 2, ifinfomsg(LO_INDEX, IFF_UP, IFF_UP)) },
    { step: 'link set eth0 addrgenmode none', bytes: message(RTM_NEWLINK, 0, 3, ifinfomsg(eth0), addrgenmode) },
    {
      step: `addr replace ${side.ip}/${side.prefixLength} dev eth0`,
      bytes: message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, 4, ifaddrmsg, attribute(IFA_LOCAL, ipv4(side.ip)), attribute(IFA_ADDRESS, ipv4(side.ip))),
    },
    { step: 'link set eth0 up', bytes: message(RTM_NEWLINK, 0, 5, ifinfomsg(eth0, IFF_UP, IFF_UP)) },
    {
      step: `route replace default via ${side.gateway} dev eth0`,
      bytes: message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, 6, rtmsg, attribute(RTA_GATEWAY, ipv4(side.gateway)), attribute(RTA_OIF, oif)),
    },
  ]
}

/** What the kernel answered to one request: an error number (0: done), and the index of a link it described. */
export function readAnswer(answer: Buffer, length: number): { errno: number | undefined; linkIndex: number | undefined } {
  let errno: number | undefined
  let linkIndex: number | undefined
  for (let o = 0; o + 16 <= length;) {
    const len = answer.readUInt32LE(o)
    const type = answer.readUInt16LE(o + 4)
    if (len < 16) break
    if (type === NLMSG_ERROR && o + 20 <= length) errno = -answer.readInt32LE(o + 16)
    else if (type === RTM_NEWLINK && o + 32 <= length) linkIndex = answer.readInt32LE(o + 16 + 4)
    o += (len + 3) & ~3
  }
  return { errno, linkIndex }
}

/** Configure the pod side of the sandbox in network namespace `netns` (its eth0 must be there). */
export function configurePodSide(netns: string, side: PodSide): void {
  const c = libc()
  const fd = inNetns(`${NETNS_DIR}/${netns}`, () => c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE))
  if (fd < 0) throw new KubewireError('ENETLINK', `pod ${netns}: netlink socket: ${errnoText(c, c.errno())}`)
  const answer = Buffer.allocUnsafeSlow(ANSWER_BYTES)
  const ask = (request: Request): number | undefined => {
    const bytes = Buffer.allocUnsafeSlow(Math.max(request.bytes.length, 128))
    request.bytes.copy(bytes)
    let sent: number
    do sent = c.write(fd, c.addressOf(bytes), request.bytes.length)
    while (sent < 0 && c.errno() === EINTR)
    if (sent !== request.bytes.length) throw new KubewireError('ENETLINK', `pod ${netns}: ${request.step}: sending: ${errnoText(c, c.errno())}`)
    // rtnetlink answers within the send: the reply (and the acknowledgement) are queued by now.
    let linkIndex: number | undefined
    for (;;) {
      const n = c.recv(fd, c.addressOf(answer), ANSWER_BYTES, 0)
      if (n < 0 && c.errno() === EINTR) continue
      if (n < 0) throw new KubewireError('ENETLINK', `pod ${netns}: ${request.step}: reading the answer: ${errnoText(c, c.errno())}`)
      const read = readAnswer(answer, n)
      linkIndex ??= read.linkIndex
      if (read.errno === undefined) continue
      if (read.errno !== 0) throw new KubewireError('ENETLINK', `pod ${netns}: ${request.step}: ${c.strerror(read.errno)}`)
      return linkIndex
    }
  }
  try {
    const eth0 = ask(getLinkRequest('eth0'))
    if (eth0 === undefined) throw new KubewireError('ENETLINK', `pod ${netns}: no eth0`)
    for (const request of podSideRequests(side, eth0)) ask(request)
  } finally {
    c.close(fd)
  }
}
