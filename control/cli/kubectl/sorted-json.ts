// JSON with object keys in sorted order, as Go writes maps (and so as kubectl
// writes unstructured objects): `-o json`, `-o yaml` and the
// last-applied-configuration annotation all use it.

/** A deep copy of `value` whose objects have their keys sorted. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key]
      if (v !== undefined) out[key] = sortKeys(v)
    }
    return out
  }
  return value
}

/** Compact JSON with sorted keys. */
export function compactJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

/** kubectl's `-o json`: sorted keys, four-space indent. */
export function indentedJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 4)
}
