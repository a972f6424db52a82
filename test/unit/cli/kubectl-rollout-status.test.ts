// kubectl's DeploymentStatusViewer messages, in its order of checks.

import t from 'tap'
import { deploymentRolloutStatus } from '../../../control/cli/kubectl/rollout-status.ts'
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
