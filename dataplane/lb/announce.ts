// Announcing LoadBalancer addresses on the underlay, as MetalLB's layer-2 mode
// does, but with the kernel as the ARP responder: the elected node (see
// election.ts) puts the address on its eth0 as a /32, so its kernel answers
// ARP for it and the host's packets for it arrive there, where the proxy's
// nftables rules DNAT them to an endpoint. The other nodes do not hold the
// address and so never answer: one node per address.
//
// Why each step:
// - `/32` on eth0: a local address without a prefix route, so routing on the
//   node is unchanged (the underlay /24 keeps the node's own address as its
//   source).
// - a gratuitous ARP (`arping -U`) right after adding it: on failover the
//   host still has the old node's MAC in its neighbour cache; Linux updates an
//   existing entry from a gratuitous ARP at once, instead of after the entry
//   goes stale and its probes time out (tens of seconds).
// - eth0 `arp_ignore=1`: answer ARP only for addresses configured on eth0
//   itself, not for the node's other addresses (cni0's gateway); the pool
//   addresses are on eth0, so the holder still answers for them.
//   `arp_announce=2`: the node's own ARP requests carry its primary underlay
//   address as the sender, never an announced address, so a node's requests
//   cannot point other caches at it for an address (the sysctls
//   kube-proxy's IPVS mode sets for the same reason).
// - a gratuitous ARP again for the addresses a node still holds when it turns
//   Ready again (a node cut off from the API keeps its addresses; meanwhile
//   another node took them over and the host learnt that node's MAC; when
//   the first one is back it wins them again, hash order being fixed, and
//   the host must hear so at once; the agent decides when).
//
// Side effects only; the agent runs inside its node's namespace, so the
// commands act on the current namespace. All address changes of one sync go
// through one `ip -batch`.
import { ipBatch, ipJson } from '../exec/ip.ts'
import { mapLimit, runner } from '../exec/run-command.ts'
import { NODE_UNDERLAY_DEVICE } from '../network/cluster-network.ts'
import { type AddressRange, inRange } from './election.ts'

/** At most this many `arping` at once (each lingers ~1 s after its one packet). */
const GARP_PARALLEL = 8

/** The ARP sysctls of an announcing node's underlay device. */
export async function prepareAnnouncing(device = NODE_UNDERLAY_DEVICE): Promise<void> {
  await runner()(['sysctl', '-q', '-w', `net.ipv4.conf.${device}.arp_ignore=1`, `net.ipv4.conf.${device}.arp_announce=2`])
}

interface AddrInfo { family?: string; local?: string; prefixlen?: number }

/** The /32s of `pool` on `device`: what this node announces now, per the kernel. */
export async function announcedAddresses(pool: AddressRange, device = NODE_UNDERLAY_DEVICE): Promise<string[]> {
  const links = await ipJson<{ addr_info?: AddrInfo[] }[]>(null, ['addr', 'show', 'dev', device])
  return links
    .flatMap(l => l.addr_info ?? [])
    .filter(a => a.family === 'inet' && a.prefixlen === 32 && a.local !== undefined && inRange(pool, a.local))
    .map(a => a.local as string)
}

/**
 * Withdraws `withdraw` and announces `announce` on `device` in one `ip -batch`
 * (withdrawals first). Throws when the batch fails; addresses to withdraw
 * must be on the device. Follow with gratuitousArp(announce).
 */
export async function changeAnnouncements(announce: readonly string[], withdraw: readonly string[], device = NODE_UNDERLAY_DEVICE): Promise<void> {
  await ipBatch(null, [
    ...withdraw.map(ip => `addr del ${ip}/32 dev ${device}`),
    ...announce.map(ip => `addr replace ${ip}/32 dev ${device}`),
  ])
}

/**
 * One unsolicited ARP per address from `device`: neighbours holding an entry
 * for it take this node's MAC. Resolves with the failures (the address is
 * held all the same; a neighbour then learns it on its next ARP request).
 */
export async function gratuitousArp(ips: readonly string[], device = NODE_UNDERLAY_DEVICE): Promise<Error[]> {
  const results = await mapLimit(ips, GARP_PARALLEL, ip =>
    runner()(['arping', '-q', '-U', '-c', '1', '-I', device, ip]).then(() => undefined, (e: Error) => e))
  return results.filter((e): e is Error => e !== undefined)
}
