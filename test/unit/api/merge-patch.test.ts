import t from 'tap'
import {
  MergePatchError,
  applyMergePatch,
  cloneJson,
  createMergePatch,
  jsonEqual,
} from '../../../control/api/merge-patch.ts'

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const item of Object.values(v)) deepFreeze(item)
    Object.freeze(v)
  }
  return v
}

// RFC 7386 Appendix A, every row.
const rfcExamples: Array<[string, string, string]> = [
  ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
  ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
  ['{"a":"b"}', '{"a":null}', '{}'],
  ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
  ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
  ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
  ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
  ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
  ['["a","b"]', '["c","d"]', '["c","d"]'],
  ['{"a":"b"}', '["c"]', '["c"]'],
  ['{"a":"foo"}', 'null', 'null'],
  ['{"a":"foo"}', '"bar"', '"bar"'],
  ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
  ['[1,2]', '{"a":"b","c":null}', '{"a":"b"}'],
  ['{}', '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'],
]

t.test('RFC 7386 appendix A', async t => {
  for (const [target, patch, result] of rfcExamples) {
    t.strictSame(applyMergePatch(JSON.parse(target), JSON.parse(patch)), JSON.parse(result), `${target} + ${patch}`)
  }
})

t.test('RFC 7386 section 3 example', async t => {
  const target = {
    title: 'Goodbye!',
    author: { givenName: 'John', familyName: 'Doe' },
    tags: ['example', 'sample'],
    content: 'This will be unchanged',
  }
  const patch = { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] }
  t.strictSame(applyMergePatch(target, patch), {
    title: 'Hello!',
    author: { givenName: 'John' },
    tags: ['example'],
    content: 'This will be unchanged',
    phoneNumber: '+01-123-456-7890',
  })
})

t.test('Kubernetes-shaped patches', async t => {
  const deploy = {
    metadata: { name: 'web', labels: { app: 'web', tier: 'fe' }, annotations: { a: '1' } },
    spec: { replicas: 3, template: { spec: { containers: [{ name: 'c', image: 'nginx:1' }] } } },
  }
  const cases: Array<[string, unknown, unknown]> = [
    ['scale', { spec: { replicas: 5 } }, { ...deploy, spec: { ...deploy.spec, replicas: 5 } }],
    [
      'drop a label, add one',
      { metadata: { labels: { tier: null, env: 'prod' } } },
      { ...deploy, metadata: { ...deploy.metadata, labels: { app: 'web', env: 'prod' } } },
    ],
    [
      'lists replace whole',
      { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } },
      { ...deploy, spec: { ...deploy.spec, template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } },
    ],
    ['delete a missing key', { status: null }, deploy],
    ['empty patch', {}, deploy],
    ['nulls inside new objects are dropped', { status: { a: null, b: { c: null, d: 1 } } }, { ...deploy, status: { b: { d: 1 } } }],
  ]
  for (const [name, patch, want] of cases) t.strictSame(applyMergePatch(deploy, patch), want, name)
})

t.test('never mutates inputs and shares nothing with them', async t => {
  const target = deepFreeze({ a: { b: [1, { c: 2 }] }, keep: { x: 1 } })
  const patch = deepFreeze({ a: { d: { e: 1 } }, f: [{ g: 1 }] })
  const out = applyMergePatch(target, patch) as Record<string, any>
  t.strictSame(out, { a: { b: [1, { c: 2 }], d: { e: 1 } }, keep: { x: 1 }, f: [{ g: 1 }] })
  t.not(out['keep'], target.keep, 'untouched subtree copied, not shared')
  t.not(out['a'].b, target.a.b)
  t.not(out['f'], patch.f, 'patch values copied')
  out['keep'].x = 2
  t.equal(target.keep.x, 1)

  const original = deepFreeze({ a: 1, b: { c: [1] } })
  const modified = deepFreeze({ a: 2, b: { c: [1, 2] }, n: { m: 1 } })
  const p = createMergePatch(original, modified) as Record<string, any>
  t.not(p['n'], modified.n)
})

t.test('__proto__ in a body stays a plain key', async t => {
  const patch = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown
  const out = applyMergePatch({}, patch) as Record<string, unknown>
  t.equal(Object.getPrototypeOf(out), Object.prototype)
  t.ok(Object.hasOwn(out, '__proto__'))
  t.equal(({} as Record<string, unknown>)['polluted'], undefined)
  const removed = applyMergePatch(out, JSON.parse('{"__proto__": null}')) as Record<string, unknown>
  t.strictSame(Object.keys(removed), ['a'])
})

t.test('createMergePatch gives the minimal patch', async t => {
  const cases: Array<[string, unknown, unknown, unknown]> = [
    ['no change', { a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } }, {}],
    ['key order does not matter', { a: 1, b: 2 }, { b: 2, a: 1 }, {}],
    ['scalar change', { a: 1, b: 2 }, { a: 1, b: 3 }, { b: 3 }],
    ['removed key', { a: 1, b: 2 }, { a: 1 }, { b: null }],
    ['added key', { a: 1 }, { a: 1, b: { c: 1 } }, { b: { c: 1 } }],
    ['nested change only', { m: { l: { a: 'x', b: 'y' } } }, { m: { l: { a: 'x', b: 'z' } } }, { m: { l: { b: 'z' } } }],
    ['array replaced whole', { a: [1, 2, 3] }, { a: [1, 2] }, { a: [1, 2] }],
    ['object becomes scalar', { a: { b: 1 } }, { a: 5 }, { a: 5 }],
    ['scalar becomes object', { a: 5 }, { a: { b: 1 } }, { a: { b: 1 } }],
    ['type change', { a: '1' }, { a: 1 }, { a: 1 }],
    ['undefined members are absent', { a: 1, b: undefined }, { a: 1 }, {}],
    ['non-object documents: the new one', [1], [2], [2]],
    ['scalar documents', 'x', 'x', 'x'],
  ]
  for (const [name, original, modified, want] of cases) {
    const patch = createMergePatch(original, modified)
    t.strictSame(patch, want, name)
    t.ok(jsonEqual(applyMergePatch(original, patch), modified), `${name}: applying the patch gives the modified document`)
  }
})

t.test('round trip on the RFC examples', async t => {
  for (const [target, , result] of rfcExamples) {
    const original = JSON.parse(target) as unknown
    const modified = JSON.parse(result) as unknown
    const patch = createMergePatch(original, modified)
    const hasStoredNull = /null/.test(result) && result !== 'null'
    if (!hasStoredNull) t.ok(jsonEqual(applyMergePatch(original, patch), modified), `${target} -> ${result}`)
  }
})

t.test('rejects values that are not JSON', async t => {
  const cases: Array<[string, unknown, string]> = [
    ['function', { a: () => 1 }, '$.a: a function is not JSON'],
    ['NaN', { a: [1, Number.NaN] }, '$.a[1]: NaN is not a JSON number'],
    ['Date', { when: new Date(0) }, '$.when: a Date is not JSON'],
    ['bigint', { n: 1n }, '$.n: a bigint is not JSON'],
  ]
  for (const [name, patch, message] of cases) {
    let err: unknown
    try {
      applyMergePatch({}, patch)
    } catch (e) {
      err = e
    }
    t.ok(err instanceof MergePatchError, name)
    t.equal((err as MergePatchError).code, 'InvalidJson', name)
    t.equal((err as MergePatchError).message, message, name)
  }
  t.strictSame(cloneJson({ a: undefined, b: [undefined] }), { b: [null] }, 'undefined handled as JSON.stringify does')
})
