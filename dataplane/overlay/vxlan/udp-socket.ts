// The underlay socket: UDP on the node's underlay address, port 8472.
//
// Why these options (shared/notes/vxlan-userspace.md): UDP_GRO lets the
// kernel hand us a run of datagrams of one flow as one message, UDP_SEGMENT
// (probed here, set per send as a control message) lets us hand it 64 at
// once, and ~4 MB buffers (SO_*BUFFORCE, we are root) absorb bursts that
// otherwise turn into TCP retransmits inside the overlay. The socket is
// blocking (a full send buffer holds the sender back instead of dropping);
// receives use MSG_DONTWAIT with poll(). It is never connect()ed: one socket
// serves every peer, each message carries its address, and an unconnected
// socket does not turn ICMP errors into socket errors.
import { closeSync } from 'node:fs'
import {
  AF_INET, errnoText, type Libc, SO_RCVBUF, SO_RCVBUFFORCE, SO_SNDBUF, SO_SNDBUFFORCE, SOCK_CLOEXEC, SOCK_DGRAM, SOL_SOCKET,
  SOL_UDP, UDP_GRO, UDP_SEGMENT,
} from '../../native/libc.ts'
import { ipv4ToU32 } from './mmsg.ts'

export interface UdpSocket {
  fd: number
  /** Sends may carry UDP_SEGMENT. */
  gso: boolean
  /** Receives may be GRO'd (UDP_GRO on). */
  gro: boolean
  sndbuf: number
  rcvbuf: number
}

export interface UdpSocketOptions {
  /** Requested send and receive buffer size in bytes. */
  bufferBytes?: number
  /** Use UDP GSO and GRO when the kernel has them (default true). */
  offloads?: boolean
}

export function openUdpSocket(c: Libc, localIp: string, port: number, options: UdpSocketOptions = {}): UdpSocket {
  const { bufferBytes = 4 * 1024 * 1024, offloads = true } = options
  const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)
  if (fd < 0) throw new Error(`cannot create a UDP socket: ${errnoText(c, c.errno())}`)
  const scratch = Buffer.allocUnsafeSlow(64).fill(0)
  const at = c.addressOf(scratch)
  const setInt = (level: number, name: number, value: number): boolean => {
    scratch.writeInt32LE(value, 0)
    return c.setsockopt(fd, level, name, at, 4) === 0
  }
  const getInt = (level: number, name: number): number => {
    scratch.writeUInt32LE(4, 8)
    return c.getsockopt(fd, level, name, at, at + 8) === 0 ? scratch.readInt32LE(0) : -1
  }
  if (!setInt(SOL_SOCKET, SO_SNDBUFFORCE, bufferBytes)) setInt(SOL_SOCKET, SO_SNDBUF, bufferBytes)
  if (!setInt(SOL_SOCKET, SO_RCVBUFFORCE, bufferBytes)) setInt(SOL_SOCKET, SO_RCVBUF, bufferBytes)
  const gro = offloads && setInt(SOL_UDP, UDP_GRO, 1)
  // Setting the socket-wide segment size to 0 succeeds exactly where UDP GSO exists.
  const gso = offloads && setInt(SOL_UDP, UDP_SEGMENT, 0)

  scratch.fill(0, 0, 16)
  scratch.writeUInt16LE(AF_INET, 0)
  scratch.writeUInt16BE(port, 2)
  scratch.writeUInt32BE(ipv4ToU32(localIp), 4)
  if (c.bind(fd, at, 16) < 0) {
    const err = c.errno()
    closeSync(fd)
    throw new Error(`cannot bind UDP ${localIp}:${port}: ${errnoText(c, err)}`)
  }
  return { fd, gso, gro, sndbuf: getInt(SOL_SOCKET, SO_SNDBUF), rcvbuf: getInt(SOL_SOCKET, SO_RCVBUF) }
}
