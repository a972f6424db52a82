import t from 'tap'
import {
  Allocations,
  applyDecision,
  parsePool,
  planLoadBalancer,
  rebuildAllocations,
} from '../../../control/controllers/service-lb.ts'
import type { Service } from '../../../control/controllers/service-objects.ts'
import { service } from './fakes/service-builders.ts'
import type { ServiceOptions } from './fakes/service-builders.ts'

const pool = parsePool({ first: '198.18.0.200', last: '198.18.0.250' })
const lb = (name: string, o: ServiceOptions = {}): Service => service(name, { type: 'LoadBalancer', ...o })

/** Plans and records, as the shell does. */
function run(svc: Service, allocations: Allocations, p = pool) {
  const d = planLoadBalancer(svc, allocations, p)
  applyDecision(allocations, `${svc.metadata.namespace}/${svc.metadata.name}`, d)
  return d
}

t.test('the lowest free address of the pool, with an IPAllocated event', async t => {
  const a = new Allocations()
  t.same(run(lb('one'), a), {
    ip: '198.18.0.200',
    loadBalancer: { ingress: [{ ip: '198.18.0.200' }] },
    event: { type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP ["198.18.0.200"]' },
  })
  t.equal(run(lb('two'), a).ip, '198.18.0.201')
  t.same(run(lb('one', { ingress: ['198.18.0.200'] }), a), { ip: '198.18.0.200' }, 'held and reported: nothing to write, no event')
})

t.test('spec.loadBalancerIP: honoured when free, refused when taken or outside the pool', async t => {
  const a = new Allocations()
  t.equal(run(lb('a', { loadBalancerIP: '198.18.0.240' }), a).ip, '198.18.0.240')
  t.equal(run(lb('b'), a).ip, '198.18.0.200', 'dynamic allocation steps around it')

  const taken = run(lb('c', { loadBalancerIP: '198.18.0.240' }), a)
  t.same(taken, {
    event: { type: 'Warning', reason: 'AllocationFailed', message: 'Failed to allocate IP for "default/c": requested IP 198.18.0.240 is already allocated to default/a' },
    waiting: true,
  }, 'no address, no status')
  const outside = run(lb('d', { loadBalancerIP: '10.0.0.1' }), a)
  t.equal(outside.ip, undefined)
  t.match(outside.event, { reason: 'AllocationFailed', message: /requested IP "10\.0\.0\.1" is not in the pool 198\.18\.0\.200-198\.18\.0\.250/ })
  t.equal(outside.waiting, false, 'no release can fix that')

  // A Service that held an address asks for a taken one: it loses its status.
  const e = lb('e', { ingress: ['198.18.0.201'] })
  t.equal(run(e, a).ip, '198.18.0.201')
  const moved = run(lb('e', { ingress: ['198.18.0.201'], loadBalancerIP: '198.18.0.240' }), a)
  t.same(moved.loadBalancer, {}, 'status cleared')
  t.equal(a.ipOf('default/e'), undefined, 'its old address released')
  t.equal(a.ownerOf('198.18.0.240'), 'default/a')
  t.equal(run(lb('e', { loadBalancerIP: '198.18.0.201' }), a).ip, '198.18.0.201', 'a changed request is honoured')
})

t.test('an exhausted pool fails with AllocationFailed, until an address frees up', async t => {
  const small = parsePool({ first: '198.18.0.200', last: '198.18.0.201' })
  const a = new Allocations()
  t.equal(run(lb('a'), a, small).ip, '198.18.0.200')
  t.equal(run(lb('b'), a, small).ip, '198.18.0.201')
  const full = run(lb('c'), a, small)
  t.same(full, {
    event: { type: 'Warning', reason: 'AllocationFailed', message: 'Failed to allocate IP for "default/c": no available IPs in pool 198.18.0.200-198.18.0.201' },
    waiting: true,
  })
  a.release('default/a')
  t.equal(run(lb('c'), a, small).ip, '198.18.0.200', 'the released address goes to the waiting Service')
})

t.test('release: a Service that is no longer a LoadBalancer loses its address and its status', async t => {
  const a = new Allocations()
  run(lb('a'), a)
  const clusterIP = service('a', { ingress: ['198.18.0.200'] })
  t.same(run(clusterIP, a), { loadBalancer: {} })
  t.equal(a.ownerOf('198.18.0.200'), undefined)
  t.same(run(service('plain'), a), {}, 'nothing to clear: no write')
  t.same(run(lb('other', { loadBalancerClass: 'example.com/lb', ingress: ['203.0.113.9'] }), a), {}, 'another implementation\'s class: left alone')
})

t.test('restart: allocations come back from the statuses, the oldest Service wins a disputed address', async t => {
  const services = [
    lb('b', { ingress: ['198.18.0.205'], created: 10 }),
    lb('a', { ingress: ['198.18.0.205'], created: 5 }),
    lb('c', { ingress: ['198.18.0.200'], created: 1 }),
    lb('outside', { ingress: ['10.1.2.3'] }),
    service('not-lb', { ingress: ['198.18.0.210'] }),
  ]
  const a = rebuildAllocations(services, pool)
  t.equal(a.ipOf('default/a'), '198.18.0.205')
  t.equal(a.ipOf('default/c'), '198.18.0.200')
  t.equal(a.ipOf('default/b'), undefined)
  t.equal(a.ipOf('default/not-lb'), undefined)
  t.equal(a.size, 2)

  t.same(run(services[1]!, a), { ip: '198.18.0.205' }, 'kept, nothing written')
  const loser = run(services[0]!, a)
  t.equal(loser.ip, '198.18.0.201', 'the younger one moves to a free address')
  t.same(loser.loadBalancer, { ingress: [{ ip: '198.18.0.201' }] })
  t.equal(run(services[3]!, a).ip, '198.18.0.202', 'an address outside the pool is replaced')

  const fresh = new Allocations()
  t.same(run(lb('lost', { ingress: ['198.18.0.230'] }), fresh), { ip: '198.18.0.230' }, 'a reported free address is taken back without a write')
})

t.test('a pool must run upwards', async t => {
  t.throws(() => parsePool({ first: '198.18.0.250', last: '198.18.0.200' }), { code: 'EBADPOOL' })
  t.throws(() => parsePool({ first: 'x', last: '198.18.0.200' }), { code: 'EBADIP' })
})
