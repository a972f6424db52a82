// DaemonSets through the API handler: apps/v1 defaults, the template
// generation annotation, and ValidateDaemonSet's errors with Kubernetes'
// paths and texts.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { harness, rejectsStatus } from './helpers.ts'

type Spec = Record<string, unknown>

const daemonSet = (name: string, spec: Spec = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } },
    ...spec,
  },
})

const specOf = (o: KubeObject): Spec => o.spec as Spec
const withTemplateSpec = (name: string, podSpec: Spec): KubeObject =>
  daemonSet(name, { template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox' }], ...podSpec } } })

t.test('defaults: RollingUpdate 1/0, revisionHistoryLimit 10, status zeros, template generation 1', async t => {
  const { client } = await harness(t)
  const ds = await client.create<KubeObject>(RESOURCES.daemonsets, 'default', daemonSet('agent'))
  t.same(specOf(ds).updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } })
  t.equal(specOf(ds).revisionHistoryLimit, 10)
  t.same(ds.status, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 })
  t.equal(ds.metadata.generation, 1)
  t.equal(ds.metadata.annotations?.['deprecated.daemonset.template.generation'], '1')
  t.equal((specOf(ds).template as { spec: { restartPolicy: string } }).spec.restartPolicy, 'Always')

  const onDelete = await client.create<KubeObject>(RESOURCES.daemonsets, 'default', daemonSet('od', { updateStrategy: { type: 'OnDelete' } }))
  t.same(specOf(onDelete).updateStrategy, { type: 'OnDelete' })
})

t.test('a template change bumps generation and template generation; other spec changes only generation', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.daemonsets, 'default', daemonSet('agent'))
  const a = await client.patch<KubeObject>(RESOURCES.daemonsets, 'default', 'agent', { spec: { minReadySeconds: 5 } })
  t.equal(a.metadata.generation, 2)
  t.equal(a.metadata.annotations?.['deprecated.daemonset.template.generation'], '1')
  const b = await client.patch<KubeObject>(RESOURCES.daemonsets, 'default', 'agent', { spec: { template: { metadata: { annotations: { v: '2' } } } } })
  t.equal(b.metadata.generation, 3)
  t.equal(b.metadata.annotations?.['deprecated.daemonset.template.generation'], '2')
  const c = await client.patch<KubeObject>(RESOURCES.daemonsets, 'default', 'agent', {
    metadata: { annotations: { 'deprecated.daemonset.template.generation': '9' } },
  })
  t.equal(c.metadata.annotations?.['deprecated.daemonset.template.generation'], '2', 'the server owns it')
  const status = await client.patch<KubeObject>(RESOURCES.daemonsets, 'default', 'agent', { status: { numberReady: 1 } }, 'merge', 'status')
  t.equal(status.metadata.annotations?.['deprecated.daemonset.template.generation'], '2')
})

t.test('validation on create', async t => {
  const { client } = await harness(t)
  const create = (o: KubeObject): Promise<unknown> => client.create(RESOURCES.daemonsets, 'default', o)
  const cases: Array<[string, KubeObject, string]> = [
    [
      'no selector',
      daemonSet('x', { selector: undefined }),
      'DaemonSet.apps "x" is invalid: spec.template.metadata.labels: Invalid value: {"app":"x"}: `selector` does not match template `labels`',
    ],
    [
      'selector not matching the template',
      daemonSet('x', { selector: { matchLabels: { app: 'other' } } }),
      'DaemonSet.apps "x" is invalid: spec.template.metadata.labels: Invalid value: {"app":"x"}: `selector` does not match template `labels`',
    ],
    [
      'empty selector',
      daemonSet('x', { selector: {} }),
      'DaemonSet.apps "x" is invalid: spec.selector: Invalid value: {}: empty selector is invalid for daemonset',
    ],
    [
      'restartPolicy Never',
      withTemplateSpec('x', { restartPolicy: 'Never' }),
      'DaemonSet.apps "x" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ],
    [
      'activeDeadlineSeconds',
      withTemplateSpec('x', { activeDeadlineSeconds: 30 }),
      'DaemonSet.apps "x" is invalid: spec.template.spec.activeDeadlineSeconds: Invalid value: 30: activeDeadlineSeconds in DaemonSet is not Supported',
    ],
    [
      'both maxUnavailable and maxSurge',
      daemonSet('x', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '10%' } } }),
      'DaemonSet.apps "x" is invalid: spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero',
    ],
    [
      'both 0',
      daemonSet('x', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '0%', maxSurge: 0 } } }),
      'DaemonSet.apps "x" is invalid: spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
    ],
    [
      'over 100%',
      daemonSet('x', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '150%' } } }),
      'DaemonSet.apps "x" is invalid: spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "150%": must not be greater than 100%',
    ],
    [
      'not an int or percent',
      daemonSet('x', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 'one' } } }),
      `DaemonSet.apps "x" is invalid: [spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "one": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%'), spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0]`,
    ],
    [
      'unknown strategy',
      daemonSet('x', { updateStrategy: { type: 'Recreate' } }),
      'DaemonSet.apps "x" is invalid: spec.updateStrategy: Unsupported value: {"type":"Recreate"}: supported values: "RollingUpdate", "OnDelete"',
    ],
    [
      'negative revisionHistoryLimit and minReadySeconds',
      daemonSet('x', { revisionHistoryLimit: -1, minReadySeconds: -2 }),
      'DaemonSet.apps "x" is invalid: [spec.minReadySeconds: Invalid value: -2: must be greater than or equal to 0, spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0]',
    ],
    [
      'a bad container in the template',
      withTemplateSpec('x', { containers: [{ name: 'main' }] }),
      'DaemonSet.apps "x" is invalid: spec.template.spec.containers[0].image: Required value',
    ],
  ]
  for (const [what, object, message] of cases) {
    await t.test(what, async t => {
      await rejectsStatus(t, create(object), 422, message, 'Invalid')
    })
  }
  t.equal((await client.list(RESOURCES.daemonsets, 'default')).items.length, 0, 'nothing was stored')
  await create(daemonSet('surge', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } } }))
  await create(daemonSet('pct', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%', maxSurge: 0 } } }))
  t.equal((await client.list(RESOURCES.daemonsets, 'default')).items.length, 2, 'the valid strategies are stored')
})

t.test('validation on update: the selector is immutable, the strategy checked again', async t => {
  const { client } = await harness(t)
  await client.create<KubeObject>(RESOURCES.daemonsets, 'default', daemonSet('agent'))
  await rejectsStatus(
    t,
    client.patch(RESOURCES.daemonsets, 'default', 'agent', {
      spec: { selector: { matchLabels: { app: 'agent', tier: 'node' } }, template: { metadata: { labels: { tier: 'node' } } } },
    }),
    422,
    'DaemonSet.apps "agent" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"agent","tier":"node"}}: field is immutable',
  )
  await rejectsStatus(
    t,
    client.patch(RESOURCES.daemonsets, 'default', 'agent', { spec: { updateStrategy: { rollingUpdate: { maxSurge: 1 } } } }),
    422,
    'DaemonSet.apps "agent" is invalid: spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero',
  )
  const stored = await client.get<KubeObject>(RESOURCES.daemonsets, 'default', 'agent')
  t.equal(stored.metadata.generation, 1, 'nothing half-applied')
  const ok = await client.patch<KubeObject>(RESOURCES.daemonsets, 'default', 'agent', { spec: { updateStrategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } })
  t.same(specOf(ok).updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } })
})
