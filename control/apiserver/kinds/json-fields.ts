// Small accessors for walking and defaulting untyped JSON objects.
//
// Why: the API server handles objects as decoded JSON (no generated Go-like
// structs), so defaulting and validation need a few safe ways to reach into
// `spec.template.spec.containers[0]` without a cast at every step.

export type JsonRecord = Record<string, unknown>

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The object at `key`, or undefined when absent or not an object. */
export function recordAt(parent: unknown, key: string): JsonRecord | undefined {
  if (!isRecord(parent)) return undefined
  const value = parent[key]
  return isRecord(value) ? value : undefined
}

/** The object at `key`, created (replacing null/undefined) when missing. */
export function ensureRecord(parent: JsonRecord, key: string): JsonRecord {
  const value = parent[key]
  if (isRecord(value)) return value
  const created: JsonRecord = {}
  parent[key] = created
  return created
}

/** The array at `key` (only its object items, with their index), or [] when absent. */
export function recordsAt(parent: unknown, key: string): Array<[JsonRecord, number]> {
  if (!isRecord(parent)) return []
  const value = parent[key]
  if (!Array.isArray(value)) return []
  const out: Array<[JsonRecord, number]> = []
  value.forEach((item, i) => {
    if (isRecord(item)) out.push([item, i])
  })
  return out
}

/** Sets `key` when it is absent, null or ''. */
export function setDefault(target: JsonRecord, key: string, value: unknown): void {
  const current = target[key]
  if (current === undefined || current === null || current === '') target[key] = value
}

export function stringAt(parent: unknown, key: string): string | undefined {
  if (!isRecord(parent)) return undefined
  const value = parent[key]
  return typeof value === 'string' ? value : undefined
}

export function numberAt(parent: unknown, key: string): number | undefined {
  if (!isRecord(parent)) return undefined
  const value = parent[key]
  return typeof value === 'number' ? value : undefined
}

/** A map of strings (labels, selectors), or undefined when absent or malformed. */
export function stringMapAt(parent: unknown, key: string): Record<string, string> | undefined {
  const value = recordAt(parent, key)
  if (value === undefined) return undefined
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v
  return out
}
