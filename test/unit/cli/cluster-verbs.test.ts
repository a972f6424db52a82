// Which container `logs` and `exec` act on (and kubectl's notice when it chose), and the conditions `wait` reads.

import t from 'tap'
import { hasCondition, pickContainer, type PodObject } from '../../../control/cli/cluster-verbs.ts'

const pod = (annotations?: Record<string, string>): PodObject => ({
  metadata: { name: 'web', ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: 'server', image: 'nginx' }, { name: 'sidecar', image: 'busybox' }], initContainers: [{ name: 'prepare' }] },
})

t.test('without -c: the first container, and the notice kubectl prints', async t => {
  t.same(pickContainer(pod(), undefined), { name: 'server', notice: 'Defaulted container "server" out of: server, sidecar, prepare (init)' })
})

t.test('-c picks any container, init ones too, silently', async t => {
  t.same(pickContainer(pod(), 'sidecar'), { name: 'sidecar' })
  t.same(pickContainer(pod(), 'prepare'), { name: 'prepare' })
})

t.test('the default-container annotation', async t => {
  t.same(pickContainer(pod({ 'kubectl.kubernetes.io/default-container': 'sidecar' }), undefined), { name: 'sidecar' })
  t.same(pickContainer(pod({ 'kubectl.kubernetes.io/default-container': 'gone' }), undefined).name, 'server', 'an unknown name is ignored')
})

t.test('a single container needs no notice', async t => {
  t.same(pickContainer({ metadata: { name: 'one' }, spec: { containers: [{ name: 'only', image: 'x' }] } }, undefined), { name: 'only' })
})

t.test('an unknown container is an error naming it and the pod', async t => {
  t.throws(() => pickContainer(pod(), 'nope'), { message: 'container nope is not valid for pod web' })
})

t.test('hasCondition: type without case, status True unless asked', async t => {
  const job = { metadata: { name: 'j' }, status: { conditions: [{ type: 'Complete', status: 'True' }, { type: 'Failed', status: 'False' }] } }
  t.ok(hasCondition(job, 'complete'))
  t.notOk(hasCondition(job, 'Failed'))
  t.ok(hasCondition(job, 'Failed', 'false'))
  t.notOk(hasCondition({ metadata: { name: 'x' } }, 'Ready'), 'no status, no condition')
})
