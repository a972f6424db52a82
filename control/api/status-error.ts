// Kubernetes API errors as `Status` objects, with kube-apiserver's exact texts.
//
// Why: kubectl and @kubernetes/client-node branch on a failed request's
// `reason` and `code` and print its `message` verbatim, so users recognise an
// error only if it reads exactly as a real cluster writes it. The builders
// follow apimachinery's api/errors (NewNotFound, NewConflict, NewInvalid...),
// and the field errors follow util/validation/field, so one validation
// failure renders the same in `message` and in `details.causes`.
// Pure values only: the HTTP layer serialises `StatusError.status` with
// `statusCode` as the response code.

/** Why a request failed (metav1.StatusReason); '' is StatusReasonUnknown. */
export type StatusReason =
  | ''
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'ServerTimeout'
  | 'Timeout'
  | 'TooManyRequests'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'Expired'
  | 'ServiceUnavailable'

/** One cause of a failure; `reason` is a CauseType such as FieldValueRequired. */
export interface StatusCause {
  reason?: string
  message?: string
  field?: string
}

export interface StatusDetails {
  name?: string
  group?: string
  /** The resource (e.g. "pods") for most errors, the Kind for Invalid. */
  kind?: string
  uid?: string
  causes?: StatusCause[]
  retryAfterSeconds?: number
}

/** metav1.Status as it travels on the wire (key order as kube-apiserver writes it). */
export interface Status {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Success' | 'Failure'
  message?: string
  reason?: StatusReason
  details?: StatusDetails
  code?: number
}

/** An Error carrying a Failure Status: `code` is the reason, `statusCode` the HTTP code. */
export class StatusError extends Error {
  readonly code: Exclude<StatusReason, ''> | 'Unknown'
  readonly statusCode: number
  readonly status: Status
  constructor(status: Status) {
    super(status.message ?? '')
    this.name = 'StatusError'
    this.status = status
    this.code = status.reason || 'Unknown'
    this.statusCode = status.code ?? 500
  }

  /** Rebuilds the error from a Status read off the wire (client side). */
  static fromStatus(status: Status): StatusError {
    return new StatusError(status)
  }
}

// ---------------------------------------------------------------------------
// Field errors (util/validation/field)

export type FieldErrorType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid'

/**
 * One field-level validation failure. `field` is the path as Kubernetes
 * prints it (`spec.containers[0].image`); `badValue` is shown for the types
 * that show a value, and left out of the text when the property is absent.
 */
export interface FieldError {
  readonly type: FieldErrorType
  readonly field: string
  readonly badValue?: unknown
  readonly detail?: string
}

const fieldErrorTypeText: Record<FieldErrorType, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value',
}

// Types whose text never shows the value (Go's ErrorBody first case).
const valuelessTypes = new Set<FieldErrorType>([
  'FieldValueRequired',
  'FieldValueForbidden',
  'FieldValueTooLong',
  'InternalError',
])

export function fieldNotFound(field: string, value: unknown): FieldError {
  return { type: 'FieldValueNotFound', field, badValue: value }
}

export function fieldRequired(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, badValue: '', detail }
}

export function fieldDuplicate(field: string, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field, badValue: value }
}

export function fieldInvalid(field: string, value: unknown, detail = ''): FieldError {
  return { type: 'FieldValueInvalid', field, badValue: value, detail }
}

export function fieldTypeInvalid(field: string, value: unknown, detail = ''): FieldError {
  return { type: 'FieldValueTypeInvalid', field, badValue: value, detail }
}

/** An enumerated value outside its set; the detail lists the supported values. */
export function fieldNotSupported(field: string, value: unknown, supported: readonly string[] = []): FieldError {
  const detail = supported.length > 0 ? 'supported values: ' + supported.map(goQuote).join(', ') : ''
  return { type: 'FieldValueNotSupported', field, badValue: value, detail }
}

export function fieldForbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, badValue: '', detail }
}

/** The value is longer than maxLength bytes (the value itself is never shown). */
export function fieldTooLong(field: string, maxLength: number): FieldError {
  const detail =
    maxLength >= 0 ? `may not be more than ${maxLength} ${maxLength === 1 ? 'byte' : 'bytes'}` : 'value is too long'
  return { type: 'FieldValueTooLong', field, badValue: '<value omitted>', detail }
}

/** A list with too many items; a negative `actual` leaves the count out. */
export function fieldTooMany(field: string, actual: number, max: number): FieldError {
  const detail = max >= 0 ? `must have at most ${max} ${max === 1 ? 'item' : 'items'}` : 'has too many items'
  return actual >= 0
    ? { type: 'FieldValueTooMany', field, badValue: actual, detail }
    : { type: 'FieldValueTooMany', field, detail }
}

export function fieldInternalError(field: string, err: unknown): FieldError {
  const detail = err instanceof Error ? err.message : String(err)
  return { type: 'InternalError', field, badValue: detail, detail }
}

/** The text after the field path: `Invalid value: "x": detail`. */
export function fieldErrorBody(e: FieldError): string {
  let s = fieldErrorTypeText[e.type]
  if (!valuelessTypes.has(e.type) && Object.hasOwn(e, 'badValue')) {
    s += ': ' + renderBadValue(e.badValue)
  }
  if (e.detail) s += ': ' + e.detail
  return s
}

/** The whole text of one field error: `spec.replicas: Invalid value: -1: detail`. */
export function fieldErrorString(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`
}

/**
 * Joins several messages the way Kubernetes aggregates errors: one message
 * stands alone, several become `[a, b]`, repeats are dropped.
 */
export function aggregateMessages(messages: readonly string[]): string {
  const unique = [...new Set(messages)]
  if (unique.length === 1) return unique[0] ?? ''
  if (unique.length === 0) return ''
  return '[' + unique.join(', ') + ']'
}

// Go's %v for simple types, %q for strings, JSON for the rest (field.ErrorBody).
function renderBadValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return goQuote(v)
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v)
    case 'undefined':
      return 'null'
    default:
      return JSON.stringify(v) ?? 'null'
  }
}

/** Go's strconv.Quote (%q) for the strings that appear in API messages. */
export function goQuote(s: string): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' }
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0
    if (ch === '"' || ch === '\\') out += '\\' + ch
    else if (c < 0x20 || c === 0x7f) out += named[c] ?? '\\x' + c.toString(16).padStart(2, '0')
    else if (c >= 0x80 && c < 0xa0) out += '\\u' + c.toString(16).padStart(4, '0')
    else out += ch
  }
  return out + '"'
}

// ---------------------------------------------------------------------------
// Resource and kind names as Kubernetes prints them

/** A resource, e.g. `{resource: 'deployments', group: 'apps'}` or the string `deployments.apps`. */
export type GroupResource = string | { readonly resource: string; readonly group?: string }
/** A kind, e.g. `{kind: 'Deployment', group: 'apps'}` or the string `Deployment.apps`. */
export type GroupKind = string | { readonly kind: string; readonly group?: string }

// "deployments.apps" → deployments in group apps (schema.ParseGroupResource).
function splitGroup(s: string): { name: string; group: string } {
  const dot = s.indexOf('.')
  return dot < 0 ? { name: s, group: '' } : { name: s.slice(0, dot), group: s.slice(dot + 1) }
}

function resolveResource(gr: GroupResource): { resource: string; group: string } {
  if (typeof gr === 'string') {
    const { name, group } = splitGroup(gr)
    return { resource: name, group }
  }
  return { resource: gr.resource, group: gr.group ?? '' }
}

function resolveKind(gk: GroupKind): { kind: string; group: string } {
  if (typeof gk === 'string') {
    const { name, group } = splitGroup(gk)
    return { kind: name, group }
  }
  return { kind: gk.kind, group: gk.group ?? '' }
}

const qualified = (name: string, group: string): string => (group ? `${name}.${group}` : name)

// ---------------------------------------------------------------------------
// Builders

function failure(code: number, reason: StatusReason, message: string, details?: StatusDetails): StatusError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason }
  if (details) status.details = compactDetails(details)
  status.code = code
  return new StatusError(status)
}

// Go leaves empty strings and empty lists out of the JSON (omitempty).
function compactDetails(d: StatusDetails): StatusDetails {
  const out: StatusDetails = {}
  if (d.name) out.name = d.name
  if (d.group) out.group = d.group
  if (d.kind) out.kind = d.kind
  if (d.uid) out.uid = d.uid
  if (d.causes && d.causes.length > 0) {
    out.causes = d.causes.map(c => {
      const cause: StatusCause = {}
      if (c.reason) cause.reason = c.reason
      if (c.message) cause.message = c.message
      if (c.field) cause.field = c.field
      return cause
    })
  }
  if (d.retryAfterSeconds) out.retryAfterSeconds = d.retryAfterSeconds
  return out
}

/** 404 NotFound: `pods "web" not found`. */
export function notFound(resource: GroupResource, name: string): StatusError {
  const { resource: r, group } = resolveResource(resource)
  return failure(404, 'NotFound', `${qualified(r, group)} ${goQuote(name)} not found`, { name, group, kind: r })
}

/** 409 AlreadyExists: `pods "web" already exists`. */
export function alreadyExists(resource: GroupResource, name: string): StatusError {
  const { resource: r, group } = resolveResource(resource)
  return failure(409, 'AlreadyExists', `${qualified(r, group)} ${goQuote(name)} already exists`, {
    name,
    group,
    kind: r,
  })
}

/** The storage layer's text for a stale resourceVersion (OptimisticLockErrorMsg). */
export const OPTIMISTIC_LOCK_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again'

/** 409 Conflict: `Operation cannot be fulfilled on pods "web": <reason>`. */
export function conflict(resource: GroupResource, name: string, reason: string = OPTIMISTIC_LOCK_MESSAGE): StatusError {
  const { resource: r, group } = resolveResource(resource)
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r, group)} ${goQuote(name)}: ${reason}`, {
    name,
    group,
    kind: r,
  })
}

/**
 * 422 Invalid: `Pod "web" is invalid: spec.containers[0].image: Required value`,
 * several errors joined as `[a, b]`, each one also a cause.
 */
export function invalid(kind: GroupKind, name: string, errors: readonly FieldError[]): StatusError {
  const { kind: k, group } = resolveKind(kind)
  const head = `${qualified(k, group)} ${goQuote(name)} is invalid`
  const message = errors.length === 0 ? head : `${head}: ${aggregateMessages(errors.map(fieldErrorString))}`
  const causes = errors.map(e => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }))
  return failure(422, 'Invalid', message, { name, group, kind: k, causes })
}

/** 400 BadRequest with the given text (bad selectors, undecodable bodies...). */
export function badRequest(message: string): StatusError {
  return failure(400, 'BadRequest', message)
}

/** 401 Unauthorized; kube-apiserver's authentication filter says just "Unauthorized". */
export function unauthorized(message = 'Unauthorized'): StatusError {
  return failure(401, 'Unauthorized', message || 'not authorized')
}

/**
 * 403 Forbidden: `pods "web" is forbidden: <reason>`, or `pods is forbidden: ...`
 * without a name, or `forbidden: ...` without a resource.
 */
export function forbidden(resource: GroupResource | undefined, name: string, reason: string): StatusError {
  const { resource: r, group } = resource === undefined ? { resource: '', group: '' } : resolveResource(resource)
  let message: string
  if (!r && !group) message = `forbidden: ${reason}`
  else if (!name) message = `${qualified(r, group)} is forbidden: ${reason}`
  else message = `${qualified(r, group)} ${goQuote(name)} is forbidden: ${reason}`
  return failure(403, 'Forbidden', message, { name, group, kind: r })
}

/** What an authorizer denied, for `forbidden`'s reason. */
export interface ForbiddenAttributes {
  readonly user: string
  readonly verb: string
  readonly resource?: string
  readonly subresource?: string
  readonly group?: string
  readonly namespace?: string
  /** For non-resource requests (`/healthz`): the path. */
  readonly path?: string
}

/**
 * kube-apiserver's denial text: `User "jane" cannot get resource "pods" in API
 * group "" in the namespace "default"` (or `at the cluster scope`, or `path "/x"`).
 */
export function forbiddenMessage(a: ForbiddenAttributes): string {
  if (a.resource === undefined) return `User ${goQuote(a.user)} cannot ${a.verb} path ${goQuote(a.path ?? '')}`
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  const what = `User ${goQuote(a.user)} cannot ${a.verb} resource ${goQuote(resource)} in API group ${goQuote(a.group ?? '')}`
  return a.namespace ? `${what} in the namespace ${goQuote(a.namespace)}` : `${what} at the cluster scope`
}

/** 405 MethodNotAllowed: `<action> is not supported on resources of kind "pods"`. */
export function methodNotSupported(resource: GroupResource, action: string): StatusError {
  const { resource: r, group } = resolveResource(resource)
  return failure(405, 'MethodNotAllowed', `${action} is not supported on resources of kind ${goQuote(qualified(r, group))}`, {
    group,
    kind: r,
  })
}

/** 410 Gone with the given text (the older form of an expired watch). */
export function gone(message: string): StatusError {
  return failure(410, 'Gone', message)
}

/** 410 Expired: what clients get when a list or watch asks for compacted history. */
export function resourceExpired(message: string): StatusError {
  return failure(410, 'Expired', message)
}

/**
 * 410 Expired: `too old resource version: 5 (100)` — the watch cache's answer when
 * `requested` precedes the oldest version it still holds (`oldest` is printed as is).
 * Current kube-apiserver uses reason Expired here; client-go treats Expired and Gone alike.
 */
export function tooOldResourceVersion(requested: number | bigint, oldest: number | bigint): StatusError {
  return resourceExpired(`too old resource version: ${requested} (${oldest})`)
}

/** 500 InternalError: `Internal error occurred: <err>`, the error also a cause. */
export function internalError(err: unknown): StatusError {
  const text = err instanceof Error ? err.message : String(err)
  return failure(500, 'InternalError', `Internal error occurred: ${text}`, { causes: [{ message: text }] })
}

/** 503 ServiceUnavailable with the given text. */
export function serviceUnavailable(message: string): StatusError {
  return failure(503, 'ServiceUnavailable', message)
}

/** 504 Timeout: `Timeout: <message>`. */
export function timeoutError(message: string, retryAfterSeconds = 0): StatusError {
  return failure(504, 'Timeout', `Timeout: ${message}`, { retryAfterSeconds })
}

// ---------------------------------------------------------------------------
// Success

/**
 * The Status a registry returns after deleting one object it does not echo
 * back (`details.kind` is the resource, e.g. "deployments", as Kubernetes does).
 */
export function deleteSuccessStatus(d: { name: string; kind: string; group?: string; uid?: string }): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: compactDetails(d) }
}

/**
 * The Status the delete handlers fill in when storage returns nothing: code 200
 * with the Kind, and the name for a single object. Omit `name` for a collection.
 */
export function successStatus(kind: string, name?: string, code = 200): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: compactDetails({ name: name ?? '', kind }),
    code,
  }
}

// ---------------------------------------------------------------------------
// Inspecting errors

/** True for a Status object (as decoded from a response body). */
export function isStatus(v: unknown): v is Status {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  return o['kind'] === 'Status' && (o['apiVersion'] === 'v1' || o['apiVersion'] === 'meta.k8s.io/v1')
}

/** The reason of a StatusError, '' for anything else. */
export function reasonForError(err: unknown): StatusReason {
  return err instanceof StatusError ? (err.status.reason ?? '') : ''
}

export const isNotFound = (err: unknown): boolean => reasonForError(err) === 'NotFound'
export const isAlreadyExists = (err: unknown): boolean => reasonForError(err) === 'AlreadyExists'
export const isConflict = (err: unknown): boolean => reasonForError(err) === 'Conflict'
export const isInvalid = (err: unknown): boolean => reasonForError(err) === 'Invalid'
export const isBadRequest = (err: unknown): boolean => reasonForError(err) === 'BadRequest'
/** Gone or Expired: either means "relist", as client-go's reflector treats them. */
export const isGoneOrExpired = (err: unknown): boolean => {
  const r = reasonForError(err)
  return r === 'Gone' || r === 'Expired'
}
