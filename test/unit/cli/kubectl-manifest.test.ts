// Manifest loading: multi-document YAML and JSON, document numbers in every
// error, what is checked locally, directories and stdin.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { KubectlError } from '../../../control/cli/kubectl/errors.ts'
import { loadManifests, parseManifest, validateDocument } from '../../../control/cli/kubectl/manifest.ts'
import type { ManifestDocument } from '../../../control/cli/kubectl/manifest.ts'

const options = { namespace: 'default', explicitNamespace: false }

function errorOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return err instanceof KubectlError ? err.message : String(err)
  }
  return '(no error)'
}

t.test('documents keep their position in the stream', async t => {
  const docs = parseManifest('---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# only a comment\n---\n{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}\n---\n', 'app.yaml')
  t.same(docs.map(d => [d.source, d.index, (d.value as { metadata: { name: string } }).metadata.name]), [['app.yaml', 1, 'a'], ['app.yaml', 3, 'b']])
  const list = parseManifest('apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: first}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: second}}\n', 'list.yaml')
  t.same(list.map(d => (d.value as { metadata: { name: string } }).metadata.name), ['first', 'second'], 'a List is flattened')
})

t.test('YAML read like kubectl reads it', async t => {
  const [doc] = parseManifest('a: 0644\nb: yes\nc: 2026-01-02T03:04:05Z\nd: "0644"\ne: 1.50\n', 'x.yaml')
  t.same(doc?.value, { a: 420, b: true, c: '2026-01-02T03:04:05Z', d: '0644', e: 1.5 }, 'YAML 1.1 octal and booleans; timestamps stay strings')
})

t.test('a syntax error names the document and line, and stops everything', async t => {
  const message = errorOf(() => parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [\n', 'bad.yaml'))
  t.match(message, /^error parsing bad\.yaml: document 2: error converting YAML to JSON: yaml: line \d+: /)
  t.match(errorOf(() => parseManifest('a: 1\na: 2\n', 'dup.yaml')), /^error parsing dup\.yaml: document 1: .*Map keys must be unique/)
})

t.test('local validation: the file, the document, the field, the reason', async t => {
  const doc = (value: unknown, index = 2): ManifestDocument => ({ source: 'app.yaml', index, value })
  const check = (value: unknown, extra: Partial<Parameters<typeof validateDocument>[1]> = {}): string => errorOf(() => validateDocument(doc(value), { ...options, ...extra }))
  t.equal(check(['a']), 'error validating "app.yaml": document 2: must be a mapping (a Kubernetes object), not a list')
  t.equal(check('text'), 'error validating "app.yaml": document 2: must be a mapping (a Kubernetes object), not a string')
  t.equal(check({ metadata: { name: 'x' } }), 'error validating "app.yaml": document 2: apiVersion: Required value, kind: Required value')
  t.equal(check({ apiVersion: 'v1', kind: 'ConfigMap' }), 'error validating "app.yaml": document 2: metadata: Required value')
  t.equal(check({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }), 'error validating "app.yaml": document 2: metadata.name: Required value: name is required')
  t.equal(check({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 5 } }), 'error validating "app.yaml": document 2: metadata.name: Invalid value: 5: must be a string')
  t.equal(
    check({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { app: 1 } }, data: 'nope' }),
    'error validating "app.yaml": document 2: metadata.labels.app: Invalid value: 1: must be a string, data: Invalid value: "nope": must be an object',
  )
  t.equal(
    check({ apiVersion: 'v1', kind: 'Foo', metadata: { name: 'x' } }),
    'resource mapping not found for name: "x" namespace: "" from "app.yaml": no matches for kind "Foo" in version "v1"\nensure CRDs are installed first',
  )
  t.equal(
    check({ apiVersion: 'apps/v2', kind: 'Deployment', metadata: { name: 'x', namespace: 'y' } }),
    'resource mapping not found for name: "x" namespace: "y" from "app.yaml": no matches for kind "Deployment" in version "v2"\nensure CRDs are installed first',
  )
  t.equal(
    check({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'a' } }, { namespace: 'b', explicitNamespace: true }),
    `the namespace from the provided object "a" does not match the namespace "b". You must pass '--namespace=a' to perform this operation.`,
  )
  t.equal(check({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'p-' } }, { allowGenerateName: true }), '(no error)', 'create takes generateName')
})

t.test('namespaces are filled in for namespaced kinds and dropped for the others', async t => {
  const cm = validateDocument({ source: 's', index: 1, value: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } } }, { namespace: 'team', explicitNamespace: true })
  t.equal(cm.object.metadata.namespace, 'team')
  t.equal(cm.def.resource, 'configmaps')
  const ns = validateDocument({ source: 's', index: 1, value: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', namespace: 'team' } } }, options)
  t.equal(ns.object.metadata.namespace, undefined)
  const own = validateDocument({ source: 's', index: 1, value: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'mine' } } }, options)
  t.equal(own.object.metadata.namespace, 'mine', 'without -n the manifest wins')
})

t.test('files, directories and stdin', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-manifests-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n')
  writeFileSync(join(dir, 'a.json'), '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}')
  writeFileSync(join(dir, 'c.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n')
  writeFileSync(join(dir, 'README.md'), '# not a manifest')
  mkdirSync(join(dir, 'sub'))
  writeFileSync(join(dir, 'sub', 'd.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n')
  const names = (docs: ManifestDocument[]): string[] => docs.map(d => (d.value as { metadata: { name: string } }).metadata.name)
  const stdin = async (): Promise<string> => 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n'
  t.same(names(await loadManifests([dir], { stdin })), ['a', 'b', 'c'], 'name order, manifest extensions only')
  t.same(names(await loadManifests([dir], { stdin, recursive: true })), ['a', 'b', 'c', 'd'])
  const fromStdin = await loadManifests(['-'], { stdin })
  t.same([fromStdin[0]?.source, names(fromStdin)], ['STDIN', ['s']])
  await t.rejects(loadManifests([join(dir, 'nope.yaml')], { stdin }), { message: `the path "${join(dir, 'nope.yaml')}" does not exist` })
  await t.rejects(loadManifests([join(dir, 'sub', '..', 'sub', 'empty')], { stdin }), { code: 'ENOTFOUND' })
  mkdirSync(join(dir, 'empty'))
  await t.rejects(loadManifests([join(dir, 'empty')], { stdin }), { message: `error reading [${join(dir, 'empty')}]: recognized file extensions are [.json .yaml .yml]` })
})

t.test('YAML 1.1 booleans bite as in kubectl, and the check says so', async t => {
  const [doc] = parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\n', 'y.yaml')
  t.equal(errorOf(() => validateDocument(doc as ManifestDocument, options)), 'error validating "y.yaml": document 1: metadata.name: Invalid value: true: must be a string')
})
