import t from 'tap'
import { addressAt, contains, networkOf, overlaps, parseCidr, subnetAt } from '../../../dataplane/ipam/cidr.ts'

t.test('parseCidr accepts network addresses and canonicalises', async t => {
  const c = parseCidr('10.244.0.0/16')
  t.same(c, { text: '10.244.0.0/16', base: 0x0af40000, prefix: 16, size: 65536 })
  t.equal(parseCidr('0.0.0.0/0').size, 2 ** 32)
  t.equal(parseCidr('198.18.0.7/32').size, 1)
})

t.test('parseCidr rejects what is not a network, naming it', async t => {
  for (const [input, pattern] of [
    ['10.244.0.1/16', /host bits set \(did you mean 10\.244\.0\.0\/16\?\)/],
    ['10.244.0.0', /missing \/prefix/],
    ['10.300.0.0/16', /not an IPv4 CIDR/],
    ['banana', /"banana"/],
    ['10.0.0.0/33', /not an IPv4 CIDR/],
  ] as const) {
    t.throws(() => parseCidr(input, 'cluster CIDR'), { code: 'EBADCIDR', message: pattern }, input)
  }
})

t.test('addresses, membership and subnets', async t => {
  const c = parseCidr('10.244.0.0/16')
  t.equal(addressAt(c, 0), '10.244.0.0')
  t.equal(addressAt(c, 258), '10.244.1.2')
  t.throws(() => addressAt(c, 65536), { code: 'ERANGE' })
  t.ok(contains(c, '10.244.255.255'))
  t.notOk(contains(c, '10.245.0.0'))
  t.equal(subnetAt(c, 24, 1).text, '10.244.1.0/24')
  t.equal(subnetAt(c, 24, 255).text, '10.244.255.0/24')
  t.throws(() => subnetAt(c, 24, 256), { code: 'ERANGE', message: /256 \/24 subnets/ })
  t.throws(() => subnetAt(c, 8, 0), { code: 'ERANGE' })
  t.equal(networkOf('198.18.3.1', 24).text, '198.18.3.0/24')
  t.equal(networkOf('192.168.1.77', 0).text, '0.0.0.0/0')
  t.ok(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.244.0.0/16')))
  t.notOk(overlaps(parseCidr('10.96.0.0/12'), parseCidr('10.244.0.0/16')))
})
