import t from 'tap'
import { planRollback, rolloutHistory } from '../../../control/controllers/deployment-rollback.ts'
import { applyMergePatch } from '../../../control/api/merge-patch.ts'
import type { Deployment, ReplicaSet } from '../../../control/controllers/objects.ts'
import { deployment, replicaSet, template } from './fakes/builders.ts'

function history(): { d: Deployment; rss: ReplicaSet[] } {
  const d = deployment('web', { template: template({ app: 'web' }, 'nginx:3') }, {
    annotations: { 'deployment.kubernetes.io/revision': '3', team: 'now', 'kubectl.kubernetes.io/last-applied-configuration': '{"x":1}' },
  })
  const rs = (rev: number, image: string, annotations: Record<string, string> = {}): ReplicaSet =>
    replicaSet({
      name: `web-${rev}`,
      owner: d,
      created: rev,
      template: { metadata: { labels: { app: 'web', 'pod-template-hash': `h${rev}` } }, spec: { containers: [{ name: 'c', image }] } },
      annotations: { 'deployment.kubernetes.io/revision': String(rev), 'deployment.kubernetes.io/desired-replicas': '3', ...annotations },
    })
  const foreign = replicaSet({ name: 'other-9', uid: 'uid-other', annotations: { 'deployment.kubernetes.io/revision': '9' } })
  return { d, rss: [rs(1, 'nginx:1', { team: 'then' }), rs(2, 'nginx:2'), rs(3, 'nginx:3'), foreign] }
}

t.test('undo to the previous revision', async t => {
  const { d, rss } = history()
  const plan = planRollback(d, rss)
  if (plan.kind !== 'patch') throw new Error(JSON.stringify(plan))
  t.equal(plan.revision, 2)
  t.equal(plan.replicaSet, 'web-2')
  t.same(plan.template.metadata?.labels, { app: 'web' }, 'the hash label is dropped')
  t.same(plan.annotations, {
    'deployment.kubernetes.io/revision': '3',
    'kubectl.kubernetes.io/last-applied-configuration': '{"x":1}',
  }, "the controller's own annotations stay, the rest come from the ReplicaSet")
  const patched = applyMergePatch(d, plan.mergePatch) as unknown as Deployment
  t.same(patched.spec?.template, plan.template, 'the merge patch yields the old template')
  t.same(patched.metadata.annotations, plan.annotations, 'and the annotations, removals included')
  t.same(plan.jsonPatch.map(p => p.path), ['/spec/template', '/metadata/annotations'])
})

t.test('undo --to-revision', async t => {
  const { d, rss } = history()
  const plan = planRollback(d, rss, 1)
  if (plan.kind !== 'patch') throw new Error(JSON.stringify(plan))
  t.equal(plan.replicaSet, 'web-1')
  t.equal(plan.annotations['team'], 'then')
  t.same(planRollback(d, rss, 3), { kind: 'skipped', revision: 3, message: 'skipped rollback (current template already matches revision)' })
  t.same(planRollback(d, rss, 7), { kind: 'error', message: 'unable to find specified revision 7 in history' })
  t.same(planRollback(d, rss, 9), { kind: 'error', message: 'unable to find specified revision 9 in history' }, "another deployment's ReplicaSet does not count")
  t.same(planRollback(d, []), { kind: 'error', message: 'no rollout history found for deployment "web"' })
  const paused = structuredClone(d)
  paused.spec!.paused = true
  t.same(planRollback(paused, rss, 1), {
    kind: 'error',
    message: "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
  })
  t.same(rolloutHistory(d, rss), [
    { revision: 1, replicaSet: 'web-1' },
    { revision: 2, replicaSet: 'web-2' },
    { revision: 3, replicaSet: 'web-3' },
  ])
})
