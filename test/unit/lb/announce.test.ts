import { createHash } from 'node:crypto'
import t from 'tap'
import { type AnnouncedService, type AnnouncerNode, announcementChanges, desiredAnnouncements, electAnnouncer, eligibleNodes } from '../../../dataplane/lb/election.ts'

const POOL = { first: '198.18.0.200', last: '198.18.0.250' }
const NAMES = ['node-1', 'node-2', 'node-3']
const node = (name: string, fields: Partial<AnnouncerNode> = {}): AnnouncerNode => ({ name, ready: true, unschedulable: false, excluded: false, ...fields })
const service = (key: string, ip: string, fields: Partial<AnnouncedService> = {}): AnnouncedService =>
  ({ key, ips: [ip], externalLocal: false, readyEndpointNodes: ['node-1', 'node-2'], ...fields })
const poolIP = (i: number) => `198.18.0.${200 + i}`
/** Who announces what: the union of every node's own answer (each agent computes alone). */
const holders = (services: AnnouncedService[], nodes: AnnouncerNode[]) => {
  const out = new Map<string, string[]>()
  for (const n of nodes) for (const ip of desiredAnnouncements(services, nodes, n.name, POOL).keys()) out.set(ip, [...(out.get(ip) ?? []), n.name])
  return out
}

t.test('the winner is the lowest sha256(node#ip), as MetalLB computes it', async t => {
  const ip = '198.18.0.200'
  const hash = (n: string) => createHash('sha256').update(`${n}#${ip}`).digest('hex')
  const expected = [...NAMES].sort((a, b) => (hash(a) < hash(b) ? -1 : 1))[0]
  t.equal(electAnnouncer('default/web', ip, NAMES), expected)
  t.equal(electAnnouncer('default/web', ip, []), undefined, 'no candidate, no announcer')
})

t.test('deterministic and independent of the candidate order; the Service key is not hashed', async t => {
  for (let i = 0; i <= 50; i++) {
    const ip = poolIP(i)
    const first = electAnnouncer('default/web', ip, NAMES)
    t.equal(electAnnouncer('default/web', ip, [...NAMES].reverse()), first)
    t.equal(electAnnouncer('default/web', ip, ['node-2', 'node-3', 'node-1']), first)
    t.equal(electAnnouncer('other/svc', ip, NAMES), first, 'Services sharing an address elect the same node')
  }
})

t.test('addresses spread over the nodes; a node leaving moves only its own addresses', async t => {
  const ips = Array.from({ length: 51 }, (_, i) => poolIP(i))
  const winners = new Map(ips.map(ip => [ip, electAnnouncer('s', ip, NAMES)]))
  const counts = NAMES.map(n => [...winners.values()].filter(w => w === n).length)
  t.ok(counts.every(c => c >= 8), `every node wins some of 51 addresses: ${counts.join('/')}`)
  for (const ip of ips) {
    const after = electAnnouncer('s', ip, ['node-1', 'node-3'])
    if (winners.get(ip) === 'node-2') t.not(after, 'node-2')
    else t.equal(after, winners.get(ip), `${ip} stays on ${winners.get(ip)}`)
  }
})

t.test('eligible: Ready, not cordoned, not excluded from load balancers', async t => {
  const nodes = [node('node-1'), node('node-2', { ready: false }), node('node-3', { unschedulable: true }), node('node-4', { excluded: true }), node('node-5')]
  t.same(eligibleNodes(service('default/web', poolIP(0)), nodes), ['node-1', 'node-5'])
})

t.test('a NotReady node is skipped: another node takes its address', async t => {
  const nodes = NAMES.map(n => node(n))
  const svc = service('default/web', poolIP(0))
  const before = holders([svc], nodes).get(poolIP(0))
  t.equal(before?.length, 1, 'exactly one node announces')
  const failed = nodes.map(n => (n.name === before?.[0] ? { ...n, ready: false } : n))
  const after = holders([svc], failed).get(poolIP(0))
  t.equal(after?.length, 1, 'exactly one node again')
  t.not(after?.[0], before?.[0], 'and not the NotReady one')
  t.same(holders([svc], nodes.map(n => ({ ...n, ready: false }))), new Map(), 'no Ready node: nobody')
})

t.test('externalTrafficPolicy Local: only nodes with a ready endpoint; none at all: nobody announces', async t => {
  const nodes = NAMES.map(n => node(n))
  for (let i = 0; i <= 50; i++) {
    const local = service('default/web', poolIP(i), { externalLocal: true, readyEndpointNodes: ['node-3', 'node-3'] })
    t.same([...holders([local], nodes)], [[poolIP(i), ['node-3']]])
  }
  const local = service('default/web', poolIP(0), { externalLocal: true, readyEndpointNodes: ['node-2', 'node-3'] })
  t.same(eligibleNodes(local, nodes).sort(), ['node-2', 'node-3'])
  t.same(eligibleNodes(local, [node('node-1'), node('node-2', { ready: false }), node('node-3')]), ['node-3'], 'and Ready')
  t.same(eligibleNodes(service('default/web', poolIP(0), { readyEndpointNodes: [] }), nodes), [], 'Cluster policy without endpoints')
  t.same(eligibleNodes(service('default/web', poolIP(0), { readyEndpointNodes: [''] }), nodes), NAMES, 'an endpoint of no node still counts for Cluster')
})

t.test('the desired set: every address of the pool exactly once, by Service; outside the pool never', async t => {
  const nodes = NAMES.map(n => node(n))
  const services = [
    ...Array.from({ length: 20 }, (_, i) => service(`default/s${i}`, poolIP(i))),
    service('default/outside', '198.18.0.150'),
    service('default/elsewhere', '203.0.113.7'),
    service('default/empty', poolIP(30), { readyEndpointNodes: [] }),
  ]
  const all = holders(services, nodes)
  t.same([...all.keys()].sort(), Array.from({ length: 20 }, (_, i) => poolIP(i)).sort())
  t.ok([...all.values()].every(h => h.length === 1), 'one holder each')
  const mine = desiredAnnouncements(services, nodes, 'node-1', POOL)
  for (const [ip, key] of mine) t.equal(key, `default/s${Number(ip.split('.')[3]) - 200}`, `${ip} for ${key}`)
  t.same(desiredAnnouncements(services, nodes, 'node-9', POOL), new Map(), 'a node not in the list wins nothing')
})

t.test('changes: add what is missing, remove what is no longer wanted', async t => {
  const desired = new Map([[poolIP(1), 'default/a'], [poolIP(2), 'default/b']])
  t.same(announcementChanges([poolIP(2), poolIP(3), poolIP(0)], desired), { add: new Map([[poolIP(1), 'default/a']]), remove: [poolIP(0), poolIP(3)] })
  t.same(announcementChanges(desired.keys(), desired), { add: new Map(), remove: [] })
})
