// The encapsulator's counters: frames and bytes each way, and drops by reason.
//
// Why: a user-space data path that silently loses packets is impossible to
// debug, and the malformed-traffic tests need to see *why* something was
// dropped. Each data-path thread owns disjoint slots of one shared
// Float64Array (no locks: one writer per slot, doubles are written whole), and
// the control thread renders them as JSON on request. Names are fixed here so
// the layout is the same in every thread.
import type { TsoDropReason } from './tso-segment.ts'
import type { VxlanDropReason } from './vxlan-header.ts'

/** Counted by the TAP -> UDP thread. */
export const TX_COUNTERS = [
  'frames', // Ethernet frames read from the TAP (a TSO frame counts once)
  'bytes', // their bytes, vnet header excluded
  'gsoFrames', // of which TSO frames that were segmented
  'datagrams', // VXLAN datagrams handed to the kernel (per destination)
  'sends', // messages in sendmmsg (one may carry up to 64 datagrams with UDP GSO)
  'batches', // sendmmsg calls
  'floods', // frames sent to every peer (group or unknown destination MAC)
  'keepWarmRounds', // rounds of the keep-warm loop run (datapath-worker.ts; not traffic, not in the figures above)
] as const

/** Counted by the UDP -> TAP thread. */
export const RX_COUNTERS = [
  'datagrams', // UDP datagrams received (a GRO message counts its segments)
  'bytes', // their UDP payload bytes
  'messages', // messages returned by recvmmsg
  'batches', // recvmmsg calls that returned data
  'frames', // inner frames accepted (after validation)
  'tapWrites', // writes into the TAP (coalesced frames count once)
  'tapBytes', // bytes written into the TAP, vnet headers excluded
  'coalesced', // writes that carried more than one segment
  'peerGso', // inner frames over the MTU (a kernel peer's unsegmented TSO), written as GSO
  'oversized', // inner frames over the MTU that could not be (the node drops them as too big)
] as const

export const TX_DROPS = [
  'tap-too-short', // a read shorter than the vnet header + Ethernet header
  'no-peers', // nowhere to send: the peer table is empty
  'unsupported-gso',
  'too-short',
  'not-ipv4',
  'bad-ip-header',
  'not-tcp',
  'bad-tcp-header',
  'bad-gso-size',
  'too-many-segments',
  'bad-csum-offset',
  'send-error', // sendmmsg refused a message (counted per message)
  'tap-read-error',
  'internal-error',
] as const

export const RX_DROPS = [
  'unknown-source', // not from a peer's underlay address
  'too-short', // under 8 + 14 bytes
  'no-i-flag',
  'wrong-vni',
  'truncated', // larger than the receive buffer (MSG_TRUNC)
  'tap-write-error',
  'recv-error',
  'internal-error',
] as const

export type TxCounter = (typeof TX_COUNTERS)[number]
export type RxCounter = (typeof RX_COUNTERS)[number]
export type TxDrop = (typeof TX_DROPS)[number]
export type RxDrop = (typeof RX_DROPS)[number]

// Every reason the segmenter and the header decoder can return has a slot.
const tsoReasonsCounted: TsoDropReason extends TxDrop ? true : never = true
const vxlanReasonsCounted: VxlanDropReason extends RxDrop ? true : never = true
void tsoReasonsCounted
void vxlanReasonsCounted

const TX_BASE = 0
const RX_BASE = TX_BASE + TX_COUNTERS.length
const TX_DROP_BASE = RX_BASE + RX_COUNTERS.length
const RX_DROP_BASE = TX_DROP_BASE + TX_DROPS.length
const SLOTS = RX_DROP_BASE + RX_DROPS.length

/** Slot of each name, resolved once (the hot path indexes the array directly). */
export const TX = Object.fromEntries(TX_COUNTERS.map((n, i) => [n, TX_BASE + i])) as Record<TxCounter, number>
export const RX = Object.fromEntries(RX_COUNTERS.map((n, i) => [n, RX_BASE + i])) as Record<RxCounter, number>
export const TX_DROP = Object.fromEntries(TX_DROPS.map((n, i) => [n, TX_DROP_BASE + i])) as Record<TxDrop, number>
export const RX_DROP = Object.fromEntries(RX_DROPS.map((n, i) => [n, RX_DROP_BASE + i])) as Record<RxDrop, number>

export function sharedCounters(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(SLOTS * 8))
}

/** Counters on their own (not shared), for tests and single-threaded use. */
export function localCounters(): Float64Array {
  return new Float64Array(SLOTS)
}

export interface CounterSnapshot {
  tx: Record<TxCounter, number>
  rx: Record<RxCounter, number>
  drops: { tx: Record<TxDrop, number>; rx: Record<RxDrop, number> }
}

export function snapshotCounters(c: Float64Array): CounterSnapshot {
  const pick = <N extends string>(names: readonly N[], base: number) =>
    Object.fromEntries(names.map((n, i) => [n, c[base + i] ?? 0])) as Record<N, number>
  return {
    tx: pick(TX_COUNTERS, TX_BASE),
    rx: pick(RX_COUNTERS, RX_BASE),
    drops: { tx: pick(TX_DROPS, TX_DROP_BASE), rx: pick(RX_DROPS, RX_DROP_BASE) },
  }
}
