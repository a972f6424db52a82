import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { deployment, harness, pod, rejectsStatus } from './helpers.ts'

const fixed = new Date('2025-03-01T12:00:00.123Z')

t.test('create fills in uid, creationTimestamp, generation, kind and apiVersion', async t => {
  const { client } = await harness(t, { now: () => fixed })
  const created = await client.create<KubeObject>(RESOURCES.pods, 'default', { metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } })
  t.equal(created.kind, 'Pod')
  t.equal(created.apiVersion, 'v1')
  t.match(created.metadata.uid, /^[0-9a-f-]{36}$/)
  t.equal(created.metadata.creationTimestamp, '2025-03-01T12:00:00Z')
  t.equal(created.metadata.generation, 1)
  t.equal(created.metadata.namespace, 'default')
  t.match(created.metadata.resourceVersion, /^\d+$/)
  t.same(Object.keys(created).slice(0, 3), ['kind', 'apiVersion', 'metadata'])
  const fetched = await client.get(RESOURCES.pods, 'default', 'web')
  t.same(fetched, created)
})

t.test('client-set system fields are replaced', async t => {
  const { client } = await harness(t)
  const created = await client.create<KubeObject>(RESOURCES.configmaps, 'default', {
    metadata: { name: 'c', uid: 'mine', generation: 7, deletionTimestamp: '2020-01-01T00:00:00Z' },
    data: { a: 'b' },
  })
  t.not(created.metadata.uid, 'mine')
  t.equal(created.metadata.generation, undefined, 'configmaps track no generation')
  t.equal(created.metadata.deletionTimestamp, undefined)
})

t.test('generateName gets a random 5-character suffix', async t => {
  const { client } = await harness(t)
  const names = new Set<string>()
  for (let i = 0; i < 20; i++) {
    const created = await client.create<KubeObject>(RESOURCES.pods, 'default', { metadata: { generateName: 'web-' }, spec: { containers: [{ name: 'c', image: 'x' }] } })
    t.match(created.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
    names.add(created.metadata.name ?? '')
  }
  t.equal(names.size, 20)
})

t.test('the namespace must exist', async t => {
  const { client } = await harness(t)
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.pods, 'nope', pod('web')), 404, 'namespaces "nope" not found', 'NotFound')
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.deployments, 'nope', deployment('web')), 404, 'namespaces "nope" not found')
  // cluster-scoped kinds need none
  const node = await client.create<KubeObject>(RESOURCES.nodes, undefined, { metadata: { name: 'node-1' } })
  t.equal(node.metadata.namespace, undefined)
})

t.test('system namespaces exist from the start', async t => {
  const { client } = await harness(t)
  const list = await client.list(RESOURCES.namespaces, undefined)
  t.same(list.items.map(n => n.metadata.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system'])
  const ns = list.items[0] as KubeObject
  t.same(ns.status, { phase: 'Active' })
  t.same(ns.spec, { finalizers: ['kubernetes'] })
  t.equal(ns.metadata.labels?.['kubernetes.io/metadata.name'], 'default')
})

t.test('AlreadyExists with Kubernetes text', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.pods, 'default', pod('web'))
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.pods, 'default', pod('web')), 409, 'pods "web" already exists', 'AlreadyExists')
  await client.create<KubeObject>(RESOURCES.deployments, 'default', deployment('web'))
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.deployments, 'default', deployment('web')), 409, 'deployments.apps "web" already exists')
})

t.test('bad bodies', async t => {
  const { client } = await harness(t)
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.pods, 'default', { ...pod('p'), apiVersion: 'apps/v1' }), 400, 'the API version in the data (apps/v1) does not match the expected API version (v1)')
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.pods, 'default', { ...pod('p'), kind: 'Service' }), 400, 'the kind in the data (Service) does not match the expected kind (Pod)')
  const withRv = pod('p')
  withRv.metadata.resourceVersion = '12'
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.pods, 'default', withRv), 500, 'Internal error occurred: resourceVersion should not be set on objects to be created')
  const otherNs = pod('p')
  otherNs.metadata.namespace = 'kube-system'
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.pods, 'default', otherNs), 400, 'the namespace of the provided object does not match the namespace sent on the request')
})

t.test('validation messages', async t => {
  const { client } = await harness(t)
  const noImage = pod('web')
  ;(noImage.spec as { containers: Array<Record<string, unknown>> }).containers = [{ name: 'c' }]
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.pods, 'default', noImage), 422, 'Pod "web" is invalid: spec.containers[0].image: Required value', 'Invalid')
  await rejectsStatus(
    t,
    client.create<KubeObject>(RESOURCES.pods, 'default', pod('Web')),
    422,
    `Pod "Web" is invalid: metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
  )
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.pods, 'default', { metadata: {}, spec: { containers: [{ name: 'c', image: 'x' }] } }), 422, 'Pod "" is invalid: metadata.name: Required value: name or generateName is required')
  await rejectsStatus(
    t,
    client.create<KubeObject>(RESOURCES.pods, 'default', pod('p', { restartPolicy: 'Sometimes' })),
    422,
    'Pod "p" is invalid: spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  )
  const two = pod('p')
  ;(two.spec as { containers: unknown[] }).containers = [{ name: 'a', image: 'x' }, { name: 'a' }]
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.pods, 'default', two), 422, 'Pod "p" is invalid: [spec.containers[1].name: Duplicate value: "a", spec.containers[1].image: Required value]')
  const mismatch = deployment('web')
  ;((mismatch.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels = { app: 'other' })
  const err = await rejectsStatus(
    t,
    client.create<KubeObject>(RESOURCES.deployments, 'default', mismatch),
    422,
    'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`',
  )
  t.same(err?.status.details, {
    name: 'web',
    group: 'apps',
    kind: 'Deployment',
    causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: {"app":"other"}: `selector` does not match template `labels`', field: 'spec.template.metadata.labels' }],
  })
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.deployments, 'default', { metadata: { name: 'd' }, spec: { template: {} } }), 422, /spec\.selector: Required value/)
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.services, 'default', { metadata: { name: '1svc' }, spec: { ports: [{ port: 80 }] } }), 422, /^Service "1svc" is invalid: metadata.name: Invalid value: "1svc": a DNS-1035 label/)
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.namespaces, undefined, { metadata: { name: 'a.b' } }), 422, /^Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label/)
  await rejectsStatus(t, client.create<KubeObject>(RESOURCES.configmaps, 'default', { metadata: { name: 'c', labels: { 'bad key!': 'v' } } }), 422, /metadata.labels: Invalid value: "bad key!"/)
})

t.test('pod defaulting', async t => {
  const { client } = await harness(t)
  const created = await client.create<KubeObject>(RESOURCES.pods, 'default', {
    metadata: { name: 'p' },
    spec: {
      containers: [
        { name: 'a', image: 'nginx', ports: [{ containerPort: 80 }], readinessProbe: { httpGet: { port: 80 } } },
        { name: 'b', image: 'registry:5000/app:1.2', resources: { limits: { cpu: '1', memory: '1Gi' } } },
      ],
    },
  })
  const spec = created.spec as Record<string, unknown> & { containers: Array<Record<string, unknown>> }
  t.equal(spec.restartPolicy, 'Always')
  t.equal(spec.terminationGracePeriodSeconds, 30)
  t.equal(spec.dnsPolicy, 'ClusterFirst')
  t.equal(spec.schedulerName, 'default-scheduler')
  t.equal(spec.containers[0]?.imagePullPolicy, 'Always', 'no tag means latest')
  t.equal(spec.containers[1]?.imagePullPolicy, 'IfNotPresent')
  t.equal(spec.containers[0]?.terminationMessagePath, '/dev/termination-log')
  t.equal(spec.containers[0]?.terminationMessagePolicy, 'File')
  t.same(spec.containers[0]?.ports, [{ containerPort: 80, protocol: 'TCP' }])
  t.same(spec.containers[0]?.readinessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 })
  t.same((spec.containers[1]?.resources as { requests: unknown }).requests, { cpu: '1', memory: '1Gi' })
  t.same(created.status, { phase: 'Pending', qosClass: 'Burstable' })
  t.equal((spec.tolerations as unknown[]).length, 2)
})

t.test('deployment, replicaset and service defaulting', async t => {
  const { client } = await harness(t)
  const d = await client.create<KubeObject>(RESOURCES.deployments, 'default', { ...deployment('web'), spec: { ...(deployment('web').spec as object), replicas: undefined } })
  const spec = d.spec as Record<string, unknown>
  t.equal(spec.replicas, 1)
  t.same(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } })
  t.equal(spec.revisionHistoryLimit, 10)
  t.equal(spec.progressDeadlineSeconds, 600)
  t.equal((spec.template as { spec: { restartPolicy: string } }).spec.restartPolicy, 'Always')
  t.same(d.status, {})
  const rs = await client.create<KubeObject>(RESOURCES.replicasets, 'default', { ...deployment('rs'), kind: 'ReplicaSet', spec: { ...(deployment('rs').spec as object), replicas: undefined } })
  t.equal((rs.spec as { replicas: number }).replicas, 1)
  const svc = await client.create<KubeObject>(RESOURCES.services, 'default', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { name: 'x', port: 81, targetPort: 'http' }].slice(0, 1) } })
  const s = svc.spec as Record<string, unknown>
  t.equal(s.type, 'ClusterIP')
  t.equal(s.sessionAffinity, 'None')
  t.same(s.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }])
  t.equal(s.internalTrafficPolicy, 'Cluster')
  t.same(svc.status, { loadBalancer: {} })
})

t.test('dryRun=All validates and defaults without storing', async t => {
  const { handler, client } = await harness(t)
  const res = await handler.handle({ verb: 'create', ref: RESOURCES.pods, namespace: 'default', query: { dryRun: 'All' }, body: pod('dry') })
  t.equal(res.status, 201)
  t.equal((res.body as KubeObject).metadata.name, 'dry')
  await rejectsStatus(t, client.get(RESOURCES.pods, 'default', 'dry'), 404, 'pods "dry" not found')
})
