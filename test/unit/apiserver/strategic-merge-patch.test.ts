import t from 'tap'
import { applyStrategicMergePatch } from '../../../control/apiserver/patch/strategic-merge-patch.ts'

t.test('maps merge like a merge patch; null deletes', async t => {
  t.same(applyStrategicMergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 }, f: 5 }), { a: 1, b: { d: 3, e: 4 }, f: 5 })
})

t.test('keyed lists merge by their key', async t => {
  const original = {
    containers: [{ name: 'a', image: 'a:1', ports: [{ containerPort: 80, protocol: 'TCP' }] }, { name: 'b', image: 'b:1' }],
    ports: [{ port: 80, targetPort: 8080 }],
    volumes: [{ name: 'v', emptyDir: {} }],
  }
  const patched = applyStrategicMergePatch(original, {
    containers: [{ name: 'a', ports: [{ containerPort: 443 }] }, { name: 'c', image: 'c:1' }],
    ports: [{ port: 80, targetPort: 9090 }, { port: 81 }],
    volumes: [{ name: 'v', $patch: 'delete' }],
  })
  t.same(patched, {
    containers: [
      { name: 'a', image: 'a:1', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }] },
      { name: 'b', image: 'b:1' },
      { name: 'c', image: 'c:1' },
    ],
    ports: [{ port: 80, targetPort: 9090 }, { port: 81 }],
    volumes: [],
  })
})

t.test('other lists are replaced; finalizers merge as a set', async t => {
  t.same(applyStrategicMergePatch({ args: ['a', 'b'], finalizers: ['x'] }, { args: ['c'], finalizers: ['y', 'x'] }), { args: ['c'], finalizers: ['x', 'y'] })
})

t.test('directives', async t => {
  t.same(applyStrategicMergePatch({ spec: { a: 1, b: 2 } }, { spec: { $patch: 'replace', c: 3 } }), { spec: { c: 3 } })
  t.same(applyStrategicMergePatch({ list: [{ name: 'a' }], spec: { a: 1 } }, { spec: { $patch: 'delete' } }), { list: [{ name: 'a' }] })
  t.same(applyStrategicMergePatch({ finalizers: ['a', 'b', 'c'] }, { '$deleteFromPrimitiveList/finalizers': ['b'] }), { finalizers: ['a', 'c'] })
  t.same(applyStrategicMergePatch({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }, { strategy: { $retainKeys: ['type'], type: 'Recreate' } }), { strategy: { type: 'Recreate' } })
  t.same(
    applyStrategicMergePatch({ env: [{ name: 'A' }, { name: 'B' }] }, { '$setElementOrder/env': [{ name: 'B' }, { name: 'A' }], env: [{ name: 'A', value: '1' }] }),
    { env: [{ name: 'B' }, { name: 'A', value: '1' }] },
  )
  t.same(applyStrategicMergePatch({ containers: [{ name: 'a' }] }, { containers: [{ $patch: 'replace' }, { name: 'z' }] }), { containers: [{ name: 'z' }] })
  t.throws(() => applyStrategicMergePatch({}, { a: { $patch: 'explode' } }), /Unknown patch type/)
})
