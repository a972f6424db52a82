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
// The messages are built by pure functions (podSideRequests), table-tested,
// on the shared netlink writer; the socket is netlink/socket.ts.
import { KubewireError } from '../errors.ts'
import { NETLINK_ROUTE } from '../native/libc.ts'
import { eachMessage, errorNumber } from '../netlink/answers.ts'
import { ifaddrmsg, ifinfomsg, rtmsg } from '../netlink/family-headers.ts'
import { NetlinkSocket } from '../netlink/socket.ts'
import { NetlinkWriter, NLM_F_ACK, NLM_F_CREATE, NLM_F_REPLACE, NLM_F_REQUEST, NLMSG_ERROR, NLMSG_HEADER_BYTES } from '../netlink/writer.ts'
import { NETNS_DIR } from '../netns/netns.ts'

const RTM_NEWLINK = 16
const RTM_GETLINK = 18
const RTM_NEWADDR = 20
const RTM_NEWROUTE = 24
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
const LO_INDEX = 1
const DEFAULT_ROUTE = { family: AF_INET, dstLength: 0, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT, scope: RT_SCOPE_UNIVERSE, type: RTN_UNICAST }

export interface PodSide {
  ip: string
  prefixLength: number
  gateway: string
}

/** One request: what it does (for errors), its sequence number and its bytes. */
export interface Request {
  step: string
  seq: number
  bytes: Buffer
}

function ipv4(address: string): Buffer {
  const octets = address.split('.').map(Number)
  if (octets.length !== 4 || octets.some(o => !Number.isInteger(o) || o < 0 || o > 255)) throw new KubewireError('EBADADDR', `not an IPv4 address: ${address}`)
  return Buffer.from(octets)
}

/** A request asking for an acknowledgement: nlmsghdr, the family header, then what `attributes` writes. */
export function message(type: number, flags: number, seq: number, familyHeader: Uint8Array, attributes?: (w: NetlinkWriter) => void): Buffer {
  const w = new NetlinkWriter(seq, 128)
  w.begin(type, flags | NLM_F_REQUEST | NLM_F_ACK, familyHeader)
  attributes?.(w)
  w.end()
  return w.finish()
}

/** Looks eth0 up by name (the answer carries its index). */
export function getLinkRequest(name: string): Request {
  return { step: `link show ${name}`, seq: 1, bytes: message(RTM_GETLINK, 0, 1, ifinfomsg(AF_UNSPEC, 0), w => w.str(IFLA_IFNAME, name)) }
}

/** The requests after eth0's index is known, in `ip`'s order (numbered on from getLinkRequest's). */
export function podSideRequests(side: PodSide, eth0: number): Request[] {
  const ip = ipv4(side.ip)
  const gateway = ipv4(side.gateway)
  const steps: [string, (seq: number) => Buffer][] = [
    ['link set lo up', seq => message(RTM_NEWLINK, 0, seq, ifinfomsg(AF_UNSPEC, LO_INDEX, IFF_UP, IFF_UP))],
    ['link set eth0 addrgenmode none', seq => message(RTM_NEWLINK, 0, seq, ifinfomsg(AF_UNSPEC, eth0), w => {
      const spec = w.nest(IFLA_AF_SPEC)
      const inet6 = w.nest(AF_INET6, 0)
      w.u8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE)
      w.endNest(inet6)
      w.endNest(spec)
    })],
    [`addr replace ${side.ip}/${side.prefixLength} dev eth0`, seq => message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, seq, ifaddrmsg(AF_INET, side.prefixLength, RT_SCOPE_UNIVERSE, eth0), w => {
      w.bytes(IFA_LOCAL, ip)
      w.bytes(IFA_ADDRESS, ip)
    })],
    ['link set eth0 up', seq => message(RTM_NEWLINK, 0, seq, ifinfomsg(AF_UNSPEC, eth0, IFF_UP, IFF_UP))],
    [`route replace default via ${side.gateway} dev eth0`, seq => message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, seq, rtmsg(DEFAULT_ROUTE), w => {
      w.bytes(RTA_GATEWAY, gateway)
      w.u32Host(RTA_OIF, eth0)
    })],
  ]
  return steps.map(([step, build], i) => ({ step, seq: i + 2, bytes: build(i + 2) }))
}

/** What one read of the kernel's answers says: an error number (0: done), and the index of a link it described. */
export function readAnswer(answer: Buffer, length: number): { errno: number | undefined; linkIndex: number | undefined } {
  let errno: number | undefined
  let linkIndex: number | undefined
  eachMessage(answer, length, (type, at) => {
    if (type === NLMSG_ERROR && at + NLMSG_HEADER_BYTES + 4 <= length) errno = errorNumber(answer, at)
    // struct ifinfomsg: the index is at 4.
    else if (type === RTM_NEWLINK && at + NLMSG_HEADER_BYTES + 16 <= length) linkIndex = answer.readInt32LE(at + NLMSG_HEADER_BYTES + 4)
  })
  return { errno, linkIndex }
}

/** Configure the pod side of the sandbox in network namespace `netns` (its eth0 must be there). */
export function configurePodSide(netns: string, side: PodSide): void {
  const socket = NetlinkSocket.open(NETLINK_ROUTE, { netns: `${NETNS_DIR}/${netns}`, error: text => new KubewireError('ENETLINK', `pod ${netns}: ${text}`) })
  const ask = (request: Request): number | undefined => {
    socket.send(request.bytes, `${request.step}: sending`)
    let linkIndex: number | undefined
    const refused = socket.awaitAck(request.seq, `${request.step}: reading the answer`, (answer, length) => {
      linkIndex ??= readAnswer(answer, length).linkIndex
    })
    const first = refused[0]
    if (first) throw new KubewireError('ENETLINK', `pod ${netns}: ${request.step}: ${first.reason}`)
    return linkIndex
  }
  try {
    const eth0 = ask(getLinkRequest('eth0'))
    if (eth0 === undefined) throw new KubewireError('ENETLINK', `pod ${netns}: no eth0`)
    for (const request of podSideRequests(side, eth0)) ask(request)
  } finally {
    socket.close()
  }
}
