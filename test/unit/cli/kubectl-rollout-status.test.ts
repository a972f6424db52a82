// kubectl's DeploymentStatusViewer, StatefulSetStatusViewer and
// DaemonSetStatusViewer messages, in their order of checks.

import t from 'tap'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { daemonSetRolloutStatus, deploymentRolloutStatus, statefulSetRolloutStatus } from '../../../control/cli/kubectl/rollout-status.ts'
import type { Deployment } from '../../../control/controllers/objects.ts'

const deployment = (generation: number, status: Deployment['status'], replicas = 3, annotations: Record<string, string> = {}): Deployment => ({
  metadata: { name: 'web', generation, annotations },
  spec: { replicas },
  status,
})

t.test('the lines and when it is done', async t => {
  const cases: Array<[Deployment, string, boolean]> = [
    [deployment(2, { observedGeneration: 1 }), 'Waiting for deployment spec update to be observed...', false],
    [deployment(2, { observedGeneration: 2, updatedReplicas: 1, replicas: 4 }), 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...', false],
    [deployment(2, { observedGeneration: 2, updatedReplicas: 3, replicas: 4 }), 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...', false],
    [deployment(2, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 1 }), 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...', false],
    [deployment(2, { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }), 'deployment "web" successfully rolled out', true],
    [deployment(1, { observedGeneration: 1 }, 0), 'deployment "web" successfully rolled out', true],
  ]
  for (const [d, message, done] of cases) t.same(deploymentRolloutStatus(d), { message, done }, message)
})

t.test('errors: deadline exceeded, another revision', async t => {
  const stuck = deployment(1, { observedGeneration: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] })
  t.throws(() => deploymentRolloutStatus(stuck), { message: 'deployment "web" exceeded its progress deadline' })
  const revised = deployment(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }, 3, { 'deployment.kubernetes.io/revision': '4' })
  t.throws(() => deploymentRolloutStatus(revised, 2), { message: 'desired revision (2) is different from the running revision (4)' })
  t.same(deploymentRolloutStatus(revised, 4).done, true)
})

t.test('StatefulSetStatusViewer: observed, ready, partitioned, revisions', async t => {
  const set = (generation: number, status: Record<string, unknown>, strategy: Record<string, unknown> = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, replicas = 3): KubeObject => ({
    metadata: { name: 'web', generation },
    spec: { replicas, updateStrategy: strategy },
    status,
  })
  const noBlock = { type: 'RollingUpdate' }
  const cases: Array<[KubeObject, string, boolean]> = [
    [set(1, {}), 'Waiting for statefulset spec update to be observed...', false],
    [set(2, { observedGeneration: 1 }), 'Waiting for statefulset spec update to be observed...', false],
    [set(2, { observedGeneration: 2, readyReplicas: 1 }), 'Waiting for 2 pods to be ready...', false],
    [set(2, { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1 }, { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }), 'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...', false],
    [set(2, { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 2 }, { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }), 'partitioned roll out complete: 2 new pods have been updated...', true],
    [set(2, { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1 }), 'Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...', false],
    [set(2, { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 3 }), 'partitioned roll out complete: 3 new pods have been updated...', true],
    [set(2, { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1, currentRevision: 'web-a', updateRevision: 'web-b' }, noBlock), 'waiting for statefulset rolling update to complete 1 pods at revision web-b...', false],
    [set(2, { observedGeneration: 2, readyReplicas: 3, currentReplicas: 3, currentRevision: 'web-b', updateRevision: 'web-b' }, noBlock), 'statefulset rolling update complete 3 pods at revision web-b...', true],
  ]
  for (const [s, message, done] of cases) t.same(statefulSetRolloutStatus(s), { message, done }, message)
  t.throws(() => statefulSetRolloutStatus(set(1, { observedGeneration: 1 }, { type: 'OnDelete' })), { message: 'rollout status is only available for RollingUpdate strategy type' })
})

t.test('DaemonSetStatusViewer: observed, updated, available', async t => {
  const set = (generation: number, status: Record<string, unknown>, type = 'RollingUpdate'): KubeObject => ({ metadata: { name: 'agent', generation }, spec: { updateStrategy: { type } }, status })
  const cases: Array<[KubeObject, string, boolean]> = [
    [set(2, { observedGeneration: 1 }), 'Waiting for daemon set spec update to be observed...', false],
    [set(2, { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 1 }), 'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...', false],
    [set(2, { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 }), 'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...', false],
    [set(2, { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }), 'daemon set "agent" successfully rolled out', true],
    [set(1, { observedGeneration: 1 }), 'daemon set "agent" successfully rolled out', true],
  ]
  for (const [s, message, done] of cases) t.same(daemonSetRolloutStatus(s), { message, done }, message)
  t.throws(() => daemonSetRolloutStatus(set(1, {}, 'OnDelete')), { message: 'rollout status is only available for RollingUpdate strategy type' })
})
