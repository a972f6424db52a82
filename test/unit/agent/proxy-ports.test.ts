import t from 'tap'
import { servicePorts } from '../../../control/agent/proxy-ports.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'

const service = (spec: Record<string, unknown>, status: Record<string, unknown> = {}, name = 'web'): KubeObject =>
  ({ metadata: { name, namespace: 'default', resourceVersion: '1' }, spec: { clusterIP: '10.96.0.5', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec }, status }) as KubeObject

const slice = (endpoints: unknown[], ports: unknown[] = [{ name: 'http', port: 8080, protocol: 'TCP' }], name = 'web'): KubeObject =>
  ({ metadata: { name: `${name}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', endpoints, ports }) as KubeObject

const ep = (ip: string, conditions: Record<string, boolean> = { ready: true }, nodeName = 'node-1') => ({ addresses: [ip], conditions, nodeName })

t.test('a ClusterIP service port takes the ready endpoints of its slices, by port name', async t => {
  const [p, ...rest] = servicePorts([service({})], [slice([ep('10.244.1.2'), ep('10.244.2.2', { ready: true }, 'node-2'), ep('10.244.2.3', { ready: false }, 'node-2')])], 'node-1')
  t.equal(rest.length, 0)
  t.same(p, {
    namespace: 'default', name: 'web', portName: 'http', protocol: 'TCP', port: 80, clusterIP: '10.96.0.5',
    loadBalancerIPs: [], externalLocal: false,
    endpoints: [{ ip: '10.244.1.2', port: 8080, local: true }, { ip: '10.244.2.2', port: 8080, local: false }],
  })
})

t.test('nil conditions count as ready; terminating-but-serving endpoints are used only when nothing is ready', async t => {
  const ports = (endpoints: unknown[]) => servicePorts([service({})], [slice(endpoints)], 'node-1')[0]?.endpoints.map(e => e.ip)
  t.same(ports([{ addresses: ['10.244.1.9'] }]), ['10.244.1.9'])
  t.same(ports([ep('10.244.1.2', { ready: false, serving: true, terminating: true }), ep('10.244.1.3')]), ['10.244.1.3'])
  t.same(ports([ep('10.244.1.2', { ready: false, serving: true, terminating: true })]), ['10.244.1.2'])
  t.same(ports([ep('10.244.1.2', { ready: false, serving: false, terminating: true })]), [])
})

t.test('headless and ExternalName services are not proxied; other protocols are skipped', async t => {
  t.same(servicePorts([service({ clusterIP: 'None' }), service({ type: 'ExternalName', externalName: 'example.org', clusterIP: '' })], [], 'node-1'), [])
  t.same(servicePorts([service({ ports: [{ port: 9, protocol: 'SCTP' }] })], [], 'node-1'), [])
})

t.test('NodePort, LoadBalancer addresses, policy Local and session affinity come through', async t => {
  const [p] = servicePorts([service(
    { type: 'LoadBalancer', externalTrafficPolicy: 'Local', sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80, nodePort: 30080 }] },
    { loadBalancer: { ingress: [{ ip: '198.18.0.200' }] } },
  )], [], 'node-1')
  t.equal(p?.nodePort, 30080)
  t.same(p?.loadBalancerIPs, ['198.18.0.200'])
  t.equal(p?.externalLocal, true)
  t.equal(p?.affinitySeconds, 10800, 'Kubernetes\' default timeout')
  const [c] = servicePorts([service({ externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30080 }] })], [], 'node-1')
  t.equal(c?.nodePort, undefined, 'a ClusterIP service has no node port even if one is written')
  t.equal(c?.externalLocal, false)
})

t.test('slices of another service, another port name or another protocol do not count', async t => {
  const [p] = servicePorts([service({})], [
    slice([ep('10.244.1.2')], [{ name: 'metrics', port: 9090, protocol: 'TCP' }]),
    slice([ep('10.244.1.3')], [{ name: 'http', port: 8080, protocol: 'UDP' }]),
    slice([ep('10.244.1.4')], undefined, 'other'),
  ], 'node-1')
  t.same(p?.endpoints, [])
})
