// Reading one WAL segment back, and telling a torn tail from corruption.
//
// Why the distinction matters: a crash mid-append leaves at most the last,
// never-acknowledged batch partly written at the end of the newest segment.
// Dropping it loses nothing that was promised. A bad record with good records
// after it is different: those later records were written after this one, so
// it was once whole (and maybe acknowledged); guessing there would silently
// lose data, so it is an error naming the file and offset.
//
// Rule, at the first invalid frame:
// - not the newest segment: Corrupt (older segments were fully fsynced before
//   the next one was started);
// - the frame runs past the end of the file: torn tail;
// - otherwise, if a valid frame starts anywhere after it: Corrupt;
//   if none does (garbage or zeros to the end): torn tail.
// Known limit: after a power loss (not a process crash) a file system may keep
// later blocks of the last batch and lose earlier ones; that reads as Corrupt,
// which is safe but needs an operator.

import { FRAME_HEADER_BYTES, MAX_RECORD_BYTES, readFrame } from './frame.ts'
import { decodeRecord } from './wal-record.ts'
import type { RecordAt } from './wal-record.ts'
import { CorruptError } from './store.ts'

export interface SegmentScan {
  records: RecordAt[]
  /** Length of the prefix made of whole, valid records. */
  validBytes: number
  /** Set when bytes after validBytes were a torn tail (to be truncated). */
  torn?: { offset: number, detail: string }
}

export function scanSegment (file: string, bytes: Buffer, options: { newest: boolean }): SegmentScan {
  const records: RecordAt[] = []
  let offset = 0
  while (offset < bytes.length) {
    const frame = readFrame(bytes, offset)
    if (frame.kind === 'ok') {
      records.push({ record: decodeRecord(frame.payload, file, offset), file, offset })
      offset = frame.end
      continue
    }
    if (!options.newest) throw new CorruptError(file, offset, `${frame.detail} (in a sealed segment)`)
    if (frame.kind === 'bad') {
      const later = findValidFrame(bytes, offset + 1)
      if (later !== undefined) {
        throw new CorruptError(file, offset, `${frame.detail}; a valid record follows at offset ${later}`)
      }
    }
    return { records, validBytes: offset, torn: { offset, detail: frame.detail } }
  }
  return { records, validBytes: offset }
}

/**
 * The first offset >= from where a whole, CRC-valid record starts. Records are
 * JSON objects, so a candidate must start with '{' and end with '}' before its
 * CRC is computed; that keeps the scan of a garbage tail linear in practice.
 */
function findValidFrame (bytes: Buffer, from: number): number | undefined {
  for (let offset = from; offset + FRAME_HEADER_BYTES < bytes.length; offset++) {
    const length = bytes.readUInt32LE(offset)
    if (length === 0 || length > MAX_RECORD_BYTES) continue
    const start = offset + FRAME_HEADER_BYTES
    const end = start + length
    if (end > bytes.length || bytes[start] !== 0x7b || bytes[end - 1] !== 0x7d) continue
    if (readFrame(bytes, offset).kind === 'ok') return offset
  }
  return undefined
}
