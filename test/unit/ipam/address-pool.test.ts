import t from 'tap'
import { allocateAddress, type AllocationTable, releaseAddress, validateTable } from '../../../dataplane/ipam/address-pool.ts'
import { parseCidr } from '../../../dataplane/ipam/cidr.ts'

const subnet = parseCidr('10.244.1.0/24')

t.test('hands out the lowest free address, skipping network and gateway', async t => {
  const table: AllocationTable = {}
  t.equal(allocateAddress(subnet, table, 'default/a'), '10.244.1.2')
  t.equal(allocateAddress(subnet, table, 'default/b'), '10.244.1.3')
  t.equal(allocateAddress(subnet, table, 'default/a'), '10.244.1.2', 'an owner keeps its address')
  t.equal(releaseAddress(table, 'default/a'), '10.244.1.2')
  t.equal(releaseAddress(table, 'default/a'), undefined, 'releasing twice is harmless')
  t.equal(allocateAddress(subnet, table, 'default/c'), '10.244.1.2', 'freed addresses are reused')
})

t.test('never hands out an address twice, and fails clearly when full', async t => {
  const table: AllocationTable = {}
  const seen = new Set<string>()
  for (let i = 0; i < 253; i++) {
    const ip = allocateAddress(subnet, table, `ns/p${i}`)
    t.notOk(seen.has(ip), `${ip} is new`)
    seen.add(ip)
  }
  t.notOk(seen.has('10.244.1.255'), 'broadcast address never handed out')
  t.notOk(seen.has('10.244.1.1'), 'gateway never handed out')
  t.throws(() => allocateAddress(subnet, table, 'ns/one-too-many'), { code: 'EIPAMFULL', message: /10\.244\.1\.0\/24 for ns\/one-too-many/ })
})

t.test('validateTable catches corrupt tables', async t => {
  t.doesNotThrow(() => validateTable(subnet, { '10.244.1.2': 'a/b' }))
  t.throws(() => validateTable(subnet, { '10.244.2.2': 'a/b' }), { code: 'EIPAMCORRUPT' })
  t.throws(() => validateTable(subnet, { '10.244.1.1': 'a/b' }), { code: 'EIPAMCORRUPT' })
  t.throws(() => validateTable(subnet, { '10.244.1.2': 'a/b', '10.244.1.3': 'a/b' }), { code: 'EIPAMCORRUPT', message: /two addresses/ })
})
