// How a run of equal-sized VXLAN datagrams becomes UDP GSO sends.
//
// Why: with UDP_SEGMENT the kernel cuts one large send into datagrams of
// `gso_size` bytes, so a 64 KiB TSO frame from the TAP crosses into the
// kernel once or twice instead of ~45 times; that, with GRO on the other
// side, is most of the user-space path's speed (shared/notes/vxlan-
// userspace.md). The kernel's limits: at most 64 segments per send
// (UDP_MAX_SEGMENTS) and at most 65 507 bytes of UDP payload per send; every
// datagram but the last exactly gso_size bytes. The segmenter writes
// segments back to back at a fixed stride, so a run of them is one contiguous
// range; this module says where to cut it. Pure arithmetic, no allocation on
// the per-frame path.

/** The kernel's UDP_MAX_SEGMENTS. */
export const UDP_GSO_MAX_SEGMENTS = 64
/** 65 535 - 8 (UDP header) - 20 (IPv4 header). */
export const UDP_MAX_PAYLOAD = 65507

/** Most datagrams of `stride` bytes one UDP GSO send may carry (at least 1). */
export function segmentsPerSend(stride: number, maxSegments = UDP_GSO_MAX_SEGMENTS): number {
  if (!(stride > 0)) return 1
  return Math.max(1, Math.min(maxSegments, Math.floor(UDP_MAX_PAYLOAD / stride)))
}

/** Receives one send: datagrams `first` .. `first + count - 1`, cut every `gsoSize` bytes (0: a single datagram). */
export type GsoSendSink = (first: number, count: number, gsoSize: number) => void

/**
 * Cuts a run of `count` datagrams of `datagramSize` bytes each (the last may
 * be shorter) into sends and returns how many. A send holding one datagram
 * carries no segment size. With `gso` false every datagram is its own send.
 */
export function planGsoSends(count: number, datagramSize: number, gso: boolean, emit: GsoSendSink): number {
  if (count <= 0) return 0
  const per = gso ? segmentsPerSend(datagramSize) : 1
  let sends = 0
  for (let first = 0; first < count; first += per) {
    const n = Math.min(per, count - first)
    emit(first, n, n > 1 ? datagramSize : 0)
    sends++
  }
  return sends
}
