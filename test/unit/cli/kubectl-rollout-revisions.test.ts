// History and rollback over ControllerRevisions (rollout-revisions.ts): which
// revisions a set controls, the history rows, the template of revision N,
// and kubectl's rollback decisions and errors. The revisions fixture was
// read from an API server (a StatefulSet "web" with two, a DaemonSet with one);
// rollout-history-statefulset*.txt are kubectl's output for them.

import { readFileSync } from 'node:fs'
import t from 'tap'
import type { ControllerRevision } from '../../../control/controllers/controller-history.ts'
import type { PodTemplateSpec } from '../../../control/controllers/objects.ts'
import type { RevisionOwner } from '../../../control/cli/kubectl/rollout-revisions.ts'
import { controlledRevisions, historyRows, planRevisionRollback, templateOfRevision } from '../../../control/cli/kubectl/rollout-revisions.ts'
import { describePodTemplate } from '../../../control/cli/kubectl/describe-containers.ts'
import { DescribeWriter } from '../../../control/cli/kubectl/describe-writer.ts'
import { tabbed } from '../../../control/cli/kubectl/tab-writer.ts'

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
const revisions = JSON.parse(fixture('rollout-revisions.json')) as ControllerRevision[]
const web = JSON.parse(fixture('describe-statefulset.json')) as RevisionOwner

t.test('a set controls the revisions with its selector and its uid', async t => {
  const owned = controlledRevisions(web, revisions)
  t.same(owned.map(r => r.revision), [1, 2])
  t.same(controlledRevisions({ ...web, metadata: { ...web.metadata, uid: 'other' } }, revisions), [], 'another set of the same name')
  t.same(controlledRevisions({ ...web, spec: { ...web.spec, selector: { matchLabels: { app: 'agent' } } } }, revisions), [], 'labels must match too')
})

t.test('history rows and revision templates print as kubectl prints them', async t => {
  const owned = controlledRevisions(web, revisions)
  const rows = historyRows(owned, 'kubernetes.io/change-cause')
  t.same(rows, [{ revision: 1, changeCause: 'first' }, { revision: 2, changeCause: '<none>' }])
  const text = `statefulset.apps/web \n${tabbed('REVISION\tCHANGE-CAUSE\n' + rows.map(r => `${r.revision}\t${r.changeCause}\n`).join(''))}\n`
  t.equal(text, fixture('rollout-history-statefulset.txt'))
  const w = new DescribeWriter()
  describePodTemplate(w, templateOfRevision(owned, 1))
  t.equal(`statefulset.apps/web with revision #1\n${w.raw()}\n`, fixture('rollout-history-statefulset-1.txt'))
  t.equal(templateOfRevision(owned, 9), undefined)
})

t.test('rollback: previous, given, skipped, errors', async t => {
  const owned = controlledRevisions(web, revisions)
  const first = templateOfRevision(owned, 1)
  const current = templateOfRevision(owned, 2)
  const at = (template: PodTemplateSpec | undefined): RevisionOwner => ({ ...web, spec: { ...web.spec, template: structuredClone(template) } })
  t.same(planRevisionRollback(at(current), owned), { kind: 'restore', template: first, revision: 1 }, 'no revision given: the one before the latest')
  t.same(planRevisionRollback(at(first), owned, 2), { kind: 'restore', template: current, revision: 2 })
  t.same(planRevisionRollback(at(first), owned, 1), { kind: 'skipped' }, 'the template already matches')
  t.notOk(JSON.stringify(planRevisionRollback(at(current), owned)).includes('$patch'), 'the directive is not part of the template')
  t.same(planRevisionRollback(at(current), owned, 9), { kind: 'error', message: 'unable to find specified revision 9 in history' })
  t.same(planRevisionRollback(at(current), owned, -1), { kind: 'error', message: 'unable to find specified revision -1 in history' })
  t.same(planRevisionRollback(at(current), owned.slice(0, 1)), { kind: 'error', message: 'no last revision to roll back to' })
  t.same(planRevisionRollback(at(current), []), { kind: 'error', message: 'no last revision to roll back to' })
})
