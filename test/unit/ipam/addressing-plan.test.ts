import t from 'tap'
import { AddressingPlan, DEFAULTS } from '../../../dataplane/ipam/addressing-plan.ts'
import { chooseUnderlay } from '../../../dataplane/ipam/underlay-choice.ts'
import { networkOf, parseCidr } from '../../../dataplane/ipam/cidr.ts'

const defaults = { ...DEFAULTS }

t.test('the DESIGN.md plan: host .1, nodes from .11, node-N gets 10.244.N.0/24', async t => {
  const plan = new AddressingPlan(defaults)
  t.equal(plan.hostIP, '198.18.0.1')
  t.same(plan.node(1), { index: 1, underlayIP: '198.18.0.11', podCIDR: '10.244.1.0/24', podGateway: '10.244.1.1' })
  t.same(plan.node(2), { index: 2, underlayIP: '198.18.0.12', podCIDR: '10.244.2.0/24', podGateway: '10.244.2.1' })
  t.equal(plan.maxNodes, 99)
  t.throws(() => plan.node(0), { code: 'ERANGE' })
  t.throws(() => plan.node(100), { code: 'ERANGE', message: /1-99/ })
})

t.test('the LoadBalancer pool is .200-.250 of the underlay, above every node address', async t => {
  t.same(new AddressingPlan(defaults).loadBalancerPool, { first: '198.18.0.200', last: '198.18.0.250' })
  t.same(new AddressingPlan({ ...defaults, underlayCidr: '198.18.7.0/24' }).loadBalancerPool, { first: '198.18.7.200', last: '198.18.7.250' })
  const plan = new AddressingPlan(defaults)
  t.equal(plan.node(plan.maxNodes).underlayIP, '198.18.0.109', 'the last node stays below the pool')
})

t.test('overlapping ranges are refused, naming both', async t => {
  t.throws(() => new AddressingPlan({ ...defaults, clusterCidr: '10.96.0.0/16' }), { code: 'EBADCIDR', message: /cluster CIDR 10\.96\.0\.0\/16 overlaps service CIDR 10\.96\.0\.0\/12/ })
  t.throws(() => new AddressingPlan({ ...defaults, underlayCidr: '10.244.0.0/24' }), { code: 'EBADCIDR', message: /underlay/ })
  t.throws(() => new AddressingPlan({ ...defaults, underlayCidr: '198.18.0.0/25' }), { code: 'EBADCIDR', message: /\/24 or larger/ })
  t.equal(new AddressingPlan({ ...defaults, clusterCidr: '10.244.0.0/20' }).maxNodes, 15, 'a small cluster CIDR limits nodes')
})

t.test('chooseUnderlay picks the first free /24 of 198.18.0.0/15', async t => {
  const inUse = (...cidrs: string[]) => cidrs.map((c, i) => ({ cidr: networkOf(c.split('/')[0] as string, Number(c.split('/')[1])), device: `d${i}` }))
  t.equal(chooseUnderlay([]).text, '198.18.0.0/24')
  t.equal(chooseUnderlay(inUse('198.18.0.1/24', '198.18.1.1/24', '10.0.0.5/8')).text, '198.18.2.0/24')
  t.equal(chooseUnderlay(inUse('198.18.0.1/16')).text, '198.19.0.0/24', 'skips a wide overlap')
  t.equal(chooseUnderlay(inUse('198.18.0.1/24'), '198.18.7.0/24').text, '198.18.7.0/24', 'a free requested one is used')
  t.throws(() => chooseUnderlay(inUse('198.18.7.1/24'), '198.18.7.0/24'), { code: 'EUNDERLAYINUSE', message: /on d0/ })
  t.throws(() => chooseUnderlay(inUse('198.18.0.1/15')), { code: 'EUNDERLAYINUSE' })
  t.equal(parseCidr(chooseUnderlay([]).text).prefix, 24)
})
