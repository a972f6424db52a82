// Mountpoints kubewire creates on the host for mountPaths that do not exist,
// and their removal at `down`, which must leave alone what another cluster
// still mounts on. Plain files in a temporary directory; no root needed.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ensureMountpoint, removeCreatedMountpoints, usedLedger } from '../../../dataplane/process/mountpoints.ts'

const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-mountpoints-'))
  return { dir, host: join(dir, 'host'), run: (cluster: string) => join(dir, 'run', cluster, 'mountpoints') }
}

t.test('what one cluster created is removed at its down, deepest first', async t => {
  const s = scratch()
  t.teardown(() => rmSync(s.dir, { recursive: true, force: true }))
  ensureMountpoint(join(s.host, 'state', 'data'), false, s.run('a'))
  ensureMountpoint(join(s.host, 'etc', 'hosts'), true, s.run('a'))
  t.same(readFileSync(s.run('a'), 'utf8').split('\n').filter(Boolean).map(p => p.slice(s.host.length)),
    ['', '/state', '/state/data', '/etc', '/etc/hosts'], 'every path made is recorded')
  const removed = removeCreatedMountpoints(s.run('a'))
  t.equal(removed.length, 5)
  t.notOk(existsSync(s.host), 'the host is as it was')
  t.notOk(existsSync(s.run('a')), 'ledger gone')
})

t.test('a path another cluster mounts on is handed over, not removed', async t => {
  const s = scratch()
  t.teardown(() => rmSync(s.dir, { recursive: true, force: true }))
  const state = join(s.host, 'state')
  ensureMountpoint(state, false, s.run('a')) // a creates it
  ensureMountpoint(state, false, s.run('b')) // b finds it and mounts on it
  t.same(readFileSync(usedLedger(s.run('b')), 'utf8'), `${state}\n`, 'b records that it uses the path')
  removeCreatedMountpoints(s.run('a'))
  t.ok(existsSync(state), "a's down leaves the directory b's containers mount on")
  t.ok(readFileSync(s.run('b'), 'utf8').split('\n').includes(state), 'and gives it to b to remove')
  removeCreatedMountpoints(s.run('b'))
  t.notOk(existsSync(state), "b's down removes it")
  t.notOk(existsSync(usedLedger(s.run('b'))), 'and its use ledger')
})

t.test('a parent is kept while another cluster uses a path below it', async t => {
  const s = scratch()
  t.teardown(() => rmSync(s.dir, { recursive: true, force: true }))
  ensureMountpoint(join(s.host, 'srv', 'a'), false, s.run('a'))
  ensureMountpoint(join(s.host, 'srv', 'b'), false, s.run('b'))
  removeCreatedMountpoints(s.run('a'))
  t.notOk(existsSync(join(s.host, 'srv', 'a')), "a's own leaf goes")
  t.ok(existsSync(join(s.host, 'srv', 'b')), "b's stays")
  removeCreatedMountpoints(s.run('b'))
  t.notOk(existsSync(s.host), 'the last down removes the shared parents')
})

t.test('a non-empty path is never removed', async t => {
  const s = scratch()
  t.teardown(() => rmSync(s.dir, { recursive: true, force: true }))
  const file = join(s.host, 'f')
  ensureMountpoint(file, true, s.run('a'))
  t.same(removeCreatedMountpoints(join(s.dir, 'nowhere', 'mountpoints')), [], 'no ledger, nothing to do')
  await import('node:fs').then(fs => fs.writeFileSync(file, 'user data'))
  removeCreatedMountpoints(s.run('a'))
  t.equal(readFileSync(file, 'utf8'), 'user data')
})
