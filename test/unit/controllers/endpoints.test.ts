import t from 'tap'
import { desiredEndpoints, desiredSubsets, reconcileEndpoints } from '../../../control/controllers/endpoints.ts'
import {
  findPort,
  podEndpointsChanged,
  selectsPods,
  servicesSelectingPod,
} from '../../../control/controllers/endpoint-util.ts'
import type { Pod } from '../../../control/controllers/objects.ts'
import type { Endpoints } from '../../../control/controllers/service-objects.ts'
import { backend, service } from './fakes/service-builders.ts'

const ref = (name: string) => ({ kind: 'Pod', namespace: 'default', name, uid: `uid-${name}` })
const addr = (ip: string, name: string, nodeName = 'node-1') => ({ ip, nodeName, targetRef: ref(name) })
const http = [{ name: 'http', port: 8080, protocol: 'TCP' }]

t.test('which Services get endpoints from pods', async t => {
  const cases = [
    { name: 'selector', svc: service('a'), want: true },
    { name: 'no selector (the kubernetes Service, user-written Endpoints)', svc: service('a', { selector: null }), want: false },
    { name: 'empty selector', svc: service('a', { selector: {} }), want: false },
    { name: 'ExternalName', svc: service('a', { type: 'ExternalName' }), want: false },
    { name: 'headless with selector', svc: service('a', { clusterIP: 'None' }), want: true },
  ]
  for (const c of cases) t.equal(selectsPods(c.svc), c.want, c.name)
})

t.test('ready pods are addresses, not-ready ones notReadyAddresses, the rest left out', async t => {
  const pods: Pod[] = [
    backend('ready', { ip: '10.244.1.5' }),
    backend('unready', { ip: '10.244.1.6', ready: false }),
    backend('no-condition', { ip: '10.244.2.9', nodeName: 'node-2' }),
    backend('no-ip', {}),
    backend('succeeded', { ip: '10.244.1.7', phase: 'Succeeded' }),
    backend('failed', { ip: '10.244.1.8', phase: 'Failed' }),
    backend('terminating', { ip: '10.244.1.9', deleting: true }),
    backend('other-app', { ip: '10.244.1.10', labels: { app: 'db' } }),
    backend('other-ns', { ip: '10.244.1.11', namespace: 'prod' }),
  ]
  delete pods[2]!.status!.conditions
  t.same(desiredSubsets(service('web'), pods), [
    {
      addresses: [addr('10.244.1.5', 'ready')],
      notReadyAddresses: [addr('10.244.1.6', 'unready'), addr('10.244.2.9', 'no-condition', 'node-2')],
      ports: http,
    },
  ])
})

t.test('publishNotReadyAddresses lists every pod as ready, terminating ones too', async t => {
  const pods = [
    backend('a', { ip: '10.244.1.5', ready: false }),
    backend('b', { ip: '10.244.1.6', deleting: true }),
    backend('c', { ip: '10.244.1.7', phase: 'Failed' }),
  ]
  t.same(desiredSubsets(service('web', { publishNotReadyAddresses: true }), pods), [
    { addresses: [addr('10.244.1.5', 'a'), addr('10.244.1.6', 'b')], ports: http },
  ])
})

t.test('targetPort: a number, a container port name, or the port itself', async t => {
  const p = backend('a', { ip: '10.244.1.5', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] })
  const cases = [
    { name: 'number', port: { port: 80, targetPort: 9090 }, want: 9090 },
    { name: 'absent', port: { port: 80 }, want: 80 },
    { name: 'named, protocol TCP by default', port: { port: 80, targetPort: 'http' }, want: 8080 },
    { name: 'named UDP', port: { port: 53, protocol: 'UDP', targetPort: 'dns' }, want: 53 },
    { name: 'named, wrong protocol', port: { port: 53, protocol: 'TCP', targetPort: 'dns' }, want: undefined },
    { name: 'named, missing', port: { port: 80, targetPort: 'metrics' }, want: undefined },
  ]
  for (const c of cases) t.equal(findPort(p, c.port), c.want, c.name)
  const sidecar = backend('s', { ip: '10.244.1.6' })
  sidecar.spec!.initContainers = [{ name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'admin', containerPort: 15000 }] }]
  t.equal(findPort(sidecar, { port: 80, targetPort: 'admin' }), 15000, 'a sidecar init container serves ports too')
})

t.test('a pod lacking a named port is left out for that port: subsets grouped by port set', async t => {
  const svc = service('web', {
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' },
      { name: 'metrics', port: 9100, protocol: 'TCP', targetPort: 'metrics' },
    ],
  })
  const both = [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9100 }]
  const pods = [
    backend('b', { ip: '10.244.1.20', ports: both }),
    backend('a', { ip: '10.244.1.3', ports: both, ready: false }),
    backend('web-only', { ip: '10.244.1.4', ports: [{ name: 'http', containerPort: 8081 }] }),
    backend('neither', { ip: '10.244.1.5', ports: [{ name: 'grpc', containerPort: 9000 }] }),
  ]
  t.same(desiredSubsets(svc, pods), [
    {
      addresses: [addr('10.244.1.20', 'b')],
      notReadyAddresses: [addr('10.244.1.3', 'a')],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }],
    },
    { addresses: [addr('10.244.1.4', 'web-only')], ports: [{ name: 'http', port: 8081, protocol: 'TCP' }] },
  ])
})

t.test('multiple ports, an unnamed port, appProtocol', async t => {
  const svc = service('web', {
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, appProtocol: 'http' },
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 },
    ],
  })
  t.same(desiredSubsets(svc, [backend('a', { ip: '10.244.1.5' })]), [
    {
      addresses: [addr('10.244.1.5', 'a')],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }, { name: 'dns', port: 5353, protocol: 'UDP' }],
    },
  ])
  const single = service('one', { ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] })
  t.same(desiredSubsets(single, [backend('a', { ip: '10.244.1.5' })])[0]?.ports, [{ port: 8080, protocol: 'TCP' }], 'no name: left out')
})

t.test('headless: the label, hostnames under the subdomain, and no ports at all', async t => {
  const svc = service('db', { clusterIP: 'None', ports: [], labels: { tier: 'data' } })
  const pods = [
    backend('db-0', { ip: '10.244.1.5', hostname: 'db-0', subdomain: 'db' }),
    backend('db-1', { ip: '10.244.1.6', hostname: 'db-1', subdomain: 'other' }),
  ]
  t.same(desiredEndpoints(svc, pods), {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'db', namespace: 'default', labels: { tier: 'data', 'service.kubernetes.io/headless': '' } },
    subsets: [{ addresses: [{ ...addr('10.244.1.5', 'db-0'), hostname: 'db-0' }, addr('10.244.1.6', 'db-1')] }],
  })
  const plain = desiredEndpoints(service('web', { labels: { 'service.kubernetes.io/headless': '' } }), [])
  t.same(plain.metadata.labels, {}, 'not headless: the marker goes')
  t.equal(plain.subsets, undefined, 'no pods: no subsets')
})

t.test('stable output, and no write when nothing changed', async t => {
  const svc = service('web')
  const pods = [
    backend('c', { ip: '10.244.1.100' }),
    backend('a', { ip: '10.244.1.9' }),
    backend('b', { ip: '10.244.2.1', ready: false }),
    backend('d', { ip: '10.244.1.10' }),
  ]
  const one = desiredEndpoints(svc, pods)
  const two = desiredEndpoints(svc, [...pods].reverse())
  t.equal(JSON.stringify(one), JSON.stringify(two), 'byte-identical whatever the pod order')
  t.same(one.subsets?.[0]?.addresses?.map(a => a.ip), ['10.244.1.9', '10.244.1.10', '10.244.1.100'], 'numeric IP order')

  const plan = reconcileEndpoints({ service: svc, pods, current: undefined })
  t.equal(plan.action, 'create')
  const stored: Endpoints = {
    ...structuredClone(one),
    metadata: { ...one.metadata, resourceVersion: '42', uid: 'u', creationTimestamp: 'x', annotations: { a: '1' } },
  }
  t.same(reconcileEndpoints({ service: svc, pods, current: stored }), { action: 'none' }, 'other metadata is ignored')

  const later = reconcileEndpoints({ service: svc, pods: [...pods, backend('e', { ip: '10.244.1.11' })], current: stored })
  t.equal(later.action, 'update')
  if (later.action === 'update') {
    t.equal(later.endpoints.metadata.resourceVersion, '42', 'updates carry the stored resourceVersion')
    t.same(later.endpoints.metadata.annotations, { a: '1' }, 'and keep the rest of the metadata')
    t.equal(later.endpoints.subsets?.[0]?.addresses?.length, 4)
  }
  const emptied = reconcileEndpoints({ service: svc, pods: [], current: stored })
  t.ok(emptied.action === 'update' && !('subsets' in emptied.endpoints), 'the last pod gone: subsets removed')
})

t.test('which Services a pod change concerns', async t => {
  const services = [service('web'), service('all-web', { selector: { app: 'web' } }), service('db', { selector: { app: 'db' } }), service('raw', { selector: null }), service('prod-web', { namespace: 'prod' })]
  const names = (p: Pod, old?: Pod) => servicesSelectingPod(services, p, old).map(s => s.metadata.name)
  const web = backend('a', { ip: '10.244.1.5' })
  const db = backend('a', { ip: '10.244.1.5', labels: { app: 'db' } })
  t.same(names(web), ['web', 'all-web'])
  t.same(names(db, web), ['web', 'all-web', 'db'], 'relabelled: the old Services and the new')

  const changes: Array<[string, (p: Pod) => void, boolean]> = [
    ['ready', p => { p.status!.conditions![0]!.status = 'False' }, true],
    ['ip', p => { p.status!['podIP'] = '10.244.1.6' }, true],
    ['deleting', p => { p.metadata.deletionTimestamp = 'now' }, true],
    ['container ports', p => { p.spec!.containers![0]!.ports = [] }, true],
    ['labels', p => { p.metadata.labels = { app: 'x' } }, true],
    ['a restart count', p => { p.status!.containerStatuses = [{ name: 'c', restartCount: 3 }] }, false],
    ['an annotation', p => { p.metadata.annotations = { a: 'b' } }, false],
  ]
  for (const [what, change, relevant] of changes) {
    const next = structuredClone(web)
    change(next)
    t.equal(podEndpointsChanged(next, web), relevant, what)
  }
})
