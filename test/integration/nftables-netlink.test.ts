// The proxy's nf_tables batches on a real kernel: the same transaction sent
// as our netlink batch in one namespace and as an `nft -f` script in another
// leaves tables that `nft list` prints identically (a full sync with every
// kind of rule the proxy writes, then a change); a refused batch names the
// command and changes nothing.
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { ipBatch } from '../../dataplane/exec/ip.ts'
import { runCommand } from '../../dataplane/exec/run-command.ts'
import { listNetns } from '../../dataplane/netns/netns.ts'
import { buildRuleset, mapDeclarations, type ProxyServicePort } from '../../dataplane/proxy/ruleset.ts'
import { SlotAllocator } from '../../dataplane/proxy/slot-ranges.ts'
import { changeCommands, fullCommands, renderScript, type NftCommand } from '../../dataplane/proxy/transaction.ts'

const suffix = process.pid.toString(36)
const VIA_NETLINK = `kw-nl-a-${suffix}`
const VIA_NFT = `kw-nl-b-${suffix}`
const TABLE = 'kw-nl-proxy'
const HELPER = new URL('./helpers/nft-netlink-apply.ts', import.meta.url).pathname
const config = { clusterCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', localPodCidr: '10.244.1.0/24', podBridge: 'cni0' }

async function removeNamespaces(): Promise<void> {
  const existing = new Set(listNetns())
  await ipBatch(null, [VIA_NETLINK, VIA_NFT].filter(ns => existing.has(ns)).map(ns => `netns del ${ns}`))
}
t.before(async () => {
  await removeNamespaces()
  await ipBatch(null, [`netns add ${VIA_NETLINK}`, `netns add ${VIA_NFT}`])
})
t.teardown(removeNamespaces)

/** Plain arrays for JSON (element lists may be lazy iterables). */
const serializable = (commands: readonly NftCommand[]) =>
  commands.map(c => (c.op === 'add-elements' ? { ...c, elements: [...c.elements] } : c.op === 'delete-elements' ? { ...c, keys: [...c.keys] } : c))

function viaNetlink(commands: readonly NftCommand[]): { status: number | null; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', VIA_NETLINK, process.execPath, '--import', 'tsx', HELPER], {
    input: JSON.stringify({ table: TABLE, commands: serializable(commands) }), encoding: 'utf8',
  })
  return { status: r.status, stderr: r.stderr }
}
const viaNft = (commands: readonly NftCommand[]) => runCommand(['ip', 'netns', 'exec', VIA_NFT, 'nft', '-f', '-'], { input: renderScript(TABLE, commands) })
const listing = async (ns: string) => (await runCommand(['ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'ip', TABLE])).stdout

function port(name: string, clusterIP: string, over: Partial<ProxyServicePort> = {}): ProxyServicePort {
  return {
    namespace: 'default', name, portName: 'http', protocol: 'TCP', port: 80, clusterIP, loadBalancerIPs: [], externalLocal: false,
    endpoints: [{ ip: '10.244.1.5', port: 8080, local: true }, { ip: '10.244.2.5', port: 8080, local: false }, { ip: '10.244.3.5', port: 8080, local: false }],
    ...over,
  }
}

const slots = new SlotAllocator()
const before = buildRuleset(config, [
  port('web', '10.96.0.10'),
  port('dns', '10.96.0.53', { protocol: 'UDP', port: 53, portName: 'dns' }),
  port('sticky', '10.96.0.11', { affinitySeconds: 10800 }),
  port('front', '10.96.0.12', { nodePort: 30080, loadBalancerIPs: ['192.168.200.10'] }),
  port('local', '10.96.0.13', { nodePort: 30081, externalLocal: true }),
  port('nolocal', '10.96.0.14', { nodePort: 30082, externalLocal: true, endpoints: [{ ip: '10.244.2.9', port: 80, local: false }] }),
  port('empty', '10.96.0.15', { endpoints: [], nodePort: 30083 }),
], slots)

t.test('a full sync: the netlink batch leaves the table nft -f leaves', async t => {
  const commands = fullCommands([before])
  t.same(viaNetlink(commands), { status: 0, stderr: '' })
  await viaNft(commands)
  const ours = await listing(VIA_NETLINK)
  t.equal(ours, await listing(VIA_NFT))
  t.match(ours, /meta mark set numgen random mod 3 offset \d+ goto endpoint-dnat/)
  t.match(ours, /numgen random mod 3 vmap \{ 0 : goto /, 'affinity Services keep their per-endpoint chains')
  t.match(ours, /meta l4proto \{ tcp, udp \} dnat ip to meta mark & 0x00ffffff map @endpoints/)
  // Replacing the table again (a restarted proxy's first sync) works over what is there.
  t.same(viaNetlink(commands), { status: 0, stderr: '' })
  t.equal(await listing(VIA_NETLINK), ours)
})

t.test('a change: elements, chains and affinity sets move the same way', async t => {
  const after = buildRuleset(config, [
    port('web', '10.96.0.10', { endpoints: [{ ip: '10.244.1.5', port: 8080, local: true }, { ip: '10.244.4.5', port: 8080, local: false }] }),
    port('dns', '10.96.0.53', { protocol: 'UDP', port: 53, portName: 'dns' }),
    port('front', '10.96.0.12', { nodePort: 30080, loadBalancerIPs: [] }),
    port('empty', '10.96.0.15', { nodePort: 30083 }),
    port('new', '10.96.0.16'),
  ], slots)
  const commands = changeCommands(before, after, mapDeclarations())
  t.ok(commands.some(c => c.op === 'delete-set'), 'the affinity Service went: its sets go')
  t.same(viaNetlink(commands), { status: 0, stderr: '' })
  await viaNft(commands)
  t.equal(await listing(VIA_NETLINK), await listing(VIA_NFT))
})

t.test('a refused batch names the command and changes nothing', async t => {
  const was = await listing(VIA_NETLINK)
  const r = viaNetlink([
    { op: 'add-chain', name: 'fresh' },
    { op: 'add-rule', chain: 'fresh', rule: 'goto no-such-chain' },
  ])
  t.equal(r.status, 2)
  t.match(r.stderr, /nftables refused the transaction, nothing was applied: add rule ip kw-nl-proxy fresh goto no-such-chain: No such file or directory/)
  t.equal(await listing(VIA_NETLINK), was, 'the chain made earlier in the batch is not there either')
})
