// Everything together over the fake API: a deployment is created, scheduled
// over two nodes, becomes available; a node goes silent and its pods move
// to the other node; the deployment is deleted and everything goes.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { startControllers } from '../../../control/controllers/controller-manager.ts'
import { silentLogger } from '../../../control/controllers/logger.ts'
import { heartbeatPatch } from '../../../control/controllers/node-lifecycle.ts'
import type { Deployment, Node, Pod } from '../../../control/controllers/objects.ts'
import type { CoreEvent } from '../../../control/controllers/events.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { fakeInformerFactory } from './fakes/fake-informer.ts'
import { settle } from './fakes/wait.ts'
import { deployment, node } from './fakes/builders.ts'
import { service } from './fakes/service-builders.ts'
import type { EndpointSlice, Endpoints, Service } from '../../../control/controllers/service-objects.ts'
import { isReady, markReady } from './fakes/harness.ts'

t.test('the controller manager runs the whole control plane', async t => {
  const clock = new FakeClock()
  const api = new FakeApi({ clock })
  const { factory, made } = fakeInformerFactory(api)
  const manager = startControllers({
    client: api,
    informerFactory: factory,
    clock,
    options: {
      logger: silentLogger,
      nodeLifecycle: { gracePeriodMs: 4000, tolerationSeconds: 5, monitorPeriodMs: 1000 },
      loadBalancerPool: { first: '198.18.7.200', last: '198.18.7.250' },
    },
  })
  t.teardown(manager.stop)
  const quiet = async (): Promise<void> => await settle(api, () => manager.idle())

  const beat = async (name: string): Promise<void> => {
    const n = api.peek<Node>(RESOURCES.nodes, undefined, name)!
    await api.patch(RESOURCES.nodes, undefined, name, heartbeatPatch(n, clock.now()), 'merge', 'status')
  }
  for (const name of ['node-1', 'node-2']) {
    const n = node(name)
    delete n.metadata.uid
    await api.create(RESOURCES.nodes, undefined, n)
  }
  await manager.ready
  t.equal(made.length, 15, 'one informer per resource and selector, shared: pods (all, unbound, bound), replicasets, deployments, statefulsets, daemonsets, controllerrevisions, jobs, cronjobs, persistentvolumeclaims, nodes, services, endpoints, endpointslices')

  const d = deployment('web', { replicas: 3 })
  delete d.metadata.uid
  await api.create(RESOURCES.deployments, 'default', d)
  await quiet()
  const pods = api.objects<Pod>(RESOURCES.pods)
  t.equal(pods.length, 3)
  t.same(pods.map(p => p.spec?.nodeName).sort(), ['node-1', 'node-1', 'node-2'], 'scheduled and spread')
  // The agents start them.
  for (const p of pods) await markReady(api, p, true, clock.now())
  await quiet()
  t.match(api.peek<Deployment>(RESOURCES.deployments, 'default', 'web')?.status, { availableReplicas: 3, updatedReplicas: 3 })

  // node-1 goes silent; node-2 keeps beating and starting what lands on it.
  for (let s = 0; s < 12; s++) {
    clock.advance(1000)
    await beat('node-2')
    await quiet()
    for (const p of api.objects<Pod>(RESOURCES.pods)) {
      if (p.spec?.nodeName === 'node-2' && !isReady(p)) await markReady(api, p, true, clock.now())
    }
    await quiet()
  }
  const moved = api.objects<Pod>(RESOURCES.pods)
  t.equal(moved.length, 3)
  t.ok(moved.every(p => p.spec?.nodeName === 'node-2'), 'all pods on the live node')
  t.match(api.peek<Node>(RESOURCES.nodes, undefined, 'node-1')?.spec?.taints, [
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' },
  ])
  t.match(api.peek<Deployment>(RESOURCES.deployments, 'default', 'web')?.status, { availableReplicas: 3 })

  // A LoadBalancer Service in front of them: Endpoints, a slice and an address.
  let n = 10
  for (const p of api.objects<Pod>(RESOURCES.pods)) {
    await api.patch(RESOURCES.pods, 'default', p.metadata.name!, { status: { podIP: `10.244.2.${n++}` } }, 'merge', 'status')
  }
  const svc = service('web', { type: 'LoadBalancer' })
  delete svc.metadata.uid
  await api.create(RESOURCES.services, 'default', svc)
  await quiet()
  t.equal(api.peek<Endpoints>(RESOURCES.endpoints, 'default', 'web')?.subsets?.[0]?.addresses?.length, 3)
  t.equal(api.objects<EndpointSlice>(RESOURCES.endpointslices, 'default')[0]?.endpoints?.length, 3)
  t.same(api.peek<Service>(RESOURCES.services, 'default', 'web')?.status?.loadBalancer, { ingress: [{ ip: '198.18.7.200' }] }, 'from the pool given')

  await api.delete(RESOURCES.deployments, 'default', 'web')
  await quiet()
  t.equal(api.objects(RESOURCES.replicasets).length, 0)
  t.equal(api.objects(RESOURCES.pods).length, 0)
  t.equal(api.peek<Endpoints>(RESOURCES.endpoints, 'default', 'web')?.subsets, undefined, 'no pods: no subsets')
  await api.delete(RESOURCES.services, 'default', 'web')
  await quiet()
  t.same(api.objects(RESOURCES.endpointslices), [], 'the Service gone: its slices too')
  t.equal(api.objects(RESOURCES.endpoints).length, 0)

  await manager.stop()
  const reasons = new Set(api.objects<CoreEvent>(RESOURCES.events).map(e => `${e.source.component}/${e.reason}`))
  for (const r of [
    'deployment-controller/ScalingReplicaSet',
    'replicaset-controller/SuccessfulCreate',
    'default-scheduler/Scheduled',
    'node-controller/NodeNotReady',
    'node-controller/TaintManagerEviction',
  ]) t.ok(reasons.has(r), r)
})

t.test('loops can be left out', async t => {
  const api = new FakeApi()
  const { factory } = fakeInformerFactory(api)
  const manager = startControllers({
    client: api,
    informerFactory: factory,
    options: { logger: silentLogger, disable: ['scheduler', 'nodelifecycle', 'garbagecollector', 'endpoints', 'endpointslice', 'service-lb'] },
  })
  await manager.ready
  const d = deployment('web', { replicas: 2 })
  delete d.metadata.uid
  await api.create(RESOURCES.deployments, 'default', d)
  await settle(api, () => manager.idle())
  t.ok(api.objects<Pod>(RESOURCES.pods).every(p => p.spec?.nodeName === undefined), 'no scheduler: pods stay unbound')
  t.equal(api.objects(RESOURCES.pods).length, 2)
  await manager.stop()
  await manager.stop()
  t.pass('stop twice is fine')
})
