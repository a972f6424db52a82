// The Job kind through the API server: batch/v1 defaults, the generated
// selector and labels, validation texts and field paths, immutability.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { toTable } from '../../../control/apiserver/http/table.ts'
import { harness, rejectsStatus } from './helpers.ts'

const job = (name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: {
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['true'] }], ...podSpec } },
    ...spec,
  },
})

interface JobSpec {
  selector?: { matchLabels?: Record<string, string> }
  template?: { metadata?: { labels?: Record<string, string> }; spec?: Record<string, unknown> }
  [field: string]: unknown
}
const specOf = (o: KubeObject): JobSpec => o.spec as JobSpec

t.test('defaults and the generated selector', async t => {
  const { client } = await harness(t)
  const created = await client.create<KubeObject>(RESOURCES.jobs, 'default', job('pi'))
  const uid = created.metadata.uid!
  t.ok(uid, 'has a uid')
  const spec = specOf(created)
  t.match(spec, { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed' })
  t.same(spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } })
  t.same(spec.template?.metadata?.labels, {
    'job-name': 'pi',
    'batch.kubernetes.io/job-name': 'pi',
    'controller-uid': uid,
    'batch.kubernetes.io/controller-uid': uid,
  })
  t.equal(spec.template?.spec?.restartPolicy, 'Never', 'kept')
  t.same(created.status, {})
  t.equal(created.metadata.generation, 1)

  const workQueue = await client.create<KubeObject>(RESOURCES.jobs, 'default', job('queue', { parallelism: 3 }))
  t.equal(specOf(workQueue).completions, undefined, 'parallelism alone leaves completions unset (a work queue)')
  t.equal(specOf(workQueue).parallelism, 3)
})

t.test('manualSelector keeps the user selector and labels', async t => {
  const { client } = await harness(t)
  const manual = job('manual', { manualSelector: true, selector: { matchLabels: { app: 'batch' } } })
  ;(manual.spec as JobSpec).template!.metadata = { labels: { app: 'batch' } }
  const created = await client.create<KubeObject>(RESOURCES.jobs, 'default', manual)
  t.same(specOf(created).selector, { matchLabels: { app: 'batch' } })
  t.same(specOf(created).template?.metadata?.labels, { app: 'batch' })
  await rejectsStatus(
    t,
    client.create(RESOURCES.jobs, 'default', job('noselector', { manualSelector: true })),
    422,
    'Job.batch "noselector" is invalid: spec.selector: Required value',
  )
})

t.test('validation as batch/v1 has it', async t => {
  const { client } = await harness(t)
  await rejectsStatus(
    t,
    client.create(RESOURCES.jobs, 'default', job('always', {}, { restartPolicy: 'Always' })),
    422,
    'Job.batch "always" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
  )
  const noPolicy = job('nopolicy')
  delete (noPolicy.spec as JobSpec).template!.spec!.restartPolicy
  await rejectsStatus(
    t,
    client.create(RESOURCES.jobs, 'default', noPolicy),
    422,
    'Job.batch "nopolicy" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    'Invalid',
  )
  await rejectsStatus(
    t,
    client.create(RESOURCES.jobs, 'default', job('neg', { parallelism: -1, completions: -2, backoffLimit: -3, activeDeadlineSeconds: -4, ttlSecondsAfterFinished: -5 })),
    422,
    'Job.batch "neg" is invalid: [spec.parallelism: Invalid value: -1: must be greater than or equal to 0, ' +
      'spec.completions: Invalid value: -2: must be greater than or equal to 0, ' +
      'spec.activeDeadlineSeconds: Invalid value: -4: must be greater than or equal to 0, ' +
      'spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0, ' +
      'spec.ttlSecondsAfterFinished: Invalid value: -5: must be greater than or equal to 0]',
  )
  await rejectsStatus(
    t,
    client.create(RESOURCES.jobs, 'default', job('indexed', { completionMode: 'Indexed', completions: 3 })),
    422,
    'Job.batch "indexed" is invalid: spec.completionMode: Unsupported value: "Indexed": supported values: "NonIndexed"',
  )
  const wrongUid = job('wrong')
  ;(wrongUid.spec as JobSpec).template!.metadata = { labels: { 'controller-uid': 'not-mine' } }
  await rejectsStatus(
    t,
    client.create(RESOURCES.jobs, 'default', wrongUid),
    422,
    /^Job\.batch "wrong" is invalid: spec\.template\.metadata\.labels\[controller-uid\]: Invalid value: "not-mine": must be '[0-9a-f-]{36}'$/,
  )
  const foreignSelector = job('foreign', { selector: { matchLabels: { app: 'x' } } })
  ;(foreignSelector.spec as JobSpec).template!.metadata = { labels: { app: 'x' } }
  await rejectsStatus(
    t,
    client.create(RESOURCES.jobs, 'default', foreignSelector),
    422,
    /spec\.selector: Invalid value: .*: `selector` not auto-generated/,
  )
  t.equal((await client.list(RESOURCES.jobs, 'default')).items.length, 0, 'nothing stored')
})

t.test('selector, template and completions are immutable; parallelism and suspend are not', async t => {
  const { client } = await harness(t)
  await client.create(RESOURCES.jobs, 'default', job('pi', { completions: 2 }))
  const scaled = await client.patch<KubeObject>(RESOURCES.jobs, 'default', 'pi', { spec: { parallelism: 2, suspend: true } })
  t.match(specOf(scaled), { parallelism: 2, suspend: true })
  t.equal(scaled.metadata.generation, 2)
  await rejectsStatus(
    t,
    client.patch(RESOURCES.jobs, 'default', 'pi', { spec: { completions: 3 } }),
    422,
    'Job.batch "pi" is invalid: spec.completions: Invalid value: 3: field is immutable',
  )
  await rejectsStatus(
    t,
    client.patch(RESOURCES.jobs, 'default', 'pi', { spec: { template: { spec: { containers: [{ name: 'main', image: 'busybox', command: ['false'] }] } } } }),
    422,
    /^Job\.batch "pi" is invalid: spec\.template: Invalid value: .*: field is immutable$/,
  )
  await rejectsStatus(
    t,
    client.patch(RESOURCES.jobs, 'default', 'pi', { spec: { selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'x' } } } }),
    422,
    /spec\.selector: Invalid value: .*: field is immutable/,
  )
  const status = await client.patch<KubeObject>(RESOURCES.jobs, 'default', 'pi', { status: { active: 1 } }, 'merge', 'status')
  t.same(status.status, { active: 1 }, 'the status subresource writes status')
})

t.test('kubectl get jobs: STATUS, COMPLETIONS, DURATION', async t => {
  const now = new Date('2025-01-01T01:00:00Z')
  const request = { apiVersion: 'meta.k8s.io/v1', includeObject: 'None' as const }
  const row = (spec: Record<string, unknown>, status: Record<string, unknown>, deleting = false): unknown[] => {
    const o: KubeObject = {
      metadata: { name: 'pi', creationTimestamp: '2025-01-01T00:50:00Z', ...(deleting ? { deletionTimestamp: '2025-01-01T00:59:00Z' } : {}) },
      spec: { selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } }, template: { spec: { containers: [{ name: 'pi', image: 'perl' }] } }, ...spec },
      status,
    }
    const table = toTable('Job', [o], '1', request, { now }) as { columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> }
    t.same(table.columnDefinitions.map(c => c.name), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector'])
    return table.rows[0]?.cells ?? []
  }
  const cond = (type: string) => ({ conditions: [{ type, status: 'True' }] })
  t.same(row({ completions: 5, parallelism: 2 }, { succeeded: 2, startTime: '2025-01-01T00:59:00Z' }),
    ['pi', 'Running', '2/5', '60s', '10m', 'pi', 'perl', 'batch.kubernetes.io/controller-uid=u'])
  t.same(row({ completions: 1 }, { succeeded: 1, startTime: '2025-01-01T00:50:00Z', completionTime: '2025-01-01T00:50:07Z', ...cond('Complete') }).slice(1, 4), ['Complete', '1/1', '7s'])
  t.same(row({ completions: 1 }, cond('Failed')).slice(1, 4), ['Failed', '0/1', ''])
  t.same(row({ parallelism: 3 }, cond('Suspended')).slice(1, 3), ['Suspended', '0/1 of 3'])
  t.same(row({ completions: 1 }, cond('FailureTarget')).slice(1, 2), ['FailureTarget'])
  t.same(row({ completions: 1 }, {}, true).slice(1, 2), ['Terminating'])
})
