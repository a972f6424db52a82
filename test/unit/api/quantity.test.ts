import t from 'tap'
import {
  QUANTITY_REGEXP,
  Quantity,
  QuantityError,
  cpuMillis,
  formatBytes,
  formatMillis,
  memoryBytes,
  parseQuantity,
} from '../../../control/api/quantity.ts'

function thrown(fn: () => unknown): QuantityError | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof QuantityError) return err
    throw err
  }
  return undefined
}

const formatWrong = `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`
const suffixWrong = "unable to parse quantity's suffix"
const numericWrong = 'unable to parse numeric part of quantity'

t.test('parses to exact values, read out rounding up', async t => {
  // input, canonical text, format, value(), milliValue()
  const cases: Array<[string | number, string, string, number, number]> = [
    ['100m', '100m', 'DecimalSI', 1, 100],
    ['0.5', '500m', 'DecimalSI', 1, 500],
    ['2', '2', 'DecimalSI', 2, 2000],
    ['0', '0', 'DecimalSI', 0, 0],
    ['1Gi', '1Gi', 'BinarySI', 1073741824, 1073741824000],
    ['512Mi', '512Mi', 'BinarySI', 536870912, 536870912000],
    ['1Ki', '1Ki', 'BinarySI', 1024, 1024000],
    ['1Ti', '1Ti', 'BinarySI', 1099511627776, 1099511627776000],
    ['1Pi', '1Pi', 'BinarySI', 1125899906842624, Number.NaN],
    ['1e3', '1e3', 'DecimalExponent', 1000, 1000000],
    ['1E3', '1e3', 'DecimalExponent', 1000, 1000000],
    ['1e+3', '1e3', 'DecimalExponent', 1000, 1000000],
    ['12e6', '12e6', 'DecimalExponent', 12000000, 12000000000],
    ['1.5e3', '1500', 'DecimalExponent', 1500, 1500000],
    ['1e-3', '1e-3', 'DecimalExponent', 1, 1],
    ['1k', '1k', 'DecimalSI', 1000, 1000000],
    ['1M', '1M', 'DecimalSI', 1000000, 1000000000],
    ['1.5G', '1500M', 'DecimalSI', 1500000000, 1500000000000],
    ['1T', '1T', 'DecimalSI', 1e12, 1e15],
    ['1P', '1P', 'DecimalSI', 1e15, Number.NaN],
    ['1.5Gi', '1536Mi', 'BinarySI', 1610612736, 1610612736000],
    ['1024Ki', '1Mi', 'BinarySI', 1048576, 1048576000],
    ['1000Ki', '1000Ki', 'BinarySI', 1024000, 1024000000],
    ['0.5Ki', '512', 'BinarySI', 512, 512000], // below 1Ki prints as decimal
    ['1.1Ki', '1126400m', 'BinarySI', 1127, 1126400], // not whole: decimal, value rounds up
    ['1024', '1024', 'DecimalSI', 1024, 1024000],
    ['1000m', '1', 'DecimalSI', 1, 1000],
    ['1500m', '1500m', 'DecimalSI', 2, 1500],
    ['0.1', '100m', 'DecimalSI', 1, 100],
    ['0.0001', '100u', 'DecimalSI', 1, 1], // a tenth of a millicore is 1 millicore
    ['1n', '1n', 'DecimalSI', 1, 1],
    ['0.9n', '1n', 'DecimalSI', 1, 1], // finer than nano rounds up to 1n
    ['1e-20', '1e-9', 'DecimalExponent', 1, 1],
    ['250u', '250u', 'DecimalSI', 1, 1],
    ['1001u', '1001u', 'DecimalSI', 1, 2],
    ['+1', '1', 'DecimalSI', 1, 1000],
    ['01', '1', 'DecimalSI', 1, 1000],
    ['1.', '1', 'DecimalSI', 1, 1000],
    ['.5', '500m', 'DecimalSI', 1, 500],
    ['0.50', '500m', 'DecimalSI', 1, 500],
    ['000.000', '0', 'DecimalSI', 0, 0],
    ['-0', '0', 'DecimalSI', 0, 0],
    ['0Gi', '0', 'BinarySI', 0, 0],
    // negatives round away from zero, as Kubernetes does
    ['-100m', '-100m', 'DecimalSI', -1, -100],
    ['-1.5', '-1500m', 'DecimalSI', -2, -1500],
    ['-1Ki', '-1Ki', 'BinarySI', -1024, -1024000],
    ['-0.0001', '-100u', 'DecimalSI', -1, -1],
    // JavaScript numbers are read as their text
    [2, '2', 'DecimalSI', 2, 2000],
    [0.25, '250m', 'DecimalSI', 1, 250],
    [1e21, '1e21', 'DecimalExponent', Number.NaN, Number.NaN],
    // Kubernetes' scanner takes a missing number as 0
    ['m', '0', 'DecimalSI', 0, 0],
    ['Gi', '0', 'BinarySI', 0, 0],
    ['.', '0', 'DecimalSI', 0, 0],
  ]
  for (const [input, canonical, format, value, milli] of cases) {
    const q = parseQuantity(input)
    const name = JSON.stringify(input)
    t.equal(q.toString(), canonical, `${name} canonical`)
    t.equal(q.format, format, `${name} format`)
    if (Number.isNaN(value)) t.equal(thrown(() => q.value())?.code, 'QuantityOverflow', `${name} value overflows`)
    else t.equal(q.value(), value, `${name} value`)
    if (Number.isNaN(milli)) t.equal(thrown(() => q.milliValue())?.code, 'QuantityOverflow', `${name} milli overflows`)
    else t.equal(q.milliValue(), milli, `${name} milliValue`)
  }
})

t.test('large values stay exact', async t => {
  const cases: Array<[string, string]> = [
    ['1E', '1E'],
    ['1000E', '1e21'], // past E there is no suffix: exponent notation
    ['123456789012345678901234567890', '123456789012345678901234567890'],
    ['8Ei', '9223372036854775807'], // binary values are capped at 2^63-1
    ['7Ei', '7Ei'],
    ['-8Ei', '-9223372036854775807'],
    ['1e999999999', '1e999999999'],
  ]
  for (const [input, canonical] of cases) t.equal(parseQuantity(input).toString(), canonical, input)
  t.equal(thrown(() => parseQuantity('1e999999999').value())?.code, 'QuantityOverflow')
  t.equal(parseQuantity('1e-999999999').toString(), '1e-9', 'tiny values round up to 1n')
  t.equal(parseQuantity('9007199254740991').value(), Number.MAX_SAFE_INTEGER)
  t.equal(thrown(() => parseQuantity('9007199254740992').value())?.code, 'QuantityOverflow')
})

t.test('malformed quantities carry Kubernetes messages', async t => {
  const cases: Array<[string, string]> = [
    ['', formatWrong],
    ['abc', formatWrong],
    ['1Gi ', formatWrong],
    [' 1Gi', formatWrong],
    ['1.2.3', formatWrong],
    ['1Gib', formatWrong],
    ['1e3.5', formatWrong],
    ['NaN', formatWrong],
    ['1,5', formatWrong],
    ['1K', suffixWrong],
    ['1mi', suffixWrong],
    ['1e', suffixWrong],
    ['1e-', suffixWrong],
    ['1G1', suffixWrong],
    ['1ee3', suffixWrong],
    ['1Mi3', suffixWrong],
    ['--1', suffixWrong],
    ['1e99999999999999999999', suffixWrong], // exponent past int64
    ['Ei', numericWrong],
    ['Pi', numericWrong],
    ['e-10', numericWrong],
  ]
  for (const [input, message] of cases) {
    const err = thrown(() => parseQuantity(input))
    t.equal(err?.code, 'InvalidQuantity', `${JSON.stringify(input)} code`)
    t.equal(err?.message, message, `${JSON.stringify(input)} message`)
  }
  t.equal(QUANTITY_REGEXP, '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$')
})

t.test('scheduling helpers', async t => {
  const cpu: Array<[string | number, number]> = [
    ['100m', 100],
    ['0.1', 100],
    ['1', 1000],
    ['2.5', 2500],
    ['1m', 1],
    ['0.0005', 1],
    [1, 1000],
  ]
  for (const [input, millis] of cpu) t.equal(cpuMillis(input), millis, `cpu ${input}`)
  t.equal(cpuMillis('0.1') + cpuMillis('0.2'), 300, 'no floating point drift')
  const mem: Array<[string | number, number]> = [
    ['128Mi', 134217728],
    ['1G', 1000000000],
    ['1.5k', 1500],
    ['100m', 1], // a fraction of a byte is a byte
    [1024, 1024],
  ]
  for (const [input, bytes] of mem) t.equal(memoryBytes(input), bytes, `memory ${input}`)
  t.equal(cpuMillis(parseQuantity('3')), 3000, 'takes a Quantity too')
  t.equal(memoryBytes(parseQuantity('1Ki')), 1024)
})

t.test('formatting back', async t => {
  const millis: Array<[number, string]> = [
    [0, '0'],
    [1, '1m'],
    [100, '100m'],
    [1000, '1'],
    [1500, '1500m'],
    [2000, '2'],
    [250000, '250'],
    [1000000, '1k'],
  ]
  for (const [m, text] of millis) t.equal(formatMillis(m), text, `millis ${m}`)
  const bytes: Array<[number, string]> = [
    [0, '0'],
    [1000, '1k'], // below 1Ki Kubernetes prints binary values as decimal
    [1024, '1Ki'],
    [1536, '1536'],
    [1048576, '1Mi'],
    [1610612736, '1536Mi'],
    [1073741824, '1Gi'],
  ]
  for (const [b, text] of bytes) t.equal(formatBytes(b), text, `bytes ${b}`)
  t.equal(Quantity.fromValue(5, 'DecimalExponent').toString(), '5')
  t.equal(Quantity.fromValue(5000, 'DecimalExponent').toString(), '5e3')
  t.equal(Quantity.fromScaled(15n, -1).toString(), '1500m')
  t.equal(JSON.stringify({ cpu: parseQuantity('0.5') }), '{"cpu":"500m"}')
  t.equal(thrown(() => Quantity.fromMillis(0.5))?.code, 'InvalidQuantity')
})

t.test('comparing', async t => {
  const cases: Array<[string, string, number]> = [
    ['1', '1000m', 0],
    ['1Gi', '1073741824', 0],
    ['1G', '1Gi', -1],
    ['500m', '0.4', 1],
    ['-1', '1', -1],
    ['-2', '-1', -1],
    ['0', '-0', 0],
    ['1e999999999', '1E', 1],
    ['1n', '0', 1],
  ]
  for (const [a, b, want] of cases) {
    t.equal(parseQuantity(a).cmp(parseQuantity(b)), want, `${a} vs ${b}`)
    t.equal(parseQuantity(b).cmp(parseQuantity(a)), -want || 0, `${b} vs ${a}`)
  }
  t.equal(parseQuantity('2').equals(parseQuantity('2000m')), true)
  t.equal(parseQuantity('-3').sign(), -1)
  t.equal(parseQuantity('0.0').isZero(), true)
  t.ok(Object.isFrozen(parseQuantity('1')), 'quantities are immutable')
})
