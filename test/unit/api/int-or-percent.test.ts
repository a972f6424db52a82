import t from 'tap'
import {
  DEFAULT_MAX_SURGE,
  DEFAULT_MAX_UNAVAILABLE,
  IntOrPercentError,
  intOrPercentValue,
  resolveFenceposts,
  scaledValueFromIntOrPercent,
  validateNotMoreThan100Percent,
  validatePositiveIntOrPercent,
  validateRollingUpdate,
} from '../../../control/api/int-or-percent.ts'
import type { IntOrString } from '../../../control/api/int-or-percent.ts'
import { fieldErrorString } from '../../../control/api/status-error.ts'

function thrown(fn: () => unknown): IntOrPercentError | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof IntOrPercentError) return err
    throw err
  }
  return undefined
}

const percentMsg =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"

t.test('scaled values round as asked', async t => {
  // value, total, roundUp, want
  const cases: Array<[IntOrString, number, boolean, number]> = [
    [3, 10, true, 3],
    [3, 10, false, 3],
    [0, 10, true, 0],
    ['25%', 10, true, 3], // 2.5 up
    ['25%', 10, false, 2], // 2.5 down
    ['25%', 4, true, 1],
    ['25%', 4, false, 1],
    ['25%', 1, true, 1],
    ['25%', 1, false, 0],
    ['25%', 0, true, 0],
    ['0%', 10, true, 0],
    ['100%', 7, false, 7],
    ['33%', 3, true, 1], // 0.99 up
    ['33%', 3, false, 0],
    ['50%', 5, true, 3],
    ['50%', 5, false, 2],
    ['10%', 100, false, 10],
    ['1%', 1000, true, 10],
    ['150%', 2, true, 3],
    ['-10%', 15, true, -1], // Atoi takes a sign; validation refuses it elsewhere
  ]
  for (const [v, total, up, want] of cases) {
    t.equal(scaledValueFromIntOrPercent(v, total, up), want, `${JSON.stringify(v)} of ${total} ${up ? 'up' : 'down'}`)
  }
})

t.test('malformed values carry Kubernetes messages', async t => {
  const cases: Array<[IntOrString | null | undefined, string]> = [
    [null, 'nil value for IntOrString'],
    [undefined, 'nil value for IntOrString'],
    ['5', 'invalid value for IntOrString: invalid type: string is not a percentage'],
    ['', 'invalid value for IntOrString: invalid type: string is not a percentage'],
    ['abc%', 'invalid value for IntOrString: invalid value "abc%": strconv.Atoi: parsing "abc": invalid syntax'],
    ['%', 'invalid value for IntOrString: invalid value "%": strconv.Atoi: parsing "": invalid syntax'],
    ['1.5%', 'invalid value for IntOrString: invalid value "1.5%": strconv.Atoi: parsing "1.5": invalid syntax'],
    [' 5%', 'invalid value for IntOrString: invalid value " 5%": strconv.Atoi: parsing " 5": invalid syntax'],
    [
      '99999999999999999999%',
      'invalid value for IntOrString: invalid value "99999999999999999999%": strconv.Atoi: parsing "99999999999999999999": value out of range',
    ],
    [1.5, 'invalid value for IntOrString: invalid value 1.5: not an integer'],
  ]
  for (const [v, message] of cases) {
    const err = thrown(() => scaledValueFromIntOrPercent(v, 10, true))
    t.equal(err?.code, 'InvalidIntOrPercent', JSON.stringify(v) ?? 'undefined')
    t.equal(err?.message, message, JSON.stringify(v) ?? 'undefined')
  }
  t.strictSame(intOrPercentValue('40%'), { value: 40, isPercent: true })
  t.strictSame(intOrPercentValue(4), { value: 4, isPercent: false })
  t.equal(thrown(() => intOrPercentValue('4'))?.message, 'invalid type: string is not a percentage')
})

t.test('rolling update fenceposts', async t => {
  // maxSurge, maxUnavailable, desired → surge, unavailable
  const cases: Array<[IntOrString | undefined, IntOrString | undefined, number, number, number]> = [
    ['25%', '25%', 10, 3, 2], // the Deployment defaults
    ['25%', '25%', 4, 1, 1],
    ['25%', '25%', 1, 1, 0], // surge rounds up, unavailable down
    ['25%', '25%', 3, 1, 0],
    [1, 0, 3, 1, 0],
    [0, 1, 3, 0, 1],
    [0, '10%', 5, 0, 1], // both 0 after rounding: unavailable becomes 1
    ['0%', '0%', 10, 0, 1],
    [undefined, undefined, 10, 0, 1], // missing counts as 0
    [0, 0, 0, 0, 1],
    ['100%', '100%', 7, 7, 7],
    [2, '50%', 5, 2, 2],
  ]
  for (const [surge, unavailable, desired, wantSurge, wantUnavailable] of cases) {
    t.strictSame(
      resolveFenceposts(surge, unavailable, desired),
      { maxSurge: wantSurge, maxUnavailable: wantUnavailable },
      `surge ${JSON.stringify(surge)} unavailable ${JSON.stringify(unavailable)} of ${desired}`,
    )
  }
  t.equal(thrown(() => resolveFenceposts('x', 1, 3))?.message, 'invalid value for IntOrString: invalid type: string is not a percentage')
  t.equal(DEFAULT_MAX_SURGE, '25%')
  t.equal(DEFAULT_MAX_UNAVAILABLE, '25%')
})

t.test('validation gives the API server field errors', async t => {
  const single: Array<[unknown, string[]]> = [
    [0, []],
    [5, []],
    ['0%', []],
    ['25%', []],
    ['250%', []],
    [-1, ['f: Invalid value: -1: must be greater than or equal to 0']],
    ['-1%', [`f: Invalid value: "-1%": ${percentMsg}`]],
    ['25', [`f: Invalid value: "25": ${percentMsg}`]],
    ['abc', [`f: Invalid value: "abc": ${percentMsg}`]],
    ['2.5%', [`f: Invalid value: "2.5%": ${percentMsg}`]],
    [1.5, ["f: Invalid value: 1.5: must be an integer or percentage (e.g '5%')"]],
    [true, ["f: Invalid value: true: must be an integer or percentage (e.g '5%')"]],
  ]
  for (const [v, texts] of single) {
    t.strictSame(validatePositiveIntOrPercent(v, 'f').map(fieldErrorString), texts, JSON.stringify(v))
  }
  t.strictSame(validateNotMoreThan100Percent('101%', 'f').map(fieldErrorString), ['f: Invalid value: "101%": must not be greater than 100%'])
  t.strictSame(validateNotMoreThan100Percent('100%', 'f'), [])
  t.strictSame(validateNotMoreThan100Percent(500, 'f'), [], 'ints are not percent-checked')

  const p = 'spec.strategy.rollingUpdate'
  const rolling: Array<[{ maxSurge?: unknown; maxUnavailable?: unknown }, string[]]> = [
    [{ maxSurge: '25%', maxUnavailable: '25%' }, []],
    [{ maxSurge: 1, maxUnavailable: 0 }, []],
    [{ maxSurge: 0, maxUnavailable: 0 }, [`${p}.maxUnavailable: Invalid value: 0: may not be 0 when \`maxSurge\` is 0`]],
    [{ maxSurge: '0%', maxUnavailable: '0%' }, [`${p}.maxUnavailable: Invalid value: "0%": may not be 0 when \`maxSurge\` is 0`]],
    [{}, [`${p}.maxUnavailable: Invalid value: 0: may not be 0 when \`maxSurge\` is 0`]],
    [{ maxSurge: 1, maxUnavailable: '120%' }, [`${p}.maxUnavailable: Invalid value: "120%": must not be greater than 100%`]],
    [
      { maxSurge: -1, maxUnavailable: 'x' },
      [
        `${p}.maxUnavailable: Invalid value: "x": ${percentMsg}`,
        `${p}.maxSurge: Invalid value: -1: must be greater than or equal to 0`,
      ],
    ],
    [
      { maxSurge: 'bad', maxUnavailable: 'bad' },
      [
        `${p}.maxUnavailable: Invalid value: "bad": ${percentMsg}`,
        `${p}.maxSurge: Invalid value: "bad": ${percentMsg}`,
        `${p}.maxUnavailable: Invalid value: "bad": may not be 0 when \`maxSurge\` is 0`,
      ],
    ],
  ]
  for (const [ru, texts] of rolling) t.strictSame(validateRollingUpdate(ru).map(fieldErrorString), texts, JSON.stringify(ru))
  t.equal(validateRollingUpdate({ maxSurge: 0, maxUnavailable: 0 }, 'x')[0]?.field, 'x.maxUnavailable')
})
