// The schedule parser and Next, against robfig/cron v3's behaviour as
// Kubernetes uses it (cron.ParseStandard): fields, names, steps, the
// day-of-month / day-of-week OR, descriptors, errors, zones and DST.

import t from 'tap'
import { CronScheduleError, parseCronSchedule, parseFields, parseGoDuration, scheduleError } from '../../../control/api/cron-schedule.ts'
import { checkTimeZone, formatRfc1123Z, formatRfc3339In, isKnownTimeZone, offsetAt, TimeZoneError, wallToInstant } from '../../../control/api/cron-time-zone.ts'

/** The next `n` start times after `from`, as ISO strings. */
function nexts(spec: string, from: string, n = 3, zone = 'UTC'): string[] {
  const s = parseCronSchedule(spec, zone)
  const out: string[] = []
  let at = Date.parse(from)
  for (let i = 0; i < n; i++) {
    const next = s.next(at)
    if (next === undefined) {
      out.push('none')
      break
    }
    out.push(new Date(next).toISOString().replace('.000Z', 'Z'))
    at = next
  }
  return out
}

t.test('next start times (UTC)', async t => {
  const cases: Array<[string, string, string[]]> = [
    ['* * * * *', '2025-01-01T00:00:00Z', ['2025-01-01T00:01:00Z', '2025-01-01T00:02:00Z', '2025-01-01T00:03:00Z']],
    ['* * * * *', '2025-01-01T00:00:30.250Z', ['2025-01-01T00:01:00Z', '2025-01-01T00:02:00Z', '2025-01-01T00:03:00Z']],
    ['*/15 * * * *', '2025-01-01T00:07:00Z', ['2025-01-01T00:15:00Z', '2025-01-01T00:30:00Z', '2025-01-01T00:45:00Z']],
    ['5/20 * * * *', '2025-01-01T00:00:00Z', ['2025-01-01T00:05:00Z', '2025-01-01T00:25:00Z', '2025-01-01T00:45:00Z']],
    ['0 9-17/4 * * *', '2025-01-01T10:00:00Z', ['2025-01-01T13:00:00Z', '2025-01-01T17:00:00Z', '2025-01-02T09:00:00Z']],
    ['0,30 8 * * *', '2025-01-01T08:10:00Z', ['2025-01-01T08:30:00Z', '2025-01-02T08:00:00Z', '2025-01-02T08:30:00Z']],
    ['0 12 * JAN,jul *', '2025-02-01T00:00:00Z', ['2025-07-01T12:00:00Z', '2025-07-02T12:00:00Z', '2025-07-03T12:00:00Z']],
    ['0 0 * * MON-FRI', '2025-01-03T12:00:00Z', ['2025-01-06T00:00:00Z', '2025-01-07T00:00:00Z', '2025-01-08T00:00:00Z']],
    ['0 0 * * sun', '2025-01-01T00:00:00Z', ['2025-01-05T00:00:00Z', '2025-01-12T00:00:00Z', '2025-01-19T00:00:00Z']],
    ['0 0 * * 0', '2025-01-01T00:00:00Z', ['2025-01-05T00:00:00Z', '2025-01-12T00:00:00Z', '2025-01-19T00:00:00Z']],
    ['0 0 ? * 1', '2025-01-01T00:00:00Z', ['2025-01-06T00:00:00Z', '2025-01-13T00:00:00Z', '2025-01-20T00:00:00Z']],
    // Both days restricted: either matches (the 13th, or any Friday).
    ['0 0 13 * 5', '2025-01-01T00:00:00Z', ['2025-01-03T00:00:00Z', '2025-01-10T00:00:00Z', '2025-01-13T00:00:00Z']],
    // One of them "*": both must match (Friday the 13th only).
    ['0 0 13 * *', '2025-01-01T00:00:00Z', ['2025-01-13T00:00:00Z', '2025-02-13T00:00:00Z', '2025-03-13T00:00:00Z']],
    ['0 0 */1 * 5', '2025-01-01T00:00:00Z', ['2025-01-03T00:00:00Z', '2025-01-10T00:00:00Z', '2025-01-17T00:00:00Z']],
    // */2 is not "any": the OR applies (odd days, or Fridays).
    ['0 0 */2 * 5', '2025-01-01T12:00:00Z', ['2025-01-03T00:00:00Z', '2025-01-05T00:00:00Z', '2025-01-07T00:00:00Z']],
    ['0 0 29 2 *', '2025-01-01T00:00:00Z', ['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z', '2036-02-29T00:00:00Z']],
    ['0 0 31 2 *', '2025-01-01T00:00:00Z', ['none']],
    ['@yearly', '2025-06-01T00:00:00Z', ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z']],
    ['@annually', '2025-06-01T00:00:00Z', ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z']],
    ['@monthly', '2025-01-15T00:00:00Z', ['2025-02-01T00:00:00Z', '2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z']],
    ['@weekly', '2025-01-01T00:00:00Z', ['2025-01-05T00:00:00Z', '2025-01-12T00:00:00Z', '2025-01-19T00:00:00Z']],
    ['@daily', '2025-01-01T00:00:00Z', ['2025-01-02T00:00:00Z', '2025-01-03T00:00:00Z', '2025-01-04T00:00:00Z']],
    ['@midnight', '2025-01-01T23:59:59Z', ['2025-01-02T00:00:00Z', '2025-01-03T00:00:00Z', '2025-01-04T00:00:00Z']],
    ['@hourly', '2025-01-01T00:30:00Z', ['2025-01-01T01:00:00Z', '2025-01-01T02:00:00Z', '2025-01-01T03:00:00Z']],
    ['@every 90s', '2025-01-01T00:00:00.500Z', ['2025-01-01T00:01:30Z', '2025-01-01T00:03:00Z', '2025-01-01T00:04:30Z']],
    ['@every 1h30m', '2025-01-01T00:00:00Z', ['2025-01-01T01:30:00Z', '2025-01-01T03:00:00Z', '2025-01-01T04:30:00Z']],
    ['@every 10ms', '2025-01-01T00:00:00Z', ['2025-01-01T00:00:01Z', '2025-01-01T00:00:02Z', '2025-01-01T00:00:03Z']],
    ['  30   6 * * *  ', '2025-01-01T00:00:00Z', ['2025-01-01T06:30:00Z', '2025-01-02T06:30:00Z', '2025-01-03T06:30:00Z']],
    // A list that ends in "*" is still "any" (robfig ORs the star bit in).
    ['0 0 1,* * 5', '2025-01-01T00:00:00Z', ['2025-01-03T00:00:00Z', '2025-01-10T00:00:00Z', '2025-01-17T00:00:00Z']],
  ]
  for (const [spec, from, want] of cases) t.same(nexts(spec, from), want, `${spec} after ${from}`)
})

t.test('fields: names in any case, star flags, steps', async t => {
  const f = parseFields('*/10 1-3 ? Jan-MAR mon,WED')
  t.same([...f.minute.values], [0, 10, 20, 30, 40, 50])
  t.equal(f.minute.star, false, '*/10 is not "any"')
  t.same([...f.hour.values], [1, 2, 3])
  t.equal(f.dayOfMonth.star, true, '? is "any"')
  t.same([...f.month.values], [1, 2, 3])
  t.same([...f.dayOfWeek.values], [1, 3])
  t.equal(parseFields('*/1 * * * *').minute.star, true, '*/1 stays "any"')
})

t.test('errors carry robfig messages', async t => {
  const cases: Array<[string, string]> = [
    ['', 'empty spec string'],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['* * * * * *', 'expected exactly 5 fields, found 6: [* * * * * *]'],
    ['60 * * * *', 'end of range (60) above maximum (59): 60'],
    ['* 24 * * *', 'end of range (24) above maximum (23): 24'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['* * 32 * *', 'end of range (32) above maximum (31): 32'],
    ['* * * 13 *', 'end of range (13) above maximum (12): 13'],
    ['* * * * 7', 'end of range (7) above maximum (6): 7'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['*/2/3 * * * *', 'too many slashes: */2/3'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['* * * FOO *', 'failed to parse int from FOO: strconv.Atoi: parsing "FOO": invalid syntax'],
    ['* * * * MONDAY', 'failed to parse int from MONDAY: strconv.Atoi: parsing "MONDAY": invalid syntax'],
    ['-1 * * * *', 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'],
    ['*/-2 * * * *', 'negative number (-2) not allowed: -2'],
    ['@reboot', 'unrecognized descriptor: @reboot'],
    ['@Daily', 'unrecognized descriptor: @Daily'],
    ['@every', 'unrecognized descriptor: @every'],
    ['@every 5d', 'failed to parse duration @every 5d: time: unknown unit "d" in duration "5d"'],
    ['@every 5', 'failed to parse duration @every 5: time: missing unit in duration "5"'],
    ['TZ=Nowhere/Land * * * * *', 'provided bad location Nowhere/Land: unknown time zone Nowhere/Land'],
  ]
  for (const [spec, message] of cases) {
    t.equal(scheduleError(spec), message, JSON.stringify(spec))
  }
  t.throws(() => parseCronSchedule('61 * * * *'), CronScheduleError)
  t.equal(scheduleError('0 0 * * 6'), undefined, 'a good one has no error')
})

t.test('Go durations', async t => {
  t.equal(parseGoDuration('1h30m'), 5_400_000)
  t.equal(parseGoDuration('1.5s'), 1500)
  t.equal(parseGoDuration('.5m'), 30_000)
  t.equal(parseGoDuration('0'), 0)
  t.equal(parseGoDuration('-2s'), -2000)
  t.throws(() => parseGoDuration(''), { message: 'time: invalid duration ""' })
  t.throws(() => parseGoDuration('.s'), { message: 'time: invalid duration ".s"' })
})

t.test('time zones', async t => {
  t.same(nexts('0 9 * * *', '2025-01-01T00:00:00Z', 2, 'Asia/Kolkata'), ['2025-01-01T03:30:00Z', '2025-01-02T03:30:00Z'], 'UTC+05:30')
  t.same(nexts('TZ=Asia/Tokyo 0 9 * * *', '2025-01-01T00:00:00Z', 1, 'America/New_York'), ['2025-01-02T00:00:00Z'], 'the TZ= prefix wins')
  t.same(nexts('CRON_TZ=Europe/Paris 0 9 * * *', '2025-07-01T00:00:00Z', 1), ['2025-07-01T07:00:00Z'], 'CRON_TZ too, summer time')
  t.same(nexts('0 9 * * *', '2025-07-01T00:00:00Z', 1, 'Europe/Paris'), ['2025-07-01T07:00:00Z'])
  t.same(nexts('0 9 * * *', '2025-01-01T00:00:00Z', 1, 'Europe/Paris'), ['2025-01-01T08:00:00Z'])
  t.same(nexts('@daily', '2025-01-01T12:00:00Z', 1, 'America/Los_Angeles'), ['2025-01-02T08:00:00Z'], 'descriptors in the zone')
})

t.test('DST transitions (America/New_York), as robfig', async t => {
  // Spring forward, 9 March 2025: 02:00 EST becomes 03:00 EDT.
  t.same(nexts('30 2 * * *', '2025-03-08T12:00:00Z', 2, 'America/New_York'), ['2025-03-10T06:30:00Z', '2025-03-11T06:30:00Z'],
    '02:30 does not exist on 9 March: that day has no run')
  t.same(nexts('0 * * * *', '2025-03-09T05:30:00Z', 3, 'America/New_York'), ['2025-03-09T06:00:00Z', '2025-03-09T07:00:00Z', '2025-03-09T08:00:00Z'],
    'hourly: 01:00 EST, then 03:00 EDT one hour later')
  t.same(nexts('0 0 * * *', '2025-03-08T12:00:00Z', 2, 'America/New_York'), ['2025-03-09T05:00:00Z', '2025-03-10T04:00:00Z'], 'midnight moves with the offset')
  t.same(nexts('0 3 * * *', '2025-03-08T12:00:00Z', 1, 'America/New_York'), ['2025-03-09T07:00:00Z'], '03:00 EDT right after the gap')
  // Fall back, 2 November 2025: 02:00 EDT becomes 01:00 EST.
  t.same(nexts('30 1 * * *', '2025-11-01T12:00:00Z', 3, 'America/New_York'), ['2025-11-02T05:30:00Z', '2025-11-02T06:30:00Z', '2025-11-03T06:30:00Z'],
    '01:30 happens twice on 2 November, and runs twice')
  t.same(nexts('0 2 * * *', '2025-11-01T12:00:00Z', 2, 'America/New_York'), ['2025-11-02T07:00:00Z', '2025-11-03T07:00:00Z'], '02:00 once')
  // A zone whose DST starts at midnight (Santiago, 7 September 2025: 00:00 becomes 01:00).
  t.same(nexts('0 0 * * *', '2025-09-05T12:00:00Z', 2, 'America/Santiago'), ['2025-09-06T04:00:00Z', '2025-09-08T03:00:00Z'],
    'a midnight that does not exist has no run, like any skipped time')
  t.same(nexts('0 1 * * *', '2025-09-06T12:00:00Z', 1, 'America/Santiago'), ['2025-09-07T04:00:00Z'], '01:00 -03 right after the gap')
})

t.test('zone helpers', async t => {
  t.equal(offsetAt(Date.parse('2025-07-01T00:00:00Z'), 'America/New_York'), -4 * 3600_000)
  t.equal(offsetAt(Date.parse('2025-01-01T00:00:00Z'), 'Asia/Kolkata'), 5.5 * 3600_000)
  // Go's time.Date on a skipped wall time: the offset before the gap, read again after it.
  t.equal(new Date(wallToInstant(2025, 3, 9, 2, 30, 0, 'America/New_York')).toISOString(), '2025-03-09T06:30:00.000Z')
  t.equal(new Date(wallToInstant(2025, 11, 2, 1, 30, 0, 'America/New_York')).toISOString(), '2025-11-02T05:30:00.000Z', 'a repeated one: the first')
  t.equal(new Date(wallToInstant(2025, 13, 32, 0, 0, 0, 'UTC')).toISOString(), '2026-02-01T00:00:00.000Z', 'fields overflow as in Go')
  t.equal(formatRfc3339In(Date.parse('2025-03-09T07:00:00Z'), 'America/New_York'), '2025-03-09T03:00:00-04:00')
  t.equal(formatRfc3339In(Date.parse('2025-01-01T03:30:00Z'), 'Asia/Kolkata'), '2025-01-01T09:00:00+05:30')
  t.equal(formatRfc3339In(Date.parse('2025-01-01T03:30:00Z'), 'UTC'), '2025-01-01T03:30:00Z')
  t.equal(formatRfc1123Z(Date.parse('2025-01-02T03:04:05Z')), 'Thu, 02 Jan 2025 03:04:05 +0000')
  for (const zone of ['UTC', 'America/New_York', 'Europe/Paris', 'Asia/Kolkata', 'US/Eastern', 'Etc/GMT+5']) t.ok(isKnownTimeZone(zone), zone)
  for (const zone of ['', 'Local', 'america/new_york', 'Mars/Olympus_Mons', '+05:00', 'utc']) t.notOk(isKnownTimeZone(zone), JSON.stringify(zone))
  t.throws(() => checkTimeZone('Mars/Base'), new TimeZoneError('Mars/Base'))
  t.doesNotThrow(() => checkTimeZone(''), '"" is UTC, as time.LoadLocation has it')
})
