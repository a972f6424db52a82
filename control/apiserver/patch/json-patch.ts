// JSON Patch (RFC 6902): `Content-Type: application/json-patch+json`,
// `kubectl patch --type=json`, and the official JavaScript client's default
// patch type.
//
// Why hand-written: six operations over JSON Pointers (RFC 6901) are short,
// and the error texts follow the Go library kube-apiserver uses
// (evanphx/json-patch) so a failed patch reads the same as on a real cluster.
// The input document is never changed: the patch applies to a deep copy.

import { cloneJson, jsonEqual } from '../../api/merge-patch.ts'
import type { JsonValue } from '../../api/merge-patch.ts'

/** 'InvalidPatch': the patch document is malformed; 'ApplyFailed': it does not apply to the object. */
export class JsonPatchError extends Error {
  readonly code: 'InvalidPatch' | 'ApplyFailed'
  constructor(code: 'InvalidPatch' | 'ApplyFailed', message: string) {
    super(message)
    this.name = 'JsonPatchError'
    this.code = code
  }
}

type Container = JsonValue[] | { [key: string]: JsonValue }

interface Operation {
  op: string
  path: string
  from?: string
  value?: unknown
  hasValue: boolean
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return []
  if (!pointer.startsWith('/')) throw new JsonPatchError('InvalidPatch', `JSON pointer must be empty or start with a "/": ${JSON.stringify(pointer)}`)
  return pointer
    .slice(1)
    .split('/')
    .map(token => token.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function isContainer(value: JsonValue | undefined): value is Container {
  return typeof value === 'object' && value !== null
}

function arrayIndex(token: string, length: number, allowEnd: boolean, op: string, path: string): number {
  if (allowEnd && token === '-') return length
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new JsonPatchError('ApplyFailed', `${op} operation does not apply: doc is missing path: "${path}": invalid index ${JSON.stringify(token)}`)
  const index = Number(token)
  const limit = allowEnd ? length : length - 1
  if (index > limit) throw new JsonPatchError('ApplyFailed', `${op} operation does not apply: doc is missing path: "${path}": index out of range`)
  return index
}

function missing(op: string, path: string): JsonPatchError {
  return new JsonPatchError('ApplyFailed', `${op} operation does not apply: doc is missing path: "${path}": missing value`)
}

/** The container holding the pointer's last token, and that token. */
function parentOf(root: { doc: JsonValue }, tokens: string[], op: string, path: string): [Container, string] {
  let current: JsonValue | undefined = root.doc
  for (let i = 0; i < tokens.length - 1; i++) {
    const token = tokens[i] as string
    if (Array.isArray(current)) current = current[arrayIndex(token, current.length, false, op, path)]
    else if (isContainer(current) && Object.hasOwn(current, token)) current = current[token]
    else throw missing(op, path)
  }
  if (!isContainer(current)) throw missing(op, path)
  return [current, tokens[tokens.length - 1] as string]
}

function get(root: { doc: JsonValue }, pointer: string, op: string): JsonValue {
  const tokens = parsePointer(pointer)
  if (tokens.length === 0) return root.doc
  const [parent, token] = parentOf(root, tokens, op, pointer)
  if (Array.isArray(parent)) return parent[arrayIndex(token, parent.length, false, op, pointer)] as JsonValue
  if (!Object.hasOwn(parent, token)) throw missing(op, pointer)
  return parent[token] as JsonValue
}

function add(root: { doc: JsonValue }, pointer: string, value: JsonValue, op = 'add'): void {
  const tokens = parsePointer(pointer)
  if (tokens.length === 0) {
    root.doc = value
    return
  }
  const [parent, token] = parentOf(root, tokens, op, pointer)
  if (Array.isArray(parent)) parent.splice(arrayIndex(token, parent.length, true, op, pointer), 0, value)
  else Object.defineProperty(parent, token, { value, enumerable: true, writable: true, configurable: true })
}

function remove(root: { doc: JsonValue }, pointer: string, op = 'remove'): JsonValue {
  const tokens = parsePointer(pointer)
  if (tokens.length === 0) throw new JsonPatchError('ApplyFailed', `${op} operation does not apply: cannot remove the whole document`)
  const [parent, token] = parentOf(root, tokens, op, pointer)
  if (Array.isArray(parent)) {
    const index = arrayIndex(token, parent.length, false, op, pointer)
    return parent.splice(index, 1)[0] as JsonValue
  }
  if (!Object.hasOwn(parent, token)) throw missing(op, pointer)
  const value = parent[token] as JsonValue
  delete parent[token]
  return value
}

function parseOperations(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) throw new JsonPatchError('InvalidPatch', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch')
  return patch.map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new JsonPatchError('InvalidPatch', `operation ${i} is not an object`)
    }
    const o = item as Record<string, unknown>
    if (typeof o.op !== 'string') throw new JsonPatchError('InvalidPatch', `operation ${i}: missing "op"`)
    if (typeof o.path !== 'string') throw new JsonPatchError('InvalidPatch', `${o.op} operation missing path`)
    if ((o.op === 'move' || o.op === 'copy') && typeof o.from !== 'string') {
      throw new JsonPatchError('InvalidPatch', `${o.op} operation missing from`)
    }
    const operation: Operation = { op: o.op, path: o.path, value: o.value, hasValue: Object.hasOwn(o, 'value') }
    if (typeof o.from === 'string') operation.from = o.from
    return operation
  })
}

/** Applies an RFC 6902 patch to a copy of `document`. Throws JsonPatchError. */
export function applyJsonPatch(document: unknown, patch: unknown): JsonValue {
  const operations = parseOperations(patch)
  const root = { doc: cloneJson(document) }
  for (const operation of operations) {
    const { op, path } = operation
    const value = (): JsonValue => {
      if (!operation.hasValue) throw new JsonPatchError('InvalidPatch', `${op} operation missing value`)
      return cloneJson(operation.value)
    }
    switch (op) {
      case 'add':
        add(root, path, value())
        break
      case 'remove':
        remove(root, path)
        break
      case 'replace': {
        const v = value()
        if (path === '') {
          root.doc = v
          break
        }
        remove(root, path, 'replace')
        add(root, path, v, 'replace')
        break
      }
      case 'move': {
        const from = operation.from as string
        if (path.startsWith(`${from}/`)) throw new JsonPatchError('ApplyFailed', `move operation does not apply: "${path}" is a child of "${from}"`)
        add(root, path, remove(root, from, 'move'), 'move')
        break
      }
      case 'copy':
        add(root, path, cloneJson(get(root, operation.from as string, 'copy')), 'copy')
        break
      case 'test':
        if (!jsonEqual(get(root, path, 'test'), value())) throw new JsonPatchError('ApplyFailed', `testing value ${path} failed: test failed`)
        break
      default:
        throw new JsonPatchError('InvalidPatch', `Unexpected kind: ${op}`)
    }
  }
  return root.doc
}
