import t from 'tap'
import { containerEnv, expand } from '../../../control/agent/container-env.ts'
import type { Pod } from '../../../control/agent/pod-spec.ts'
import { probeAction, resolvePort } from '../../../control/agent/pod-spec.ts'

const pod: Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u1', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
}
const ctx = { pod, podIP: '10.244.1.5', hostIP: '198.18.0.11', nodeName: 'node-1', configMapValue: (n: string, k: string) => (n === 'cfg' && k === 'mode' ? 'fast' : undefined) }

t.test('env: base, values, references, fields, configmaps', async t => {
  const env = containerEnv([
    { name: 'GREETING', value: 'hello' },
    { name: 'MSG', value: '$(GREETING) from $(POD_NAME) $(NOPE) $$(GREETING)' },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
    { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
    { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'missing', optional: true } } },
  ], ctx)
  t.equal(env.HOSTNAME, 'web-1')
  t.match(env.PATH, /\/usr\/bin/)
  t.equal(env.MSG, 'hello from $(POD_NAME) $(NOPE) $(GREETING)', 'only earlier variables expand')
  t.same([env.POD_NAME, env.POD_IP, env.NODE, env.APP, env.MODE], ['web-1', '10.244.1.5', 'node-1', 'web', 'fast'])
  t.notOk('OPT' in env)
  t.throws(() => containerEnv([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope' } } }], ctx), { code: 'CreateContainerConfigError', message: /key nope in ConfigMap shop\/cfg/ })
  t.equal(expand('a$$b', {}), 'a$b')
})

t.test('probe ports by number or by name', async t => {
  const c = pod.spec.containers[0]!
  t.equal(resolvePort('http', c), 8080)
  t.equal(resolvePort(9000, c), 9000)
  t.equal(resolvePort('nope', c), undefined)
  t.same(probeAction({ httpGet: { path: '/healthz', port: 'http' } }, c), { httpGet: { path: '/healthz', port: 8080 } })
  t.same(probeAction({ tcpSocket: { port: 81 } }, c), { tcpSocket: { port: 81 } })
  t.equal(probeAction({ httpGet: { port: 'nope' } }, c), undefined)
})
