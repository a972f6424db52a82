// ttlDecision: which finished Jobs expire when.

import t from 'tap'
import type { Job } from '../../../control/controllers/job.ts'
import { needsCleanup, ttlDecision } from '../../../control/controllers/ttl-after-finished.ts'
import { T0, at } from './fakes/builders.ts'

const job = (ttl: number | undefined, status: Job['status'], deleting = false): Job => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'pi', namespace: 'default', uid: 'u', ...(deleting ? { deletionTimestamp: at(500) } : {}) },
  spec: ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl },
  status,
})

const complete = { completionTime: at(100), conditions: [{ type: 'Complete', status: 'True' as const, lastTransitionTime: at(100) }] }
const failed = { conditions: [{ type: 'FailureTarget', status: 'True' as const, lastTransitionTime: at(150) }, { type: 'Failed', status: 'True' as const, lastTransitionTime: at(200) }] }
const running = { conditions: [{ type: 'SuccessCriteriaMet', status: 'True' as const, lastTransitionTime: at(100) }] }

t.test('ttlDecision', async t => {
  const cases: Array<[string, Job, number, ReturnType<typeof ttlDecision>]> = [
    ['no ttl: kept', job(undefined, complete), 1000, { action: 'none' }],
    ['not finished: kept', job(10, running), 1000, { action: 'none' }],
    ['being deleted: left alone', job(10, complete, true), 1000, { action: 'none' }],
    ['complete, before completionTime + ttl: wait', job(60, complete), 130, { action: 'wait', ms: 30_000 }],
    ['complete, at completionTime + ttl: delete', job(60, complete), 160, { action: 'delete' }],
    ['failed: from the Failed condition', job(60, failed), 250, { action: 'wait', ms: 10_000 }],
    ['failed, expired', job(60, failed), 260, { action: 'delete' }],
    ['ttl 0: at once', job(0, failed), 200, { action: 'delete' }],
  ]
  for (const [name, j, seconds, want] of cases) t.same(ttlDecision(j, T0 + seconds * 1000), want, name)
  t.ok(needsCleanup(job(5, failed)))
  t.notOk(needsCleanup(job(5, running)))
})
