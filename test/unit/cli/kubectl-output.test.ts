// -o json / yaml / name / jsonpath printers.

import t from 'tap'
import { KubectlError } from '../../../control/cli/kubectl/errors.ts'
import { listOf, nameOf, parseOutput, renderData, toJson, toYaml, withTypeMeta } from '../../../control/cli/kubectl/output.ts'
import { lookupResource } from '../../../control/cli/kubectl/resource-kinds.ts'

t.test('formats', async t => {
  t.same(parseOutput(undefined), { type: 'table', wide: false })
  t.same(parseOutput('wide'), { type: 'table', wide: true })
  t.same(parseOutput('jsonpath={.a}'), { type: 'jsonpath', template: '{.a}' })
  t.throws(() => parseOutput('xml'), new KubectlError('EUSAGE', 'unable to match a printer suitable for the output format "xml", allowed formats are: json,jsonpath,name,wide,yaml'))
  t.throws(() => parseOutput('jsonpath'), { message: 'template format specified but no template given' })
})

t.test('JSON and YAML as kubectl writes them', async t => {
  const object = { spec: { b: 1, a: [{ y: '80', x: 'True' }] }, metadata: { resourceVersion: '12', name: 'web', annotations: { text: 'line\n' } }, kind: 'Service', apiVersion: 'v1' }
  t.equal(toJson(object), '{\n    "apiVersion": "v1",\n    "kind": "Service",\n    "metadata": {\n        "annotations": {\n            "text": "line\\n"\n        },\n        "name": "web",\n        "resourceVersion": "12"\n    },\n    "spec": {\n        "a": [\n            {\n                "x": "True",\n                "y": "80"\n            }\n        ],\n        "b": 1\n    }\n}')
  t.equal(toYaml(object), 'apiVersion: v1\nkind: Service\nmetadata:\n  annotations:\n    text: |\n      line\n  name: web\n  resourceVersion: "12"\nspec:\n  a:\n  - x: "True"\n    "y": "80"\n  b: 1')
  t.equal(toYaml({ t: '2026-01-01T00:00:00Z', long: 'x'.repeat(120) }), `long: ${'x'.repeat(120)}\nt: "2026-01-01T00:00:00Z"`, 'no folding; timestamps quoted')
  t.same(JSON.parse(renderData({ type: 'json' }, listOf([]))), { apiVersion: 'v1', items: [], kind: 'List', metadata: { resourceVersion: '' } })
  t.equal(renderData({ type: 'jsonpath', template: '{range .items[*]}{.n}{"\\n"}{end}' }, { items: [{ n: 1 }, { n: 2 }] }), '1\n2', 'one trailing newline is left to the sink')
})

t.test('names and type meta', async t => {
  const deploy = lookupResource('deploy')
  t.equal(nameOf({ metadata: { name: 'web' } }, deploy), 'deployment.apps/web')
  t.same(withTypeMeta({ metadata: { name: 'web' } }, deploy), { metadata: { name: 'web' }, apiVersion: 'apps/v1', kind: 'Deployment' })
})
