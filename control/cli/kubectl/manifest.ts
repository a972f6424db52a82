// Manifests for `apply -f` / `create -f` / `delete -f`: files, directories
// (their *.yaml, *.yml and *.json in name order, -R to descend) and `-` for
// stdin; multi-document YAML and JSON; `kind: List` expanded.
//
// Why every document carries its number: a user with a 12-document file must
// learn which one is wrong. A YAML syntax error stops the command before
// anything is applied (as kubectl does); a document that parses but is not a
// usable object fails on its own, with the file, the document number, the
// field path and the reason, and nothing of it is sent.
//
// YAML is read as YAML 1.1 (like kubectl's go-yaml: `0644` is octal, `yes` is
// true) except that timestamps stay strings, as they do in Kubernetes JSON.

import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import type { Tags } from 'yaml'
import { fieldErrorString, fieldInvalid, fieldRequired } from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { KubectlError } from './errors.ts'
import type { Kind } from './resource-kinds.ts'
import { kindOf } from './resource-kinds.ts'

export interface ManifestDocument {
  /** The file as the user named it, or "STDIN". */
  source: string
  /** 1-based position of the document in its file's YAML stream. */
  index: number
  /** The parsed document (not yet checked to be an object). */
  value: unknown
}

export interface ManifestObject {
  doc: ManifestDocument
  def: Kind
  /** The object with metadata.namespace set for namespaced kinds. */
  object: KubeObject
}

const MANIFEST_EXTENSIONS = ['.json', '.yaml', '.yml']

function customTags(tags: Tags): Tags {
  return tags.filter(tag => {
    const t = tag as { tag?: string; format?: string }
    return t.tag !== 'tag:yaml.org,2002:timestamp' && t.format !== 'TIME'
  })
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The documents of one file's text; throws on a syntax error (naming the document and line). */
export function parseManifest(text: string, source: string): ManifestDocument[] {
  const docs = parseAllDocuments(text, { version: '1.1', customTags, uniqueKeys: true })
  const list = Array.isArray(docs) ? docs : [docs]
  const out: ManifestDocument[] = []
  list.forEach((doc, i) => {
    const index = i + 1
    const error = doc.errors[0]
    if (error !== undefined) {
      const line = error.linePos?.[0]?.line
      const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')
      throw new KubectlError(
        'EINVALID',
        `error parsing ${source}: document ${index}: error converting YAML to JSON: yaml: ${line === undefined ? '' : `line ${line}: `}${reason}`,
      )
    }
    const value: unknown = doc.toJS({ maxAliasCount: 1000 })
    if (value === null || value === undefined) return
    // A v1 List carries its objects in items (kubectl flattens it).
    if (isPlainObject(value) && value.kind === 'List' && typeof value.apiVersion === 'string' && Array.isArray(value.items)) {
      for (const item of value.items as unknown[]) out.push({ source, index, value: item })
      return
    }
    out.push({ source, index, value })
  })
  return out
}

async function manifestFiles(path: string, recursive: boolean, top: boolean): Promise<string[]> {
  let info
  try {
    info = await stat(path)
  } catch {
    throw new KubectlError('ENOTFOUND', `the path "${path}" does not exist`)
  }
  if (!info.isDirectory()) return [path]
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const files: string[] = []
  for (const entry of entries) {
    const full = join(path, entry.name)
    if (entry.isDirectory()) {
      if (recursive) files.push(...(await manifestFiles(full, recursive, false)))
    } else if (MANIFEST_EXTENSIONS.some(ext => entry.name.endsWith(ext))) {
      files.push(full)
    }
  }
  if (top && files.length === 0) throw new KubectlError('ENOTFOUND', `error reading [${path}]: recognized file extensions are [${MANIFEST_EXTENSIONS.join(' ')}]`)
  return files
}

/** Every document of every `-f` argument, in order; `-` reads stdin once. */
export async function loadManifests(paths: readonly string[], options: { recursive?: boolean; stdin: () => Promise<string> }): Promise<ManifestDocument[]> {
  const out: ManifestDocument[] = []
  for (const path of paths) {
    if (path === '-') {
      out.push(...parseManifest(await options.stdin(), 'STDIN'))
      continue
    }
    if (/^https?:\/\//.test(path)) throw new KubectlError('EUSAGE', `reading manifests from URLs is not supported: ${path}`)
    for (const file of await manifestFiles(path, options.recursive === true, true)) {
      out.push(...parseManifest(await readFile(file, 'utf8'), file))
    }
  }
  return out
}

function validationError(doc: ManifestDocument, errors: readonly FieldError[]): KubectlError {
  const text = errors.map(fieldErrorString).join(', ')
  return new KubectlError('EINVALID', `error validating "${doc.source}": document ${doc.index}: ${text}`)
}

function stringMapErrors(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return []
  if (!isPlainObject(value)) return [fieldInvalid(path, value, 'must be a map of strings')]
  return Object.entries(value)
    .filter(([, v]) => typeof v !== 'string')
    .map(([k, v]) => fieldInvalid(`${path}.${k}`, v, 'must be a string'))
}

export interface ValidateOptions {
  /** The namespace for objects that name none. */
  namespace: string
  /** -n was given: a different namespace in a document is an error. */
  explicitNamespace: boolean
  /** create accepts metadata.generateName instead of a name; apply does not. */
  allowGenerateName?: boolean
}

/**
 * Checks what can be checked without the server (an object, apiVersion and
 * kind served here, a name, string labels) and fills in the namespace.
 * Throws a KubectlError whose text names the file, document, field and reason.
 */
export function validateDocument(doc: ManifestDocument, options: ValidateOptions): ManifestObject {
  const value = doc.value
  if (!isPlainObject(value)) {
    const what = Array.isArray(value) ? 'a list' : `a ${typeof value}`
    throw new KubectlError('EINVALID', `error validating "${doc.source}": document ${doc.index}: must be a mapping (a Kubernetes object), not ${what}`)
  }
  const errors: FieldError[] = []
  const apiVersion = value.apiVersion
  const kind = value.kind
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') errors.push(fieldRequired('apiVersion'))
  else if (typeof apiVersion !== 'string') errors.push(fieldInvalid('apiVersion', apiVersion, 'must be a string'))
  if (kind === undefined || kind === null || kind === '') errors.push(fieldRequired('kind'))
  else if (typeof kind !== 'string') errors.push(fieldInvalid('kind', kind, 'must be a string'))
  const metadata = value.metadata
  if (metadata === undefined || metadata === null) errors.push(fieldRequired('metadata'))
  else if (!isPlainObject(metadata)) errors.push(fieldInvalid('metadata', metadata, 'must be an object'))
  if (errors.length > 0) throw validationError(doc, errors)

  const meta = metadata as Record<string, unknown>
  const name = meta.name
  const generateName = meta.generateName
  if (name !== undefined && name !== null && typeof name !== 'string') errors.push(fieldInvalid('metadata.name', name, 'must be a string'))
  else if (!name && !(options.allowGenerateName && typeof generateName === 'string' && generateName !== '')) {
    errors.push(fieldRequired('metadata.name', options.allowGenerateName ? 'name or generateName is required' : 'name is required'))
  }
  if (meta.namespace !== undefined && meta.namespace !== null && typeof meta.namespace !== 'string') {
    errors.push(fieldInvalid('metadata.namespace', meta.namespace, 'must be a string'))
  }
  errors.push(...stringMapErrors(meta.labels, 'metadata.labels'), ...stringMapErrors(meta.annotations, 'metadata.annotations'))
  for (const field of ['spec', 'status', 'data']) {
    const v = value[field]
    if (v !== undefined && v !== null && !isPlainObject(v)) errors.push(fieldInvalid(field, v, 'must be an object'))
  }
  if (errors.length > 0) throw validationError(doc, errors)

  const def = kindOf(apiVersion as string, kind as string)
  if (def === undefined) {
    const version = (apiVersion as string).includes('/') ? (apiVersion as string).slice((apiVersion as string).indexOf('/') + 1) : (apiVersion as string)
    throw new KubectlError(
      'EINVALID',
      `resource mapping not found for name: "${typeof name === 'string' ? name : ''}" namespace: "${typeof meta.namespace === 'string' ? meta.namespace : ''}" from "${doc.source}": no matches for kind "${kind as string}" in version "${version}"\nensure CRDs are installed first`,
    )
  }

  const object = structuredClone(value) as KubeObject
  if (def.namespaced) {
    const own = object.metadata.namespace
    if (own && options.explicitNamespace && own !== options.namespace) {
      throw new KubectlError(
        'EINVALID',
        `the namespace from the provided object "${own}" does not match the namespace "${options.namespace}". You must pass '--namespace=${own}' to perform this operation.`,
      )
    }
    if (!own) object.metadata.namespace = options.namespace
  } else {
    delete object.metadata.namespace
  }
  return { doc, def, object }
}
