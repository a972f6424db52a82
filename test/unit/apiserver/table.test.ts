import t from 'tap'
import { humanDuration } from '../../../control/apiserver/http/table-columns.ts'
import { tableRequested, toTable } from '../../../control/apiserver/http/table.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'

t.test('ages read like kubectl', async t => {
  const s = 1000
  const cases: Array<[number, string]> = [[5 * s, '5s'], [119 * s, '119s'], [200 * s, '3m20s'], [600 * s, '10m'], [3 * 3600 * s + 5 * 60 * s, '3h5m'], [30 * 3600 * s, '30h'], [50 * 3600 * s, '2d2h'], [400 * 86400 * s, '400d'], [-5 * s, '<invalid>']]
  for (const [ms, want] of cases) t.equal(humanDuration(ms), want, want)
})

t.test('Accept negotiation', async t => {
  t.same(tableRequested('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', undefined), { apiVersion: 'meta.k8s.io/v1', includeObject: 'Metadata' })
  t.same(tableRequested('application/json;as=Table;v=v1beta1;g=meta.k8s.io', 'Object'), { apiVersion: 'meta.k8s.io/v1beta1', includeObject: 'Object' })
  t.equal(tableRequested('application/json', undefined), undefined)
  t.equal(tableRequested(undefined, undefined), undefined)
})

t.test('pod, deployment and service rows', async t => {
  const now = new Date('2025-01-01T01:00:00Z')
  const pod: KubeObject = {
    metadata: { name: 'web', creationTimestamp: '2025-01-01T00:59:00Z', labels: { app: 'web' } },
    spec: { nodeName: 'node-1', containers: [{ name: 'a' }, { name: 'b' }] },
    status: {
      phase: 'Running',
      podIP: '10.244.1.2',
      containerStatuses: [
        { name: 'a', ready: true, restartCount: 2, state: { running: {} } },
        { name: 'b', ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } },
      ],
    },
  }
  const request = { apiVersion: 'meta.k8s.io/v1', includeObject: 'Metadata' as const }
  const table = toTable('Pod', [pod], '42', request, { now }) as { columnDefinitions: Array<{ name: string; priority: number }>; rows: Array<{ cells: unknown[]; object: KubeObject }>; metadata: unknown }
  t.same(table.columnDefinitions.map(c => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'])
  t.same(table.rows[0]?.cells, ['web', '1/2', 'CrashLoopBackOff', '3', '60s', '10.244.1.2', 'node-1', '<none>', '<none>'])
  t.same(table.rows[0]?.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pod.metadata })
  t.same(table.metadata, { resourceVersion: '42' })
  const terminating = toTable('Pod', [{ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2025-01-01T01:00:30Z' } }], undefined, request, { now, noHeaders: true }) as { rows: Array<{ cells: unknown[] }>; columnDefinitions?: unknown }
  t.equal(terminating.rows[0]?.cells[2], 'Terminating')
  t.equal(terminating.columnDefinitions, undefined, 'no headers after the first watch event')
  const deployment: KubeObject = { metadata: { name: 'd', creationTimestamp: '2025-01-01T00:00:00Z' }, spec: { replicas: 3, selector: { matchLabels: { app: 'd' } }, template: { spec: { containers: [{ name: 'c', image: 'nginx' }] } } }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }
  t.same((toTable('Deployment', [deployment], undefined, request, { now }) as { rows: Array<{ cells: unknown[] }> }).rows[0]?.cells, ['d', '2/3', 3, 2, '60m', 'c', 'nginx', 'app=d'])
  const service: KubeObject = { metadata: { name: 's', creationTimestamp: '2025-01-01T00:59:50Z' }, spec: { type: 'NodePort', clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { app: 's' } } }
  t.same((toTable('Service', [service], undefined, request, { now }) as { rows: Array<{ cells: unknown[] }> }).rows[0]?.cells, ['s', 'NodePort', '10.96.0.5', '<none>', '80:30080/TCP,53/UDP', '10s', 'app=s'])
  t.same((toTable('Widget', [service], undefined, request, { now }) as { rows: Array<{ cells: unknown[] }> }).rows[0]?.cells, ['s', '10s'], 'unknown kinds: name and age')
})
