// Wall-clock time in an IANA time zone, through Intl (the ICU data Node
// ships), with Go's time package rules where the cron schedule depends on
// them.
//
// Why Go's rules: Kubernetes computes CronJob start times with robfig/cron
// over Go's time.Time. Two of Go's behaviours shape the results around DST:
// - time.Date on a wall time that does not exist (the hour skipped in spring)
//   or exists twice (the hour repeated in autumn) picks the offset in effect
//   at "the wall time read as UTC", then re-checks it against the resulting
//   instant (see wallToInstant);
// - adding hours or minutes is absolute (t.Add), adding days or months goes
//   through the wall clock again (t.AddDate → time.Date).
// Everything here takes and returns epoch milliseconds.

export class TimeZoneError extends Error {
  readonly code = 'EUNKNOWNTIMEZONE'
  constructor(readonly timeZone: string) {
    super(`unknown time zone ${timeZone}`)
    this.name = 'TimeZoneError'
  }
}

/** The wall clock of an instant in a zone. Month 1-12, weekday 0 (Sunday) - 6. */
export interface WallTime {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  weekday: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      })
    } catch {
      throw new TimeZoneError(timeZone)
    }
    formatters.set(timeZone, f)
  }
  return f
}

const isUtc = (timeZone: string): boolean => timeZone === 'UTC' || timeZone === ''

/**
 * Whether Go's time.LoadLocation would load `timeZone` from the IANA
 * database. Intl matches names without regard to case, Go (reading
 * zoneinfo files) does not, so a name Intl only knows in another case is
 * refused. "Local" and "" are Go's special names, not zones.
 */
export function isKnownTimeZone(timeZone: string): boolean {
  if (timeZone === 'UTC') return true
  if (timeZone === '' || timeZone === 'Local' || /^[+-]/.test(timeZone)) return false
  let resolved: string
  try {
    resolved = formatterFor(timeZone).resolvedOptions().timeZone
  } catch {
    return false
  }
  return resolved === timeZone || resolved.toLowerCase() !== timeZone.toLowerCase()
}

/** Throws TimeZoneError unless `timeZone` is a zone Go would load ("" is UTC, as time.LoadLocation has it). */
export function checkTimeZone(timeZone: string): void {
  if (timeZone !== '' && !isKnownTimeZone(timeZone)) throw new TimeZoneError(timeZone)
}

/** The zone's offset from UTC at `ms`, in milliseconds (whole seconds). */
export function offsetAt(ms: number, timeZone: string): number {
  if (isUtc(timeZone)) return 0
  const parts: Record<string, number> = {}
  for (const p of formatterFor(timeZone).formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  const asUtc = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
  return asUtc - Math.floor(ms / 1000) * 1000
}

/** The wall clock at `ms` in `timeZone`. */
export function wallTime(ms: number, timeZone: string): WallTime {
  const local = new Date(ms + offsetAt(ms, timeZone))
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    weekday: local.getUTCDay(),
  }
}

/**
 * Go's time.Date: the instant of a wall time (fields may overflow: month 13
 * is January of the next year, day 32 the next month). For a wall time that
 * is skipped or repeated, Go takes the offset at the wall time read as UTC;
 * if the instant that gives lies outside that offset's period, it takes the
 * offset at that instant instead.
 */
export function wallToInstant(year: number, month: number, day: number, hour: number, minute: number, second: number, timeZone: string): number {
  const local = Date.UTC(year, month - 1, day, hour, minute, second)
  if (isUtc(timeZone)) return local
  const first = offsetAt(local, timeZone)
  if (first === 0) return local
  const second_ = offsetAt(local - first, timeZone)
  return local - second_
}

/** RFC 3339 with the zone's offset (Go's time.RFC3339): `2025-03-09T03:00:00-04:00`, `...Z` for UTC. */
export function formatRfc3339In(ms: number, timeZone: string): string {
  const offset = offsetAt(ms, timeZone)
  const local = new Date(Math.floor(ms / 1000) * 1000 + offset).toISOString().replace(/\.\d{3}Z$/, '')
  if (offset === 0) return `${local}Z`
  const abs = Math.abs(offset) / 60_000
  const hh = String(Math.floor(abs / 60)).padStart(2, '0')
  const mm = String(abs % 60).padStart(2, '0')
  return `${local}${offset < 0 ? '-' : '+'}${hh}:${mm}`
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** Go's time.RFC1123Z in UTC: `Mon, 02 Jan 2006 15:04:05 +0000`. */
export function formatRfc1123Z(ms: number): string {
  const d = new Date(ms)
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
}
