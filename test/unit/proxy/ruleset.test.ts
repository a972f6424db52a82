import t from 'tap'
import { buildRuleset, mapDeclarations, serviceChainName, slotRangeSize, type ProxyServicePort } from '../../../dataplane/proxy/ruleset.ts'
import { SlotAllocator } from '../../../dataplane/proxy/slot-ranges.ts'
import { changeCommands, fullCommands, renderScript } from '../../../dataplane/proxy/transaction.ts'

const config = { clusterCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', localPodCidr: '10.244.1.0/24', podBridge: 'cni0' }
const TABLE = 'kw-t-proxy'

function port(over: Partial<ProxyServicePort> = {}): ProxyServicePort {
  return {
    namespace: 'default', name: 'web', portName: 'http', protocol: 'TCP', port: 80, clusterIP: '10.96.0.5',
    loadBalancerIPs: [], externalLocal: false,
    endpoints: [{ ip: '10.244.2.7', port: 8080, local: false }, { ip: '10.244.1.3', port: 8080, local: true }],
    ...over,
  }
}

const build = (ports: ProxyServicePort[], slots = new SlotAllocator()) => {
  const rs = buildRuleset(config, ports, slots)
  slots.sweep()
  return rs
}

t.test('chain names are kube-proxy-like: hash plus readable ns/name/proto/port', async t => {
  const name = serviceChainName('svc', port())
  t.match(name, /^svc-[0-9A-F]{8}-default\/web\/tcp\/http$/)
  t.not(serviceChainName('svc', port({ namespace: 'shop' })), name, 'another namespace, another chain')
  t.match(serviceChainName('svc', port({ portName: '' })), /\/tcp\/80$/, 'an unnamed port goes by number')
})

t.test('a ClusterIP service: one verdict-map element, a random pick over sorted endpoints, one slot per endpoint', async t => {
  const rs = build([port()])
  const chain = serviceChainName('svc', port())
  t.same(rs.elements.get('service-ips'), new Map([['10.96.0.5 . tcp . 80', `goto ${chain}`]]))
  t.same(rs.chains.get(chain), ['meta mark set numgen random mod 2 offset 0 goto endpoint-dnat'], 'one rule: the slot, then the shared DNAT')
  t.same(rs.chains.get('endpoint-dnat'), [
    'ip saddr != 10.244.0.0/16 jump mark-for-masquerade',
    'meta l4proto { tcp, udp } dnat ip to meta mark & 0x00ffffff map @endpoints',
  ], 'sources outside the cluster are marked for masquerade, then DNATed to the slot\'s endpoint')
  t.same(rs.elements.get('endpoints'), new Map([['0', '10.244.1.3 . 8080'], ['1', '10.244.2.7 . 8080']]), 'sorted by address: stable output')
  t.same(rs.chains.get('cluster-ips-check'), ['ip daddr 10.96.0.0/12 reject'], 'any other port of the service range is refused')
  t.equal(rs.elements.get('no-endpoint-services')?.size, 0)
})

t.test('no endpoints: rejected on the ClusterIP and the NodePort, no service chain', async t => {
  const rs = build([port({ endpoints: [], nodePort: 30080, loadBalancerIPs: ['198.18.0.200'] })])
  t.same(rs.elements.get('no-endpoint-services'), new Map([
    ['10.96.0.5 . tcp . 80', 'goto reject-chain'],
    ['198.18.0.200 . tcp . 80', 'goto reject-chain'],
  ]))
  t.same(rs.elements.get('no-endpoint-nodeports'), new Map([['tcp . 30080', 'goto reject-chain']]))
  t.equal(rs.elements.get('service-ips')?.size, 0)
  t.notOk([...rs.chains.keys()].some(c => c.startsWith('svc-')))
})

t.test('NodePort and LoadBalancer with policy Cluster go to the service chain, which masquerades outside sources', async t => {
  const rs = build([port({ nodePort: 30080, loadBalancerIPs: ['198.18.0.200'] })])
  const chain = serviceChainName('svc', port())
  t.equal(rs.elements.get('service-nodeports')?.get('tcp . 30080'), `goto ${chain}`)
  t.equal(rs.elements.get('service-ips')?.get('198.18.0.200 . tcp . 80'), `goto ${chain}`)
})

t.test('externalTrafficPolicy Local: cluster sources get every endpoint, outside ones this node\'s only, unmasqueraded', async t => {
  const p = port({ nodePort: 30080, externalLocal: true })
  const rs = build([p])
  const ext = serviceChainName('ext', p)
  const local = serviceChainName('local', p)
  t.equal(rs.elements.get('service-nodeports')?.get('tcp . 30080'), `goto ${ext}`)
  t.same(rs.chains.get(ext), [`ip saddr 10.244.0.0/16 goto ${serviceChainName('svc', p)}`, `goto ${local}`])
  const localRules = rs.chains.get(local) ?? []
  t.match(localRules[0], /^meta mark set numgen random mod 1 offset \d+ goto endpoint-dnat-keep-source$/, 'keeps the client address')
  t.notOk(rs.chains.get('endpoint-dnat-keep-source')?.some(r => r.includes('masquerade')))
  const slot = /offset (\d+)/.exec(localRules[0] ?? '')?.[1] as string
  t.equal(rs.elements.get('endpoints')?.get(slot), '10.244.1.3 . 8080', 'the local endpoint')

  const none = build([port({ nodePort: 30080, externalLocal: true, endpoints: [{ ip: '10.244.2.7', port: 8080, local: false }] })])
  t.same(none.chains.get(ext)?.at(-1), 'drop', 'no local endpoint: outside traffic is dropped')
})

t.test('sessionAffinity ClientIP: per-endpoint chains and timed sets, checked before the random pick', async t => {
  const p = port({ affinitySeconds: 600 })
  const rs = build([p])
  const chain = serviceChainName('svc', p)
  const rules = rs.chains.get(chain) ?? []
  t.equal(rules.length, 4)
  t.match(rules[1], /^ip saddr @affinity-[0-9A-F]{8} goto .*__10\.244\.1\.3\/8080$/)
  t.match(rules[3], /^numgen random mod 2 vmap \{ 0 : goto .*__10\.244\.1\.3\/8080, 1 : goto .*__10\.244\.2\.7\/8080 \}$/)
  t.same(rs.chains.get(`${chain}__10.244.1.3/8080`)?.[1], 'meta l4proto tcp dnat ip to 10.244.1.3:8080')
  t.equal(rs.dynamicSets.size, 2)
  for (const decl of rs.dynamicSets.values()) t.equal(decl, 'type ipv4_addr; flags dynamic,timeout; timeout 600s;')
})

t.test('UDP ports are keyed by udp', async t => {
  const rs = build([port({ protocol: 'UDP', port: 53, portName: 'dns' })])
  t.ok(rs.elements.get('service-ips')?.has('10.96.0.5 . udp . 53'))
})

t.test('same-node and hairpin traffic is masqueraded to the node', async t => {
  const rs = build([])
  t.ok(rs.chains.get('masquerading')?.includes('ct status dnat ip saddr 10.244.1.0/24 oifname "cni0" masquerade fully-random'))
})

t.test('slot ranges: powers of two, stable across syncs, reused when freed', async t => {
  t.equal(slotRangeSize(1), 4)
  t.equal(slotRangeSize(5), 8)
  t.equal(slotRangeSize(16), 16)
  const slots = new SlotAllocator()
  t.equal(slots.base('a', 4), 0)
  t.equal(slots.base('b', 8), 4)
  slots.sweep()
  t.equal(slots.base('a', 4), 0, 'same key and size: same range')
  slots.sweep() // b not asked for: freed
  t.equal(slots.base('c', 8), 4, 'b\'s range reused')
})

t.test('a full render declares everything; the change script moves one ruleset to the next', async t => {
  const slots = new SlotAllocator()
  const a = build([port(), port({ name: 'api', clusterIP: '10.96.0.6', affinitySeconds: 10 })], slots)
  const full = renderScript(TABLE, fullCommands([a]))
  t.match(full, /^table ip kw-t-proxy\ndelete table ip kw-t-proxy\ntable ip kw-t-proxy\n/)
  t.match(full, /\nadd map ip kw-t-proxy service-ips \{ type ipv4_addr \. inet_proto \. inet_service : verdict; \}\nadd element ip kw-t-proxy service-ips \{ /)
  t.match(full, /\nadd chain ip kw-t-proxy nat-prerouting \{ type nat hook prerouting priority dstnat; policy accept; \}\n/)
  t.match(full, /\nadd rule ip kw-t-proxy nat-prerouting jump services\n/)
  t.ok(full.indexOf('add chain ip kw-t-proxy endpoint-dnat') < full.indexOf('add element ip kw-t-proxy service-ips'), 'chains come before the map elements that go to them')

  const renderChanges = (table: string, x: typeof a, y: typeof a) => renderScript(table, changeCommands(x, y, mapDeclarations()))
  t.equal(renderChanges(TABLE, a, a), '', 'nothing changed: nothing to do')

  // One endpoint added to web, api removed.
  const b = build([port({ endpoints: [...port().endpoints, { ip: '10.244.3.9', port: 8080, local: false }] })], slots)
  const change = renderChanges(TABLE, a, b).split('\n').filter(Boolean)
  const web = serviceChainName('svc', port())
  const api = serviceChainName('svc', port({ name: 'api' }))
  t.same(change.filter(l => l.includes(web)), [
    `flush chain ip kw-t-proxy ${web}`,
    `add rule ip kw-t-proxy ${web} meta mark set numgen random mod 3 offset 0 goto endpoint-dnat`,
  ])
  t.ok(change.includes('add element ip kw-t-proxy endpoints { 2 : 10.244.3.9 . 8080 }'), 'only the new endpoint\'s slot is added')
  t.ok(change.includes('delete element ip kw-t-proxy service-ips { 10.96.0.6 . tcp . 80 }'))
  const firstDelete = change.findIndex(l => l.startsWith(`delete chain ip kw-t-proxy ${api}`))
  const lastFlush = Math.max(...change.map((l, i) => (l.startsWith('flush chain') && l.includes(api) ? i : -1)))
  t.ok(firstDelete > lastFlush, 'chains that go are emptied before any is deleted')
  t.ok(change.findIndex(l => l.startsWith('delete set')) > firstDelete, 'affinity sets go after the chains using them')
  t.ok(change.findIndex(l => l.startsWith('delete element')) < change.findIndex(l => l.startsWith('flush chain')), 'map elements go before chains change')
})

