// Sends one nf_tables batch to the kernel over a netlink socket of the
// calling process's network namespace (the node agent runs in its node's)
// and reports what the kernel said. The kernel handles the whole batch
// inside the one send, all or nothing; its answers (errors, and the
// acknowledgement the batch's last command asks for) are queued by then.
// The socket and the reading of answers are netlink/socket.ts.
import { NETLINK_NETFILTER } from '../native/libc.ts'
import { NetlinkSocket } from '../netlink/socket.ts'
import type { EncodedBatch } from './batch.ts'

export class NftablesError extends Error {}

/** Applies the batch; throws NftablesError naming the commands the kernel refused (nothing is applied then). */
export function sendBatch(batch: EncodedBatch): void {
  const socket = NetlinkSocket.open(NETLINK_NETFILTER, {
    sendBufferBytes: batch.bytes.length + (1 << 16),
    receiveBufferBytes: 1 << 22,
    error: text => new NftablesError(`nftables: ${text}`),
  })
  try {
    socket.send(batch.bytes, `sending the batch (${batch.bytes.length} bytes)`)
    const refused = socket.awaitAck(batch.lastSeq, "reading the kernel's answer").map(r => `${batch.describe(r.seq)}: ${r.reason}`)
    if (refused.length > 0) {
      const more = refused.length > 5 ? ` (and ${refused.length - 5} more)` : ''
      throw new NftablesError(`nftables refused the transaction, nothing was applied: ${refused.slice(0, 5).join('; ')}${more}`)
    }
  } finally {
    socket.close()
  }
}
