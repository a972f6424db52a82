// The ingress add-on's objects: valid for the API server in apply order, and
// consistent with each other and with the built-in image they run.
import t from 'tap'
import { probeAction, type ContainerSpec } from '../../../control/agent/pod-spec.ts'
import { RESOURCES, type KubeObject, type ResourceRef } from '../../../control/client/api-client.ts'
import { INGRESS_CLASS, INGRESS_CONTROLLER, INGRESS_NAMESPACE, ingressAddonObjects } from '../../../control/cluster/addons.ts'
import { resolveImage } from '../../../dataplane/runtimes/images.ts'
import { harness } from '../apiserver/helpers.ts'

type Json = Record<string, any>
const REFS: Record<string, ResourceRef> = {
  Namespace: RESOURCES.namespaces,
  IngressClass: RESOURCES.ingressclasses,
  Service: RESOURCES.services,
  Deployment: RESOURCES.deployments,
}

t.test('apply order: namespace, class, Service, Deployment; each accepted by the API server', async t => {
  const objects = ingressAddonObjects()
  t.same(objects.map(o => `${o.kind}/${o.metadata.name}`), ['Namespace/kubewire-ingress', 'IngressClass/kubewire', 'Service/ingress-controller', 'Deployment/ingress-controller'])
  const { client } = await harness(t)
  for (const object of objects) {
    const ref = REFS[object.kind ?? ''] as ResourceRef
    const stored = await client.create<KubeObject>(ref, object.metadata.namespace, object)
    t.ok(stored.metadata.uid, `${object.kind} created`)
  }
  const svc = await client.get<KubeObject>(RESOURCES.services, INGRESS_NAMESPACE, INGRESS_CONTROLLER)
  t.equal((svc.spec as Json).type, 'LoadBalancer')
  t.same((svc.spec as Json).ports.map((p: Json) => [p.port, p.targetPort]), [[80, 'http']])
  t.not(ingressAddonObjects(), objects, 'a fresh copy each call')
})

t.test('the IngressClass is the default one, for our controller', async t => {
  const cls = ingressAddonObjects().find(o => o.kind === 'IngressClass') as KubeObject
  t.equal(cls.metadata.name, INGRESS_CLASS)
  t.equal(cls.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true')
  t.same(cls.spec, { controller: 'kubewire.dev/ingress-controller' })
})

t.test('the Deployment runs the built-in image behind the Service, with a readiness probe', async t => {
  const objects = ingressAddonObjects()
  const deployment = objects.find(o => o.kind === 'Deployment') as Json
  const service = objects.find(o => o.kind === 'Service') as Json
  t.equal(deployment.spec.replicas, 1)
  const container = deployment.spec.template.spec.containers[0] as ContainerSpec
  t.equal(container.image, 'kubewire/ingress')
  const resolved = resolveImage(container, 'node')
  t.ok('argv' in resolved && resolved.argv.includes('--publish-service=kubewire-ingress/ingress-controller'), 'a built-in runtime, publishing its own Service')
  t.same(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)
  t.same(service.spec.selector, deployment.spec.template.metadata.labels, 'the Service selects the controller pods')
  t.ok(container.ports?.some(p => p.name === service.spec.ports[0].targetPort && p.containerPort === 80), 'the Service targets the http port')
  t.same(container.readinessProbe && probeAction(container.readinessProbe, container), { httpGet: { path: '/healthz', port: 10254 } })
  t.ok(container.args?.includes('--healthz-port=10254'), 'the probe asks where the controller answers')
})
