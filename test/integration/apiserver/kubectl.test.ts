// kubectl against the API server, when kubectl is installed: discovery,
// `apply` (OpenAPI v3 field-validation check, strategic merge patch),
// generator commands (protobuf bodies), server-side printed tables, scale,
// label, delete. Skipped on machines without kubectl.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { runCommand } from '../../../dataplane/exec/run-command.ts'
import { startTestServer } from './server.ts'

const available = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0

t.test('kubectl', { skip: available ? false : 'kubectl is not installed' }, async t => {
  const { kubeconfig, dir } = await startTestServer(t)
  const kubectl = async (...args: string[]): Promise<string> => {
    const { stdout } = await runCommand(['kubectl', '--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kubectl-cache'), '--request-timeout', '20s', ...args])
    return stdout
  }
  const manifest = join(dir, 'app.yaml')
  writeFileSync(
    manifest,
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: "nginx:1.25", ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`,
  )
  t.match(await kubectl('apply', '-f', manifest), /deployment.apps\/web created\s+service\/web created/)
  t.match(await kubectl('apply', '-f', manifest), /deployment.apps\/web unchanged\s+service\/web unchanged/)
  writeFileSync(manifest, (await import('node:fs')).readFileSync(manifest, 'utf8').replace('nginx:1.25', 'nginx:1.26'))
  t.match(await kubectl('apply', '-f', manifest), /deployment.apps\/web configured/)
  const deployment = JSON.parse(await kubectl('get', 'deployment', 'web', '-o', 'json'))
  t.equal(deployment.spec.template.spec.containers[0].image, 'nginx:1.26')
  t.equal(deployment.metadata.generation, 2)

  t.match(await kubectl('create', 'namespace', 'team'), /namespace\/team created/)
  t.match(await kubectl('run', 'client', '-n', 'team', '--image=busybox', '--restart=Never', '--labels=role=client', '--', 'sleep', '3600'), /pod\/client created/)
  t.match(await kubectl('create', 'configmap', 'settings', '-n', 'team', '--from-literal=mode=fast'), /configmap\/settings created/)
  t.match(await kubectl('expose', 'pod', 'client', '-n', 'team', '--port=80', '--name=client-svc'), /service\/client-svc exposed/)

  const pods = await kubectl('get', 'pods', '-n', 'team')
  t.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nclient\s+0\/1\s+Pending\s+0\s+\d+s/)
  t.match(await kubectl('get', 'svc', 'web'), /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nweb\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP/)
  t.match(await kubectl('get', 'pods', '-n', 'team', '--show-labels'), /role=client/)
  t.match(await kubectl('scale', 'deployment', 'web', '--replicas=5'), /deployment.apps\/web scaled/)
  t.match(await kubectl('get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'), /^5$/)
  t.match(await kubectl('label', 'pod', 'client', '-n', 'team', 'tier=x'), /pod\/client labeled/)
  t.match(await kubectl('get', 'pods', '-A', '-l', 'tier=x', '-o', 'name'), /^pod\/client$/m)
  t.match(await kubectl('api-resources', '--api-group=apps'), /deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/)
  t.match(await kubectl('delete', '-f', manifest), /deployment.apps "web" deleted\s+service "web" deleted/)
  t.match(await kubectl('delete', 'namespace', 'team', '--wait=true'), /namespace "team" deleted/)
  t.match(await kubectl('get', 'namespaces', '-o', 'name'), /^(?!.*team)/s)
})
