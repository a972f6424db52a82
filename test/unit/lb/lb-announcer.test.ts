// The announcer role against a recording runner (no kernel): what it reads
// at start, what it changes in one batch, what it ignores, what stop undoes.
import t from 'tap'
import type { Informer, KubeObject } from '../../../control/client/api-client.ts'
import { LoadBalancerAnnouncer, announcedServices, announcerNodes } from '../../../control/agent/lb-announcer.ts'
import { electAnnouncer } from '../../../dataplane/lb/election.ts'
import { type Runner, setRunner } from '../../../dataplane/exec/run-command.ts'

const POOL = { first: '198.18.0.200', last: '198.18.0.250' }
const IP = '198.18.0.200'
const NAMES = ['node-1', 'node-2', 'node-3']
const WINNER = electAnnouncer('default/web', IP, NAMES) as string

/** Just enough of an informer: a fixed cache and handlers the test fires. */
class StubInformer implements Informer {
  private readonly handlers: Record<string, ((o: KubeObject, old: KubeObject) => void)[]> = { add: [], update: [], delete: [] }
  constructor(private items: KubeObject[], readonly synced: Promise<void> = Promise.resolve()) {}
  hasSynced = () => true
  list = () => this.items
  get = (key: string) => this.items.find(o => `${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}` === key)
  on(event: string, handler: (o: KubeObject, old: KubeObject) => void): void {
    this.handlers[event]?.push(handler)
  }
  stop(): void {}
  add(o: KubeObject): void {
    this.items = [...this.items, o]
    for (const h of this.handlers.add ?? []) h(o, o)
  }
  replace(now: KubeObject): void {
    const old = this.items.find(o => o.metadata.name === now.metadata.name) as KubeObject
    this.items = this.items.map(o => (o === old ? now : o))
    for (const h of this.handlers.update ?? []) h(now, old)
  }
}

const node = (name: string, ready = true, heartbeat = 't0', since = 't0'): KubeObject =>
  ({ metadata: { name }, spec: {}, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'Unknown', lastHeartbeatTime: heartbeat, lastTransitionTime: since }] } })
const web = (fields: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: { type: 'LoadBalancer', ports: [{ port: 80 }], ...fields },
  status: { loadBalancer: { ingress: [{ ip: IP }] } },
})
const slice = (nodes: string[], ready = true): KubeObject => ({
  metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  endpoints: nodes.map((nodeName, i) => ({ addresses: [`10.244.${i + 1}.5`], nodeName, conditions: { ready } })),
})

/** The kernel as the runner sees it: the addresses on eth0, and every command. */
function fakeKernel(addresses: string[]) {
  const commands: string[] = []
  const runner: Runner = async (argv, options = {}) => {
    const line = argv.join(' ')
    commands.push(options.input ? `${line} <<${options.input.trim().split('\n').join('; ')}` : line)
    let stdout = ''
    if (line === 'ip -j addr show dev eth0') {
      stdout = JSON.stringify([{ addr_info: [{ family: 'inet', local: '198.18.0.11', prefixlen: 24 }, ...addresses.map(local => ({ family: 'inet', local, prefixlen: 32 }))] }])
    } else if (line === 'ip -batch -') {
      for (const l of (options.input ?? '').trim().split('\n')) {
        const [, verb, cidr] = l.split(' ')
        const ip = (cidr ?? '').split('/')[0] as string
        if (verb === 'del') addresses.splice(addresses.indexOf(ip), 1)
        else if (!addresses.includes(ip)) addresses.push(ip)
      }
    }
    return { stdout, stderr: '', exitCode: 0 }
  }
  return { commands, addresses, runner }
}

const settle = () => new Promise(r => setTimeout(r, 20))

t.test('the winner announces in one batch with a gratuitous ARP; a stale pool /32 is withdrawn at start; stop withdraws', async t => {
  const kernel = fakeKernel(['198.18.0.233'])
  const previous = setRunner(kernel.runner)
  t.teardown(() => void setRunner(previous))
  const lines: string[] = []
  const nodes = new StubInformer(NAMES.map(n => node(n)))
  const announcer = new LoadBalancerAnnouncer(new StubInformer([web()]), new StubInformer([slice(['node-1'])]), nodes, WINNER, POOL, l => lines.push(l))
  await announcer.start()
  await settle()
  t.same(kernel.commands, [
    'sysctl -q -w net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2',
    'ip -j addr show dev eth0',
    `ip -batch - <<addr del 198.18.0.233/32 dev eth0; addr replace ${IP}/32 dev eth0`,
    `arping -q -U -c 1 -I eth0 ${IP}`,
  ])
  t.same(kernel.addresses, [IP])
  t.same(lines, ['lb: withdrawing 198.18.0.233: no Service of ours holds it', `lb: announcing ${IP} for default/web`])

  kernel.commands.length = 0
  nodes.replace(node(WINNER, true, 't1'))
  await settle()
  t.same(kernel.commands, [], 'a heartbeat changes nothing and runs nothing')

  // Ready again after a time this agent did not see (cut off from the API): the host may have
  // learnt another node's MAC meanwhile, so the kept address is announced again.
  nodes.replace(node(WINNER, true, 't5', 't4'))
  await settle()
  t.same(kernel.commands, [`arping -q -U -c 1 -I eth0 ${IP}`], 'turning Ready again re-sends the gratuitous ARP only')
  t.equal(lines.at(-1), `lb: announcing ${IP} for default/web again (node Ready since t4)`)
  kernel.commands.length = 0

  await announcer.stop()
  t.same(kernel.commands, [`ip -batch - <<addr del ${IP}/32 dev eth0`])
  t.same(kernel.addresses, [])
  t.equal(lines.at(-1), `lb: withdrawing ${IP} (was for default/web) (agent stopping)`)
})

t.test('the winner turning NotReady: another node takes the address, the old one lets go of it when it sees that', async t => {
  const previous = setRunner(fakeKernel([]).runner)
  t.teardown(() => void setRunner(previous))
  const next = electAnnouncer('default/web', IP, NAMES.filter(n => n !== WINNER)) as string
  const lines: string[] = []
  // Two agents, each with its own caches and its own node's kernel; one acts at a time.
  const agent = (name: string) => {
    const nodes = new StubInformer(NAMES.map(n => node(n)))
    const kernel = fakeKernel([])
    const announcer = new LoadBalancerAnnouncer(new StubInformer([web()]), new StubInformer([slice(['node-1', 'node-2'])]), nodes, name, POOL, l => lines.push(`${name} ${l}`))
    const act = async (step: () => unknown) => {
      setRunner(kernel.runner)
      await step()
      await settle()
    }
    return { nodes, kernel, announcer, act }
  }
  const winner = agent(WINNER)
  const other = agent(next)
  await winner.act(() => winner.announcer.start())
  await other.act(() => other.announcer.start())
  t.same(lines, [`${WINNER} lb: announcing ${IP} for default/web`])
  await other.act(() => other.nodes.replace(node(WINNER, false)))
  t.equal(lines.at(-1), `${next} lb: announcing ${IP} for default/web`)
  t.same(other.kernel.addresses, [IP])
  await winner.act(() => winner.nodes.replace(node(WINNER, false)))
  t.equal(lines.at(-1), `${WINNER} lb: withdrawing ${IP} (was for default/web): ${next} announces it now`)
  t.same(winner.kernel.addresses, [])
  await winner.act(() => winner.announcer.stop())
  await other.act(() => other.announcer.stop())
})

t.test('nothing is read or changed before every cache has its first list', async t => {
  const kernel = fakeKernel([IP])
  const previous = setRunner(kernel.runner)
  t.teardown(() => void setRunner(previous))
  let listed!: () => void
  const nodes = new StubInformer([], new Promise<void>(resolve => (listed = resolve)))
  const announcer = new LoadBalancerAnnouncer(new StubInformer([web()]), new StubInformer([slice(['node-1'])]), nodes, WINNER, POOL, () => {})
  const starting = announcer.start()
  nodes.add(node('node-9'))
  await settle()
  t.same(kernel.commands.filter(c => !c.startsWith('sysctl')), [], 'a partial Node list (the winner missing) withdraws nothing')
  for (const n of NAMES) nodes.add(node(n))
  listed()
  await starting
  await settle()
  t.same(kernel.addresses, [IP], 'kept once the list is complete')
  t.notOk(kernel.commands.some(c => c.includes('addr del')))
  await announcer.stop()
})

t.test('Services and Nodes as the election sees them', async t => {
  const services = [
    web({ externalTrafficPolicy: 'Local' }),
    { ...web({ type: 'ClusterIP' }), metadata: { name: 'plain', namespace: 'default' } },
    { ...web({ loadBalancerClass: 'example.com/other' }), metadata: { name: 'theirs', namespace: 'default' } },
  ]
  const slices = [slice(['node-2', 'node-3']), { ...slice(['node-1'], false), metadata: { ...slice([]).metadata, name: 'web-def' } }]
  t.same(announcedServices(services, slices), [{ key: 'default/web', ips: [IP], externalLocal: true, readyEndpointNodes: ['node-2', 'node-3'] }])
  t.same(announcerNodes([
    node('node-1'),
    node('node-2', false),
    { metadata: { name: 'node-3', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } }, spec: { unschedulable: true } },
  ]), [
    { name: 'node-1', ready: true, unschedulable: false, excluded: false },
    { name: 'node-2', ready: false, unschedulable: false, excluded: false },
    { name: 'node-3', ready: false, unschedulable: true, excluded: true },
  ])
})
