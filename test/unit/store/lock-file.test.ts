import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { DurableStore } from '../../../control/store/durable-store.ts'
import { LockedError } from '../../../control/store/store.ts'
import { tempDir } from './helpers.ts'

const lockOf = (dir: string): string => join(dir, 'LOCK')

t.test('a directory opens once; the lock holds our pid and goes away on close', async t => {
  const dir = tempDir(t)
  const store = await DurableStore.open(dir)
  t.equal(readFileSync(lockOf(dir), 'utf8').trim(), String(process.pid))
  const err = await DurableStore.open(dir).catch((e: unknown) => e)
  t.ok(err instanceof LockedError)
  t.match(err, { code: 'Locked', pid: process.pid, message: /already open in this process/ })
  await store.close()
  t.notOk(existsSync(lockOf(dir)), 'lock removed')
  const again = await DurableStore.open(dir)
  await again.close()
})

t.test('a lock held by another live process is respected', async t => {
  const dir = tempDir(t)
  writeFileSync(lockOf(dir), `${process.ppid}\n`) // our parent: alive, and not us
  await t.rejects(DurableStore.open(dir), { code: 'Locked', pid: process.ppid })
  t.equal(readFileSync(lockOf(dir), 'utf8').trim(), String(process.ppid), 'left alone')
})

t.test('a stale lock from a dead process is taken over', async t => {
  const dir = tempDir(t)
  const dead = spawnSync(process.execPath, ['-e', '']).pid // exited and reaped
  t.ok(dead !== undefined && dead > 0)
  writeFileSync(lockOf(dir), `${dead}\n`)
  const store = await DurableStore.open(dir)
  t.equal(readFileSync(lockOf(dir), 'utf8').trim(), String(process.pid))
  await store.close()
})

t.test('our own pid in a lock nobody in this process holds: a previous incarnation', async t => {
  const dir = tempDir(t)
  writeFileSync(lockOf(dir), `${process.pid}\n`)
  const store = await DurableStore.open(dir)
  await store.close()
})

t.test('a lock without a pid is being written, unless it is old', async t => {
  const dir = tempDir(t)
  writeFileSync(lockOf(dir), '')
  await t.rejects(DurableStore.open(dir), { code: 'Locked' }, 'fresh and empty: someone is creating it')
  const old = new Date(Date.now() - 60_000)
  utimesSync(lockOf(dir), old, old)
  const store = await DurableStore.open(dir)
  await store.close()
})
