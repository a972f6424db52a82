import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { IpamFile } from '../../../dataplane/ipam/ipam-file.ts'
import { withLock } from '../../../dataplane/util/process-lock.ts'

const dir = mkdtempSync(join(tmpdir(), 'kw-ipam-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('persists allocations and releases', async t => {
  const path = join(dir, 'persist.json')
  const a = IpamFile.load(path)
  t.equal(a.allocate('10.244.1.0/24', 'default/web'), '10.244.1.2')
  t.equal(a.allocate('10.244.2.0/24', 'default/db'), '10.244.2.2')
  a.save()
  const b = IpamFile.load(path)
  t.same(b.allocations('10.244.1.0/24'), { '10.244.1.2': 'default/web' })
  t.equal(b.allocate('10.244.1.0/24', 'default/api'), '10.244.1.3')
  t.equal(b.release('default/db'), '10.244.2.2')
  b.save()
  t.same(JSON.parse(readFileSync(path, 'utf8')).subnets['10.244.2.0/24'], {})
})

t.test('refuses a corrupt file, naming it', async t => {
  const path = join(dir, 'corrupt.json')
  writeFileSync(path, '{"version": 1, "subnets": {"10.244.1.0/24": {"10.244.9.9": "a/b"}}}')
  t.throws(() => IpamFile.load(path), { code: 'EIPAMCORRUPT' })
  writeFileSync(path, '{not json')
  t.throws(() => IpamFile.load(path), { code: 'ECORRUPT', message: /corrupt\.json/ })
})

t.test('concurrent allocations under the lock never share an address', async t => {
  const path = join(dir, 'concurrent.json')
  const allocate = (owner: string) =>
    withLock(`kw-test-ipam-${process.pid}`, async () => {
      const ipam = IpamFile.load(path)
      await new Promise(r => setImmediate(r)) // let the others run while "holding" the file
      const ip = ipam.allocate('10.244.1.0/24', owner)
      ipam.save()
      return ip
    })
  const ips = await Promise.all(Array.from({ length: 40 }, (_, i) => allocate(`default/p${i}`)))
  t.equal(new Set(ips).size, 40, 'forty distinct addresses')
  t.equal(Object.keys(IpamFile.load(path).allocations('10.244.1.0/24')).length, 40, 'all forty persisted')
})
