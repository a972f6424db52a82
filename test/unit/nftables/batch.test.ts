import { readFileSync } from 'node:fs'
import t from 'tap'
import { parseHook } from '../../../dataplane/nftables/batch.ts'
import { RuleSyntaxError } from '../../../dataplane/nftables/rule-compiler.ts'
import { buildRuleset } from '../../../dataplane/proxy/ruleset.ts'
import { SlotAllocator } from '../../../dataplane/proxy/slot-ranges.ts'
import { encodeCommands, fullCommands, type NftCommand } from '../../../dataplane/proxy/transaction.ts'

interface Fixture { table: string; commands: NftCommand[]; messages: { type: number; hex: string }[] }
const fixture = JSON.parse(readFileSync(new URL('./fixtures/nft-1.0.6-sample.json', import.meta.url), 'utf8')) as Fixture

type Tree = (string | [number, Tree])[]

/** Attributes as a tree; set ids (batch-local numbers nft and we count differently) left out. */
function tree(b: Buffer, drop: (type: number) => boolean = () => false): Tree {
  const out: Tree = []
  let name = ''
  for (let i = 0; i + 4 <= b.length;) {
    const len = b.readUInt16LE(i)
    const type = b.readUInt16LE(i + 2)
    const value = b.subarray(i + 4, i + len)
    if (type & 0x8000) out.push([type & 0x7fff, tree(value, inner => name === 'lookup' && inner === 4)])
    else if (!drop(type)) out.push(`${type}=${value.toString('hex')}`)
    if (type === 1 && !(type & 0x8000)) name = value.subarray(0, value.length - 1).toString('latin1')
    i += (len + 3) & ~3
  }
  return out
}

function messages(bytes: Buffer): { type: number; payload: Buffer; flags: number; seq: number }[] {
  const out = []
  for (let o = 0; o < bytes.length;) {
    const len = bytes.readUInt32LE(o)
    if (len < 20 || o + len > bytes.length) throw new Error(`message at ${o} has a length of ${len}`)
    out.push({ type: bytes.readUInt16LE(o + 4), flags: bytes.readUInt16LE(o + 6), seq: bytes.readUInt32LE(o + 8), payload: bytes.subarray(o + 16, o + len) })
    o += len
  }
  return out
}

const NEWSET = (10 << 8) | 9
const NEWSETELEM = (10 << 8) | 12
const dropSetId = (msgType: number) => (attr: number) => (msgType === NEWSET && attr === 10) || (msgType === NEWSETELEM && attr === 4)

t.test('a batch is what nft 1.0.6 sends for the same commands, message for message', async t => {
  const ours = messages(encodeCommands(fixture.table, fixture.commands).bytes)
  t.equal(ours.length, fixture.messages.length, 'as many messages')
  fixture.messages.forEach((theirs, i) => {
    const mine = ours[i]
    if (!mine) return
    t.equal(mine.type, theirs.type, `message ${i}: type`)
    const expected = Buffer.from(theirs.hex, 'hex')
    t.same(tree(mine.payload.subarray(4), dropSetId(mine.type)), tree(expected.subarray(4), dropSetId(theirs.type)), `message ${i}: attributes`)
    t.equal(mine.payload.subarray(0, 4).toString('hex'), expected.subarray(0, 4).toString('hex'), `message ${i}: nfgenmsg`)
  })
  t.equal(ours[0]?.type, 0x10, 'opens with a batch begin')
  t.equal(ours.at(-1)?.type, 0x11, 'ends with a batch end')
  t.ok(((ours.at(-2)?.flags ?? 0) & 0x4) !== 0, 'the last command asks for an acknowledgement')
  t.equal(new Set(ours.map(m => m.seq)).size, ours.length, 'every message has its own sequence number')
})

const port = (i: number, over: object = {}) => ({
  namespace: 'default', name: `svc-${i}`, portName: 'http', protocol: 'TCP' as const, port: 80, clusterIP: `10.96.${i >> 8}.${i & 255}`,
  loadBalancerIPs: [], externalLocal: false,
  endpoints: Array.from({ length: 10 }, (_, j) => ({ ip: `10.244.${j + 1}.${(i % 250) + 2}`, port: 8080, local: j === 0 })),
  ...over,
})

t.test('every rule the proxy writes compiles, element lists are split to fit their 16-bit length', async t => {
  const config = { clusterCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', localPodCidr: '10.244.1.0/24', podBridge: 'cni0' }
  const ports = [
    ...Array.from({ length: 3000 }, (_, i) => port(i)),
    port(3000, { nodePort: 30080, loadBalancerIPs: ['192.168.200.10'], externalLocal: true }),
    port(3001, { affinitySeconds: 600, protocol: 'UDP' }),
    port(3002, { endpoints: [], nodePort: 30081 }),
    port(3003, { nodePort: 30082, externalLocal: true, endpoints: [{ ip: '10.244.9.9', port: 80, local: false }] }),
  ]
  const rs = buildRuleset(config, ports, new SlotAllocator())
  const batch = encodeCommands('kw-t', fullCommands([rs]))
  const all = messages(batch.bytes)
  const elementMessages = all.filter(m => m.type === NEWSETELEM)
  t.ok(elementMessages.length > 3, `30 000 endpoints take several element messages (${elementMessages.length})`)
  // Each message's attributes must tile it exactly (a 16-bit length that wrapped would not).
  const misfits = elementMessages.filter(m => {
    const attrs = m.payload.subarray(4)
    let i = 0
    while (i + 4 <= attrs.length) {
      const len = attrs.readUInt16LE(i)
      if (len < 4) return true
      i += (len + 3) & ~3
    }
    return i !== attrs.length
  })
  t.same(misfits.length, 0, 'every element message is tiled exactly by its attributes')
  t.ok(elementMessages.every(m => m.payload.length < 65_536), 'and stays under 64 KiB')
  t.ok(all.length > 6000, 'a chain and a rule per Service port')
  t.match(batch.describe(all.at(-2)?.seq ?? 0), /^add rule ip kw-t /, 'messages are described by their nft command')
})

t.test('rules outside the vocabulary are refused by name, not guessed', async t => {
  const bad = (rule: string) => encodeCommands('kw-t', [{ op: 'replace-table' }, { op: 'add-chain', name: 'c' }, { op: 'add-rule', chain: 'c', rule }])
  t.throws(() => bad('ip daddr 10.0.0.0/8 counter accept'), new RuleSyntaxError('nft rule not understood at "counter": ip daddr 10.0.0.0/8 counter accept'))
  t.throws(() => bad('ip daddr 10.0.0.300 accept'), /not an IPv4 address: "10.0.0.300"/)
  t.throws(() => bad('meta mark set numgen random mod'), /ends too early/)
  t.throws(() => encodeCommands('kw-t', [{ op: 'add-set', name: 's', decl: 'type ether_addr' }]), /nft datatype "ether_addr" is not one kubewire writes/)
  t.throws(() => encodeCommands('kw-t', [{ op: 'add-elements', set: 'm', decl: 'type mark : ipv4_addr . inet_service', elements: [['7', '10.1.1.1']] }]),
    /"10.1.1.1" does not have 2 fields \(in add element ip kw-t m\)/)
  t.throws(() => encodeCommands('kw-t', [{ op: 'add-elements', set: 'm', decl: 'type mark : ipv4_addr . inet_service', elements: [['7', '10.1.1.1 . 70000']] }]),
    /not a number up to 65535: "70000"/)
})

t.test('base chain declarations: named priorities and offsets', async t => {
  t.same(parseHook('type nat hook prerouting priority dstnat; policy accept;'), { type: 'nat', hook: 0, priority: -100, policy: 1 })
  t.same(parseHook('type filter hook output priority filter - 10; policy accept;'), { type: 'filter', hook: 3, priority: -10, policy: 1 })
  t.same(parseHook('type nat hook output priority -100; policy accept;'), { type: 'nat', hook: 3, priority: -100, policy: 1 })
  t.throws(() => parseHook('type nat hook sideways priority 0; policy accept;'), /base chain declaration not understood/)
})
