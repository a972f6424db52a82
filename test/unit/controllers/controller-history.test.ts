// ControllerRevision building and pruning (the StatefulSet and DaemonSet history).

import t from 'tap'
import {
  REVISION_HASH_LABEL,
  equalRevisions,
  newRevision,
  nextRevisionNumber,
  revisionTemplate,
  revisionsToPrune,
  sortRevisions,
} from '../../../control/controllers/controller-history.ts'
import type { ControllerRevision, RevisionOwner } from '../../../control/controllers/controller-history.ts'

const owner = (image: string): RevisionOwner => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
})
const ref = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true }

t.test('a revision names, labels and owns what it restores', async t => {
  const r = newRevision(owner('nginx:1'), ref, { app: 'web' }, 1)
  const hash = r.metadata.labels?.[REVISION_HASH_LABEL]
  t.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/)
  t.equal(r.metadata.name, `web-${hash}`)
  t.same(r.metadata.ownerReferences, [ref])
  t.equal(r.revision, 1)
  t.equal(r.data?.spec?.template?.$patch, 'replace', 'the data replaces the whole template when applied')
  t.same(revisionTemplate(r), owner('nginx:1').spec?.template, 'and gives the template back')
  t.not(newRevision(owner('nginx:2'), ref, {}, 2).metadata.name, r.metadata.name, 'another template, another name')
  const again = owner('nginx:1')
  again.status = { collisionCount: 1 }
  t.not(newRevision(again, ref, {}, 1).metadata.name, r.metadata.name, 'a collision count changes the hash')
})

t.test('numbering, equality and pruning', async t => {
  const revs: ControllerRevision[] = [3, 1, 2].map(n => newRevision(owner(`nginx:${n}`), ref, {}, n))
  t.same(sortRevisions(revs).map(r => r.revision), [1, 2, 3])
  t.equal(nextRevisionNumber(revs), 4)
  t.equal(nextRevisionNumber([]), 1)
  t.same(equalRevisions(revs, owner('nginx:2').spec?.template).map(r => r.revision), [2])
  t.same(equalRevisions(revs, owner('nginx:9').spec?.template), [])
  const live = new Set([revs[0]!.metadata.name!]) // revision 3 is current
  t.same(revisionsToPrune(revs, 1, live).map(r => r.revision), [1], 'keeps `limit` old revisions and the live one')
  t.same(revisionsToPrune(revs, 0, live).map(r => r.revision), [1, 2])
  t.same(revisionsToPrune(revs, 10, live), [])
})
