// The cluster DNS add-on's objects: the Service kube-dns at the service
// range's .10 with dns 53/UDP and dns-tcp 53/TCP, the Deployment of the
// built-in image behind it (dnsPolicy Default, readiness on :8181/ready), both
// accepted by the API server.
import t from 'tap'
import { probeAction, type ContainerSpec } from '../../../control/agent/pod-spec.ts'
import { RESOURCES, type KubeObject, type ResourceRef } from '../../../control/client/api-client.ts'
import { clusterDnsIp, DNS_NAMESPACE, DNS_SERVICE, dnsAddonObjects } from '../../../control/cluster/addons.ts'
import { DEFAULTS } from '../../../dataplane/ipam/addressing-plan.ts'
import { resolveImage } from '../../../dataplane/runtimes/images.ts'
import { harness } from '../apiserver/helpers.ts'

type Json = Record<string, any>
const REFS: Record<string, ResourceRef> = { Service: RESOURCES.services, Deployment: RESOURCES.deployments }

t.test('the DNS address is the service range\'s .10', async t => {
  t.equal(clusterDnsIp('10.96.0.0/12'), '10.96.0.10')
  t.equal(clusterDnsIp('172.20.0.0/16'), '172.20.0.10')
})

t.test('Service then Deployment in kube-system, accepted by the API server', async t => {
  const objects = dnsAddonObjects(DEFAULTS)
  t.same(objects.map(o => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`), ['Service/kube-system/kube-dns', 'Deployment/kube-system/kube-dns'])
  const { client } = await harness(t)
  for (const object of objects) {
    const stored = await client.create<KubeObject>(REFS[object.kind ?? ''] as ResourceRef, object.metadata.namespace, object)
    t.ok(stored.metadata.uid, `${object.kind} created`)
  }
  const svc = await client.get<KubeObject>(RESOURCES.services, DNS_NAMESPACE, DNS_SERVICE)
  t.equal((svc.spec as Json).clusterIP, '10.96.0.10', 'the requested address is kept')
  t.same((svc.spec as Json).ports.filter((p: Json) => p.port === 53).map((p: Json) => [p.name, p.protocol, p.targetPort]), [['dns', 'UDP', 53], ['dns-tcp', 'TCP', 53]])
  t.equal((dnsAddonObjects({ ...DEFAULTS, serviceCidr: '172.20.0.0/16' })[0]?.spec as Json).clusterIP, '172.20.0.10', 'derived from the cluster\'s range')
})

t.test('the Deployment: the built-in image, dnsPolicy Default, readiness on :8181/ready, no upstream', async t => {
  const [service, deployment] = dnsAddonObjects(DEFAULTS) as unknown as [Json, Json]
  t.equal(deployment.spec.replicas, 1)
  t.same(deployment.spec.selector.matchLabels, { 'k8s-app': 'kube-dns' })
  t.same(service.spec.selector, deployment.spec.template.metadata.labels, 'the Service selects the DNS pods')
  const pod = deployment.spec.template.spec
  t.equal(pod.dnsPolicy, 'Default', 'like CoreDNS, its own resolver is the node\'s')
  const container = pod.containers[0] as ContainerSpec
  t.equal(container.image, 'kubewire/dns')
  t.match(resolveImage(container, 'node'), { argv: ['node', '--import', /^file:.*tsx/, /\/control\/dns\/main\.ts$/, '--domain=cluster.local'] })
  t.same(container.readinessProbe && probeAction(container.readinessProbe, container), { httpGet: { path: '/ready', port: 8181 } })
  t.same(container.livenessProbe && probeAction(container.livenessProbe, container), { httpGet: { path: '/health', port: 8080 } })
  t.ok(container.args?.includes('--allowed-sources=10.244.0.0/16,198.18.0.0/24'), 'the pod and node ranges may use an upstream')
  t.notOk(container.args?.some(a => a.startsWith('--upstream')), 'but none is configured: nothing leaves the machine')
})
