// The three-way merge of client-side apply: what is sent, what is left alone.

import t from 'tap'
import { applyMergePatch } from '../../../control/api/merge-patch.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { LAST_APPLIED_ANNOTATION, covers, isEmptyPatch, lastApplied, threeWayMergePatch, withLastApplied } from '../../../control/cli/kubectl/apply-patch.ts'

const manifest = (image = 'nginx:1.25', extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image, ports: [{ containerPort: 80 }] }] } },
    ...extra,
  },
})

/** What the server holds after applying `applied`: defaults, status, controller annotations. */
function live(applied: KubeObject, replicas = 1): KubeObject {
  const object = structuredClone(applied)
  object.metadata = { ...object.metadata, uid: 'u1', resourceVersion: '7', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' }
  object.metadata.annotations = { ...object.metadata.annotations, 'deployment.kubernetes.io/revision': '1' }
  const spec = object.spec as { replicas?: number; template: { spec: { containers: Array<Record<string, unknown>>; restartPolicy?: string } }; strategy?: unknown }
  spec.replicas ??= replicas
  spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }
  spec.template.spec.restartPolicy = 'Always'
  for (const c of spec.template.spec.containers) {
    c.imagePullPolicy = 'IfNotPresent'
    c.ports = (c.ports as Array<Record<string, unknown>>).map(p => ({ ...p, protocol: 'TCP' }))
  }
  object.status = { replicas, readyReplicas: replicas, observedGeneration: 1 }
  return object
}

t.test('the annotation carries the applied configuration, once', async t => {
  const modified = withLastApplied(manifest())
  const text = modified.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? ''
  t.ok(text.endsWith('\n'))
  t.equal(text, '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"labels":{"app":"web"},"name":"web","namespace":"default"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.25","name":"nginx","ports":[{"containerPort":80}]}]}}}}\n')
  const again = withLastApplied(modified)
  t.equal(again.metadata.annotations?.[LAST_APPLIED_ANNOTATION], text, 'idempotent: the annotation never nests')
  t.same(lastApplied(modified), JSON.parse(text))
  t.equal(lastApplied({ metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: 'not json' } } }), undefined)
})

t.test('re-applying the same manifest is no change, whatever the server and controllers added', async t => {
  const modified = withLastApplied(manifest())
  const current = live(modified)
  const patch = threeWayMergePatch(lastApplied(current), modified, current)
  t.same(patch, {})
  t.ok(isEmptyPatch(patch))
})

t.test('a changed field is sent; fields only others set survive', async t => {
  const first = withLastApplied(manifest())
  const current = live(first, 5) // scaled to 5 by `kubectl scale`; the manifest has no replicas
  const modified = withLastApplied(manifest('nginx:1.26'))
  const patch = threeWayMergePatch(lastApplied(current), modified, current)
  t.same(Object.keys(patch).sort(), ['metadata', 'spec'])
  t.same((patch.spec as Record<string, unknown>).template, { spec: { containers: [{ name: 'nginx', image: 'nginx:1.26', ports: [{ containerPort: 80 }] }] } }, 'the changed list is sent whole')
  const result = applyMergePatch(current, patch) as KubeObject
  const spec = result.spec as { replicas: number; strategy: unknown }
  t.equal(spec.replicas, 5, 'replicas from scale survive')
  t.same(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, 'server defaults survive')
  t.same(result.status, current.status, 'status survives')
  t.equal(result.metadata.annotations?.['deployment.kubernetes.io/revision'], '1', 'controller annotations survive')
  t.equal(result.metadata.annotations?.[LAST_APPLIED_ANNOTATION], modified.metadata.annotations?.[LAST_APPLIED_ANNOTATION])
})

t.test('a field the manifest states wins over a change made by someone else', async t => {
  const first = withLastApplied(manifest('nginx:1.25', { replicas: 2 }))
  const current = live(first)
  ;(current.spec as { replicas: number }).replicas = 7
  const patch = threeWayMergePatch(lastApplied(current), first, current)
  t.same(patch, { spec: { replicas: 2 } }, 'as kubectl: a replicas line in the manifest resets a scale')
})

t.test('removing something from the manifest removes it from the object', async t => {
  const first = withLastApplied(manifest('nginx:1.25', { minReadySeconds: 5 }))
  const current = live(first)
  current.metadata.labels = { ...current.metadata.labels, 'added-by': 'ops' }
  const second = manifest()
  second.metadata.labels = {}
  const modified = withLastApplied(second)
  const patch = threeWayMergePatch(lastApplied(current), modified, current)
  t.equal((patch.spec as Record<string, unknown>).minReadySeconds, null, 'a removed field is deleted')
  t.same((patch.metadata as Record<string, unknown>).labels, { app: null }, 'a removed label is deleted, a foreign one kept')

  // Inside a list item: the list is sent whole so the server drops the field.
  const withoutPorts = manifest()
  delete ((withoutPorts.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers[0] as Record<string, unknown>).ports
  const listPatch = threeWayMergePatch(lastApplied(current), withLastApplied(withoutPorts), current)
  t.same(((listPatch.spec as { template: { spec: unknown } }).template.spec as Record<string, unknown>).containers, [{ name: 'nginx', image: 'nginx:1.25' }])
})

t.test('without a previous apply, additions and changes only', async t => {
  const current = live(manifest())
  const patch = threeWayMergePatch(undefined, withLastApplied(manifest()), current)
  t.same(Object.keys(patch), ['metadata', 'spec'])
  t.ok((patch.metadata as { annotations: Record<string, string> }).annotations[LAST_APPLIED_ANNOTATION], 'the annotation is added')
  t.same(Object.keys(patch.spec as object), ['template'], 'the list whose items differ from the defaulted ones is sent; nothing deleted')
})

t.test('null in the manifest deletes; covers compares lists item by item', async t => {
  const current: KubeObject = { metadata: { name: 'x' }, data: { a: '1', b: '2' } }
  t.same(threeWayMergePatch(undefined, { metadata: { name: 'x' }, data: { a: '1', b: null } } as unknown as KubeObject, current), { data: { b: null } })
  t.ok(covers([{ a: 1, b: 2 }], [{ a: 1 }]))
  t.notOk(covers([{ a: 1 }], [{ a: 1 }, { a: 2 }]))
  t.notOk(covers([{ a: 2 }], [{ a: 1 }]))
  t.ok(covers({ x: [1, 2], y: 3 }, { x: [1, 2] }))
})
