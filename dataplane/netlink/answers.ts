// Reading what the kernel sends back on a netlink socket (pure). One read
// holds whole messages, each led by nlmsghdr and 4-byte aligned. An error is
// NLMSG_ERROR carrying nlmsgerr: the negated error number, then the header of
// the message it answers; error 0 is the acknowledgement NLM_F_ACK asks for.
import { align4, NLMSG_ERROR, NLMSG_HEADER_BYTES } from './writer.ts'

/** nlmsghdr, the error number, and the answered message's nlmsghdr (all an error carries with NETLINK_CAP_ACK). */
export const ERROR_BYTES = NLMSG_HEADER_BYTES + 4 + NLMSG_HEADER_BYTES

/** Calls `visit` with the type and offset of each message in answer[0, length) (a short one ends the walk). */
export function eachMessage(answer: Buffer, length: number, visit: (type: number, at: number) => void): void {
  for (let o = 0; o + NLMSG_HEADER_BYTES <= length;) {
    const len = answer.readUInt32LE(o)
    if (len < NLMSG_HEADER_BYTES) break
    visit(answer.readUInt16LE(o + 4), o)
    o += align4(len)
  }
}

/** The error number of the NLMSG_ERROR message at `at` (0: acknowledged). */
export const errorNumber = (answer: Buffer, at: number): number => -answer.readInt32LE(at + NLMSG_HEADER_BYTES)

/** The sequence number of the message that the NLMSG_ERROR message at `at` answers. */
export const answeredSeq = (answer: Buffer, at: number): number => answer.readUInt32LE(at + NLMSG_HEADER_BYTES + 4 + 8)
