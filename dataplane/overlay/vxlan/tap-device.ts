// Attaching to the node's TAP device kwvx0 and asking for offloads.
//
// Why: the device itself is made persistent by the backend (`ip tuntap add
// ... mode tap vnet_hdr`), so its address, routes and neighbour entries
// outlive the encapsulator: a restart re-attaches here and loses only the
// frames in flight. We attach with IFF_VNET_HDR so every frame carries a
// virtio_net_hdr, then TUNSETOFFLOAD CSUM|TSO4(|TSO_ECN) lets the kernel hand
// us 64 KiB TCP frames with partial checksums instead of MTU-sized ones with
// full checksums, the biggest single saving on the send side. A kernel that
// refuses an offload gets the next smaller set, down to none (then frames are
// plain and every one is at most the MTU); without a vnet header at all the
// data path still works, only slower.
import { closeSync } from 'node:fs'
import {
  errnoText, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR, type Libc, O_CLOEXEC, O_NONBLOCK, O_RDWR, TUN_F_CSUM, TUN_F_TSO_ECN, TUN_F_TSO4,
  TUNSETIFF, TUNSETOFFLOAD,
} from '../../native/libc.ts'

export interface TapOffloads {
  /** Frames carry a virtio_net_hdr. */
  vnetHdr: boolean
  csum: boolean
  tso4: boolean
  tsoEcn: boolean
}

export interface Tap extends TapOffloads {
  fd: number
  name: string
}

const IFREQ_SIZE = 40
const IFNAMSIZ = 16

/**
 * Opens `/dev/net/tun` (non-blocking) and attaches to TAP `name`. With
 * `offloads` false, asks for no vnet header and no offloads (a fallback and a
 * way to measure what they are worth). Throws an Error naming the device and
 * errno when the device cannot be attached.
 */
export function openTap(c: Libc, name: string, offloads = true): Tap {
  if (Buffer.byteLength(name) >= IFNAMSIZ) throw new Error(`TAP name too long: ${name}`)
  const fd = c.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC)
  if (fd < 0) throw new Error(`cannot open /dev/net/tun: ${errnoText(c, c.errno())}`)
  const ifreq = Buffer.allocUnsafeSlow(IFREQ_SIZE).fill(0)
  ifreq.write(name, 0, 'latin1')
  const attach = (flags: number): number => {
    ifreq.writeUInt16LE(flags, IFNAMSIZ)
    return c.ioctl(fd, TUNSETIFF, c.addressOf(ifreq)) < 0 ? c.errno() : 0
  }
  let vnetHdr = offloads
  let err = attach(IFF_TAP | IFF_NO_PI | (vnetHdr ? IFF_VNET_HDR : 0))
  if (err !== 0 && vnetHdr) {
    vnetHdr = false
    err = attach(IFF_TAP | IFF_NO_PI)
  }
  if (err !== 0) {
    closeSync(fd)
    throw new Error(`cannot attach to TAP ${name} (TUNSETIFF): ${errnoText(c, err)}`)
  }
  const tap: Tap = { fd, name, vnetHdr, csum: false, tso4: false, tsoEcn: false }
  if (vnetHdr) {
    for (const flags of [TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN, TUN_F_CSUM | TUN_F_TSO4, TUN_F_CSUM]) {
      if (c.ioctl(fd, TUNSETOFFLOAD, flags) === 0) {
        tap.csum = true
        tap.tso4 = (flags & TUN_F_TSO4) !== 0
        tap.tsoEcn = (flags & TUN_F_TSO_ECN) !== 0
        break
      }
    }
  }
  if (!tap.csum) c.ioctl(fd, TUNSETOFFLOAD, 0)
  return tap
}
