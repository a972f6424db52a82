// In-cluster credentials: the `kubernetes` Service variables every container
// gets, the service-account files and mount, automountServiceAccountToken:
// false, and a container's own mount at the path winning.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { containerEnv } from '../../../control/agent/container-env.ts'
import type { Pod } from '../../../control/agent/pod-spec.ts'
import {
  automountsServiceAccountToken,
  inClusterEnv,
  podCredentials,
  SERVICE_ACCOUNT_MOUNT_PATH,
  serviceAccountFiles,
  serviceAccountDir,
  serviceAccountMount,
} from '../../../control/agent/service-account.ts'
import { verifyServiceAccountToken } from '../../../control/apiserver/tls/service-account-token.ts'

const source = { serviceHost: '10.96.0.1', servicePort: 443, caCert: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n', serviceAccountKey: 'k3y' }
const pod = (spec: Partial<Pod['spec']> & Record<string, unknown> = {}): Pod => ({
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u1' },
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
})

t.test('every container gets the kubernetes Service variables; its own env wins', async t => {
  t.same(inClusterEnv(source), { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', KUBERNETES_SERVICE_PORT_HTTPS: '443' })
  const env = containerEnv([{ name: 'KUBERNETES_SERVICE_PORT', value: '6443' }], {
    pod: pod(), podIP: '10.244.1.5', hostIP: '198.18.0.11', nodeName: 'node-1', extra: inClusterEnv(source),
  })
  t.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1')
  t.equal(env.KUBERNETES_SERVICE_PORT, '6443', 'a container may override them')
})

t.test('token, ca.crt and namespace, unless the pod opts out', async t => {
  const files = serviceAccountFiles(pod(), source)
  t.same(Object.keys(files ?? {}).sort(), ['ca.crt', 'namespace', 'token'])
  t.equal(files?.namespace, 'shop')
  t.equal(files?.['ca.crt'], source.caCert)
  t.equal(verifyServiceAccountToken(source.serviceAccountKey, files?.token ?? ''), 'shop', 'the token names the pod\'s namespace')
  t.equal(automountsServiceAccountToken(pod()), true)
  t.equal(automountsServiceAccountToken(pod({ automountServiceAccountToken: true })), true)
  t.equal(automountsServiceAccountToken(pod({ automountServiceAccountToken: false })), false)
  t.equal(serviceAccountFiles(pod({ automountServiceAccountToken: false }), source), undefined)
})

t.test('the mount is read-only at the well-known path; a container\'s own mount there wins', async t => {
  t.same(serviceAccountMount({ name: 'c', image: 'x' }, '/state/pod/sa'), { source: '/state/pod/sa', target: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true })
  t.equal(SERVICE_ACCOUNT_MOUNT_PATH, '/var/run/secrets/kubernetes.io/serviceaccount')
  const own = { name: 'c', image: 'x', volumeMounts: [{ name: 'mine', mountPath: `${SERVICE_ACCOUNT_MOUNT_PATH}/` }] }
  t.equal(serviceAccountMount(own, '/state/pod/sa'), undefined)
})

t.test('podCredentials writes the files into the namespace\'s directory, once', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-sa-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const saDir = serviceAccountDir(dir, 'shop')
  t.equal(saDir, join(dir, 'serviceaccount', 'shop'))
  const credentials = podCredentials(pod(), saDir, source)
  t.same(credentials.env, inClusterEnv(source))
  t.equal(readFileSync(join(saDir, 'namespace'), 'utf8'), 'shop')
  t.equal(readFileSync(join(saDir, 'ca.crt'), 'utf8'), source.caCert)
  t.equal(statSync(join(saDir, 'token')).mode & 0o777, 0o644)
  const own = { name: 'c', image: 'x', volumeMounts: [{ name: 'mine', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] }
  t.same(credentials.mounts(own, join(dir, 'ledger')), [], 'no mountpoint made for a container that brings its own')
  const before = statSync(join(saDir, 'token')).ino
  podCredentials(pod(), saDir, source)
  t.equal(statSync(join(saDir, 'token')).ino, before, 'the next pod of the namespace reuses the files')
  rmSync(saDir, { recursive: true })
  podCredentials(pod(), saDir, source)
  t.equal(readFileSync(join(saDir, 'namespace'), 'utf8'), 'shop', 'made again when removed')
  const optedOut = podCredentials(pod({ automountServiceAccountToken: false }), join(dir, 'other'), source)
  t.same(optedOut.env, inClusterEnv(source), 'the variables come anyway')
  t.same(optedOut.mounts({ name: 'c', image: 'x' }, join(dir, 'ledger')), [])
})
