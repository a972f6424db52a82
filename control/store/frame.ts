// Framing for everything the durable store writes: WAL records and snapshots.
//
//   [u32 LE payload length][u32 LE CRC-32 of payload][payload: UTF-8 JSON]
//
// Why: a crash can leave a partial write at the end of a file, and disks can
// rot. The length says where a record should end (so a short tail is visible)
// and the CRC says whether the bytes are the ones written. A zero length is
// never written, so a zero-filled tail (blocks allocated, data lost) is invalid
// too, even though CRC-32 of nothing is 0.

import { crc32 } from './crc32.ts'

export const FRAME_HEADER_BYTES = 8
/** Largest WAL record accepted; etcd's default request limit is 1.5 MiB, so this is generous. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024

export type FrameRead =
  | { kind: 'ok', payload: Buffer, end: number }
  /** The header or the payload runs past the end of the bytes. */
  | { kind: 'short', detail: string }
  /** The bytes are all there but are not a frame we wrote. */
  | { kind: 'bad', detail: string }

export function encodeFrame (payload: Buffer): Buffer {
  if (payload.length === 0) throw new RangeError('empty frame payload')
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length)
  frame.writeUInt32LE(payload.length, 0)
  frame.writeUInt32LE(crc32(payload), 4)
  payload.copy(frame, FRAME_HEADER_BYTES)
  return frame
}

/** Reads the frame starting at offset. Never throws; the caller decides what a bad frame means. */
export function readFrame (bytes: Buffer, offset: number, maxPayload = MAX_RECORD_BYTES): FrameRead {
  if (offset + FRAME_HEADER_BYTES > bytes.length) {
    return { kind: 'short', detail: `header needs ${FRAME_HEADER_BYTES} bytes, ${bytes.length - offset} left` }
  }
  const length = bytes.readUInt32LE(offset)
  const expectedCrc = bytes.readUInt32LE(offset + 4)
  if (length === 0) return { kind: 'bad', detail: 'zero record length' }
  if (length > maxPayload) return { kind: 'bad', detail: `record length ${length} exceeds ${maxPayload}` }
  const start = offset + FRAME_HEADER_BYTES
  const end = start + length
  if (end > bytes.length) return { kind: 'short', detail: `record of ${length} bytes, ${bytes.length - start} left` }
  const actualCrc = crc32(bytes, start, end)
  if (actualCrc !== expectedCrc) {
    return { kind: 'bad', detail: `checksum mismatch (stored ${hex(expectedCrc)}, computed ${hex(actualCrc)})` }
  }
  return { kind: 'ok', payload: bytes.subarray(start, end), end }
}

function hex (n: number): string {
  return '0x' + n.toString(16).padStart(8, '0')
}
