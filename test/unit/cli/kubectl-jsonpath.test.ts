// kubectl's JSONPath templates.

import t from 'tap'
import { parseJsonPath, renderJsonPath } from '../../../control/cli/kubectl/jsonpath.ts'

const list = {
  kind: 'List',
  items: [
    { metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'web' } }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], restarts: 3 } },
    { metadata: { name: 'b', labels: {} }, status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }], restarts: 0 } },
  ],
}

t.test('fields, wildcards, indexes, slices', async t => {
  const cases: Array<[string, string]> = [
    ['{.kind}', 'List'],
    ['{.items[*].metadata.name}', 'a b'],
    ['{.items[0].metadata.name}', 'a'],
    ['{.items[-1].metadata.name}', 'b'],
    ['{.items[0:1].metadata.name}', 'a'],
    ['{.items[0,1].status.phase}', 'Running Pending'],
    ['{$.items[1].status.phase}', 'Pending'],
    ["{.items[0].metadata.labels['app.kubernetes.io/name']}", 'web'],
    ['{.items[0].metadata.labels.app\\.kubernetes\\.io/name}', 'web'],
    ['{.items[0].status.conditions[0]}', '{"status":"True","type":"Ready"}'],
    ['{.items[0].metadata.labels}', '{"app.kubernetes.io/name":"web"}'],
    ['{.items[*].status.restarts}', '3 0'],
    ['{.nope}', ''],
    ['{..phase}', 'Running Pending'],
    ['name={.items[0].metadata.name}!', 'name=a!'],
  ]
  for (const [template, want] of cases) t.equal(renderJsonPath(template, list), want, template)
})

t.test('filters and ranges', async t => {
  t.equal(renderJsonPath('{.items[?(@.status.phase=="Running")].metadata.name}', list), 'a')
  t.equal(renderJsonPath('{.items[?(@.status.restarts>1)].metadata.name}', list), 'a')
  t.equal(renderJsonPath("{.items[*].status.conditions[?(@.type=='Ready')].status}", list), 'True False')
  t.equal(renderJsonPath('{.items[?(@.metadata.labels.app\\.kubernetes\\.io/name)].metadata.name}', list), 'a', 'existence')
  t.equal(renderJsonPath('{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}', list), 'a\tRunning\nb\tPending\n')
  t.equal(renderJsonPath('{range .items[*]}[{.metadata.name}]{end}', list), '[a][b]')
})

t.test('bad templates fail like kubectl', async t => {
  t.throws(() => parseJsonPath('{.items'), { message: /^error parsing jsonpath \{\.items, unclosed action/ })
  t.throws(() => parseJsonPath('{range .items[*]}{.a}'), { message: /unclosed range/ })
  t.throws(() => parseJsonPath('{end}'), { message: /not in range/ })
})
