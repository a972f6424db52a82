// A netlink socket of one protocol (NETLINK_NETFILTER for the proxy's
// nf_tables batches, NETLINK_ROUTE for the pod side of sandboxes), opened in
// a given network namespace or the caller's, through the libc binding (Node
// has no netlink sockets). A socket stays in the namespace it was made in: the
// thread enters the namespace (inNetns) only for socket() itself.
//
// The kernel handles what one write sends inside that write, and has queued
// its answers by the time it returns: an error (nlmsgerr) for each refused
// message, replies to requests that ask for data, and the acknowledgement
// (nlmsgerr with error 0) that NLM_F_ACK asks for. awaitAck() reads them and
// matches them to sequence numbers; waiting (bounded) is only for a kernel
// that is slow to queue them.
//
// Failures of the calls themselves are the caller's errors (options.error),
// so each caller keeps its own error type and wording.
import {
  AF_NETLINK, EAGAIN, EINTR, errnoText, libc, MSG_DONTWAIT, NETLINK_CAP_ACK, POLLIN,
  SO_RCVBUFFORCE, SO_SNDBUFFORCE, SOCK_CLOEXEC, SOCK_RAW, SOL_NETLINK, SOL_SOCKET, type Libc,
} from '../native/libc.ts'
import { inNetns } from '../native/spawn.ts'
import { answeredSeq, eachMessage, ERROR_BYTES, errorNumber } from './answers.ts'
import { NLMSG_ERROR } from './writer.ts'

const RECEIVE_BYTES = 1 << 16
// Native scratch memory after the receive area: an option value, a pollfd, a sockaddr_nl.
const OPTION_AT = RECEIVE_BYTES
const POLLFD_AT = RECEIVE_BYTES + 8
const ADDRESS_AT = RECEIVE_BYTES + 16
const SCRATCH_BYTES = RECEIVE_BYTES + 32
// After the send the answers are already queued; this only covers a kernel that is slow to say so.
const ANSWER_TIMEOUT_MS = 5_000

export interface SocketOptions {
  /** The network namespace to open the socket in (a path, e.g. /run/netns/NAME); the caller's when left out. */
  netns?: string
  /** Kernel buffer sizes to force (a large batch goes in one write; its answers must fit too). */
  sendBufferBytes?: number
  receiveBufferBytes?: number
  /** The caller's error for a failed call; `text` says what failed and why, e.g. "netlink bind: errno 98 (…)". */
  error: (text: string) => Error
}

/** A message the kernel refused: its sequence number and the reason (strerror of the error number). */
export interface Refusal {
  seq: number
  errno: number
  reason: string
}

// One per thread (each worker loads its own binding); calls are synchronous, so sockets share it.
let scratch: { buf: Buffer; address: number } | undefined

export class NetlinkSocket {
  private constructor(
    private readonly c: Libc,
    private readonly fd: number,
    private readonly error: (text: string) => Error,
    private readonly native: { buf: Buffer; address: number },
  ) {}

  /** Opens and binds a socket of `protocol`; errors carry only a refused message's header, not the message. */
  static open(protocol: number, options: SocketOptions): NetlinkSocket {
    const c = libc()
    const open = () => c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol)
    const fd = options.netns === undefined ? open() : inNetns(options.netns, open)
    if (fd < 0) throw options.error(`netlink socket: ${errnoText(c, c.errno())}`)
    scratch ??= c.allocNative(SCRATCH_BYTES)
    const socket = new NetlinkSocket(c, fd, options.error, scratch)
    try {
      const address = scratch.buf
      address.fill(0, ADDRESS_AT, ADDRESS_AT + 12)
      address.writeUInt16LE(AF_NETLINK, ADDRESS_AT)
      if (c.bind(fd, scratch.address + ADDRESS_AT, 12) < 0) throw options.error(`netlink bind: ${errnoText(c, c.errno())}`)
      if (options.sendBufferBytes !== undefined) socket.setInt(SOL_SOCKET, SO_SNDBUFFORCE, options.sendBufferBytes)
      if (options.receiveBufferBytes !== undefined) socket.setInt(SOL_SOCKET, SO_RCVBUFFORCE, options.receiveBufferBytes)
      socket.setInt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
      return socket
    } catch (e) {
      socket.close()
      throw e
    }
  }

  /** Sends `bytes` (one or more messages) in one write; `what` names them in the error. */
  send(bytes: Buffer, what: string): void {
    const c = this.c
    // A buffer of more than 64 bytes of its own is off the V8 heap (it never moves); anything else is copied.
    const out = bytes.byteOffset === 0 && bytes.length > 64 ? bytes : Buffer.from(bytes)
    for (;;) {
      const sent = c.write(this.fd, c.addressOf(out), out.length)
      if (sent === out.length) return
      const errno = c.errno()
      if (sent < 0 && errno === EINTR) continue
      throw this.error(`${what}: ${sent < 0 ? errnoText(c, errno) : `only ${sent} bytes sent`}`)
    }
  }

  /**
   * Reads the kernel's answers until it acknowledges message `seq` or, having
   * refused something, has nothing more queued; returns the refusals (none:
   * done). `onRead` sees each read's bytes (a request for data gets its reply
   * before the acknowledgement). `reading` names the answers in the error.
   */
  awaitAck(seq: number, reading: string, onRead?: (answer: Buffer, length: number) => void): Refusal[] {
    const { c, fd, native } = this
    const refused: Refusal[] = []
    native.buf.writeInt32LE(fd, POLLFD_AT)
    native.buf.writeInt16LE(POLLIN, POLLFD_AT + 4)
    let acknowledged = false
    while (!acknowledged) {
      const n = c.recv(fd, native.address, RECEIVE_BYTES, MSG_DONTWAIT)
      if (n < 0) {
        const errno = c.errno()
        if (errno === EINTR) continue
        if (errno !== EAGAIN) throw this.error(`${reading}: ${errnoText(c, errno)}`)
        if (refused.length > 0) break
        const ready = c.poll(native.address + POLLFD_AT, 1, ANSWER_TIMEOUT_MS)
        if (ready === 0) throw this.error(`no answer from the kernel within ${ANSWER_TIMEOUT_MS} ms`)
        continue
      }
      eachMessage(native.buf, n, (type, at) => {
        if (type !== NLMSG_ERROR || at + ERROR_BYTES > n) return
        const errno = errorNumber(native.buf, at)
        const answered = answeredSeq(native.buf, at)
        if (errno !== 0) refused.push({ seq: answered, errno, reason: c.strerror(errno) })
        else if (answered === seq) acknowledged = true
      })
      onRead?.(native.buf, n)
    }
    return refused
  }

  close(): void {
    this.c.close(this.fd)
  }

  private setInt(level: number, name: number, value: number): void {
    const { c, native } = this
    native.buf.writeInt32LE(value, OPTION_AT)
    if (c.setsockopt(this.fd, level, name, native.address + OPTION_AT, 4) < 0) {
      throw this.error(`setsockopt(${level}, ${name}): ${errnoText(c, c.errno())}`)
    }
  }
}
