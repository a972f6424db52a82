import t from 'tap'
import {
  LabelSelectorError,
  everything,
  labelSelectorFromObject,
  nothing,
  parseLabelSelector,
  requirement,
  selectorFromRequirements,
  selectorFromSet,
  validateDns1123Subdomain,
  validateLabelKey,
  validateLabelValue,
  validateLabels,
} from '../../../control/api/label-selector.ts'
import type { LabelSelectorObject } from '../../../control/api/label-selector.ts'

function thrown(fn: () => unknown): LabelSelectorError | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof LabelSelectorError) return err
    throw err
  }
  return undefined
}

// Texts Kubernetes builds with RegexError (note its double space before "or").
const nameRegexMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
const valueRegexMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
const subdomainMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

t.test('parses every operator to canonical text', async t => {
  const cases: Array<[string, string]> = [
    ['a=b', 'a=b'],
    ['a==b', 'a==b'],
    ['a!=b', 'a!=b'],
    ['a in (x,y)', 'a in (x,y)'],
    ['a notin (x)', 'a notin (x)'],
    ['a', 'a'],
    ['!a', '!a'],
    ['a>5', 'a>5'],
    ['a<0', 'a<0'],
    ['a=', 'a='],
    ['a!=', 'a!='],
    ['', ''],
    ['   ', ''],
    // whitespace between tokens is ignored, tabs and newlines too
    [' a = b , c in ( y , x ) ', 'a=b,c in (x,y)'],
    ['a\t=\tb,\n!c', 'a=b,!c'], // sorted by key, not by text
    ['tier notin(fe ,be)', 'tier notin (be,fe)'],
    // requirements sorted by key, values sorted and de-duplicated
    ['z=1,a=2,m', 'a=2,m,z=1'],
    ['a in (y,x,x)', 'a in (x,y)'],
    // empty entries are the empty value
    ['x in (foo,,baz),y,z notin ()', 'x in (,baz,foo),y,z notin ()'],
    ['a in (,)', 'a in ()'],
    ['a in (x,)', 'a in (,x)'],
    ['a in (,x)', 'a in (,x)'],
    // in and notin are plain words where a key or value stands
    ['in=notin', 'in=notin'],
    ['x in (in,notin)', 'x in (in,notin)'],
    ['notin', 'notin'],
    // prefixed keys
    ['app.kubernetes.io/name=web', 'app.kubernetes.io/name=web'],
    ['example.com/MyName in (a.b_c-d)', 'example.com/MyName in (a.b_c-d)'],
  ]
  for (const [input, canonical] of cases) {
    t.equal(parseLabelSelector(input).toString(), canonical, JSON.stringify(input))
  }
})

t.test('matches labels per operator', async t => {
  const cases: Array<[string, Record<string, string> | undefined, boolean]> = [
    ['a=b', { a: 'b' }, true],
    ['a=b', { a: 'c' }, false],
    ['a=b', {}, false],
    ['a==b', { a: 'b', x: 'y' }, true],
    ['a!=b', { a: 'c' }, true],
    ['a!=b', { a: 'b' }, false],
    ['a!=b', {}, true], // a missing key is "not b"
    ['a in (x,y)', { a: 'y' }, true],
    ['a in (x,y)', { a: 'z' }, false],
    ['a in (x,y)', {}, false],
    ['a notin (x)', { a: 'y' }, true],
    ['a notin (x)', { a: 'x' }, false],
    ['a notin (x)', {}, true],
    ['a', { a: '' }, true],
    ['a', { b: 'a' }, false],
    ['!a', { b: '1' }, true],
    ['!a', { a: '' }, false],
    ['a=', { a: '' }, true],
    ['a=', {}, false],
    ['a in (,x)', { a: '' }, true],
    ['a>5', { a: '6' }, true],
    ['a>5', { a: '5' }, false],
    ['a>5', { a: 'six' }, false],
    ['a>5', {}, false],
    ['a<5', { a: '-10' }, true],
    ['a<5', { a: '9223372036854775808' }, false], // not an int64
    ['a=b,c', { a: 'b', c: '1' }, true],
    ['a=b,c', { a: 'b' }, false],
    ['', {}, true],
    ['', undefined, true],
    ['a', undefined, false],
    ['!a', undefined, true],
    // inherited properties are not labels
    ['constructor', {}, false],
    ['!toString', {}, true],
  ]
  for (const [sel, labels, want] of cases) {
    t.equal(parseLabelSelector(sel).matches(labels), want, `${JSON.stringify(sel)} on ${JSON.stringify(labels)}`)
  }
})

t.test('malformed selectors carry Kubernetes messages', async t => {
  const cases: Array<[string, string]> = [
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a=b=c', "found '=', expected: ',' or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    [',', "found ',', expected: !, identifier, or 'end of string'"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    ['a,,b', "found ',', expected: identifier after ','"],
    ['a b', 'unable to parse requirement: found \'b\', expected: in, notin, =, ==, !=, gt, lt'],
    ['a!b', "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['!!a', "unable to parse requirement: found '!', expected: identifier"],
    ['a in (x', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a in (x b)', "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ['a in (x,(', "unable to parse requirement: found '(', expected: ',', or identifier"],
    ['a in ((', "unable to parse requirement: found '(', expected: ',', ')' or identifier"],
    ['a in x', "unable to parse requirement: found 'x' expected: '('"],
    ['a in', "unable to parse requirement: found '' expected: '('"],
    ['a = (x)', "unable to parse requirement: found '(', expected: identifier"],
    ['a === b', "unable to parse requirement: found '=', expected: identifier"],
    ['a@b=c', `unable to parse requirement: <nil>: Invalid value: "a@b": name part ${nameRegexMsg}`],
    ['app: nginx', `unable to parse requirement: <nil>: Invalid value: "app:": name part ${nameRegexMsg}`],
    ['/a', 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'],
    ['a/', `unable to parse requirement: <nil>: Invalid value: "a/": name part must be non-empty; name part ${nameRegexMsg}`],
    ['A.B/c', `unable to parse requirement: <nil>: Invalid value: "A.B/c": prefix part ${subdomainMsg}`],
    [
      'a/b/c=d',
      `unable to parse requirement: <nil>: Invalid value: "a/b/c": a valid label key ${nameRegexMsg} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ],
    [
      'x'.repeat(64),
      `unable to parse requirement: <nil>: Invalid value: "${'x'.repeat(64)}": name part must be no more than 63 bytes`,
    ],
    ['a=b@c', `unable to parse requirement: values[0][a]: Invalid value: "b@c": ${valueRegexMsg}`],
    ['a in (ok,-bad)', `unable to parse requirement: values[0][a]: Invalid value: "-bad": ${valueRegexMsg}`],
    [
      'a=' + 'v'.repeat(64),
      `unable to parse requirement: values[0][a]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 bytes`,
    ],
    // a bound is still a label value, so Kubernetes cannot express a negative one
    ['a<-5', `unable to parse requirement: values[0][a]: Invalid value: "-5": ${valueRegexMsg}`],
    [
      'a>x',
      `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer`,
    ],
  ]
  for (const [input, message] of cases) {
    const err = thrown(() => parseLabelSelector(input))
    t.equal(err?.code, 'InvalidSelector', `${JSON.stringify(input)} code`)
    t.equal(err?.message, message, `${JSON.stringify(input)} message`)
  }
})

t.test('object form: matchLabels and every matchExpressions operator', async t => {
  const cases: Array<[LabelSelectorObject, string, Record<string, string>, boolean]> = [
    [{ matchLabels: { app: 'web' } }, 'app=web', { app: 'web' }, true],
    [{ matchLabels: { app: 'web', tier: 'fe' } }, 'app=web,tier=fe', { app: 'web' }, false],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] }, 'env in (dev,prod)', { env: 'dev' }, true],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, 'env notin (prod)', {}, true],
    [{ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, 'env', { env: 'x' }, true],
    [{ matchExpressions: [{ key: 'env', operator: 'DoesNotExist', values: [] }] }, '!env', { env: 'x' }, false],
    [
      { matchLabels: { z: '1' }, matchExpressions: [{ key: 'a', operator: 'Exists' }] },
      'a,z=1',
      { a: '', z: '1' },
      true,
    ],
    [{}, '', { anything: 'at-all' }, true],
    [{ matchLabels: null, matchExpressions: null }, '', {}, true],
  ]
  for (const [obj, canonical, labels, want] of cases) {
    const sel = labelSelectorFromObject(obj)
    t.equal(sel.toString(), canonical, JSON.stringify(obj))
    t.equal(sel.matches(labels), want, `${JSON.stringify(obj)} on ${JSON.stringify(labels)}`)
  }
  const missing = labelSelectorFromObject(undefined)
  t.equal(missing.matches({}), false, 'a missing selector selects nothing')
  t.equal(missing.empty(), false)
  t.equal(labelSelectorFromObject({}).empty(), true, 'an empty selector selects everything')
})

t.test('object form errors', async t => {
  const cases: Array<[LabelSelectorObject, string]> = [
    [
      { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] },
      "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
    ],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn' }] }, "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"],
    [
      { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
    ],
    [{ matchExpressions: [{ key: 'a', operator: 'in', values: ['x'] }] }, '"in" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: 'a', operator: 'constructor' }] }, '"constructor" is not a valid label selector operator'],
    [{ matchLabels: { '': 'x' } }, `key: Invalid value: "": name part must be non-empty; name part ${nameRegexMsg}`],
    [
      { matchLabels: { 'a@': 'b@' } },
      `[key: Invalid value: "a@": name part ${nameRegexMsg}, values[0][a@]: Invalid value: "b@": ${valueRegexMsg}]`,
    ],
  ]
  for (const [obj, message] of cases) {
    const err = thrown(() => labelSelectorFromObject(obj))
    t.equal(err?.code, 'InvalidSelector', JSON.stringify(obj))
    t.equal(err?.message, message, JSON.stringify(obj))
  }
})

t.test('selectorFromSet, everything, nothing', async t => {
  const sel = selectorFromSet({ tier: 'fe', app: 'web' })
  t.equal(sel.toString(), 'app=web,tier=fe')
  t.equal(sel.matches({ app: 'web', tier: 'fe', extra: '1' }), true)
  t.equal(sel.matches({ app: 'web' }), false)
  t.equal(selectorFromSet({}), everything)
  t.equal(selectorFromSet(undefined), everything)
  t.equal(selectorFromSet({ 'not valid!': 'ok' }).toString(), 'not valid!=ok', 'not validated, like SelectorFromSet')
  t.equal(everything.matches({}), true)
  t.equal(everything.empty(), true)
  t.equal(everything.toString(), '')
  t.equal(nothing.matches({ a: 'b' }), false)
  t.equal(nothing.empty(), false)
  t.equal(nothing.toString(), '')
})

t.test('requiresExactMatch', async t => {
  const cases: Array<[string, string, string | undefined]> = [
    ['a=b', 'a', 'b'],
    ['a==b', 'a', 'b'],
    ['a in (b)', 'a', 'b'],
    ['a in (b,c)', 'a', undefined],
    ['a!=b', 'a', undefined],
    ['a', 'a', undefined],
    ['x=1,a=b', 'a', 'b'],
    ['x=1', 'a', undefined],
  ]
  for (const [sel, key, want] of cases) {
    t.equal(parseLabelSelector(sel).requiresExactMatch(key), want, `${sel} / ${key}`)
  }
})

t.test('requirements can be built and combined', async t => {
  const parsed = parseLabelSelector('tier=fe')
  const more = selectorFromRequirements([...parsed.requirements, requirement('app', 'in', ['web', 'api'])])
  t.equal(more.toString(), 'app in (api,web),tier=fe')
  t.equal(more.matches({ app: 'api', tier: 'fe' }), true)
  t.equal(thrown(() => requirement('a', '=', ['x', 'y']))?.message, 'values: Invalid value: ["x","y"]: exact-match compatibility requires one single value')
  t.equal(thrown(() => requirement('a', 'gt', []))?.message, "values: Invalid value: null: for 'Gt', 'Lt' operators, exactly one value is required")
  t.ok(Object.isFrozen(parsed.requirements), 'requirements are immutable')
})

t.test('label key and value syntax', async t => {
  const keys: Array<[string, string[]]> = [
    ['app', []],
    ['a', []],
    ['A1.b-c_d', []],
    ['example.com/name', []],
    ['k8s.io/x', []],
    ['x'.repeat(63), []],
    ['a.'.repeat(126) + 'a/' + 'n', []], // 253-byte prefix
    ['x'.repeat(64), ['name part must be no more than 63 bytes']],
    ['', ['name part must be non-empty', `name part ${nameRegexMsg}`]],
    ['-a', [`name part ${nameRegexMsg}`]],
    ['a_', [`name part ${nameRegexMsg}`]],
    ['Example.com/a', [`prefix part ${subdomainMsg}`]],
    ['a'.repeat(254) + '/n', ['prefix part must be no more than 253 bytes']],
    ['-'.repeat(254) + '/n', ['prefix part must be no more than 253 bytes', `prefix part ${subdomainMsg}`]],
    ['/a', ['prefix part must be non-empty']],
  ]
  for (const [key, errs] of keys) t.strictSame(validateLabelKey(key), errs, `key ${JSON.stringify(key).slice(0, 40)}`)

  const values: Array<[string, string[]]> = [
    ['', []],
    ['web', []],
    ['1.2_3-4', []],
    ['v'.repeat(63), []],
    ['v'.repeat(64), ['must be no more than 63 bytes']],
    ['-v'.repeat(40), ['must be no more than 63 bytes', valueRegexMsg]],
    ['a b', [valueRegexMsg]],
    ['é', [valueRegexMsg]],
  ]
  for (const [value, errs] of values) t.strictSame(validateLabelValue(value), errs, `value ${JSON.stringify(value).slice(0, 40)}`)

  t.strictSame(validateDns1123Subdomain('my-app.example.com'), [])
  t.strictSame(validateDns1123Subdomain('UP'), [subdomainMsg])
})

t.test('validateLabels gives the API server field errors', async t => {
  t.strictSame(validateLabels({ app: 'web' }), [])
  t.strictSame(validateLabels(undefined), [])
  t.strictSame(validateLabels({ 'bad key': 'bad value' }), [
    { type: 'FieldValueInvalid', field: 'metadata.labels', badValue: 'bad key', detail: `name part ${nameRegexMsg}` },
    { type: 'FieldValueInvalid', field: 'metadata.labels', badValue: 'bad value', detail: valueRegexMsg },
  ])
  t.equal(validateLabels({ a: '-' }, 'spec.template.metadata.labels')[0]?.field, 'spec.template.metadata.labels')
})
