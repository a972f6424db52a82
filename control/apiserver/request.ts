// The transport-agnostic request and response of the handler core, and the
// parsing of the query parameters Kubernetes clients send.
//
// Why strings in `query`: both transports (HTTPS and in-process) hand over
// the same `?labelSelector=...&watch=1` values, so parsing and its error
// messages live here once, and an in-process caller sees exactly the errors a
// kubectl user would.

import { LabelSelectorError, everything, parseLabelSelector } from '../api/label-selector.ts'
import type { LabelSelector } from '../api/label-selector.ts'
import { FieldSelectorError, compileFieldSelector, everythingFields } from '../api/field-selector.ts'
import type { FieldSelector } from '../api/field-selector.ts'
import { badRequest, fieldNotSupported, invalid } from '../api/status-error.ts'
import type { DeleteOptions, ResourceRef } from '../client/api-client.ts'
import { isRecord } from './kinds/json-fields.ts'
import type { Verb } from './resource-definition.ts'

export type ApiVerb = Verb

export type Query = Readonly<Record<string, string | undefined>>

export interface ApiRequest {
  verb: ApiVerb
  ref: ResourceRef
  namespace?: string | undefined
  name?: string | undefined
  /** 'status', 'scale' or 'binding'. */
  subresource?: string | undefined
  /** The URL query parameters, as strings. */
  query?: Query | undefined
  /** The decoded request body (create, update, patch, delete options). */
  body?: unknown
  /** For patch: the media type that says which patch it is (application/merge-patch+json...). */
  contentType?: string | undefined
}

export interface ApiResponse {
  /** The HTTP status code. */
  status: number
  /** The object, list or Status to send back. */
  body: unknown
}

export interface ListOptions {
  labelSelector: LabelSelector
  fieldSelector: FieldSelector
  /** '' when absent. */
  resourceVersion: string
  timeoutSeconds: number | undefined
  allowWatchBookmarks: boolean
}

const truthy = (value: string | undefined): boolean => value === 'true' || value === '1'

export function isWatchRequest(query: Query | undefined): boolean {
  return truthy(query?.watch)
}

export function isDryRun(query: Query | undefined): boolean {
  return query?.dryRun === 'All'
}

/** labelSelector, fieldSelector (checked against `kind`'s allow list), resourceVersion, timeoutSeconds, allowWatchBookmarks. */
export function parseListOptions(query: Query | undefined, kind: string): ListOptions {
  let labelSelector = everything
  let fieldSelector = everythingFields
  try {
    if (query?.labelSelector) labelSelector = parseLabelSelector(query.labelSelector)
  } catch (err) {
    if (err instanceof LabelSelectorError) throw badRequest(err.message)
    throw err
  }
  try {
    if (query?.fieldSelector) fieldSelector = compileFieldSelector(query.fieldSelector, kind)
  } catch (err) {
    if (err instanceof FieldSelectorError) throw badRequest(err.message)
    throw err
  }
  let timeoutSeconds: number | undefined
  if (query?.timeoutSeconds !== undefined && query.timeoutSeconds !== '') {
    timeoutSeconds = Number(query.timeoutSeconds)
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0) {
      throw badRequest(`invalid value for timeoutSeconds: ${JSON.stringify(query.timeoutSeconds)}`)
    }
  }
  const resourceVersion = query?.resourceVersion ?? ''
  if (resourceVersion !== '' && !/^\d+$/.test(resourceVersion)) {
    throw badRequest(`invalid resource version: ${JSON.stringify(resourceVersion)}`)
  }
  return { labelSelector, fieldSelector, resourceVersion, timeoutSeconds, allowWatchBookmarks: truthy(query?.allowWatchBookmarks) }
}

const PROPAGATION = ['Foreground', 'Background', 'Orphan']

/** DeleteOptions from the body (a DeleteOptions object) and the query (gracePeriodSeconds, propagationPolicy). */
export function parseDeleteOptions(query: Query | undefined, body: unknown): DeleteOptions {
  const options: DeleteOptions = {}
  if (query?.gracePeriodSeconds !== undefined && query.gracePeriodSeconds !== '') {
    const grace = Number(query.gracePeriodSeconds)
    if (!Number.isInteger(grace)) throw badRequest(`invalid value for gracePeriodSeconds: ${JSON.stringify(query.gracePeriodSeconds)}`)
    options.gracePeriodSeconds = grace
  }
  if (query?.propagationPolicy) options.propagationPolicy = query.propagationPolicy as DeleteOptions['propagationPolicy']
  if (query?.orphanDependents !== undefined) options.propagationPolicy = truthy(query.orphanDependents) ? 'Orphan' : 'Background'
  if (isRecord(body)) {
    if (typeof body.gracePeriodSeconds === 'number') options.gracePeriodSeconds = body.gracePeriodSeconds
    if (typeof body.propagationPolicy === 'string') options.propagationPolicy = body.propagationPolicy as DeleteOptions['propagationPolicy']
    if (typeof body.orphanDependents === 'boolean') options.propagationPolicy = body.orphanDependents ? 'Orphan' : 'Background'
    if (isRecord(body.preconditions)) {
      const preconditions: NonNullable<DeleteOptions['preconditions']> = {}
      if (typeof body.preconditions.uid === 'string') preconditions.uid = body.preconditions.uid
      if (typeof body.preconditions.resourceVersion === 'string') preconditions.resourceVersion = body.preconditions.resourceVersion
      options.preconditions = preconditions
    }
  }
  if (options.propagationPolicy !== undefined && !PROPAGATION.includes(options.propagationPolicy)) {
    throw invalid({ kind: 'DeleteOptions', group: 'meta.k8s.io' }, '', [
      fieldNotSupported('propagationPolicy', options.propagationPolicy, PROPAGATION),
    ])
  }
  return options
}
