// Strategic merge patch (`application/strategic-merge-patch+json`), the
// default of `kubectl patch` and what `kubectl apply` (client-side) sends.
//
// Why a subset: the full algorithm reads patch strategies from the Go type
// definitions (struct tags). Here it is a JSON merge patch (RFC 7386) plus
// what matters in practice:
// - lists Kubernetes merges by key are merged element by element instead of
//   replaced: containers, initContainers, ephemeralContainers, volumes, env,
//   imagePullSecrets (by name), volumeMounts (mountPath), volumeDevices
//   (devicePath), container ports (containerPort), Service ports (port),
//   conditions (type), node addresses (type), taints (key), hostAliases (ip),
//   ownerReferences (uid), topologySpreadConstraints (topologyKey);
// - metadata.finalizers merge as a set;
// - the directives `$patch: replace|delete|merge`, `$retainKeys`,
//   `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>`.
// Every other list is replaced whole, as a merge patch does. Kinds added
// later with their own keyed lists need an entry in MERGE_KEYS.

import { cloneJson } from '../../api/merge-patch.ts'
import type { JsonObject, JsonValue } from '../../api/merge-patch.ts'

/** Field name → merge key of its items (context-free, as the field names are unique enough). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  imagePullSecrets: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  conditions: 'type',
  addresses: 'type',
  taints: 'key',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
}

/** Lists of strings merged as sets (patchStrategy=merge on a primitive list). */
const SET_LISTS = new Set(['finalizers'])

/** A patch that cannot be applied: code 'InvalidPatch'. */
export class StrategicMergePatchError extends Error {
  readonly code = 'InvalidPatch'
  constructor(message: string) {
    super(message)
    this.name = 'StrategicMergePatchError'
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function setKey(target: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

function mergeKeyFor(field: string, items: readonly JsonValue[], original: readonly JsonValue[]): string | undefined {
  if (field === 'ports') {
    const sample = [...items, ...original].find(isObject)
    if (sample === undefined) return undefined
    return 'containerPort' in sample ? 'containerPort' : 'port'
  }
  return MERGE_KEYS[field]
}

function mergeList(field: string, original: JsonValue | undefined, patch: JsonValue[]): JsonValue[] {
  const base = Array.isArray(original) ? original.map(item => cloneJson(item)) : []
  if (SET_LISTS.has(field)) {
    const out = [...base]
    for (const item of patch) if (!out.some(existing => existing === item)) out.push(cloneJson(item))
    return out
  }
  const key = mergeKeyFor(field, patch, base)
  if (key === undefined) return patch.map(item => stripDirectives(item))
  if (patch.some(item => isObject(item) && item.$patch === 'replace')) {
    return patch.filter(item => !(isObject(item) && item.$patch === 'replace')).map(item => stripDirectives(item))
  }
  const out = base
  for (const item of patch) {
    if (!isObject(item)) {
      out.push(cloneJson(item))
      continue
    }
    const id = item[key]
    const index = out.findIndex(existing => isObject(existing) && existing[key] === id && id !== undefined)
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1)
      continue
    }
    if (index >= 0) out[index] = mergeObject(out[index], item)
    else out.push(stripDirectives(item))
  }
  return out
}

/** Drops directive keys from a value that is inserted as is. */
function stripDirectives(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(stripDirectives)
  if (!isObject(value)) return value
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) setKey(out, k, stripDirectives(v))
  return out
}

function orderBy(list: JsonValue[], order: JsonValue[], key: string | undefined): JsonValue[] {
  const position = (item: JsonValue): number => {
    const id = key !== undefined && isObject(item) ? item[key] : item
    const i = order.findIndex(o => (key !== undefined && isObject(o) ? o[key] : o) === id)
    return i < 0 ? Number.MAX_SAFE_INTEGER : i
  }
  return list
    .map((item, i) => ({ item, i }))
    .sort((a, b) => position(a.item) - position(b.item) || a.i - b.i)
    .map(({ item }) => item)
}

function mergeObject(original: JsonValue | undefined, patch: JsonObject): JsonValue {
  const directive = patch.$patch
  if (directive === 'replace') return stripDirectives(patch)
  if (directive !== undefined && directive !== 'merge' && directive !== 'delete') {
    throw new StrategicMergePatchError(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`)
  }
  const out: JsonObject = isObject(original) ? (cloneJson(original) as JsonObject) : {}
  const retainKeys = patch.$retainKeys
  const orders: Array<[string, JsonValue[]]> = []
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length)
      const current = out[field]
      if (Array.isArray(current) && Array.isArray(value)) setKey(out, field, current.filter(item => !value.includes(item)))
      continue
    }
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders.push([key.slice('$setElementOrder/'.length), value])
      continue
    }
    if (key.startsWith('$')) continue
    if (value === null) {
      delete out[key]
    } else if (isObject(value)) {
      if (value.$patch === 'delete') delete out[key]
      else setKey(out, key, mergeObject(out[key], value))
    } else if (Array.isArray(value)) {
      setKey(out, key, mergeList(key, out[key], value))
    } else {
      setKey(out, key, value)
    }
  }
  for (const [field, order] of orders) {
    const list = out[field]
    if (Array.isArray(list)) setKey(out, field, orderBy(list, order, mergeKeyFor(field, order, list)))
  }
  if (Array.isArray(retainKeys)) {
    for (const key of Object.keys(out)) if (!retainKeys.includes(key) && !Object.hasOwn(patch, key)) delete out[key]
  }
  return out
}

/** Applies a strategic merge patch to a copy of `document`. Throws StrategicMergePatchError. */
export function applyStrategicMergePatch(document: unknown, patch: unknown): JsonValue {
  if (!isObject(patch as JsonValue)) throw new StrategicMergePatchError('a strategic merge patch must be a JSON object')
  return mergeObject(cloneJson(document), cloneJson(patch) as JsonObject)
}
