// Malformed traffic: ≥ 100 000 random and mutated datagrams at a node's VXLAN
// port (truncated, I flag unset, wrong VNI, garbage, a valid header with a
// garbage frame behind it, valid frames with flipped bytes), from a peer's
// address and from one that is not. The encapsulator must stay up, count the
// drops by reason, and keep carrying pod traffic.
import { execFile } from 'node:child_process'
import t from 'tap'
import { defaultRunDir, readVxlanStats, type VxlanStats } from '../../dataplane/overlay/vxlan.ts'
import { vtepMac } from '../../dataplane/overlay/vtep.ts'
import {
  curlFrom, HOSTNAME_SERVER, isolatedHome, kubewire, kubewireOk, leftoversSettled, pingFrom, removeHome, uniqueClusterName, waitFor,
} from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
const runDir = defaultRunDir(name)
t.teardown(async () => {
  await kubewire(['down'])
  removeHome(home)
})

// The sender, run with `node -e` inside a namespace: node -e SRC HOST PORT COUNT DSTMAC SRCMAC.
const SENDER = String.raw`
const dgram = require('node:dgram')
const [host, port, count, dstMac, srcMac] = process.argv.slice(1)
const mac = s => Buffer.from(s.replaceAll(':', ''), 'hex')
const rand = n => Math.floor(Math.random() * n)
const bytes = n => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = rand(256); return b }
// A valid datagram: VXLAN (VNI 1), Ethernet to node-1's VTEP, IPv4 ICMP echo to an unused pod address.
const icmp = Buffer.from([8, 0, 0, 0, 0x12, 0x34, 0, 1, ...bytes(32)])
const ip = Buffer.from([0x45, 0, 0, 20 + icmp.length, 0, 1, 0x40, 0, 64, 1, 0, 0, 10, 244, 2, 99, 10, 244, 1, 250])
const template = Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 1, 0]), mac(dstMac), mac(srcMac), Buffer.from([8, 0]), ip, icmp])
const kinds = [
  () => bytes(rand(22)),                                                       // truncated
  () => { const b = Buffer.from(template); b[0] &= ~0x08; return b },            // I flag unset
  () => { const b = Buffer.from(template); let v; do { v = rand(1 << 24) } while (v === 1); b.writeUIntBE(v, 4, 3); return b }, // wrong VNI
  () => bytes(22 + rand(1450)),                                                // garbage
  () => Buffer.concat([template.subarray(0, 8), bytes(14 + rand(1400))]),       // valid header, garbage frame
  () => { const b = Buffer.from(template); for (let i = 1 + rand(8); i > 0; i--) b[8 + rand(b.length - 8)] = rand(256); return b }, // mutated
]
const socket = dgram.createSocket('udp4')
let sent = 0
async function main() {
  for (let i = 0; i < Number(count); i++) {
    socket.send(kinds[rand(kinds.length)](), Number(port), host, () => {})
    sent++
    if (i % 256 === 255) await new Promise(r => setImmediate(r))
  }
  await new Promise(r => setTimeout(r, 200))
  socket.close()
  console.log(sent)
}
main()
`

function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { maxBuffer: 1 << 20, timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${argv.join(' ')}: ${err.message} ${stderr}`)) : resolve(stdout)))
  })
}

const dropsOf = (s: VxlanStats) => s.drops.rx

t.test('the encapsulator survives 100 000 malformed datagrams and keeps forwarding', async t => {
  await kubewireOk(['up', '--nodes', '2', '--backend', 'vxlan', '--addons', 'none'])
  await kubewireOk(['run', 'a', '--node', 'node-1', '--', process.execPath, HOSTNAME_SERVER, '80'])
  await kubewireOk(['run', 'b', '--node', 'node-2'])
  t.ok(await pingFrom('b', '10.244.1.2'), 'pods talk before')
  const before = await readVxlanStats(runDir, 'node-1')
  const target = before.local

  // From node-2's namespace: a peer's underlay address, so the datagrams get past the source check.
  const sent = Number(await run(['ip', 'netns', 'exec', `kw-${name}-node-2`, process.execPath, '-e', SENDER,
    target, '8472', '100000', vtepMac(name, 'node-1'), vtepMac(name, 'node-2')]))
  t.equal(sent, 100000, '100 000 datagrams sent from a peer address')
  // From the host: not a peer.
  const fromHost = Number(await run([process.execPath, '-e', SENDER, target, '8472', '5000', vtepMac(name, 'node-1'), vtepMac(name, 'node-2')]))
  t.equal(fromHost, 5000, '5 000 more from the host')

  // Let the encapsulator drain its socket.
  const after = await waitFor('the counters to settle', async () => {
    const a = await readVxlanStats(runDir, 'node-1')
    await new Promise(r => setTimeout(r, 300))
    const b = await readVxlanStats(runDir, 'node-1')
    return a.rx.messages === b.rx.messages ? b : undefined
  }, 30_000)

  t.equal(after.pid, before.pid, 'same process: it did not crash or restart')
  t.ok(process.kill(after.pid, 0), 'and it is alive')
  const d0 = dropsOf(before)
  const d1 = dropsOf(after)
  const moved = (k: keyof typeof d1) => d1[k] - d0[k]
  t.ok(moved('too-short') > 1000, `too-short: ${moved('too-short')}`)
  t.ok(moved('no-i-flag') > 1000, `no-i-flag: ${moved('no-i-flag')}`)
  t.ok(moved('wrong-vni') > 1000, `wrong-vni: ${moved('wrong-vni')}`)
  t.ok(moved('unknown-source') > 1000, `unknown-source: ${moved('unknown-source')}`)
  t.equal(moved('internal-error'), 0, 'no datagram made the data path throw')
  const accepted = after.rx.frames - before.rx.frames
  t.ok(accepted > 1000, `${accepted} well-formed datagrams with garbage frames were handed to the node (which drops them)`)
  const counted = after.rx.datagrams - before.rx.datagrams + moved('unknown-source') + moved('truncated')
  t.ok(counted <= 105_000 + 100, `every datagram counted at most once (${counted})`)

  t.ok(await pingFrom('b', '10.244.1.2'), 'pods still talk after')
  t.equal((await waitFor('curl b -> a', () => curlFrom('b', 'http://10.244.1.2/')))?.trim(), 'a', 'HTTP too')
  const log = await run(['cat', `${runDir}/vxlan/node-1.log`])
  t.same(log.split('\n').filter(l => /"msg":"(fatal|warning)"/.test(l)), [], 'nothing alarming in the log')
  t.equal(after.drops.tx['internal-error'], 0, 'nor on the send side (what the node answers to garbage goes out again)')
})

t.test('down removes everything', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
