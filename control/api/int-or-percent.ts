// IntOrString values such as a Deployment's `maxSurge` and `maxUnavailable`:
// an absolute count (`2`) or a percentage of a total (`"25%"`).
//
// Why: a rolling update's pace hangs on how these resolve, and a replica off
// either way changes what users watch happen. Resolution follows
// apimachinery's util/intstr GetScaledValueFromIntOrPercent (a percent is
// scaled by the total, rounded up or down as the caller asks; a string
// without `%` is an error) and the Deployment controller's fenceposts: surge
// rounds up, unavailable rounds down, and when both come to 0 unavailable
// becomes 1 so the rollout can still move. Validation gives the API server's
// field errors, with its texts.

import { fieldInvalid } from './status-error.ts'
import type { FieldError } from './status-error.ts'

/** An int-or-string as it appears in JSON: `3` or `"25%"`. */
export type IntOrString = number | string

/** What Kubernetes defaults both maxSurge and maxUnavailable of a Deployment to. */
export const DEFAULT_MAX_SURGE = '25%'
export const DEFAULT_MAX_UNAVAILABLE = '25%'

/** A value that cannot be resolved; `message` is Kubernetes' text. */
export class IntOrPercentError extends Error {
  readonly code = 'InvalidIntOrPercent'
  constructor(message: string) {
    super(message)
    this.name = 'IntOrPercentError'
  }
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

// strconv.Atoi, with Go's error text.
function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`)
  const n = BigInt(s)
  if (n < INT64_MIN || n > INT64_MAX) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`)
  return Number(n)
}

/**
 * The number inside a value and whether it is a percent: `"25%"` → 25, true;
 * `3` → 3, false. A string without `%` or with a bad number throws
 * (getIntOrPercentValueSafely; messages without the "invalid value for
 * IntOrString: " prefix, which scaledValueFromIntOrPercent adds).
 */
export function intOrPercentValue(v: IntOrString): { value: number; isPercent: boolean } {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new IntOrPercentError(`invalid value ${v}: not an integer`)
    return { value: v, isPercent: false }
  }
  if (typeof v !== 'string') throw new IntOrPercentError('invalid type: neither int nor percentage')
  if (!v.endsWith('%')) throw new IntOrPercentError('invalid type: string is not a percentage')
  try {
    return { value: atoi(v.slice(0, -1)), isPercent: true }
  } catch (err) {
    throw new IntOrPercentError(`invalid value ${JSON.stringify(v)}: ${(err as Error).message}`)
  }
}

/**
 * Resolves against `total`: an int as is, a percent as ceil or floor of
 * percent × total / 100 (GetScaledValueFromIntOrPercent). Throws
 * IntOrPercentError (`nil value for IntOrString`, `invalid value for IntOrString: ...`).
 */
export function scaledValueFromIntOrPercent(
  v: IntOrString | null | undefined,
  total: number,
  roundUp: boolean,
): number {
  if (v === null || v === undefined) throw new IntOrPercentError('nil value for IntOrString')
  let parsed: { value: number; isPercent: boolean }
  try {
    parsed = intOrPercentValue(v)
  } catch (err) {
    throw new IntOrPercentError(`invalid value for IntOrString: ${(err as Error).message}`)
  }
  if (!parsed.isPercent) return parsed.value
  const scaled = (parsed.value * total) / 100
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled)
}

/**
 * How many pods a rolling update of `desired` replicas may add above and take
 * below `desired` (the Deployment controller's ResolveFenceposts): surge
 * rounds up, unavailable rounds down, a missing value counts as 0, and when
 * both resolve to 0 unavailable becomes 1.
 */
export function resolveFenceposts(
  maxSurge: IntOrString | null | undefined,
  maxUnavailable: IntOrString | null | undefined,
  desired: number,
): { maxSurge: number; maxUnavailable: number } {
  const surge = scaledValueFromIntOrPercent(maxSurge ?? 0, desired, true)
  let unavailable = scaledValueFromIntOrPercent(maxUnavailable ?? 0, desired, false)
  if (surge === 0 && unavailable === 0) unavailable = 1
  return { maxSurge: surge, maxUnavailable: unavailable }
}

// ---------------------------------------------------------------------------
// Validation (apps validation: ValidatePositiveIntOrPercent and friends)

const percentRe = /^[0-9]+%$/
const percentErrMsg =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"

/** A non-negative int, or a string of digits and `%`. */
export function validatePositiveIntOrPercent(v: unknown, field: string): FieldError[] {
  if (typeof v === 'string') return percentRe.test(v) ? [] : [fieldInvalid(field, v, percentErrMsg)]
  if (typeof v === 'number' && Number.isInteger(v)) {
    return v < 0 ? [fieldInvalid(field, v, 'must be greater than or equal to 0')] : []
  }
  return [fieldInvalid(field, v, "must be an integer or percentage (e.g '5%')")]
}

/** A percent above 100% is refused (ints are not checked). */
export function validateNotMoreThan100Percent(v: unknown, field: string): FieldError[] {
  const pct = percentOf(v)
  return pct !== undefined && pct > 100 ? [fieldInvalid(field, v, 'must not be greater than 100%')] : []
}

// The number of a valid percent string, else undefined.
function percentOf(v: unknown): number | undefined {
  return typeof v === 'string' && percentRe.test(v) ? Number(v.slice(0, -1)) : undefined
}

// getIntOrPercentValue: a valid percent's number, else the int (an unparsable string is 0).
function rawValue(v: unknown): number {
  const pct = percentOf(v)
  if (pct !== undefined) return pct
  if (typeof v === 'number') return v
  if (typeof v === 'string' && /^[+-]?[0-9]+$/.test(v)) return Number(v)
  return 0
}

/**
 * A Deployment's `spec.strategy.rollingUpdate`, as the API server checks it:
 * both fields non-negative ints or percents, not both 0, maxUnavailable ≤ 100%.
 */
export function validateRollingUpdate(
  rollingUpdate: { maxSurge?: unknown; maxUnavailable?: unknown },
  fieldPath = 'spec.strategy.rollingUpdate',
): FieldError[] {
  const surgePath = `${fieldPath}.maxSurge`
  const unavailablePath = `${fieldPath}.maxUnavailable`
  // The internal type is not a pointer: an absent value is the int 0.
  const maxSurge = rollingUpdate.maxSurge ?? 0
  const maxUnavailable = rollingUpdate.maxUnavailable ?? 0
  const errs = [
    ...validatePositiveIntOrPercent(maxUnavailable, unavailablePath),
    ...validatePositiveIntOrPercent(maxSurge, surgePath),
  ]
  if (rawValue(maxUnavailable) === 0 && rawValue(maxSurge) === 0) {
    errs.push(fieldInvalid(unavailablePath, maxUnavailable, 'may not be 0 when `maxSurge` is 0'))
  }
  errs.push(...validateNotMoreThan100Percent(maxUnavailable, unavailablePath))
  return errs
}
