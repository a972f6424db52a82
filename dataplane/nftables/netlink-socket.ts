// Sends one nf_tables batch to the kernel over a netlink socket of the
// calling process's network namespace (the node agent runs in its node's)
// and reports what the kernel said. The kernel handles the whole batch
// inside the one send, all or nothing; its answers (errors, and the
// acknowledgement the batch's last command asks for) are queued by then.
import {
  AF_NETLINK, EAGAIN, EINTR, errnoText, libc, MSG_DONTWAIT, NETLINK_CAP_ACK, NETLINK_NETFILTER, POLLIN,
  SO_RCVBUFFORCE, SO_SNDBUFFORCE, SOCK_CLOEXEC, SOCK_RAW, SOL_NETLINK, SOL_SOCKET, type Libc,
} from '../native/libc.ts'
import type { EncodedBatch } from './batch.ts'

const NLMSG_ERROR = 2
const RECEIVE_BYTES = 1 << 16
// After the send the answers are already queued; this only covers a kernel that is slow to say so.
const ANSWER_TIMEOUT_MS = 5_000

export class NftablesError extends Error {}

/** Applies the batch; throws NftablesError naming the commands the kernel refused (nothing is applied then). */
export function sendBatch(batch: EncodedBatch): void {
  const c = libc()
  const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER)
  if (fd < 0) throw new NftablesError(`nftables: netlink socket: ${errnoText(c, c.errno())}`)
  const native = c.allocNative(RECEIVE_BYTES + 16)
  try {
    const address = native.buf
    address.fill(0, 0, 12)
    address.writeUInt16LE(AF_NETLINK, 0)
    if (c.bind(fd, native.address, 12) < 0) throw new NftablesError(`nftables: netlink bind: ${errnoText(c, c.errno())}`)
    setInt(c, native, fd, SOL_SOCKET, SO_SNDBUFFORCE, batch.bytes.length + (1 << 16))
    setInt(c, native, fd, SOL_SOCKET, SO_RCVBUFFORCE, 1 << 22)
    // Errors carry only the refused message's header, not the whole message back.
    setInt(c, native, fd, SOL_NETLINK, NETLINK_CAP_ACK, 1)

    const sendBuffer = batch.bytes.byteOffset === 0 && batch.bytes.length > 64 ? batch.bytes : Buffer.from(batch.bytes)
    for (;;) {
      const sent = c.write(fd, c.addressOf(sendBuffer), sendBuffer.length)
      if (sent === sendBuffer.length) break
      const errno = c.errno()
      if (sent < 0 && errno === EINTR) continue
      throw new NftablesError(`nftables: sending the batch (${sendBuffer.length} bytes): ${sent < 0 ? errnoText(c, errno) : `only ${sent} bytes sent`}`)
    }
    readAnswers(c, fd, native, batch)
  } finally {
    c.close(fd)
  }
}

function readAnswers(c: Libc, fd: number, native: { buf: Buffer; address: number }, batch: EncodedBatch): void {
  const refused: string[] = []
  const poll = c.allocNative(8)
  poll.buf.writeInt32LE(fd, 0)
  poll.buf.writeInt16LE(POLLIN, 4)
  let acknowledged = false
  while (!acknowledged) {
    const n = c.recv(fd, native.address, RECEIVE_BYTES, MSG_DONTWAIT)
    if (n < 0) {
      const errno = c.errno()
      if (errno === EINTR) continue
      if (errno !== EAGAIN) throw new NftablesError(`nftables: reading the kernel's answer: ${errnoText(c, errno)}`)
      if (refused.length > 0) break
      const ready = c.poll(poll.address, 1, ANSWER_TIMEOUT_MS)
      if (ready === 0) throw new NftablesError(`nftables: no answer from the kernel within ${ANSWER_TIMEOUT_MS} ms`)
      continue
    }
    for (let o = 0; o + 16 <= n;) {
      const len = native.buf.readUInt32LE(o)
      const type = native.buf.readUInt16LE(o + 4)
      if (len < 16) break
      if (type === NLMSG_ERROR && o + 36 <= n) {
        const error = -native.buf.readInt32LE(o + 16)
        const seq = native.buf.readUInt32LE(o + 16 + 4 + 8)
        if (error !== 0) refused.push(`${batch.describe(seq)}: ${c.strerror(error)}`)
        else if (seq === batch.lastSeq) acknowledged = true
      }
      o += (len + 3) & ~3
    }
  }
  if (refused.length > 0) {
    const more = refused.length > 5 ? ` (and ${refused.length - 5} more)` : ''
    throw new NftablesError(`nftables refused the transaction, nothing was applied: ${refused.slice(0, 5).join('; ')}${more}`)
  }
}

function setInt(c: Libc, scratch: { buf: Buffer; address: number }, fd: number, level: number, name: number, value: number): void {
  // The value goes right after the receive area, so it never overlaps an answer.
  scratch.buf.writeInt32LE(value, RECEIVE_BYTES)
  if (c.setsockopt(fd, level, name, scratch.address + RECEIVE_BYTES, 4) < 0) {
    throw new NftablesError(`nftables: setsockopt(${level}, ${name}): ${errnoText(c, c.errno())}`)
  }
}
