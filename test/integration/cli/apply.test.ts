// apply / create / expose against a real API server with the real
// controllers: created → unchanged → configured, the three-way merge keeping
// what controllers and the server set, bad documents reported (with their
// number) while the rest is applied, kubectl's error texts.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { startCliCluster, untilPods } from './cluster.ts'

const APP = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, tier: frontend}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
`

t.test('apply: create, unchanged, configured; the three-way merge keeps what others set', async t => {
  const cluster = await startCliCluster(t)
  const file = join(cluster.dir, 'app.yaml')
  writeFileSync(file, APP)

  const first = await cluster.run('apply', '-f', file)
  t.equal(first.code, 0, first.err)
  t.equal(first.out, 'namespace/shop created\ndeployment.apps/web created\nservice/web created')
  const deployment = await cluster.client.get(RESOURCES.deployments, 'shop', 'web')
  const annotation = deployment.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? ''
  t.ok(annotation.endsWith('\n'), 'the annotation ends in a newline, as kubectl writes it')
  t.match(JSON.parse(annotation), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { annotations: {}, name: 'web', namespace: 'shop' } })
  t.notOk(annotation.includes('last-applied'), 'the annotation does not carry itself')

  // The controllers run: pods come up, the deployment gets status, the service an IP.
  await untilPods(cluster, 'shop', pods => pods.length === 1)
  const again = await cluster.run('apply', '-f', file)
  t.equal(again.out, 'namespace/shop unchanged\ndeployment.apps/web unchanged\nservice/web unchanged', 'defaults and controller fields are no change')

  // kubectl scale on a manifest that leaves replicas out: apply keeps the scale.
  t.equal((await cluster.run('scale', 'deployment/web', '-n', 'shop', '--replicas=3')).out, 'deployment.apps/web scaled')
  const service = await cluster.client.get(RESOURCES.services, 'shop', 'web')
  const clusterIP = (service.spec as { clusterIP?: string }).clusterIP
  t.match(clusterIP, /^10\./)

  writeFileSync(file, APP.replace('nginx:1.25', 'nginx:1.26'))
  const changed = await cluster.run('apply', '-f', file)
  t.equal(changed.out, 'namespace/shop unchanged\ndeployment.apps/web configured\nservice/web unchanged')
  const after = await cluster.client.get<KubeObject & { spec: { replicas: number; template: { spec: { containers: Array<{ image: string; imagePullPolicy?: string }> } } } }>(RESOURCES.deployments, 'shop', 'web')
  t.equal(after.spec.replicas, 3, 'replicas set by scale survive')
  t.equal(after.spec.template.spec.containers[0]?.image, 'nginx:1.26')
  t.equal(after.spec.template.spec.containers[0]?.imagePullPolicy, 'IfNotPresent', 'the server defaulted the replaced container list again')
  t.match(after.metadata.annotations, { 'deployment.kubernetes.io/revision': /\d/ }, 'controller annotations survive')
  t.equal(((await cluster.client.get(RESOURCES.services, 'shop', 'web')).spec as { clusterIP?: string }).clusterIP, clusterIP, 'clusterIP survives')

  // A field removed from the manifest is removed from the object; others' labels stay.
  await cluster.client.patch(RESOURCES.deployments, 'shop', 'web', { metadata: { labels: { 'added-by': 'someone' } } }, 'merge')
  const trimmed = APP.replace('nginx:1.25', 'nginx:1.26').replace('labels: {app: web, tier: frontend}', 'labels: {app: web}')
  writeFileSync(file, trimmed)
  t.equal((await cluster.run('apply', '-f', file)).out, 'namespace/shop unchanged\ndeployment.apps/web configured\nservice/web unchanged')
  const relabeled = await cluster.client.get(RESOURCES.deployments, 'shop', 'web')
  t.same(relabeled.metadata.labels, { app: 'web', 'added-by': 'someone' }, 'the label removed from the manifest went, the foreign one stayed')

  // stdin and -o name.
  const piped = await cluster.runWithStdin(trimmed, 'apply', '-f', '-', '-o', 'name')
  t.equal(piped.out, 'namespace/shop\ndeployment.apps/web\nservice/web')
})

t.test('apply: a bad document applies nothing of itself, the others go in', async t => {
  const cluster = await startCliCluster(t)
  const file = join(cluster.dir, 'mixed.yaml')
  writeFileSync(
    file,
    `apiVersion: v1
kind: ConfigMap
metadata: {name: first}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  labels: {a: b}
data: {b: "2"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: other}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Foo
metadata: {name: x}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: last}
`,
  )
  const result = await cluster.run('apply', '-f', file)
  t.equal(result.code, 1)
  t.equal(result.out, 'configmap/first created\nconfigmap/last created')
  t.equal(
    result.err,
    [
      `error validating "${file}": document 2: metadata.name: Required value: name is required`,
      `Error from server (Invalid): error when creating "${file}": Deployment.apps "broken" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: \`selector\` does not match template \`labels\``,
      `resource mapping not found for name: "x" namespace: "" from "${file}": no matches for kind "Foo" in version "v1"`,
      'ensure CRDs are installed first',
    ].join('\n'),
  )
  const names = (await cluster.client.list(RESOURCES.configmaps, 'default')).items.map(c => c.metadata.name)
  t.same(names.sort(), ['first', 'last'])
  t.equal((await cluster.client.list(RESOURCES.deployments, 'default')).items.length, 0, 'nothing of the invalid deployment')

  // One failure alone reads as kubectl prints a single error.
  const single = join(cluster.dir, 'single.yaml')
  writeFileSync(single, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: other}}\n    spec: {containers: [{name: c, image: nginx}]}\n')
  t.equal(
    (await cluster.run('apply', '-f', single)).err,
    'The Deployment "broken" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`',
  )
  writeFileSync(single, 'apiVersion: v1\nkind: Foo\nmetadata: {name: x}\n')
  t.equal((await cluster.run('apply', '-f', single)).err, `error: resource mapping not found for name: "x" namespace: "" from "${single}": no matches for kind "Foo" in version "v1"\nensure CRDs are installed first`)

  // A YAML syntax error stops everything before any write.
  writeFileSync(single, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: never}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [\n')
  const syntax = await cluster.run('apply', '-f', single)
  t.equal(syntax.code, 1)
  t.match(syntax.err, new RegExp(`^error: error parsing ${single.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: document 2: error converting YAML to JSON: yaml: line \\d+: `))
  t.equal(syntax.out, '')
  await t.rejects(cluster.client.get(RESOURCES.configmaps, 'default', 'never'), { code: 'NotFound' })
})

t.test('apply -f DIR, -n, and namespace mismatches', async t => {
  const cluster = await startCliCluster(t)
  const dir = join(cluster.dir, 'manifests')
  mkdirSync(dir)
  writeFileSync(join(dir, 'b.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n')
  writeFileSync(join(dir, 'a.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }))
  writeFileSync(join(dir, 'notes.txt'), 'not a manifest')
  await cluster.run('create', 'namespace', 'team')
  const applied = await cluster.run('apply', '-f', dir, '-n', 'team')
  t.equal(applied.out, 'configmap/a created\nconfigmap/b created', 'name order, only manifest extensions')
  t.ok(await cluster.client.get(RESOURCES.configmaps, 'team', 'a'))
  writeFileSync(join(dir, 'a.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'other' } }))
  t.equal(
    (await cluster.run('apply', '-f', join(dir, 'a.json'), '-n', 'team')).err,
    `error: the namespace from the provided object "other" does not match the namespace "team". You must pass '--namespace=other' to perform this operation.`,
  )
  t.equal((await cluster.run('apply', '-f', join(cluster.dir, 'missing.yaml'))).err, `error: the path "${join(cluster.dir, 'missing.yaml')}" does not exist`)
})

t.test('create -f, create namespace / deployment / configmap, expose', async t => {
  const cluster = await startCliCluster(t)
  const file = join(cluster.dir, 'app.yaml')
  writeFileSync(file, APP)
  t.equal((await cluster.run('create', '-f', file)).out, 'namespace/shop created\ndeployment.apps/web created\nservice/web created')
  const again = await cluster.run('create', '-f', file)
  t.equal(again.code, 1)
  t.equal(
    again.err,
    [
      `Error from server (AlreadyExists): error when creating "${file}": namespaces "shop" already exists`,
      `Error from server (AlreadyExists): error when creating "${file}": deployments.apps "web" already exists`,
      `Error from server (AlreadyExists): error when creating "${file}": services "web" already exists`,
    ].join('\n'),
  )
  const web = await cluster.client.get(RESOURCES.deployments, 'shop', 'web')
  t.equal(web.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined, 'create does not save the config')

  t.equal((await cluster.run('create', 'namespace', 'team')).out, 'namespace/team created')
  t.equal((await cluster.run('create', 'ns', 'team')).err, 'Error from server (AlreadyExists): namespaces "team" already exists')
  t.equal((await cluster.run('create', 'deployment', 'api', '-n', 'team', '--image=registry.local/agnhost:2.40', '--replicas=2', '--port=8080', '--', 'agnhost', 'netexec')).out, 'deployment.apps/api created')
  const api = await cluster.client.get<KubeObject & { spec: { replicas: number; selector: unknown; template: { spec: { containers: unknown[] } } } }>(RESOURCES.deployments, 'team', 'api')
  t.equal(api.spec.replicas, 2)
  t.same(api.spec.selector, { matchLabels: { app: 'api' } })
  t.match(api.spec.template.spec.containers, [{ name: 'agnhost', image: 'registry.local/agnhost:2.40', command: ['agnhost', 'netexec'], ports: [{ containerPort: 8080 }] }])
  t.equal((await cluster.run('create', 'configmap', 'settings', '-n', 'team', '--from-literal=mode=fast', '--from-literal=level=3')).out, 'configmap/settings created')
  t.same((await cluster.client.get(RESOURCES.configmaps, 'team', 'settings')).data, { mode: 'fast', level: '3' })

  t.equal((await cluster.run('expose', 'deployment', 'api', '-n', 'team', '--port=80', '--target-port=8080', '--type=NodePort')).out, 'service/api exposed')
  const svc = await cluster.client.get<KubeObject & { spec: { selector: unknown; type: string; ports: Array<Record<string, unknown>> } }>(RESOURCES.services, 'team', 'api')
  t.same(svc.spec.selector, { app: 'api' })
  t.equal(svc.spec.type, 'NodePort')
  t.match(svc.spec.ports, [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: Number }])
  t.same(svc.metadata.labels, { app: 'api' }, 'the service carries the deployment labels')
  t.equal((await cluster.run('expose', 'deploy/api', '-n', 'team', '--name=api2')).out, 'service/api2 exposed', 'the port found from the containers')

  const dryRun = await cluster.run('create', 'deployment', 'preview', '--image=nginx', '--dry-run=client', '-o', 'yaml')
  t.match(dryRun.out, /^apiVersion: apps\/v1\nkind: Deployment\n/)
  await t.rejects(cluster.client.get(RESOURCES.deployments, 'default', 'preview'), { code: 'NotFound' }, 'dry run creates nothing')
})
