// The official JavaScript client (@kubernetes/client-node 1.x) against the
// API server over HTTPS, TLS verified against the cluster CA from the
// kubeconfig: pods, deployments (with their scale subresource) and services,
// created, listed, watched, patched, replaced and deleted.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
} from '@kubernetes/client-node'
import type { V1Deployment, V1Pod, V1Scale, V1Service } from '@kubernetes/client-node'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ensureServingCertificates } from '../../../control/apiserver/tls/certificates.ts'
import { writeKubeconfig } from '../../../control/apiserver/tls/kubeconfig.ts'
import { startTestServer } from './server.ts'

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)

function kubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromFile(path)
  return kc
}

async function apiError(promise: Promise<unknown>): Promise<ApiException<string>> {
  try {
    await promise
  } catch (err) {
    if (err instanceof ApiException) return err as ApiException<string>
    throw err
  }
  throw new Error('expected an ApiException')
}

t.test('TLS is verified: the kubeconfig CA works, another CA does not', async t => {
  const { kubeconfig, server, dir, token } = await startTestServer(t)
  const kc = kubeConfig(kubeconfig)
  t.notOk(kc.getCurrentCluster()?.skipTLSVerify, 'verification on')
  const core = kc.makeApiClient(CoreV1Api)
  const namespaces = await core.listNamespace()
  t.same(namespaces.items.map(n => n.metadata?.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system'])
  const other = await ensureServingCertificates(join(dir, 'other-ca'))
  const wrong = join(dir, 'wrong-kubeconfig')
  await writeKubeconfig(wrong, { server: server.url, caCert: other.caCert, token })
  await t.rejects(kubeConfig(wrong).makeApiClient(CoreV1Api).listNamespace(), 'a server not signed by the kubeconfig CA is refused')
  const badToken = join(dir, 'bad-token-kubeconfig')
  await writeKubeconfig(badToken, { server: server.url, caCert: server.certificates.caCert, token: 'nope' })
  const err = await apiError(kubeConfig(badToken).makeApiClient(CoreV1Api).listNamespace())
  t.equal(err.code, 401)
  writeFileSync(join(dir, 'unused'), '')
})

t.test('pods: create, read, list, watch, patch, replace, delete', async t => {
  const { kubeconfig } = await startTestServer(t)
  const kc = kubeConfig(kubeconfig)
  const core = kc.makeApiClient(CoreV1Api)
  const events: string[] = []
  let watchDone!: () => void
  const ended = new Promise<void>(resolve => {
    watchDone = resolve
  })
  let wake: () => void = () => {}
  const watcher = await new Watch(kc).watch(
    '/api/v1/namespaces/default/pods',
    { allowWatchBookmarks: false },
    (type: string, object: V1Pod) => {
      events.push(`${type} ${object.metadata?.name} ${object.metadata?.labels?.tier ?? '-'}`)
      wake()
    },
    () => watchDone(),
  )
  const waitEvents = async (n: number): Promise<void> => {
    while (events.length < n) await new Promise<void>(resolve => { wake = resolve })
  }

  const body: V1Pod = { metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } }
  const created = await core.createNamespacedPod({ namespace: 'default', body })
  t.equal(created.metadata?.namespace, 'default')
  t.equal(created.spec?.restartPolicy, 'Always')
  t.equal(created.status?.phase, 'Pending')
  t.ok(created.metadata?.creationTimestamp instanceof Date, 'the client parses our timestamps')
  const read = await core.readNamespacedPod({ name: 'web', namespace: 'default' })
  t.equal(read.metadata?.uid, created.metadata?.uid)
  const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })
  t.same(list.items.map(p => p.metadata?.name), ['web'])
  t.ok(list.metadata?.resourceVersion)

  const patched = await core.patchNamespacedPod({ name: 'web', namespace: 'default', body: { metadata: { labels: { tier: 'front' } } } }, merge)
  t.same(patched.metadata?.labels, { app: 'web', tier: 'front' })
  const jsonPatched = await core.patchNamespacedPod({ name: 'web', namespace: 'default', body: [{ op: 'replace', path: '/metadata/labels/tier', value: 'back' }] })
  t.equal(jsonPatched.metadata?.labels?.tier, 'back', 'the client defaults to JSON patch')
  const replaced = await core.replaceNamespacedPod({
    name: 'web',
    namespace: 'default',
    body: { ...jsonPatched, metadata: { ...jsonPatched.metadata, labels: { app: 'web', tier: 'edge' } } },
  })
  t.equal(replaced.metadata?.labels?.tier, 'edge')
  const stale = await apiError(core.replaceNamespacedPod({ name: 'web', namespace: 'default', body: jsonPatched }))
  t.equal(stale.code, 409)
  t.match(String(stale.body), /Operation cannot be fulfilled on pods \\"web\\": the object has been modified/)
  const status = await core.patchNamespacedPodStatus({ name: 'web', namespace: 'default', body: { status: { phase: 'Running', podIP: '10.244.1.5' } } }, merge)
  t.equal(status.status?.podIP, '10.244.1.5')

  const deleted = await core.deleteNamespacedPod({ name: 'web', namespace: 'default' })
  t.equal(deleted.metadata?.name, 'web')
  const missing = await apiError(core.readNamespacedPod({ name: 'web', namespace: 'default' }))
  t.equal(missing.code, 404)
  t.match(String(missing.body), /pods \\"web\\" not found/)

  await waitEvents(7)
  t.same(events, ['ADDED web -', 'MODIFIED web front', 'MODIFIED web back', 'MODIFIED web edge', 'MODIFIED web edge', 'MODIFIED web edge', 'DELETED web edge'])
  watcher.abort()
  await ended
})

t.test('deployments and their scale subresource', async t => {
  const { kubeconfig } = await startTestServer(t)
  const apps = kubeConfig(kubeconfig).makeApiClient(AppsV1Api)
  const body: V1Deployment = {
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } },
    },
  }
  const created = await apps.createNamespacedDeployment({ namespace: 'default', body })
  t.equal(created.spec?.strategy?.type, 'RollingUpdate')
  t.equal(created.spec?.strategy?.rollingUpdate?.maxSurge, '25%')
  t.equal(created.metadata?.generation, 1)
  const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: 'default' })
  t.equal(scale.spec?.replicas, 2)
  t.equal(scale.status?.selector, 'app=web')
  const replacedScale = await apps.replaceNamespacedDeploymentScale({ name: 'web', namespace: 'default', body: { ...scale, spec: { replicas: 4 } } as V1Scale })
  t.equal(replacedScale.spec?.replicas, 4)
  const patchedScale = await apps.patchNamespacedDeploymentScale({ name: 'web', namespace: 'default', body: { spec: { replicas: 6 } } }, merge)
  t.equal(patchedScale.spec?.replicas, 6)
  const after = await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' })
  t.equal(after.spec?.replicas, 6)
  t.equal(after.metadata?.generation, 3)
  const invalid = await apiError(apps.createNamespacedDeployment({ namespace: 'default', body: { ...body, metadata: { name: 'bad' }, spec: { ...body.spec!, template: { ...body.spec!.template, metadata: { labels: { app: 'x' } } } } } }))
  t.equal(invalid.code, 422)
  t.match(String(invalid.body), /selector` does not match template `labels`/)
  const list = await apps.listDeploymentForAllNamespaces()
  t.same(list.items.map(d => d.metadata?.name), ['web'])
  const status = await apps.deleteNamespacedDeployment({ name: 'web', namespace: 'default', propagationPolicy: 'Background' })
  t.equal(status.status, 'Success')
  t.equal((await apps.listNamespacedDeployment({ namespace: 'default' })).items.length, 0)
})

t.test('services', async t => {
  const { kubeconfig } = await startTestServer(t)
  const core = kubeConfig(kubeconfig).makeApiClient(CoreV1Api)
  const body: V1Service = { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }
  const created = await core.createNamespacedService({ namespace: 'default', body })
  t.match(created.spec?.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/)
  t.equal(created.spec?.type, 'ClusterIP')
  t.equal(created.spec?.ports?.[0]?.protocol, 'TCP')
  const kubernetes = await core.readNamespacedService({ name: 'kubernetes', namespace: 'default' })
  t.equal(kubernetes.spec?.clusterIP, '10.96.0.1')
  const patched = await core.patchNamespacedService({ name: 'web', namespace: 'default', body: { spec: { type: 'NodePort' } } }, merge)
  t.ok((patched.spec?.ports?.[0]?.nodePort ?? 0) >= 30000)
  const replaced = await core.replaceNamespacedService({ name: 'web', namespace: 'default', body: { metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } })
  t.equal(replaced.spec?.clusterIP, created.spec?.clusterIP, 'clusterIP kept on replace')
  t.equal(replaced.spec?.ports?.[0]?.nodePort, patched.spec?.ports?.[0]?.nodePort, 'nodePort kept on replace')
  await core.deleteNamespacedService({ name: 'web', namespace: 'default' })
  t.same((await core.listNamespacedService({ namespace: 'default' })).items.map(s => s.metadata?.name), ['kubernetes'])
})

t.test("the official client's informer", async t => {
  const { kubeconfig } = await startTestServer(t)
  const kc = kubeConfig(kubeconfig)
  const core = kc.makeApiClient(CoreV1Api)
  const informer = makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }))
  const seen: string[] = []
  let wake: () => void = () => {}
  informer.on('add', obj => {
    seen.push(`add ${obj.metadata?.name}`)
    wake()
  })
  informer.on('delete', obj => {
    seen.push(`delete ${obj.metadata?.name}`)
    wake()
  })
  await informer.start()
  t.teardown(() => informer.stop())
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'a' }, data: { k: 'v' } } })
  await core.deleteNamespacedConfigMap({ name: 'a', namespace: 'default' })
  while (seen.length < 2) await new Promise<void>(resolve => { wake = resolve })
  t.same(seen, ['add a', 'delete a'])
})
