// The human-readable printer of `kubectl get`: header and row cells for a
// kind (its columns, NAMESPACE first with -A, `kind/` name prefixes when
// several kinds are printed, -L label columns, --show-labels last), laid out
// by kubectl's tab writer (minimum width 6, three spaces between columns).

import type { KubeObject } from '../../client/api-client.ts'
import { columnsFor } from './columns.ts'
import type { Kind } from './resource-kinds.ts'
import { qualifiedKind } from './resource-kinds.ts'
import { TabWriter } from './tab-writer.ts'

export interface TableOptions {
  wide: boolean
  withNamespace: boolean
  withKind: boolean
  showLabels: boolean
  labelColumns: readonly string[]
  now: number
}

export function labelsText(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${v}`).join(',')
}

/** -L app.kubernetes.io/name prints a NAME column: the key's last segment, upper-cased. */
function labelHeader(key: string): string {
  return (key.split('/').pop() ?? key).toUpperCase()
}

export function headerCells(def: Kind, options: TableOptions): string[] {
  const cells: string[] = []
  if (options.withNamespace && def.namespaced) cells.push('NAMESPACE')
  for (const column of columnsFor(def)) if (options.wide || !column.wide) cells.push(column.header)
  for (const key of options.labelColumns) cells.push(labelHeader(key))
  if (options.showLabels) cells.push('LABELS')
  return cells
}

export function rowCells(def: Kind, object: KubeObject, options: TableOptions): string[] {
  const cells: string[] = []
  if (options.withNamespace && def.namespaced) cells.push(object.metadata.namespace ?? '')
  for (const column of columnsFor(def)) {
    if (!options.wide && column.wide) continue
    let cell = column.cell(object, options.now)
    if (options.withKind && column.header === 'NAME') cell = `${qualifiedKind(def)}/${cell}`
    cells.push(cell)
  }
  for (const key of options.labelColumns) cells.push(object.metadata.labels?.[key] ?? '')
  if (options.showLabels) cells.push(labelsText(object.metadata.labels))
  return cells
}

/** A TabWriter set up as kubectl's get printer. */
export function tableWriter(): TabWriter {
  return new TabWriter({ minWidth: 6, padding: 3, rememberWidths: true })
}

/** Lays out rows (the first usually the header); no trailing newline. */
export function renderRows(rows: readonly (readonly string[])[], writer: TabWriter = tableWriter()): string {
  writer.write(rows.map(cells => cells.join('\t') + '\n').join(''))
  return writer.flush().replace(/\n$/, '')
}
