// The encapsulator's forwarding table: remote VTEP MAC -> that node's underlay
// address, plus the set of underlay addresses we accept VXLAN from.
//
// Why: this is flannel's FDB. The kernel backend keeps one static FDB entry per
// remote node in the vxlan device; a TAP has no FDB, so the encapsulator keeps
// the same table itself. Lookups run per frame, so MACs are numbers
// (ethernet.ts macKey) in a Map and addresses are u32s. A frame whose
// destination is a group address (broadcast, multicast) or a MAC we do not
// know is flooded to every peer, as the vxlan device does for its all-zeros
// FDB entry: that is what makes ARP across the TAP work.
//
// The control thread publishes the table to the data-path threads through a
// SharedArrayBuffer guarded by a sequence counter (a seqlock): the writer
// makes the counter odd, writes, makes it even again; a reader copies the
// entries and keeps them only if the counter was even and unchanged. Readers
// check one Atomics.load per batch, so a peer joining or leaving reaches the
// data path within one batch (or one poll timeout when idle), with no
// message passing and no restart.
import { formatMac, isMulticastMac, macKey, parseMac } from './ethernet.ts'
import { ipv4ToU32, u32ToIpv4 } from './mmsg.ts'

/** One remote VTEP as the backend knows it (from the peer's lease). */
export interface VxlanPeer {
  /** The peer's VTEP MAC, "aa:bb:cc:dd:ee:ff". */
  mac: string
  /** The peer's underlay address: where its VXLAN datagrams go and come from. */
  underlayIP: string
  /** For logs and stats only. */
  node?: string
  /**
   * The peer takes inner TCP/UDP checksums left partial (pseudo-header sum),
   * as our own encapsulator does (decap-path.ts); Linux's vxlan device does
   * not, from a user-space sender.
   */
  partialChecksums?: boolean
}

/** Returned by destination() when the frame must go to every peer. */
export const FLOOD = -1

/** Most peers the shared table holds (MAX_NODES is 99). */
export const MAX_PEERS = 1024

const HEADER_WORDS = 2 // sequence, count
const WORDS_PER_PEER = 4 // MAC high 16 bits, MAC low 32 bits, IPv4, flags
const FLAG_PARTIAL_CSUM = 1

export class PeerTable {
  /** Underlay address of each peer, as u32, by peer index. */
  readonly ips: Uint32Array
  readonly macKeys: readonly number[]
  /** 1 where the peer takes partial checksums, by peer index. */
  readonly partial: Uint8Array
  /** Every peer takes partial checksums (and there is at least one): a flooded frame may keep them. */
  readonly allPartial: boolean
  readonly #byMac = new Map<number, number>()
  readonly #sources = new Set<number>()

  constructor(macKeys: readonly number[], ips: readonly number[], partial: readonly boolean[] = []) {
    if (macKeys.length !== ips.length) throw new RangeError('one underlay address per MAC')
    this.macKeys = [...macKeys]
    this.ips = Uint32Array.from(ips)
    this.partial = Uint8Array.from(macKeys, (_, i) => (partial[i] === true ? 1 : 0))
    this.allPartial = macKeys.length > 0 && this.partial.every(p => p === 1)
    macKeys.forEach((key, i) => {
      if (!this.#byMac.has(key)) this.#byMac.set(key, i)
      this.#sources.add(ips[i]!)
    })
  }

  /** Throws on a malformed MAC or address (MacError 'EBADMAC', RangeError). */
  static from(peers: readonly VxlanPeer[]): PeerTable {
    return new PeerTable(
      peers.map(p => macKey(parseMac(p.mac), 0)),
      peers.map(p => ipv4ToU32(p.underlayIP)),
      peers.map(p => p.partialChecksums === true),
    )
  }

  static empty(): PeerTable {
    return new PeerTable([], [])
  }

  get size(): number {
    return this.ips.length
  }

  /**
   * Where the Ethernet frame at `offset` goes: the index of the peer owning
   * its destination MAC, or FLOOD for a group address or an unknown MAC.
   */
  destination(frame: Uint8Array, offset: number): number {
    if (isMulticastMac(frame, offset)) return FLOOD
    return this.#byMac.get(macKey(frame, offset)) ?? FLOOD
  }

  /** True if VXLAN from this underlay address (u32) is accepted. */
  isPeerAddress(ip: number): boolean {
    return this.#sources.has(ip)
  }

  /** The table as plain values (MACs and addresses as text). */
  entries(): { mac: string; underlayIP: string; partialChecksums: boolean }[] {
    return this.macKeys.map((key, i) => ({ mac: macText(key), underlayIP: u32ToIpv4(this.ips[i]!), partialChecksums: this.partial[i] === 1 }))
  }
}

function macText(key: number): string {
  const b = Buffer.alloc(6)
  b.writeUIntBE(key, 0, 6)
  return formatMac(b)
}

/** Shared memory for one published table. */
export function sharedPeerMemory(): Int32Array {
  return new Int32Array(new SharedArrayBuffer((HEADER_WORDS + WORDS_PER_PEER * MAX_PEERS) * 4))
}

/** The sequence number of the published table: even when stable; changes on every publish. */
export function publishedSequence(shared: Int32Array): number {
  return Atomics.load(shared, 0)
}

/** Writes `table` for the data-path threads (one writer only). */
export function publishPeers(shared: Int32Array, table: PeerTable): void {
  if (table.size > MAX_PEERS) throw new RangeError(`at most ${MAX_PEERS} peers, got ${table.size}`)
  const seq = Atomics.load(shared, 0)
  Atomics.store(shared, 0, (seq | 1) + ((seq & 1) === 0 ? 0 : 2)) // odd: writing
  for (let i = 0; i < table.size; i++) {
    const key = table.macKeys[i]!
    const w = HEADER_WORDS + i * WORDS_PER_PEER
    Atomics.store(shared, w, Math.floor(key / 0x100000000))
    Atomics.store(shared, w + 1, key % 0x100000000 | 0)
    Atomics.store(shared, w + 2, table.ips[i]! | 0)
    Atomics.store(shared, w + 3, table.partial[i] === 1 ? FLAG_PARTIAL_CSUM : 0)
  }
  Atomics.store(shared, 1, table.size)
  Atomics.add(shared, 0, 1) // even: stable
}

/** The published table, or undefined when a write is in progress (try again later). */
export function readPublishedPeers(shared: Int32Array): { sequence: number; table: PeerTable } | undefined {
  const before = Atomics.load(shared, 0)
  if ((before & 1) !== 0) return undefined
  const count = Math.min(Atomics.load(shared, 1), MAX_PEERS)
  const keys: number[] = []
  const ips: number[] = []
  const partial: boolean[] = []
  for (let i = 0; i < count; i++) {
    const w = HEADER_WORDS + i * WORDS_PER_PEER
    keys.push(Atomics.load(shared, w) * 0x100000000 + (Atomics.load(shared, w + 1) >>> 0))
    ips.push(Atomics.load(shared, w + 2) >>> 0)
    partial.push((Atomics.load(shared, w + 3) & FLAG_PARTIAL_CSUM) !== 0)
  }
  if (Atomics.load(shared, 0) !== before) return undefined
  return { sequence: before, table: new PeerTable(keys, ips, partial) }
}
