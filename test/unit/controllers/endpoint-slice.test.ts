import t from 'tap'
import {
  reconcileEndpointSlices,
  sliceEndpoint,
} from '../../../control/controllers/endpoint-slice.ts'
import type { EndpointSlicePlan } from '../../../control/controllers/endpoint-slice.ts'
import type { Pod } from '../../../control/controllers/objects.ts'
import type { EndpointSlice, Service } from '../../../control/controllers/service-objects.ts'
import { backend, service } from './fakes/service-builders.ts'

const ref = (name: string) => ({ kind: 'Pod', namespace: 'default', name, uid: `uid-${name}` })

// What the API server does with a plan's creates: a name, a uid, a resourceVersion.
let seq = 0
function store(slices: readonly EndpointSlice[], plan: EndpointSlicePlan): EndpointSlice[] {
  const gone = new Set(plan.delete.map(s => s.metadata.name))
  const updated = new Map(plan.update.map(s => [s.metadata.name, s]))
  const kept = slices.filter(s => !gone.has(s.metadata.name)).map(s => structuredClone(updated.get(s.metadata.name) ?? s))
  const created = plan.create.map(s => {
    const c = structuredClone(s)
    c.metadata.name = `${s.metadata.generateName}${String(++seq).padStart(5, 'x')}`
    c.metadata.uid = `uid-slice-${seq}`
    c.metadata.resourceVersion = String(seq)
    return c
  })
  return [...kept, ...created]
}

const sync = (svc: Service, pods: Pod[], slices: EndpointSlice[], max?: number) =>
  reconcileEndpointSlices({ service: svc, pods, slices, maxEndpointsPerSlice: max })

const counts = (plan: EndpointSlicePlan) => ({ create: plan.create.length, update: plan.update.length, delete: plan.delete.length })

function pods(n: number, from = 0): Pod[] {
  return Array.from({ length: n }, (_, i) => backend(`p${from + i}`, { ip: `10.244.${Math.floor((from + i) / 250) + 1}.${((from + i) % 250) + 2}` }))
}

t.test('conditions: ready = serving and not terminating; publishNotReadyAddresses makes every endpoint ready', async t => {
  const cases = [
    { name: 'ready', opts: {}, publish: false, want: { ready: true, serving: true, terminating: false } },
    { name: 'not ready', opts: { ready: false }, publish: false, want: { ready: false, serving: false, terminating: false } },
    { name: 'terminating, still ready', opts: { deleting: true }, publish: false, want: { ready: false, serving: true, terminating: true } },
    { name: 'terminating, not ready', opts: { deleting: true, ready: false }, publish: false, want: { ready: false, serving: false, terminating: true } },
    { name: 'publish, not ready', opts: { ready: false }, publish: true, want: { ready: true, serving: false, terminating: false } },
    { name: 'publish, terminating', opts: { deleting: true }, publish: true, want: { ready: true, serving: true, terminating: true } },
  ]
  for (const c of cases) {
    const e = sliceEndpoint(backend('a', { ip: '10.244.1.5', ...c.opts }), service('web', { publishNotReadyAddresses: c.publish }))
    t.same(e.conditions, c.want, c.name)
  }
})

t.test('the first sync creates one slice, shaped as Kubernetes has it', async t => {
  const svc = service('web', { labels: { team: 'a' } })
  const plan = sync(svc, [
    backend('b', { ip: '10.244.2.7', nodeName: 'node-2' }),
    backend('a', { ip: '10.244.1.5', ready: false }),
    backend('t', { ip: '10.244.1.9', deleting: true }),
    backend('db', { ip: '10.244.1.6', labels: { app: 'db' } }),
  ], [])
  t.same(counts(plan), { create: 1, update: 0, delete: 0 })
  t.same(plan.create[0], {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: 'web-',
      namespace: 'default',
      labels: {
        team: 'a',
        'kubernetes.io/service-name': 'web',
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'uid-svc-web', controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.5'], conditions: { ready: false, serving: false, terminating: false }, targetRef: ref('a'), nodeName: 'node-1' },
      { addresses: ['10.244.1.9'], conditions: { ready: false, serving: true, terminating: true }, targetRef: ref('t'), nodeName: 'node-1' },
      { addresses: ['10.244.2.7'], conditions: { ready: true, serving: true, terminating: false }, targetRef: ref('b'), nodeName: 'node-2' },
    ],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  })
})

t.test('unchanged inputs: byte-identical desired slices and no writes', async t => {
  const svc = service('web')
  const ps = pods(30)
  const slices = store([], sync(svc, ps, []))
  t.same(counts(sync(svc, ps, slices)), { create: 0, update: 0, delete: 0 })
  t.same(counts(sync(svc, [...ps].reverse(), slices)), { create: 0, update: 0, delete: 0 }, 'pod order does not matter')
  const again = store([], sync(svc, [...ps].reverse(), []))
  t.equal(JSON.stringify(again[0]?.endpoints), JSON.stringify(slices[0]?.endpoints))
})

t.test('a pod becoming ready is one update of its slice', async t => {
  const svc = service('web')
  const before = [backend('a', { ip: '10.244.1.5', ready: false }), backend('b', { ip: '10.244.1.6' })]
  const slices = store([], sync(svc, before, []))
  const after = [backend('a', { ip: '10.244.1.5' }), backend('b', { ip: '10.244.1.6' })]
  const plan = sync(svc, after, slices)
  t.same(counts(plan), { create: 0, update: 1, delete: 0 })
  t.equal(plan.update[0]?.metadata.name, slices[0]?.metadata.name)
  t.equal(plan.update[0]?.metadata.resourceVersion, slices[0]?.metadata.resourceVersion, 'with the stored resourceVersion')
  t.same(plan.update[0]?.endpoints?.map(e => e.conditions.ready), [true, true])
})

t.test('more than 100 endpoints are split, and stay where they are', async t => {
  const svc = service('web')
  let slices = store([], sync(svc, pods(250), []))
  t.same(slices.map(s => s.endpoints?.length), [100, 100, 50])
  t.equal(new Set(slices.flatMap(s => s.endpoints!.map(e => e.addresses[0]))).size, 250, 'every endpoint once')

  const more = sync(svc, [...pods(250), ...pods(1, 250)], slices)
  t.same(counts(more), { create: 0, update: 1, delete: 0 }, 'a new endpoint fills the slice with room')
  t.equal(more.update[0]?.metadata.name, slices[2]?.metadata.name)
  slices = store(slices, more)

  const fewer = sync(svc, [...pods(250), ...pods(1, 250)].filter(p => p.metadata.name !== 'p0'), slices)
  t.same(counts(fewer), { create: 0, update: 1, delete: 0 }, 'a removed endpoint touches only its slice')
  t.equal(fewer.update[0]?.metadata.name, slices[0]?.metadata.name)

  t.same(store([], sync(svc, pods(250), [], 120)).map(s => s.endpoints?.length), [120, 120, 10], 'maxEndpointsPerSlice')
  const shrunk = sync(svc, pods(10), slices)
  t.same(counts(shrunk), { create: 0, update: 1, delete: 2 }, 'emptied slices go')
})

t.test('pods resolving different ports get separate slices', async t => {
  const svc = service('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }] })
  const plan = sync(svc, [
    backend('a', { ip: '10.244.1.5', ports: [{ name: 'http', containerPort: 8080 }] }),
    backend('b', { ip: '10.244.1.6', ports: [{ name: 'http', containerPort: 9090 }] }),
    backend('c', { ip: '10.244.1.7', ports: [] }),
  ], [])
  t.same(plan.create.map(s => [s.ports, s.endpoints?.map(e => e.addresses[0])]), [
    [[], ['10.244.1.7']],
    [[{ name: 'http', port: 8080, protocol: 'TCP' }], ['10.244.1.5']],
    [[{ name: 'http', port: 9090, protocol: 'TCP' }], ['10.244.1.6']],
  ], 'one slice per port set; a pod resolving none is listed without ports, as Kubernetes does')
  const unnamed = sync(service('one', { ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] }), [backend('a', { ip: '10.244.1.5' })], [])
  t.same(unnamed.create[0]?.ports, [{ name: '', port: 8080, protocol: 'TCP' }], 'an unnamed service port has name ""')
})

t.test('no endpoints: one placeholder slice, reused once pods come', async t => {
  const svc = service('web')
  const placeholder = sync(svc, [], [])
  t.same(counts(placeholder), { create: 1, update: 0, delete: 0 })
  t.same([placeholder.create[0]?.endpoints, placeholder.create[0]?.ports], [[], []])
  let slices = store([], placeholder)
  t.same(counts(sync(svc, [], slices)), { create: 0, update: 0, delete: 0 }, 'kept as it is')

  const filled = sync(svc, pods(2), slices)
  t.same(counts(filled), { create: 0, update: 1, delete: 0 }, 'the placeholder takes the endpoints')
  slices = store(slices, filled)
  const emptied = sync(svc, [], slices)
  t.same(counts(emptied), { create: 0, update: 1, delete: 0 }, 'and becomes the placeholder again')
  t.same(emptied.update[0]?.endpoints, [])
})

t.test('a port change rewrites the slice instead of replacing it', async t => {
  const svc = service('web')
  const slices = store([], sync(svc, pods(3), []))
  const moved = service('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 9999 }] })
  const plan = sync(moved, pods(3), slices)
  t.same(counts(plan), { create: 0, update: 1, delete: 0 })
  t.same(plan.update[0]?.ports, [{ name: 'http', port: 9999, protocol: 'TCP' }])
})

t.test('slices of other managers are never touched; ours of an older Service of the same name go', async t => {
  const svc = service('web')
  const mine = store([], sync(svc, pods(2), []))
  const userSlice: EndpointSlice = {
    metadata: { name: 'web-manual', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'someone-else' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['192.0.2.1'], conditions: { ready: true } }],
  }
  const otherService = store([], sync(service('api', { selector: { app: 'web' } }), pods(2), []))
  t.same(counts(sync(svc, pods(2), [...mine, userSlice, ...otherService])), { create: 0, update: 0, delete: 0 })

  const recreated = service('web', { uid: 'uid-new' })
  const plan = sync(recreated, pods(2), [...mine, userSlice])
  t.same(plan.delete.map(s => s.metadata.name), [mine[0]?.metadata.name], 'the old owner\'s slice is deleted')
  t.equal(plan.create.length, 1, 'and a new one made for the new Service')
  t.equal(plan.create[0]?.metadata.ownerReferences?.[0]?.uid, 'uid-new')
})

t.test('labels follow the Service: headless marker and its own labels', async t => {
  const slices = store([], sync(service('web'), pods(1), []))
  const plan = sync(service('web', { clusterIP: 'None', labels: { tier: 'front' } }), pods(1), slices)
  t.same(counts(plan), { create: 0, update: 1, delete: 0 })
  t.same(plan.update[0]?.metadata.labels, {
    tier: 'front',
    'service.kubernetes.io/headless': '',
    'kubernetes.io/service-name': 'web',
    'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
  })
  const hosted = sync(service('db', { clusterIP: 'None' }), [backend('db-0', { ip: '10.244.1.5', hostname: 'db-0', subdomain: 'db' })], [])
  t.equal(hosted.create[0]?.endpoints?.[0]?.hostname, 'db-0')
})
