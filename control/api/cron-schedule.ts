// CronJob schedules as Kubernetes reads them: robfig/cron v3's ParseStandard
// (five fields, descriptors, an optional TZ=/CRON_TZ= prefix) and its Next.
//
// - Fields: minute hour day-of-month month day-of-week, each a list of
//   `*`/`?`, N, N-M, with /STEP (`N/STEP` means N-max/STEP); month names
//   JAN-DEC and weekday names SUN-SAT in any case. Day of week is 0-6: robfig
//   refuses 7 ("end of range (7) above maximum (6)"), so Kubernetes does too.
// - Day of month and day of week: when either is `*` (or `?`, or `*/1`) both
//   must match; when both are restricted, either one matching is enough (the
//   classic cron OR).
// - Descriptors @yearly @annually @monthly @weekly @daily @midnight @hourly
//   and @every DURATION (Go's duration syntax, at least one second).
// - Times are computed in the schedule's zone: TZ=... in the spec, else the
//   zone the caller gives (the CronJob's spec.timeZone), else UTC — robfig
//   uses the controller manager's local zone, and the controller manager
//   here runs in UTC. Around DST, as robfig: a start time inside the skipped
//   hour does not happen that day, one inside the repeated hour happens
//   twice.
// - Errors carry robfig's messages, which Kubernetes shows verbatim in
//   validation ("end of range (61) above maximum (59): 61").

import { goQuote } from './status-error.ts'
import { checkTimeZone, TimeZoneError, wallTime, wallToInstant } from './cron-time-zone.ts'

export class CronScheduleError extends Error {
  readonly code = 'ECRONSCHEDULE'
  constructor(message: string) {
    super(message)
    this.name = 'CronScheduleError'
  }
}

/** What a parsed schedule does: the first start time strictly after `ms`, or undefined (none within five years). */
export interface CronSchedule {
  next(ms: number): number | undefined
}

interface Bounds {
  min: number
  max: number
  names?: Readonly<Record<string, number>>
}

const MINUTES: Bounds = { min: 0, max: 59 }
const HOURS: Bounds = { min: 0, max: 23 }
const DAYS_OF_MONTH: Bounds = { min: 1, max: 31 }
const MONTHS: Bounds = {
  min: 1,
  max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
}
const DAYS_OF_WEEK: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } }

/** The values a field allows, and whether it was written as "any" (robfig's star bit). */
export interface CronField {
  readonly values: ReadonlySet<number>
  readonly star: boolean
}

/** The five fields (robfig's SpecSchedule; its seconds field is always 0 here). */
export interface CronFields {
  minute: CronField
  hour: CronField
  dayOfMonth: CronField
  month: CronField
  dayOfWeek: CronField
}

const range = (from: number, to: number, step = 1): number[] => {
  const out: number[] = []
  for (let i = from; i <= to; i += step) out.push(i)
  return out
}
const field = (values: number[], star = false): CronField => ({ values: new Set(values), star })
const all = (b: Bounds): CronField => field(range(b.min, b.max), true)

const DESCRIPTORS: Readonly<Record<string, () => CronFields>> = {
  '@yearly': () => ({ minute: field([0]), hour: field([0]), dayOfMonth: field([1]), month: field([1]), dayOfWeek: all(DAYS_OF_WEEK) }),
  '@monthly': () => ({ minute: field([0]), hour: field([0]), dayOfMonth: field([1]), month: all(MONTHS), dayOfWeek: all(DAYS_OF_WEEK) }),
  '@weekly': () => ({ minute: field([0]), hour: field([0]), dayOfMonth: all(DAYS_OF_MONTH), month: all(MONTHS), dayOfWeek: field([0]) }),
  '@daily': () => ({ minute: field([0]), hour: field([0]), dayOfMonth: all(DAYS_OF_MONTH), month: all(MONTHS), dayOfWeek: all(DAYS_OF_WEEK) }),
  '@hourly': () => ({ minute: field([0]), hour: all(HOURS), dayOfMonth: all(DAYS_OF_MONTH), month: all(MONTHS), dayOfWeek: all(DAYS_OF_WEEK) }),
}
const DESCRIPTOR_ALIASES: Readonly<Record<string, string>> = { '@annually': '@yearly', '@midnight': '@daily' }

// --- parsing -----------------------------------------------------------------

/** Go's strconv.Atoi as robfig's mustParseInt uses it (optional sign, decimal digits). */
function parseNumber(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new CronScheduleError(`failed to parse int from ${text}: strconv.Atoi: parsing ${goQuote(text)}: invalid syntax`)
  const n = Number(text)
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63 - 1) {
    throw new CronScheduleError(`failed to parse int from ${text}: strconv.Atoi: parsing ${goQuote(text)}: value out of range`)
  }
  if (n < 0) throw new CronScheduleError(`negative number (${n}) not allowed: ${text}`)
  return n
}

function parseNumberOrName(text: string, b: Bounds): number {
  const named = b.names?.[text.toLowerCase()]
  return named ?? parseNumber(text)
}

// One comma-separated term: `*`, `?`, N, N-M, each with an optional /STEP.
function parseRange(expr: string, b: Bounds, values: Set<number>): boolean {
  const rangeAndStep = expr.split('/')
  const lowAndHigh = (rangeAndStep[0] ?? '').split('-')
  const single = lowAndHigh.length === 1
  let start: number
  let end: number
  let star = false
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min
    end = b.max
    star = true
  } else {
    start = parseNumberOrName(lowAndHigh[0] ?? '', b)
    if (lowAndHigh.length === 1) end = start
    else if (lowAndHigh.length === 2) end = parseNumberOrName(lowAndHigh[1] ?? '', b)
    else throw new CronScheduleError(`too many hyphens: ${expr}`)
  }
  let step = 1
  if (rangeAndStep.length === 2) {
    step = parseNumber(rangeAndStep[1] ?? '')
    if (single) end = b.max
    if (step > 1) star = false
  } else if (rangeAndStep.length > 2) {
    throw new CronScheduleError(`too many slashes: ${expr}`)
  }
  if (start < b.min) throw new CronScheduleError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`)
  if (end > b.max) throw new CronScheduleError(`end of range (${end}) above maximum (${b.max}): ${expr}`)
  if (start > end) throw new CronScheduleError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`)
  if (step === 0) throw new CronScheduleError(`step of range should be a positive number: ${expr}`)
  for (let i = start; i <= end; i += step) values.add(i)
  return star
}

function parseField(text: string, b: Bounds): CronField {
  const values = new Set<number>()
  let star = false
  for (const expr of text.split(',').filter(e => e !== '')) star = parseRange(expr, b, values) || star
  return { values, star }
}

/** The five fields of a standard spec (no descriptor, no TZ prefix). */
export function parseFields(spec: string): CronFields {
  const fields = spec.split(/\s+/).filter(f => f !== '')
  if (fields.length !== 5) throw new CronScheduleError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`)
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string]
  return {
    minute: parseField(minute, MINUTES),
    hour: parseField(hour, HOURS),
    dayOfMonth: parseField(dayOfMonth, DAYS_OF_MONTH),
    month: parseField(month, MONTHS),
    dayOfWeek: parseField(dayOfWeek, DAYS_OF_WEEK),
  }
}

/**
 * cron.ParseStandard: a schedule from `spec`, in `timeZone` unless the spec
 * names its own with TZ=/CRON_TZ=. Throws CronScheduleError with robfig's
 * message.
 */
export function parseCronSchedule(spec: string, timeZone = 'UTC'): CronSchedule {
  if (spec.length === 0) throw new CronScheduleError('empty spec string')
  let zone = timeZone
  let rest = spec
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const space = spec.indexOf(' ')
    const name = spec.slice(spec.indexOf('=') + 1, space === -1 ? undefined : space)
    try {
      checkTimeZone(name)
    } catch (err) {
      if (!(err instanceof TimeZoneError)) throw err
      throw new CronScheduleError(`provided bad location ${name}: ${err.message}`)
    }
    if (space === -1) throw new CronScheduleError(`expected exactly 5 fields, found 0: []`)
    zone = name === '' ? 'UTC' : name
    rest = spec.slice(space).trim()
  }
  if (rest.startsWith('@')) return parseDescriptor(rest, zone)
  const fields = parseFields(rest)
  return { next: ms => nextMatch(fields, ms, zone) }
}

/** Whether `spec` parses (validation). Returns robfig's message, or undefined. */
export function scheduleError(spec: string): string | undefined {
  try {
    parseCronSchedule(spec)
    return undefined
  } catch (err) {
    if (err instanceof CronScheduleError) return err.message
    throw err
  }
}

function parseDescriptor(descriptor: string, zone: string): CronSchedule {
  const make = DESCRIPTORS[DESCRIPTOR_ALIASES[descriptor] ?? descriptor]
  if (make) {
    const fields = make()
    return { next: ms => nextMatch(fields, ms, zone) }
  }
  const every = '@every '
  if (descriptor.startsWith(every)) {
    let delay: number
    try {
      delay = parseGoDuration(descriptor.slice(every.length))
    } catch (err) {
      if (!(err instanceof CronScheduleError)) throw err
      throw new CronScheduleError(`failed to parse duration ${descriptor}: ${err.message}`)
    }
    // cron.Every: at least a second, whole seconds; ConstantDelaySchedule.Next drops the sub-second part of `ms`.
    const step = delay < 1000 ? 1000 : delay - (delay % 1000)
    return { next: ms => ms + step - (((ms % 1000) + 1000) % 1000) }
  }
  throw new CronScheduleError(`unrecognized descriptor: ${descriptor}`)
}

const UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Go's time.ParseDuration, in milliseconds. */
export function parseGoDuration(text: string): number {
  const quoted = goQuote(text)
  let s = text
  let sign = 1
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1
    s = s.slice(1)
  }
  if (s === '0') return 0
  if (s === '') throw new CronScheduleError(`time: invalid duration ${quoted}`)
  let total = 0
  while (s !== '') {
    const number = /^(\d*)(\.(\d*))?/.exec(s)
    const whole = number?.[1] ?? ''
    const fraction = number?.[3] ?? ''
    if (whole === '' && fraction === '') throw new CronScheduleError(`time: invalid duration ${quoted}`)
    s = s.slice(number?.[0].length ?? 0)
    const unit = /^[^\d.]*/.exec(s)?.[0] ?? ''
    if (unit === '') throw new CronScheduleError(`time: missing unit in duration ${quoted}`)
    const scale = UNITS[unit]
    if (scale === undefined) throw new CronScheduleError(`time: unknown unit ${goQuote(unit)} in duration ${quoted}`)
    s = s.slice(unit.length)
    total += Number(`${whole || '0'}.${fraction || '0'}`) * scale
  }
  return sign * total
}

// --- next --------------------------------------------------------------------

const matches = (f: CronField, value: number): boolean => f.values.has(value)

function dayMatches(fields: CronFields, wall: { day: number; weekday: number }): boolean {
  const dom = matches(fields.dayOfMonth, wall.day)
  const dow = matches(fields.dayOfWeek, wall.weekday)
  return fields.dayOfMonth.star || fields.dayOfWeek.star ? dom && dow : dom || dow
}

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

/**
 * robfig's SpecSchedule.Next: from the next whole second, move the month,
 * then the day, hour, minute and second forward until each matches; a field
 * wrapping around starts over from the month. Months and days move on the
 * wall clock (AddDate), hours and minutes by absolute time (Add), which is
 * what makes skipped wall times vanish and repeated ones fire twice.
 */
function nextMatch(fields: CronFields, from: number, zone: string): number | undefined {
  let t = from + SECOND - (((from % SECOND) + SECOND) % SECOND)
  let added = false
  const yearLimit = wallTime(t, zone).year + 5
  wrap: for (;;) {
    let w = wallTime(t, zone)
    if (w.year > yearLimit) return undefined

    while (!matches(fields.month, w.month)) {
      if (!added) {
        added = true
        t = wallToInstant(w.year, w.month, 1, 0, 0, 0, zone)
        w = wallTime(t, zone)
      }
      t = wallToInstant(w.year, w.month + 1, w.day, w.hour, w.minute, w.second, zone)
      w = wallTime(t, zone)
      if (w.month === 1) continue wrap
    }

    while (!dayMatches(fields, w)) {
      if (!added) {
        added = true
        t = wallToInstant(w.year, w.month, w.day, 0, 0, 0, zone)
        w = wallTime(t, zone)
      }
      t = wallToInstant(w.year, w.month, w.day + 1, w.hour, w.minute, w.second, zone)
      w = wallTime(t, zone)
      // Midnight may not exist (DST at 00:00): come back to it.
      if (w.hour !== 0) {
        t += w.hour > 12 ? (24 - w.hour) * HOUR : -w.hour * HOUR
        w = wallTime(t, zone)
      }
      if (w.day === 1) continue wrap
    }

    while (!matches(fields.hour, w.hour)) {
      if (!added) {
        added = true
        t = wallToInstant(w.year, w.month, w.day, w.hour, 0, 0, zone)
      }
      t += HOUR
      w = wallTime(t, zone)
      if (w.hour === 0) continue wrap
    }

    while (!matches(fields.minute, w.minute)) {
      if (!added) {
        added = true
        t = Math.floor(t / MINUTE) * MINUTE
      }
      t += MINUTE
      w = wallTime(t, zone)
      if (w.minute === 0) continue wrap
    }

    // Seconds: the schedule's is always 0.
    while (w.second !== 0) {
      if (!added) {
        added = true
        t = Math.floor(t / SECOND) * SECOND
      }
      t += SECOND
      w = wallTime(t, zone)
      if (w.second === 0) continue wrap
    }
    return t
  }
}
