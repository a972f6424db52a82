// get and describe against a real API server with the real controllers:
// kubectl's tables and headers, -A, -o json|yaml|name|jsonpath, -w streaming
// a change, kubectl's error texts, describe with events.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { startCliCluster, untilPods } from './cluster.ts'

const APP = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}]
        readinessProbe: {httpGet: {path: /, port: 80}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1", b: "2"}
`

const lines = (text: string): string[] => text.split('\n')
const header = (text: string): string => (lines(text)[0] ?? '').replace(/\s+/g, ' ')

t.test('get: kubectl tables, formats and errors', async t => {
  const cluster = await startCliCluster(t)
  const file = join(cluster.dir, 'app.yaml')
  writeFileSync(file, APP)
  t.equal((await cluster.run('apply', '-f', file)).code, 0)
  await untilPods(cluster, 'default', pods => pods.length === 2 && pods.every(p => (p.status as { phase?: string }).phase === 'Running'))
  await cluster.run('rollout', 'status', 'deployment/web', '--timeout=30s')

  const pods = await cluster.run('get', 'pods')
  t.equal(header(pods.out), 'NAME READY STATUS RESTARTS AGE')
  t.equal(lines(pods.out).length, 3)
  t.match(lines(pods.out)[1], /^web-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s+\d+s$/)
  t.match(lines(pods.out)[0], /^NAME {19}READY   STATUS    RESTARTS   AGE$/, 'columns three spaces apart, as kubectl aligns them')
  t.equal(header((await cluster.run('get', 'po', '-o', 'wide')).out), 'NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES')
  t.match((await cluster.run('get', 'Pod', '-o', 'wide')).out, /\s10\.244\.1\.\d+\s+node-[12]\s+<none>\s+<none>/)
  t.equal(header((await cluster.run('get', 'deploy')).out), 'NAME READY UP-TO-DATE AVAILABLE AGE')
  t.match((await cluster.run('get', 'deployments', 'web')).out, /\nweb\s+2\/2\s+2\s+2\s+\d+s$/)
  t.equal(header((await cluster.run('get', 'rs')).out), 'NAME DESIRED CURRENT READY AGE')
  t.match((await cluster.run('get', 'replicasets')).out, /\nweb-[a-z0-9]+\s+2\s+2\s+2\s+\d+s$/)
  const services = await cluster.run('get', 'svc')
  t.equal(header(services.out), 'NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE')
  t.match(services.out, /\nkubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s+\d+s\nweb\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/)
  const nodes = await cluster.run('get', 'no')
  t.equal(header(nodes.out), 'NAME STATUS ROLES AGE VERSION')
  t.match(nodes.out, /\nnode-1\s+Ready\s+<none>\s+\d+s\s+v1\.33\.0-kubewire\n/)
  t.equal(header((await cluster.run('get', 'nodes', '-o', 'wide')).out), 'NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME')
  t.match((await cluster.run('get', 'ns')).out, /^NAME\s+STATUS\s+AGE\ndefault\s+Active\s+\d+s\n/)
  t.match((await cluster.run('get', 'cm', 'settings')).out, /^NAME\s+DATA\s+AGE\nsettings\s+2\s+\d+s$/)
  // A Service without a selector keeps the Endpoints its user writes.
  await cluster.local.create(RESOURCES.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external' }, spec: { ports: [{ port: 80 }] } })
  await cluster.local.create(RESOURCES.endpoints, 'default', {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'external' },
    subsets: [{ addresses: [{ ip: '10.244.1.2' }, { ip: '10.244.2.2' }], ports: [{ port: 80, protocol: 'TCP' }] }],
  })
  t.match((await cluster.run('get', 'ep', 'external')).out, /^NAME\s+ENDPOINTS\s+AGE\nexternal\s+10\.244\.1\.2:80,10\.244\.2\.2:80\s+\d+s$/)
  const events = await cluster.run('get', 'ev')
  t.equal(header(events.out), 'LAST SEEN TYPE REASON OBJECT MESSAGE')
  t.match(events.out, /\d+s\s+Normal\s+ScalingReplicaSet\s+deployment\/web\s+Scaled up replica set web-[a-z0-9]+ to 2/)
  t.match((await cluster.run('get', 'endpointslices')).out, /\nweb-[a-z0-9]{5}\s/, 'the EndpointSlice controller made web\'s slice')

  const all = await cluster.run('get', 'all', '-A')
  const sections = all.out.split('\n\n')
  t.equal(sections.length, 4, 'pods, services, deployments, replicasets')
  t.match(sections[0], /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\ndefault\s+pod\/web-/)
  t.match(sections[1], /^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP/)
  t.match(sections[2], /\ndefault\s+deployment\.apps\/web\s+2\/2/)
  t.match(sections[3], /\ndefault\s+replicaset\.apps\/web-/)
  t.match((await cluster.run('get', 'pods', '--show-labels')).out, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+LABELS\n.*app=web,pod-template-hash=[a-z0-9]+/)
  t.match((await cluster.run('get', 'pods', '-L', 'app')).out, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+APP\n.*\s+web$/m)
  t.equal(lines((await cluster.run('get', 'pods', '-l', 'app=web', '--field-selector', 'status.phase=Running', '--no-headers')).out).length, 2)

  // Machine-readable output.
  const one = JSON.parse((await cluster.run('get', 'deploy', 'web', '-o', 'json')).out) as Record<string, unknown>
  t.match(one, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } })
  t.same(Object.keys(one), ['apiVersion', 'kind', 'metadata', 'spec', 'status'], 'keys sorted, as kubectl prints them')
  const listed = JSON.parse((await cluster.run('get', 'pods', '-o', 'json')).out) as { kind: string; items: Array<{ kind: string }> }
  t.equal(listed.kind, 'List')
  t.same(listed.items.map(i => i.kind), ['Pod', 'Pod'])
  const yaml = (await cluster.run('get', 'svc', 'web', '-o', 'yaml')).out
  t.match(yaml, /^apiVersion: v1\nkind: Service\nmetadata:\n/)
  t.match(yaml, /\n {2}ports:\n {2}- port: 80\n/, 'sequences flush with their key')
  t.match(yaml, /resourceVersion: "\d+"/, 'number-like strings quoted')
  t.match(parse(yaml), { spec: { selector: { app: 'web' } } })
  t.equal((await cluster.run('get', 'deploy,svc', '-o', 'name')).out, 'deployment.apps/web\nservice/external\nservice/kubernetes\nservice/web')
  t.equal((await cluster.run('get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}')).out, '2')
  t.match((await cluster.run('get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}')).out, /^web-\S+\tRunning\nweb-\S+\tRunning$/)
  t.equal((await cluster.run('get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}')).out, 'True True')

  // Errors, as kubectl words them.
  t.same(await cluster.run('get', 'pods', 'nope'), { code: 1, out: '', err: 'Error from server (NotFound): pods "nope" not found' })
  t.same(await cluster.run('get', 'foo'), { code: 1, out: '', err: 'error: the server doesn\'t have a resource type "foo"' })
  t.same(await cluster.run('get', 'pods', '-n', 'empty'), { code: 0, out: '', err: 'No resources found in empty namespace.' })
  t.same(await cluster.run('get', 'pods', '-A', '-l', 'x=y'), { code: 0, out: '', err: 'No resources found' })
  t.same(await cluster.run('get', 'pods', 'nope', '--ignore-not-found'), { code: 0, out: '', err: '' })
  const mixed = await cluster.run('get', 'deploy', 'web', 'nope')
  t.equal(mixed.code, 1)
  t.match(mixed.out, /^NAME\s+READY.*\nweb\s+2\/2/)
  t.equal(mixed.err, 'Error from server (NotFound): deployments.apps "nope" not found')
  t.match((await cluster.run('get', 'pods', '--bogus')).err, /^error: unknown flag: --bogus\nSee 'kubewire get --help' for usage\.$/)
  t.match((await cluster.run('get', 'pods', '-o', 'table')).err, /^error: unable to match a printer suitable for the output format "table"/)
})

t.test('get -w: the table stays open and prints each change', async t => {
  const cluster = await startCliCluster(t)
  await cluster.run('create', 'configmap', 'one', '--from-literal=a=1')
  const watch = cluster.start('get', ['configmaps', '-w'])
  await watch.io.waitForOut(/^one\s+1\s+\d+s$/)
  t.match(watch.io.stdout[0], /^NAME\s+DATA\s+AGE$/)
  await cluster.run('create', 'configmap', 'two-with-a-longer-name', '--from-literal=a=1', '--from-literal=b=2')
  await watch.io.waitForOut(/^two-with-a-longer-name\s+2\s+\d+s$/)
  await cluster.run('delete', 'configmap', 'one')
  await watch.io.waitForOut(/^one\s+1\s+\d+s$/) // printed again when deleted
  watch.abort()
  t.equal(await watch.done, 0, 'ends cleanly when interrupted')
  t.equal(watch.io.stdout.filter(l => /^one\s/.test(l)).length, 2, 'the initial row and the deletion')

  // An empty list prints nothing; the first change brings the header.
  await cluster.run('create', 'namespace', 'fresh')
  const empty = cluster.start('get', ['cm', '-n', 'fresh', '-w'])
  await cluster.run('create', 'configmap', 'late', '-n', 'fresh', '--from-literal=a=1')
  await empty.io.waitForOut(/^late\s+1\s+\d+s$/)
  empty.abort()
  t.equal(await empty.done, 0)
  t.match(empty.io.stdout.join('\n'), /^NAME\s+DATA\s+AGE\nlate\s+1\s+\d+s$/)
  t.same(empty.io.stderr, [], 'no "No resources found" while watching')

  const json = cluster.start('get', ['pods', '--watch-only', '-o', 'name'])
  await cluster.run('create', 'deployment', 'solo', '--image=nginx')
  await json.io.waitForOut(/^pod\/solo-/)
  json.abort()
  t.equal(await json.done, 0)
})

t.test('describe: kubectl layouts with events', async t => {
  const cluster = await startCliCluster(t)
  const file = join(cluster.dir, 'app.yaml')
  writeFileSync(file, APP)
  await cluster.run('apply', '-f', file)
  await cluster.run('rollout', 'status', 'deployment/web', '--timeout=30s')
  const [pod] = await untilPods(cluster, 'default', pods => pods.length === 2)
  const name = pod?.metadata.name ?? ''

  const described = await cluster.run('describe', 'pod', name)
  t.equal(described.code, 0, described.err)
  const text = described.out
  t.match(text, new RegExp(`^Name:         ${name}\nNamespace:    default\nPriority:     0\nNode:         node-[12]/198\\.18\\.0\\.11\nStart Time:   \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} [+-]\\d{4}\nLabels:       app=web\n              pod-template-hash=`))
  t.match(text, /\nStatus:       Running\nIP:           10\.244\.1\.\d+\nIPs:\n {2}IP:           10\.244\.1\.\d+\nControlled By:  ReplicaSet\/web-[a-z0-9]+\n/)
  t.match(text, /\nContainers:\n {2}nginx:\n {4}Container ID:   kubewire:\/\/nginx\n {4}Image:          nginx:1\.25\n/)
  t.match(text, /\n {4}State:          Running\n {6}Started:      .+\n {4}Ready:          True\n {4}Restart Count:  0\n {4}Readiness:      http-get http:\/\/:80\/ delay=0s timeout=1s period=10s #success=1 #failure=3\n/)
  t.match(text, /\nConditions:\n {2}Type {14}Status\n {2}Initialized {7}True \n/)
  t.match(text, /\nQoS Class:          BestEffort\nNode-Selectors:     <none>\nTolerations:        node\.kubernetes\.io\/not-ready:NoExecute op=Exists for 300s\n {20}node\.kubernetes\.io\/unreachable:NoExecute op=Exists for 300s\n/)
  t.match(text, new RegExp(`\nEvents:\n  Type    Reason     Age   From               Message\n  ----    ------     ----  ----               -------\n  Normal  Scheduled  \\d+s +default-scheduler  Successfully assigned default/${name} to node-[12]$`))

  const deployment = (await cluster.run('describe', 'deployments', 'web')).out
  t.match(deployment, /^Name:                   web\nNamespace:              default\nCreationTimestamp:      .+\nLabels:                 app=web\nAnnotations:            deployment\.kubernetes\.io\/revision: 1\nSelector:               app=web\nReplicas:               2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable\nStrategyType:           RollingUpdate\nMinReadySeconds:        0\nRollingUpdateStrategy:  25% max unavailable, 25% max surge\nPod Template:\n {2}Labels:  app=web\n {2}Containers:\n {3}nginx:\n/)
  t.match(deployment, /\nConditions:\n {2}Type {11}Status {2}Reason\n {2}---- {11}------ {2}------\n {2}Available {6}True {4}MinimumReplicasAvailable\n {2}Progressing {4}True {4}NewReplicaSetAvailable\nOldReplicaSets:  <none>\nNewReplicaSet:   web-[a-z0-9]+ \(2\/2 replicas created\)\nEvents:\n/)
  t.match(deployment, /Normal {2}ScalingReplicaSet {2}\d+s +deployment-controller  Scaled up replica set web-[a-z0-9]+ to 2/)

  const service = (await cluster.run('describe', 'svc', 'web')).out
  t.match(service, /^Name:                     web\nNamespace:                default\nLabels:                   <none>\nAnnotations:              <none>\nSelector:                 app=web\nType:                     ClusterIP\n/)
  t.match(service, /\nPort:                     <unset>  80\/TCP\nTargetPort:               80\/TCP\nEndpoints:                .*\nSession Affinity:         None\n/)

  const node = (await cluster.run('describe', 'node', 'node-1')).out
  t.match(node, /^Name:               node-1\nRoles:              <none>\nLabels:             kubernetes\.io\/hostname=node-1\n/)
  t.match(node, /\nConditions:\n {2}Type {4}Status {2}LastHeartbeatTime .*\n {2}---- .*\n {2}Ready {3}True {4}\w{3}, /)
  t.match(node, /\nCapacity:\n {2}cpu: {5}2\n {2}memory: {2}4Gi\n {2}pods: {4}110\n/)
  t.match(node, /\nNon-terminated Pods: +\(\d in total\)\n {2}Namespace +Name +CPU Requests +CPU Limits +Memory Requests +Memory Limits +Age\n/)

  t.match((await cluster.run('describe', 'pods', 'web-')).out, /^Name: .*\n[\s\S]*\n\n\nName: /, 'a name prefix describes every match, separated as kubectl does')
  t.same(await cluster.run('describe', 'pod', 'nope'), { code: 1, out: '', err: 'Error from server (NotFound): pods "nope" not found' })
  t.match((await cluster.run('describe', 'cm', 'settings')).out, /\nData\n====\na:\n----\n1\n\nb:\n----\n2\n\n\nBinaryData\n====\n\nEvents:  <none>$/)
})

t.test('api-resources and version through discovery', async t => {
  const cluster = await startCliCluster(t)
  const resources = await cluster.run('api-resources')
  t.match(resources.out, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\n/)
  t.match(resources.out, /\npods\s+po\s+v1\s+true\s+Pod\n/)
  t.match(resources.out, /\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment\n/)
  t.equal((await cluster.run('api-resources', '--namespaced=false', '-o', 'name')).out, 'namespaces\nnodes\ningressclasses.networking.k8s.io')
  t.match((await cluster.run('version')).out, /^Client Version: v\d+\.\d+\.\d+\S*\nServer Version: v\d+\.\d+\.\d+\S*$/)
  t.match(JSON.parse((await cluster.run('version', '-o', 'json')).out), { clientVersion: { major: '1' }, serverVersion: { major: '1' } })
  t.notOk((await cluster.client.list(RESOURCES.pods, undefined)).items.length)
})
