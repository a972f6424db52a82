import t from 'tap'
import { JsonPatchError, applyJsonPatch } from '../../../control/apiserver/patch/json-patch.ts'

const doc = { a: { b: [1, 2, 3], 'x/y': 'slash', 'm~n': 'tilde' }, c: 'd' }

t.test('operations', async t => {
  const cases: Array<[string, unknown[], unknown]> = [
    ['add to object', [{ op: 'add', path: '/e', value: 1 }], { ...doc, e: 1 }],
    ['add into array', [{ op: 'add', path: '/a/b/1', value: 9 }], { ...doc, a: { ...doc.a, b: [1, 9, 2, 3] } }],
    ['append with -', [{ op: 'add', path: '/a/b/-', value: 4 }], { ...doc, a: { ...doc.a, b: [1, 2, 3, 4] } }],
    ['escaped pointer', [{ op: 'replace', path: '/a/x~1y', value: 's' }, { op: 'remove', path: '/a/m~0n' }], { ...doc, a: { b: [1, 2, 3], 'x/y': 's' } }],
    ['move', [{ op: 'move', from: '/c', path: '/z' }], { a: doc.a, z: 'd' }],
    ['copy', [{ op: 'copy', from: '/a/b/0', path: '/a/b/-' }], { ...doc, a: { ...doc.a, b: [1, 2, 3, 1] } }],
    ['test then replace root', [{ op: 'test', path: '/c', value: 'd' }, { op: 'replace', path: '', value: { new: true } }], { new: true }],
  ]
  for (const [name, patch, want] of cases) t.same(applyJsonPatch(doc, patch), want, name)
  t.same(doc.a.b, [1, 2, 3], 'input untouched')
})

t.test('errors', async t => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{}, 'InvalidPatch', /cannot unmarshal/],
    [[{ op: 'add', value: 1 }], 'InvalidPatch', /add operation missing path/],
    [[{ op: 'frob', path: '/a' }], 'InvalidPatch', /Unexpected kind: frob/],
    [[{ op: 'remove', path: '/nope' }], 'ApplyFailed', /remove operation does not apply: doc is missing path: "\/nope"/],
    [[{ op: 'add', path: '/a/b/7', value: 1 }], 'ApplyFailed', /index out of range/],
    [[{ op: 'test', path: '/c', value: 'x' }], 'ApplyFailed', /^testing value \/c failed: test failed$/],
    [[{ op: 'move', from: '/a', path: '/a/q' }], 'ApplyFailed', /is a child of/],
  ]
  for (const [patch, code, message] of cases) {
    let caught: unknown
    try {
      applyJsonPatch(doc, patch)
    } catch (err) {
      caught = err
    }
    t.ok(caught instanceof JsonPatchError, JSON.stringify(patch))
    t.equal((caught as JsonPatchError).code, code)
    t.match((caught as JsonPatchError).message, message)
  }
})
