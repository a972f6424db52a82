// The pure describers against golden text printed by kubectl 1.32 itself for
// the same objects (a pod with init containers, a crash-looping container,
// env, probes, resources and volumes; a Deployment with that template), and
// the Events table.

import { readFileSync } from 'node:fs'
import t from 'tap'
import type { KubeObject } from '../../../control/client/api-client.ts'
import type { Deployment, ReplicaSet } from '../../../control/controllers/objects.ts'
import { describePod } from '../../../control/cli/kubectl/describe-pod.ts'
import { describeDeployment } from '../../../control/cli/kubectl/describe-workloads.ts'
import { describeService } from '../../../control/cli/kubectl/describe-service.ts'
import { DescribeWriter, printEvents, rfc1123z } from '../../../control/cli/kubectl/describe-writer.ts'

process.env.TZ = 'UTC' // kubectl prints times in local time; the goldens were made in UTC

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

t.test('describe pod matches kubectl byte for byte', async t => {
  const pod = JSON.parse(fixture('describe-pod.json')) as KubeObject
  t.equal(describePod(pod, undefined, Date.now()), fixture('describe-pod.txt'))
})

t.test('describe deployment matches kubectl byte for byte', async t => {
  const deployment = JSON.parse(fixture('describe-deployment.json')) as Deployment
  const replicaSets = JSON.parse(fixture('describe-deployment-replicasets.json')) as ReplicaSet[]
  t.equal(describeDeployment(deployment, replicaSets, undefined, Date.now()), fixture('describe-deployment.txt'))
})

t.test('the Events table: oldest first, repeats as "(xN over ...)"', async t => {
  const now = Date.parse('2026-01-02T00:10:00Z')
  const event = (reason: string, first: string, last: string, count: number, message: string): KubeObject => ({
    metadata: { name: reason },
    type: 'Normal',
    reason,
    firstTimestamp: first,
    lastTimestamp: last,
    count,
    source: { component: 'kubelet' },
    message,
  })
  const w = new DescribeWriter()
  printEvents(w, [event('Pulled', '2026-01-02T00:05:00Z', '2026-01-02T00:09:00Z', 4, 'again '), event('Scheduled', '2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z', 1, 'placed')], now)
  t.equal(
    w.toString(),
    'Events:\n' +
      '  Type    Reason     Age               From     Message\n' +
      '  ----    ------     ----              ----     -------\n' +
      '  Normal  Scheduled  10m               kubelet  placed\n' +
      '  Normal  Pulled     60s (x4 over 5m)  kubelet  again\n',
  )
  const none = new DescribeWriter()
  printEvents(none, [], now)
  t.equal(none.toString(), 'Events:  <none>\n')
})

t.test('describe service: ports, endpoints from slices, three at most', async t => {
  const service: KubeObject = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'NodePort', selector: { app: 'web' }, clusterIP: '10.96.3.4', clusterIPs: ['10.96.3.4'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP', nodePort: 30080 }], sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster' },
  }
  const slice: KubeObject = { metadata: { name: 'web-abc' }, ports: [{ name: 'http', port: 8080 }], endpoints: ['1', '2', '3', '4'].map(i => ({ addresses: [`10.244.1.${i}`] })) }
  t.equal(
    describeService(service, [slice], undefined, [], Date.now()),
    [
      'Name:                     web',
      'Namespace:                default',
      'Labels:                   <none>',
      'Annotations:              <none>',
      'Selector:                 app=web',
      'Type:                     NodePort',
      'IP Family Policy:         SingleStack',
      'IP Families:              IPv4',
      'IP:                       10.96.3.4',
      'IPs:                      10.96.3.4',
      'Port:                     http  80/TCP',
      'TargetPort:               web/TCP',
      'NodePort:                 http  30080/TCP',
      'Endpoints:                10.244.1.1:8080,10.244.1.2:8080,10.244.1.3:8080 + 1 more...',
      'Session Affinity:         None',
      'External Traffic Policy:  Cluster',
      'Internal Traffic Policy:  Cluster',
      'Events:                   <none>',
      '',
    ].join('\n'),
  )
})

t.test('RFC1123Z like Go', async t => {
  t.equal(rfc1123z('2026-01-02T03:04:05Z'), 'Fri, 02 Jan 2026 03:04:05 +0000')
})
