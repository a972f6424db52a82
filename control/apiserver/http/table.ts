// Server-side printing (meta.k8s.io Table): what `kubectl get` asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, so it prints the
// same columns as against a real cluster (READY, STATUS, RESTARTS...)
// instead of only NAME and AGE.
//
// Rows carry the object's metadata (PartialObjectMetadata) for --show-labels
// and -L, or the whole object with ?includeObject=Object. Watches asked as
// Table get one single-row Table per event, column definitions only in the
// first, as kube-apiserver does.

import type { KubeObject } from '../../client/api-client.ts'
import { columnsFor } from './table-columns.ts'

export interface TableRequest {
  /** 'meta.k8s.io/v1' or 'meta.k8s.io/v1beta1'. */
  apiVersion: string
  includeObject: 'None' | 'Metadata' | 'Object'
}

/** The Table the client accepts, if it asked for one (the first acceptable entry of Accept). */
export function tableRequested(accept: string | undefined, includeObject: string | undefined): TableRequest | undefined {
  if (accept === undefined || !accept.includes('as=Table')) return undefined
  for (const entry of accept.split(',')) {
    const params = new Map(
      entry
        .split(';')
        .slice(1)
        .map(p => p.trim().split('=') as [string, string]),
    )
    if (params.get('as') !== 'Table' || params.get('g') !== 'meta.k8s.io') continue
    const version = params.get('v')
    if (version !== 'v1' && version !== 'v1beta1') continue
    const include = includeObject === 'None' || includeObject === 'Object' ? includeObject : 'Metadata'
    return { apiVersion: `meta.k8s.io/${version}`, includeObject: include }
  }
  return undefined
}

function rowObject(object: KubeObject, request: TableRequest): unknown {
  if (request.includeObject === 'None') return undefined
  if (request.includeObject === 'Object') return object
  return { kind: 'PartialObjectMetadata', apiVersion: request.apiVersion, metadata: object.metadata }
}

export function toTable(
  kind: string,
  objects: readonly KubeObject[],
  resourceVersion: string | undefined,
  request: TableRequest,
  options: { noHeaders?: boolean; now?: Date } = {},
): Record<string, unknown> {
  const columns = columnsFor(kind)
  const now = options.now ?? new Date()
  const table: Record<string, unknown> = {
    kind: 'Table',
    apiVersion: request.apiVersion,
    metadata: resourceVersion === undefined ? {} : { resourceVersion },
  }
  if (options.noHeaders !== true) {
    table.columnDefinitions = columns.map(({ name, type, format, description, priority }) => ({ name, type, format, description, priority }))
  }
  table.rows = objects.map(object => {
    const row: Record<string, unknown> = { cells: columns.map(c => c.cell(object, now)) }
    const embedded = rowObject(object, request)
    if (embedded !== undefined) row.object = embedded
    return row
  })
  return table
}
