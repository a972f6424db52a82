// Byte-for-byte parity with kubectl, when kubectl is installed: the same
// read-only commands, run by kubectl and by our verbs against the same API
// server, must print the same text. (Skipped on machines without kubectl.)
//
// Left out on purpose: `get events -o wide` (kubectl prints the server's
// Table, which has no wide event columns; we print kubectl's own printer's)
// and `describe node` (kubectl adds a Lease line the server cannot serve).

import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { runCommand } from '../../../dataplane/exec/run-command.ts'
import { startCliCluster, untilPods } from './cluster.ts'

const available = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0

const APP = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}, annotations: {team: blue}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}, {containerPort: 443}]
        env: [{name: MODE, value: fast}]
        readinessProbe: {httpGet: {path: /healthz, port: 80}}
        resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: fast}
`

t.test('our output equals kubectl\'s', { skip: available ? false : 'kubectl is not installed' }, async t => {
  const cluster = await startCliCluster(t)
  const file = join(cluster.dir, 'app.yaml')
  writeFileSync(file, APP)
  t.equal((await cluster.run('apply', '-f', file)).code, 0)
  t.equal((await cluster.run('rollout', 'status', 'deployment/web', '-n', 'shop', '--timeout=60s')).code, 0)
  const [pod] = await untilPods(cluster, 'shop', pods => pods.length === 2)
  const podName = pod?.metadata.name ?? ''

  const kubectl = async (args: string[]): Promise<string> => {
    const { stdout, stderr } = await runCommand(['kubectl', '--kubeconfig', cluster.kubeconfig, '--cache-dir', join(cluster.dir, 'kubectl-cache'), ...args], { allowFailure: true })
    return [stdout.replace(/\n$/, ''), stderr.replace(/\n$/, '')].filter(s => s !== '').join('\n')
  }
  const ours = async (args: string[]): Promise<string> => {
    const [verb, ...rest] = args as [string, ...string[]]
    const { out, err } = await cluster.run(verb, ...rest)
    return [out, err].filter(s => s !== '').join('\n')
  }

  const commands: string[][] = [
    ['get', 'nodes'],
    ['get', 'nodes', '-o', 'wide'],
    ['get', 'ns'],
    ['get', 'all', '-n', 'shop'],
    ['get', 'all', '-A'],
    ['get', 'pods', '-n', 'shop', '-o', 'wide'],
    ['get', 'pods', '-n', 'shop', '--show-labels'],
    ['get', 'deploy,rs', '-n', 'shop', '-o', 'wide'],
    ['get', 'svc', '-A'],
    ['get', 'cm', '-n', 'shop'],
    ['get', 'events', '-n', 'shop'],
    ['get', 'deploy', 'web', '-n', 'shop', '-o', 'yaml'],
    ['get', 'svc', '-n', 'shop', '-o', 'json'],
    ['get', 'pods', '-A', '-o', 'name'],
    ['get', 'foo'],
    ['get', 'pod', 'nope', '-n', 'shop'],
    ['get', 'pods', '-n', 'empty'],
    ['describe', 'pod', podName, '-n', 'shop'],
    ['describe', 'deployment', 'web', '-n', 'shop'],
    ['describe', 'svc', 'web', '-n', 'shop'],
    ['describe', 'rs', '-n', 'shop'],
    ['describe', 'cm', 'settings', '-n', 'shop'],
    ['rollout', 'history', 'deployment/web', '-n', 'shop'],
    ['rollout', 'history', 'deployment/web', '-n', 'shop', '--revision=1'],
    ['api-resources'],
    ['api-resources', '--namespaced=false', '-o', 'wide'],
  ]
  for (const args of commands) {
    // Ages tick between the two runs; a second try settles the rare edge.
    let theirs = ''
    let mine = ''
    for (let attempt = 0; attempt < 3; attempt++) {
      theirs = await kubectl(args)
      mine = await ours(args)
      if (theirs === mine) break
    }
    t.equal(mine, theirs, args.join(' '))
  }
})
