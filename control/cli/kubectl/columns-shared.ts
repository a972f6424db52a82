// What every `get` column module shares: the column shape, NAME and AGE,
// kubectl's translateTimestampSince, and loose readers of decoded JSON.

import type { KubeObject } from '../../client/api-client.ts'
import { humanDuration } from '../../apiserver/http/table-columns.ts'
import { labelSelectorFromObject } from '../../api/label-selector.ts'
import type { LabelSelectorObject } from '../../api/label-selector.ts'

export interface PrintColumn {
  header: string
  /** Shown only with -o wide. */
  wide: boolean
  cell(object: KubeObject, now: number): string
}

export type Json = Record<string, unknown>

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
export const obj = (v: unknown): Json => (isObject(v) ? v : {})
export const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : [])
export const str = (v: unknown): string => (typeof v === 'string' ? v : '')
export const num = (v: unknown): number => (typeof v === 'number' ? v : 0)

/** kubectl's translateTimestampSince: "<unknown>" for no time. */
export function since(timestamp: unknown, now: number): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>'
  const at = Date.parse(timestamp)
  if (Number.isNaN(at)) return '<unknown>'
  return humanDuration(now - at)
}

export const column = (header: string, cell: PrintColumn['cell'], wide = false): PrintColumn => ({ header, wide, cell })
export const nameColumn = column('NAME', o => o.metadata.name ?? '')
export const ageColumn = column('AGE', (o, now) => since(o.metadata.creationTimestamp, now))

/** metav1.FormatLabelSelector, as the SELECTOR columns print it: `<none>` for an empty one. */
export function selectorText(selector: unknown): string {
  try {
    const text = labelSelectorFromObject(selector as LabelSelectorObject | undefined).toString()
    return text === '' ? '<none>' : text
  } catch {
    return '<invalid>'
  }
}
