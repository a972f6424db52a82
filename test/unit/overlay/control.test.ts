// The encapsulator's control channel, against a stand-in server on a unix
// socket in a temporary run directory (no root, no encapsulator).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  checkSocketPath, controlRequest, encapsulatorTitle, pingEncapsulator, pushPeers, readVxlanStats, vxlanPaths,
} from '../../../dataplane/overlay/vxlan/control.ts'

const runDir = mkdtempSync(join(tmpdir(), 'kw-vxlan-control-'))
t.teardown(() => rmSync(runDir, { recursive: true, force: true }))
mkdirSync(join(runDir, 'vxlan'))

function serve(node: string, answer: (request: { op: string; peers?: unknown }) => unknown): Promise<Server> {
  const server = createServer(conn => {
    let text = ''
    conn.on('data', b => {
      text += String(b)
      const nl = text.indexOf('\n')
      if (nl >= 0) conn.write(JSON.stringify(answer(JSON.parse(text.slice(0, nl)) as { op: string })) + '\n')
    })
  })
  return new Promise(resolve => server.listen(vxlanPaths(runDir, node).socket, () => resolve(server)))
}

t.test('nothing there: ping says so, stats throw ENOTRUNNING', async t => {
  t.equal(await pingEncapsulator(runDir, 'node-9'), undefined)
  await t.rejects(readVxlanStats(runDir, 'node-9'), { code: 'ENOTRUNNING' })
  await t.rejects(pushPeers(runDir, 'node-9', [], 100), { code: 'ENOENT' }, 'gives up after its wait')
})

t.test('requests and replies', async t => {
  const seen: unknown[] = []
  const server = await serve('node-1', r => {
    seen.push(r)
    if (r.op === 'ping') return { ok: true, cluster: 'c', node: 'node-1', pid: 42, startedAt: 'now' }
    if (r.op === 'stats') return { ok: true, stats: { node: 'node-1', tx: { frames: 1 } } }
    if (r.op === 'peers') return { ok: true, peers: (r.peers as unknown[]).length }
    return { ok: false, error: 'no' }
  })
  t.teardown(() => server.close())
  t.match(await pingEncapsulator(runDir, 'node-1'), { pid: 42, node: 'node-1' })
  t.match(await readVxlanStats(runDir, 'node-1'), { node: 'node-1', tx: { frames: 1 } })
  await pushPeers(runDir, 'node-1', [{ mac: '0e:00:00:00:00:02', underlayIP: '198.18.0.12' }], 1000)
  t.same(seen.at(-1), { op: 'peers', peers: [{ mac: '0e:00:00:00:00:02', underlayIP: '198.18.0.12' }] })
  t.match(await controlRequest(vxlanPaths(runDir, 'node-1').socket, { op: 'reload' }), { ok: false, error: 'no' })
})

t.test('an error reply is an error', async t => {
  const server = await serve('node-2', () => ({ ok: false, error: 'bad peers' }))
  t.teardown(() => server.close())
  await t.rejects(pushPeers(runDir, 'node-2', [], 1000), { code: 'EVXLAN', message: /bad peers/ })
})

t.test('pushPeers waits for an encapsulator that is still starting', async t => {
  const started = pushPeers(runDir, 'node-3', [], 5000)
  await new Promise(r => setTimeout(r, 150))
  const server = await serve('node-3', () => ({ ok: true, peers: 0 }))
  t.teardown(() => server.close())
  await started
  t.pass('delivered once the socket appeared')
})

t.test('a silent server times out', async t => {
  const server = createServer(() => {})
  await new Promise<void>(resolve => server.listen(vxlanPaths(runDir, 'node-4').socket, () => resolve()))
  t.teardown(() => server.close())
  await t.rejects(controlRequest(vxlanPaths(runDir, 'node-4').socket, { op: 'ping' }, 100), { code: 'ETIMEDOUT' })
})

t.test('names', async t => {
  t.equal(encapsulatorTitle('demo', 'node-1'), 'kubewire-vxlan demo node-1')
  t.doesNotThrow(() => checkSocketPath('/run/kubewire/demo/vxlan/node-1.sock'))
  t.throws(() => checkSocketPath(`/${'x'.repeat(120)}.sock`), { code: 'ENAMETOOLONG' })
})
