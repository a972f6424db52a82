import t from 'tap'
import {
  FieldSelectorError,
  compileFieldSelector,
  escapeFieldValue,
  everythingFields,
  fieldSelectorForKind,
  fieldSelectorFromSet,
  fieldSelectorMatchesObject,
  parseFieldSelector,
  selectableFields,
  supportedFieldLabels,
  unescapeFieldValue,
} from '../../../control/api/field-selector.ts'

function thrown(fn: () => unknown): FieldSelectorError | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof FieldSelectorError) return err
    throw err
  }
  return undefined
}

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'shop' },
  spec: { nodeName: 'node-a', restartPolicy: 'Always', schedulerName: 'default-scheduler', hostNetwork: true },
  status: { phase: 'Running', podIPs: [{ ip: '10.244.1.7' }] },
}
const pending = { metadata: { name: 'web-2', namespace: 'shop' }, spec: {}, status: { phase: 'Pending' } }

t.test('parses the grammar to canonical text', async t => {
  const cases: Array<[string, string]> = [
    ['', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a=b'], // == is printed as =
    ['a!=b', 'a!=b'],
    ['x=a,y=b,z=c', 'x=a,y=b,z=c'],
    ['z=c,x=a', 'x=a,z=c'], // terms sorted
    ['a=b,', 'a=b'], // empty terms skipped
    [',a=b', 'a=b'],
    ['a=', 'a='],
    ['a!=', 'a!='],
    [String.raw`x=a\=\=b`, String.raw`x=a\=\=b`],
    [String.raw`x=a||y\=b`, String.raw`x=a||y\=b`],
    [String.raw`k=\,,k2=v2`, String.raw`k2=v2,k=\,`],
    [String.raw`k=\\`, String.raw`k=\\`],
  ]
  for (const [input, canonical] of cases) t.equal(parseFieldSelector(input).toString(), canonical, input)
})

t.test('requirements keep operator and unescaped value', async t => {
  t.strictSame(parseFieldSelector(String.raw`b!=x\,y,a==1`).requirements, [
    { field: 'a', operator: '==', value: '1' },
    { field: 'b', operator: '!=', value: 'x,y' },
  ])
})

t.test('malformed selectors carry Kubernetes messages', async t => {
  const cases: Array<[string, string]> = [
    ['x', "invalid selector: 'x'; can't understand 'x'"],
    ['x in (a)', "invalid selector: 'x in (a)'; can't understand 'x in (a)'"],
    ['a=b,c', "invalid selector: 'a=b,c'; can't understand 'c'"],
    ['x=a||y=b', 'invalid field selector: unescaped character in value: 61'],
    ['x==a==b', 'invalid field selector: unescaped character in value: 61'],
    [String.raw`k=\a`, String.raw`invalid field selector: invalid escape sequence: \a`],
    [String.raw`k=\\\a`, String.raw`invalid field selector: invalid escape sequence: \a`],
    ['k=\\', String.raw`invalid field selector: invalid escape sequence: \ `.trimEnd()],
  ]
  for (const [input, message] of cases) {
    const err = thrown(() => parseFieldSelector(input))
    t.equal(err?.code, 'InvalidSelector', input)
    t.equal(err?.message, message, input)
  }
})

t.test('matching: missing fields read as empty', async t => {
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['', { a: 'b' }, true],
    ['a=b', { a: 'b' }, true],
    ['a=b', { a: 'c' }, false],
    ['a==b', { a: 'b' }, true],
    ['a!=b', { a: 'c' }, true],
    ['a!=b', { a: 'b' }, false],
    ['a!=b', {}, true],
    ['a=', {}, true],
    ['a=', { a: 'x' }, false],
    ['a=b,c=d', { a: 'b', c: 'd' }, true],
    ['a=b,c=d', { a: 'b', c: 'x' }, false],
    ['notin=in', { notin: 'in' }, true],
    [String.raw`c=\=v\,\\`, { c: '=v,\\' }, true],
    ['constructor=', {}, true], // inherited properties are not fields
  ]
  for (const [sel, fields, want] of cases) t.equal(parseFieldSelector(sel).matches(fields), want, `${sel} on ${JSON.stringify(fields)}`)
})

t.test('per-kind allow lists', async t => {
  t.strictSame(supportedFieldLabels('Deployment'), ['metadata.name', 'metadata.namespace'])
  t.strictSame(supportedFieldLabels('Pod'), [
    'metadata.name',
    'metadata.namespace',
    'spec.hostNetwork',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.nominatedNodeName',
    'status.phase',
    'status.podIP',
  ])
  t.ok(supportedFieldLabels('Node').includes('spec.unschedulable'))
  t.ok(supportedFieldLabels('Secret').includes('type'))
  t.ok(supportedFieldLabels('Event').includes('involvedObject.name'))

  const unsupported: Array<[string, string, string]> = [
    ['spec.foo=bar', 'Pod', 'field label not supported: spec.foo'],
    ['spec.nodeName=a', 'Deployment', 'field label not supported: spec.nodeName'],
    ['status.phase=Running', 'Service', 'field label not supported: status.phase'],
    ['metadata.labels=x', 'Pod', 'field label not supported: metadata.labels'],
    ['=x', 'Pod', 'field label not supported: '],
    ['metadata.name =x', 'Pod', 'field label not supported: metadata.name '], // no trimming
    ['constructor=x', 'Pod', 'field label not supported: constructor'],
  ]
  for (const [sel, kind, message] of unsupported) {
    const err = thrown(() => compileFieldSelector(sel, kind))
    t.equal(err?.code, 'UnsupportedField', `${kind} ${sel}`)
    t.equal(err?.message, message, `${kind} ${sel}`)
  }
  t.equal(thrown(() => compileFieldSelector('oops', 'Pod'))?.code, 'InvalidSelector', 'syntax errors come first')
})

t.test('selectable fields read off objects', async t => {
  t.strictSame(selectableFields('Pod', pod), {
    'metadata.name': 'web-1',
    'metadata.namespace': 'shop',
    'spec.nodeName': 'node-a',
    'spec.restartPolicy': 'Always',
    'spec.schedulerName': 'default-scheduler',
    'spec.serviceAccountName': '',
    'spec.hostNetwork': 'true',
    'status.phase': 'Running',
    'status.podIP': '10.244.1.7',
    'status.nominatedNodeName': '',
  })
  t.equal(selectableFields('Pod', pending)['spec.hostNetwork'], 'false')
  t.equal(selectableFields('Node', { metadata: { name: 'n' } })['spec.unschedulable'], 'false')
  t.equal(selectableFields('Node', { spec: { unschedulable: true } })['spec.unschedulable'], 'true')
  t.equal(selectableFields('ReplicaSet', { status: { replicas: 3 } })['status.replicas'], '3')
  t.equal(selectableFields('ReplicaSet', {})['status.replicas'], '0')
  t.equal(selectableFields('Event', { source: { component: 'kubelet' } })['source'], 'kubelet')
  t.equal(selectableFields('Pod', null)['metadata.name'], '')
})

t.test('matching objects of a kind', async t => {
  const cases: Array<[string, object, boolean]> = [
    ['spec.nodeName=node-a', pod, true],
    ['spec.nodeName=', pod, false],
    ['spec.nodeName=', pending, true], // the scheduler's "unscheduled pods"
    ['status.phase=Running', pod, true],
    ['status.phase!=Running', pending, true],
    ['metadata.namespace=shop,metadata.name=web-1', pod, true],
    ['metadata.namespace=shop,metadata.name=web-1', pending, false],
    ['spec.hostNetwork=true', pod, true],
    ['status.podIP=10.244.1.7', pod, true],
    ['spec.host=node-a', pod, true], // old alias of spec.nodeName
  ]
  for (const [sel, obj, want] of cases) {
    t.equal(fieldSelectorMatchesObject(compileFieldSelector(sel, 'Pod'), 'Pod', obj), want, sel)
  }
  t.equal(compileFieldSelector('spec.host=n', 'Pod').toString(), 'spec.nodeName=n', 'alias rewritten')
  t.equal(thrown(() => compileFieldSelector('spec.host=n', 'Node'))?.message, 'field label not supported: spec.host')
})

t.test('helpers', async t => {
  t.equal(everythingFields.empty(), true)
  t.equal(everythingFields.matches({}), true)
  const set = fieldSelectorFromSet({ 'spec.nodeName': 'n1', 'metadata.name': 'x' })
  t.equal(set.toString(), 'metadata.name=x,spec.nodeName=n1')
  t.equal(set.requiresExactMatch('spec.nodeName'), 'n1')
  t.equal(parseFieldSelector('a!=b').requiresExactMatch('a'), undefined)
  t.equal(parseFieldSelector('a==b').requiresExactMatch('a'), 'b')
  t.equal(fieldSelectorForKind(everythingFields, 'Pod').empty(), true)
  const escapes: Array<[string, string]> = [
    ['', ''],
    ['a', 'a'],
    ['=', '\\='],
    [',', '\\,'],
    ['\\', '\\\\'],
    ['\\=\\,\\', '\\\\\\=\\\\\\,\\\\'],
  ]
  for (const [raw, escaped] of escapes) {
    t.equal(escapeFieldValue(raw), escaped, `escape ${raw}`)
    t.equal(unescapeFieldValue(escaped), raw, `unescape ${escaped}`)
  }
})
