// Every column renderer of `get`, with a table of pod states and the STATUS,
// READY and RESTARTS kubectl prints for them (printPod's rules).

import t from 'tap'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { columnsFor, endpointsText, nodeRoles, nodeStatus, podSummary, restartsText } from '../../../control/cli/kubectl/columns.ts'
import { lookupResource } from '../../../control/cli/kubectl/resource-kinds.ts'
import { headerCells, rowCells, renderRows } from '../../../control/cli/kubectl/table-printer.ts'

const NOW = Date.parse('2026-01-02T00:10:00Z')
const ago = (s: number): string => new Date(NOW - s * 1000).toISOString()

type State = Record<string, unknown>
const running: State = { running: { startedAt: ago(60) } }
const waiting = (reason: string): State => ({ waiting: { reason } })
const terminated = (exitCode: number, reason = '', extra: Record<string, unknown> = {}): State => ({ terminated: { exitCode, ...(reason ? { reason } : {}), finishedAt: ago(30), ...extra } })
const status = (name: string, state: State, ready = false, restartCount = 0, lastState: State = {}): Record<string, unknown> => ({ name, state, ready, restartCount, lastState })

function pod(options: {
  containers?: number
  init?: number
  restartableInit?: number
  phase?: string
  reason?: string
  statuses?: Array<Record<string, unknown>>
  initStatuses?: Array<Record<string, unknown>>
  conditions?: Array<Record<string, unknown>>
  deleting?: boolean
}): KubeObject {
  const containers = Array.from({ length: options.containers ?? 1 }, (_, i) => ({ name: `c${i}`, image: 'x' }))
  const initContainers = [
    ...Array.from({ length: options.init ?? 0 }, (_, i) => ({ name: `i${i}`, image: 'x' })),
    ...Array.from({ length: options.restartableInit ?? 0 }, (_, i) => ({ name: `s${i}`, image: 'x', restartPolicy: 'Always' })),
  ]
  return {
    metadata: { name: 'p', creationTimestamp: ago(600), ...(options.deleting ? { deletionTimestamp: ago(1) } : {}) },
    spec: { containers, ...(initContainers.length ? { initContainers } : {}) },
    status: {
      phase: options.phase ?? 'Running',
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.statuses ? { containerStatuses: options.statuses } : {}),
      ...(options.initStatuses ? { initContainerStatuses: options.initStatuses } : {}),
      ...(options.conditions ? { conditions: options.conditions } : {}),
    },
  }
}

t.test('pod STATUS, READY and RESTARTS as kubectl computes them', async t => {
  const cases: Array<[string, KubeObject, string, string, string]> = [
    ['pending, no statuses', pod({ phase: 'Pending' }), '0/1', 'Pending', '0'],
    ['creating', pod({ phase: 'Pending', statuses: [status('c0', waiting('ContainerCreating'))] }), '0/1', 'ContainerCreating', '0'],
    ['running and ready', pod({ statuses: [status('c0', running, true)] }), '1/1', 'Running', '0'],
    ['running, not ready', pod({ statuses: [status('c0', running, false)] }), '0/1', 'Running', '0'],
    ['crash loop with restarts', pod({ statuses: [status('c0', waiting('CrashLoopBackOff'), false, 5, terminated(1, 'Error'))] }), '0/1', 'CrashLoopBackOff', '5 (30s ago)'],
    ['completed', pod({ phase: 'Succeeded', statuses: [status('c0', terminated(0, 'Completed'))] }), '0/1', 'Completed', '0'],
    ['error', pod({ phase: 'Failed', statuses: [status('c0', terminated(1, 'Error'))] }), '0/1', 'Error', '0'],
    ['exit code without reason', pod({ phase: 'Failed', statuses: [status('c0', terminated(3))] }), '0/1', 'ExitCode:3', '0'],
    ['signal without reason', pod({ phase: 'Failed', statuses: [status('c0', terminated(137, '', { signal: 9 }))] }), '0/1', 'Signal:9', '0'],
    ['one of two done, other running and ready', pod({ containers: 2, conditions: [{ type: 'Ready', status: 'True' }], statuses: [status('c0', terminated(0, 'Completed')), status('c1', running, true)] }), '1/2', 'Running', '0'],
    ['one of two done, other running, pod not ready', pod({ containers: 2, statuses: [status('c0', terminated(0, 'Completed')), status('c1', running, true)] }), '1/2', 'NotReady', '0'],
    ['init 0 of 2 running', pod({ phase: 'Pending', init: 2, initStatuses: [status('i0', running), status('i1', waiting('PodInitializing'))], statuses: [status('c0', waiting('PodInitializing'))] }), '0/1', 'Init:0/2', '0'],
    ['init 1 of 2', pod({ phase: 'Pending', init: 2, initStatuses: [status('i0', terminated(0, 'Completed')), status('i1', running)], statuses: [status('c0', waiting('PodInitializing'))] }), '0/1', 'Init:1/2', '0'],
    ['init crash loop', pod({ phase: 'Pending', init: 1, initStatuses: [status('i0', waiting('CrashLoopBackOff'), false, 2, terminated(1, 'Error'))] }), '0/1', 'Init:CrashLoopBackOff', '2 (30s ago)'],
    ['init failed', pod({ phase: 'Failed', init: 1, initStatuses: [status('i0', terminated(1, 'Error'))] }), '0/1', 'Init:Error', '0'],
    ['init exit code', pod({ phase: 'Failed', init: 1, initStatuses: [status('i0', terminated(2))] }), '0/1', 'Init:ExitCode:2', '0'],
    ['sidecar init container counts in READY', pod({ restartableInit: 1, conditions: [{ type: 'Initialized', status: 'True' }], initStatuses: [{ ...status('s0', running, true, 1, terminated(1, 'Error')), started: true }], statuses: [status('c0', running, true)] }), '2/2', 'Running', '1 (30s ago)'],
    ['terminating', pod({ deleting: true, statuses: [status('c0', running, true)] }), '1/1', 'Terminating', '0'],
    ['terminating but finished', pod({ deleting: true, phase: 'Succeeded', statuses: [status('c0', terminated(0, 'Completed'))] }), '0/1', 'Completed', '0'],
    ['node lost', pod({ deleting: true, reason: 'NodeLost', statuses: [status('c0', running, true)] }), '1/1', 'Unknown', '0'],
    ['evicted', pod({ phase: 'Failed', reason: 'Evicted' }), '0/1', 'Evicted', '0'],
    ['scheduling gated', pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }), '0/1', 'SchedulingGated', '0'],
  ]
  for (const [name, p, ready, statusText, restarts] of cases) {
    const summary = podSummary(p)
    t.same([summary.ready, summary.status, restartsText(summary, NOW)], [ready, statusText, restarts], name)
  }
})

t.test('pod columns, wide and not', async t => {
  const def = lookupResource('pods')
  const p = pod({ statuses: [status('c0', running, true)] })
  ;(p.spec as Record<string, unknown>).nodeName = 'node-1'
  ;(p.status as Record<string, unknown>).podIPs = [{ ip: '10.244.1.2' }]
  const options = { wide: false, withNamespace: false, withKind: false, showLabels: false, labelColumns: [], now: NOW }
  t.same(headerCells(def, options), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'])
  t.same(rowCells(def, p, options), ['p', '1/1', 'Running', '0', '10m'])
  t.same(headerCells(def, { ...options, wide: true }), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'])
  t.same(rowCells(def, p, { ...options, wide: true }).slice(5), ['10.244.1.2', 'node-1', '<none>', '<none>'])
  p.metadata.namespace = 'team'
  p.metadata.labels = { b: '2', a: '1' }
  t.same(rowCells(def, p, { ...options, withNamespace: true, withKind: true, showLabels: true, labelColumns: ['a'] }), ['team', 'pod/p', '1/1', 'Running', '0', '10m', '1', 'a=1,b=2'])
  t.same(headerCells(def, { ...options, withNamespace: true, showLabels: true, labelColumns: ['app.kubernetes.io/name'] }), ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'NAME', 'LABELS'])
})

t.test('the other kinds: headers and cells', async t => {
  const row = (resource: string, o: KubeObject, wide = false): string[] =>
    rowCells(lookupResource(resource), o, { wide, withNamespace: false, withKind: false, showLabels: false, labelColumns: [], now: NOW })
  const head = (resource: string, wide = false): string => headerCells(lookupResource(resource), { wide, withNamespace: false, withKind: false, showLabels: false, labelColumns: [], now: NOW }).join(' ')
  const meta = { name: 'x', creationTimestamp: ago(7200) }
  const template = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } }

  t.equal(head('deploy'), 'NAME READY UP-TO-DATE AVAILABLE AGE')
  t.equal(head('deploy', true), 'NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR')
  t.same(row('deploy', { metadata: meta, spec: { replicas: 3, selector: { matchLabels: { app: 'x' } }, template }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }, true), ['x', '2/3', '3', '2', '120m', 'nginx', 'nginx:1.25', 'app=x'])
  t.equal(head('rs'), 'NAME DESIRED CURRENT READY AGE')
  t.same(row('rs', { metadata: meta, spec: { replicas: 3 }, status: { replicas: 3, readyReplicas: 1 } }), ['x', '3', '3', '1', '120m'])
  t.equal(head('svc'), 'NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE')
  t.equal(head('svc', true), 'NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR')
  t.same(row('svc', { metadata: meta, spec: { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] } }), ['x', 'NodePort', '10.96.0.20', '<none>', '80:30080/TCP,53/UDP', '120m'])
  t.same(row('svc', { metadata: meta, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.21', ports: [{ port: 80, protocol: 'TCP' }] } }).slice(3, 4), ['<pending>'])
  t.equal(head('ns'), 'NAME STATUS AGE')
  t.same(row('ns', { metadata: meta, status: { phase: 'Terminating' } }), ['x', 'Terminating', '120m'])
  t.equal(head('cm'), 'NAME DATA AGE')
  t.same(row('cm', { metadata: meta, data: { a: '1', b: '2' } }), ['x', '2', '120m'])
  t.equal(head('endpointslices'), 'NAME ADDRESSTYPE PORTS ENDPOINTS AGE')

  t.equal(head('no'), 'NAME STATUS ROLES AGE VERSION')
  t.equal(head('nodes', true), 'NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME')
  const node: KubeObject = {
    metadata: { ...meta, labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'edge' } },
    spec: { unschedulable: true },
    status: { conditions: [{ type: 'Ready', status: 'Unknown' }], addresses: [{ type: 'InternalIP', address: '198.18.0.11' }], nodeInfo: { kubeletVersion: 'v1.33.0' } },
  }
  t.equal(nodeStatus(node), 'NotReady,SchedulingDisabled', 'a Ready condition that is not True reads NotReady')
  t.same(nodeRoles(node), ['control-plane', 'edge'])
  t.same(row('nodes', node, true), ['x', 'NotReady,SchedulingDisabled', 'control-plane,edge', '120m', 'v1.33.0', '198.18.0.11', '<none>', '<unknown>', '<unknown>', '<unknown>'])
  t.equal(nodeStatus({ metadata: {} }), 'Unknown')

  t.equal(head('ev'), 'LAST SEEN TYPE REASON OBJECT MESSAGE')
  t.equal(head('events', true), 'LAST SEEN TYPE REASON OBJECT SUBOBJECT SOURCE MESSAGE FIRST SEEN COUNT NAME')
  const event: KubeObject = {
    metadata: { name: 'web.1' },
    type: 'Warning',
    reason: 'BackOff',
    involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{c}' },
    source: { component: 'kubelet', host: 'node-1' },
    message: 'Back-off restarting failed container\n',
    firstTimestamp: ago(300),
    lastTimestamp: ago(20),
    count: 7,
  }
  t.same(row('events', event), ['20s', 'Warning', 'BackOff', 'pod/web', 'Back-off restarting failed container'])
  t.same(row('events', event, true), ['20s', 'Warning', 'BackOff', 'pod/web', 'spec.containers{c}', 'kubelet, node-1', 'Back-off restarting failed container', '5m', '7', 'web.1'])
  t.same(row('events', { metadata: { name: 'e' }, eventTime: ago(90), involvedObject: { kind: 'Node' } }).slice(0, 4), ['90s', '', '', 'node'], 'no lastTimestamp: the first seen; no name: the kind alone')

  t.equal(head('ep'), 'NAME ENDPOINTS AGE')
  t.equal(endpointsText({ metadata: {} }), '<none>')
  t.equal(endpointsText({ metadata: {}, subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }, { port: 443 }] }] }), '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...')
  t.equal(endpointsText({ metadata: {}, subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] }), '10.0.0.1', 'headless without ports')
  t.same(columnsFor({ kind: 'Unknown' }).map(c => c.header), ['NAME', 'AGE'], 'kinds without columns get NAME and AGE')
})

t.test('kubectl table layout', async t => {
  t.equal(
    renderRows([['NAME', 'READY', 'STATUS', 'AGE'], ['a', '1/1', 'Running', '5s'], ['bb', '0/1', 'Pending', '10m']]),
    'NAME   READY   STATUS    AGE\na      1/1     Running   5s\nbb     0/1     Pending   10m',
    'minimum width 6, three spaces of padding, last column unpadded',
  )
})
