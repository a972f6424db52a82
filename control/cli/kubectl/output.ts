// `-o json|yaml|name|wide|jsonpath=...`: which printer a command uses, and the
// machine-readable ones. kubectl writes unstructured objects, so keys come out
// sorted; JSON is indented by four spaces; YAML has sequences flush with their
// key and quotes strings YAML 1.1 would read as something else ("80",
// "True", timestamps). Several objects become a v1 List.

import { stringify } from 'yaml'
import type { ScalarTag } from 'yaml'
import type { KubeObject } from '../../client/api-client.ts'
import { KubectlError } from './errors.ts'
import { renderJsonPath, parseJsonPath } from './jsonpath.ts'
import type { Kind } from './resource-kinds.ts'
import { apiVersionOf, qualifiedKind } from './resource-kinds.ts'
import { indentedJson, sortKeys } from './sorted-json.ts'

export type OutputFormat =
  | { type: 'table'; wide: boolean }
  | { type: 'json' }
  | { type: 'yaml' }
  | { type: 'name' }
  | { type: 'jsonpath'; template: string }

const ALLOWED = 'json,jsonpath,name,wide,yaml'

/** The printer `-o` asks for (table when absent). */
export function parseOutput(flag: string | undefined): OutputFormat {
  if (flag === undefined || flag === '') return { type: 'table', wide: false }
  if (flag === 'wide') return { type: 'table', wide: true }
  if (flag === 'json' || flag === 'yaml' || flag === 'name') return { type: flag }
  if (flag === 'jsonpath' || flag === 'jsonpath=') throw new KubectlError('EUSAGE', 'template format specified but no template given')
  if (flag.startsWith('jsonpath=')) {
    const template = flag.slice('jsonpath='.length)
    parseJsonPath(template) // fail early on a bad template
    return { type: 'jsonpath', template }
  }
  throw new KubectlError('EUSAGE', `unable to match a printer suitable for the output format "${flag}", allowed formats are: ${ALLOWED}`)
}

/** The object with apiVersion and kind filled in (list items may lack them). */
export function withTypeMeta(object: KubeObject, def: Kind): KubeObject {
  return { ...object, apiVersion: object.apiVersion ?? apiVersionOf(def), kind: object.kind ?? def.kind }
}

/** What `-o json` prints for several objects. */
export function listOf(items: readonly KubeObject[]): Record<string, unknown> {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }
}

// Our own copy of the YAML 1.1 timestamp tag, used only so the stringifier
// quotes timestamp-looking strings (as go-yaml does): the shared tag object of
// the yaml package can be changed by other code in the process (tap does).
const TIMESTAMP_TAG: ScalarTag = {
  tag: 'tag:yaml.org,2002:timestamp',
  default: true,
  identify: () => false,
  test: /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][012]?[0-9](?::[0-9]{2})?))?)$/,
  resolve: (text: string) => text,
}

export function toYaml(value: unknown): string {
  return stringify(sortKeys(value), {
    version: '1.1',
    customTags: tags => [...tags.filter(t => (t as { tag?: string }).tag !== TIMESTAMP_TAG.tag), TIMESTAMP_TAG],
    lineWidth: 0,
    indentSeq: false,
    aliasDuplicateObjects: false,
  }).replace(/\n$/, '')
}

export function toJson(value: unknown): string {
  return indentedJson(value)
}

/** `-o name`: `deployment.apps/web`. */
export function nameOf(object: KubeObject, def: Kind): string {
  return `${qualifiedKind(def)}/${object.metadata.name ?? ''}`
}

/** json, yaml or jsonpath of one value (an object, or a List of several). */
export function renderData(format: Exclude<OutputFormat, { type: 'table' } | { type: 'name' }>, value: unknown): string {
  switch (format.type) {
    case 'json':
      return toJson(value)
    case 'yaml':
      return toYaml(value)
    case 'jsonpath':
      // The sink adds a newline; a template that ends in one would otherwise print two.
      return renderJsonPath(format.template, value).replace(/\n$/, '')
  }
}
