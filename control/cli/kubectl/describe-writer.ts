// The building blocks of `kubectl describe` text: kubectl's PrefixWriter
// (two spaces per level, "\t" between label and value), laid out at the end
// by the tab writer exactly as kubectl's tabbedString does, plus the
// multi-line printers every describer shares — labels, annotations (long
// ones folded, last-applied-configuration skipped), tolerations, taints — and
// the Events table.

import type { KubeObject } from '../../client/api-client.ts'
import { eventTime, since } from './columns.ts'
import { tabbed } from './tab-writer.ts'

export const LEVEL_0 = 0
export const LEVEL_1 = 1
export const LEVEL_2 = 2
export const LEVEL_3 = 3

const MAX_ANNOTATION_LEN = 140
const SKIP_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration'])

export class DescribeWriter {
  #text = ''

  /** Writes `text` after `level` indents (text carries its own tabs and newline). */
  write(level: number, text: string): void {
    this.#text += '  '.repeat(level) + text
  }

  /** kubectl's WriteLine: the values joined by spaces, then a newline. */
  line(...values: string[]): void {
    this.#text += values.join(' ') + '\n'
  }

  /** The raw text, tabs and all (rollout history prints its template this way). */
  raw(): string {
    return this.#text
  }

  /** The laid-out text (tab writer: minimum width 0, padding 2). */
  toString(): string {
    return tabbed(this.#text, { minWidth: 0, padding: 2 })
  }
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
export const obj = (v: unknown): Json => (isObject(v) ? v : {})
export const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : [])
export const str = (v: unknown): string => (typeof v === 'string' ? v : '')
export const num = (v: unknown): number => (typeof v === 'number' ? v : 0)

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const two = (n: number): string => String(n).padStart(2, '0')

/** Go's time.RFC1123Z in local time: `Mon, 02 Jan 2006 15:04:05 -0700`. */
export function rfc1123z(timestamp: unknown): string {
  const ms = typeof timestamp === 'string' ? Date.parse(timestamp) : NaN
  const d = new Date(Number.isNaN(ms) ? 0 : ms)
  const offset = -d.getTimezoneOffset()
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset)
  return (
    `${DAYS[d.getDay()]}, ${two(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`
  )
}

/** printLabelsMultilineWithIndent: `Labels:  a=b` then one `k=v` per line, or `<none>`. */
export function printLabels(w: DescribeWriter, title: string, labels: Record<string, string> | undefined, initialIndent = '', innerIndent = '\t'): void {
  w.write(LEVEL_0, `${initialIndent}${title}:${innerIndent}`)
  const keys = Object.keys(labels ?? {}).sort(byText)
  if (keys.length === 0) {
    w.line('<none>')
    return
  }
  keys.forEach((key, i) => {
    // Continuation lines start with the inner indent only (visible in rollout history's raw template).
    if (i !== 0) w.write(LEVEL_0, innerIndent)
    w.write(LEVEL_0, `${key}=${labels?.[key] ?? ''}\n`)
  })
}

/** printAnnotationsMultiline: `key: value`, long or multi-line values folded, last-applied skipped. */
export function printAnnotations(w: DescribeWriter, title: string, annotations: Record<string, string> | undefined, initialIndent = '', innerIndent = '\t'): void {
  w.write(LEVEL_0, `${initialIndent}${title}:${innerIndent}`)
  const keys = Object.keys(annotations ?? {})
    .filter(k => !SKIP_ANNOTATIONS.has(k))
    .sort(byText)
  if (keys.length === 0) {
    w.line('<none>')
    return
  }
  const indent = initialIndent + innerIndent
  keys.forEach((key, i) => {
    if (i !== 0) w.write(LEVEL_0, indent)
    const value = (annotations?.[key] ?? '').replace(/\n$/, '')
    if (value.length + key.length + 2 > MAX_ANNOTATION_LEN || value.includes('\n')) {
      w.write(LEVEL_0, `${key}:\n`)
      for (const s of value.split('\n')) {
        const shortened = s.length > MAX_ANNOTATION_LEN - 2 ? `${s.slice(0, MAX_ANNOTATION_LEN - 2)}...` : s
        w.write(LEVEL_0, `${indent}  ${shortened}\n`)
      }
    } else {
      w.write(LEVEL_0, `${key}: ${value}\n`)
    }
  })
}

/** printTolerationsMultilineWithIndent. */
export function printTolerations(w: DescribeWriter, title: string, tolerations: unknown, initialIndent = '', innerIndent = '\t'): void {
  w.write(LEVEL_0, `${initialIndent}${title}:${innerIndent}`)
  const items = [...list(tolerations)].sort((a, b) => byText(str(a.key), str(b.key)))
  if (items.length === 0) {
    w.line('<none>')
    return
  }
  items.forEach((t, i) => {
    if (i !== 0) w.write(LEVEL_0, initialIndent + innerIndent)
    let text = str(t.key)
    if (str(t.value) !== '') text += `=${str(t.value)}`
    if (str(t.effect) !== '') text += `:${str(t.effect)}`
    if (t.operator === 'Exists' && str(t.value) === '') text += str(t.key) !== '' || str(t.effect) !== '' ? ' op=Exists' : 'op=Exists'
    if (typeof t.tolerationSeconds === 'number') text += ` for ${t.tolerationSeconds}s`
    w.write(LEVEL_0, `${text}\n`)
  })
}

/** printTaintsMultilineWithIndent: `key=value:Effect`, sorted by effect then key. */
export function printTaints(w: DescribeWriter, title: string, taints: unknown): void {
  w.write(LEVEL_0, `${title}:\t`)
  const items = [...list(taints)].sort((a, b) => byText(`${str(a.effect)},${str(a.key)}`, `${str(b.effect)},${str(b.key)}`))
  if (items.length === 0) {
    w.line('<none>')
    return
  }
  items.forEach((t, i) => {
    if (i !== 0) w.write(LEVEL_0, '\t')
    w.write(LEVEL_0, `${str(t.key)}${str(t.value) === '' ? '' : `=${str(t.value)}`}:${str(t.effect)}\n`)
  })
}

/** `Controlled By:` text: Kind/name of the controller owner. */
export function controllerOf(object: KubeObject): string | undefined {
  const ref = object.metadata.ownerReferences?.find(r => r.controller === true)
  return ref === undefined ? undefined : `${ref.kind}/${ref.name}`
}

/** DescribeEvents: the Events table (oldest first), or `Events: <none>`. */
export function printEvents(w: DescribeWriter, events: readonly KubeObject[] | undefined, now: number): void {
  if (events === undefined) return
  if (events.length === 0) {
    w.write(LEVEL_0, 'Events:\t<none>\n')
    return
  }
  const sorted = [...events].sort((a, b) => eventTime(a) - eventTime(b))
  w.write(LEVEL_0, 'Events:\n  Type\tReason\tAge\tFrom\tMessage\n')
  w.write(LEVEL_1, '----\t------\t----\t----\t-------\n')
  for (const e of sorted) {
    const first = e.eventTime ? since(e.eventTime, now) : since(e.firstTimestamp, now)
    const series = obj(e.series)
    let interval = first
    if (series.lastObservedTime) interval = `${since(series.lastObservedTime, now)} (x${num(series.count)} over ${first})`
    else if (num(e.count) > 1) interval = `${since(e.lastTimestamp, now)} (x${num(e.count)} over ${first})`
    const source = str(obj(e.source).component) || str(e.reportingComponent)
    w.write(LEVEL_1, `${str(e.type)}\t${str(e.reason)}\t${interval}\t${source}\t${str(e.message).trim()}\n`)
  }
}
