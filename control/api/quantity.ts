// Resource quantities (`100m`, `0.5`, `512Mi`, `1e3`, `1.5G`) as exact numbers.
//
// Why: the scheduler adds up requests and compares them with what a node has
// left, so a quantity must never be a float: `0.1 + 0.2` CPUs has to be
// exactly 300 millicores. A quantity is held as an exact decimal (bigint
// mantissa × 10^scale) and read out as integers the way apimachinery's
// resource.Quantity does: MilliValue and Value round up, away from zero, so a
// pod asking for any amount gets at least 1 unit. Parsing follows Kubernetes'
// scanner (the same inputs accepted, the same error texts), including its
// rounding of anything finer than 1n up to 1n and its cap of binary-suffixed
// values at 2^63-1; formatting is its canonical form (`1.5` → `1500m`,
// `1.5Gi` → `1536Mi`, `1e3` stays `1e3`).

/** How a quantity is written back: `12Mi`, `12M` or `12e6`. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent'

/** Kubernetes' own statement of the syntax (it is looser than the real scanner). */
export const QUANTITY_REGEXP = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'

const errFormatWrong = `quantities must match the regular expression '${QUANTITY_REGEXP}'`
const errNumeric = 'unable to parse numeric part of quantity'
const errSuffix = "unable to parse quantity's suffix"

/**
 * 'InvalidQuantity': the text is not a quantity (message as Kubernetes words it).
 * 'QuantityOverflow': the value does not fit a safe JavaScript integer.
 */
export class QuantityError extends Error {
  readonly code: 'InvalidQuantity' | 'QuantityOverflow'
  constructor(code: 'InvalidQuantity' | 'QuantityOverflow', message: string) {
    super(message)
    this.name = 'QuantityError'
    this.code = code
  }
}

const decimalSuffixes: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
}
const binarySuffixes: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }
const decimalSuffixByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]))
const binarySuffixByPower = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei']

const NANO = -9
const MAX_INT64 = 2n ** 63n - 1n
const INT64_MAX_DIGITS = 18 // maxInt64Factors: decimal digits that always fit an int64

const pow10 = (n: number): bigint => 10n ** BigInt(n)
const abs = (n: bigint): bigint => (n < 0n ? -n : n)
const digitCount = (n: bigint): number => (n === 0n ? 0 : abs(n).toString().length)
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'

// a / 10^shift, rounded away from zero when inexact (shift > 0).
function divideAwayFromZero(a: bigint, shift: number): bigint {
  if (a === 0n) return 0n
  if (digitCount(a) <= shift) return a > 0n ? 1n : -1n
  const d = pow10(shift)
  const q = a / d
  if (q * d === a) return q
  return a > 0n ? q + 1n : q - 1n
}

/** An exact quantity: `unscaled × 10^scale`, remembering how it was written. */
export class Quantity {
  readonly format: QuantityFormat
  /** The value is unscaled × 10^scale. */
  readonly unscaled: bigint
  readonly scale: number

  private constructor(unscaled: bigint, scale: number, format: QuantityFormat) {
    this.unscaled = unscaled
    this.scale = unscaled === 0n ? 0 : scale + 0 // + 0 turns -0 into 0
    this.format = format
    Object.freeze(this)
  }

  /** Parses Kubernetes quantity text; numbers are read as their JavaScript text. */
  static parse(input: string | number): Quantity {
    return parseQuantity(input)
  }

  /** `millis` thousandths (e.g. millicores): fromMillis(1500) is `1500m`. */
  static fromMillis(millis: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(millis), -3, format)
  }

  /** A whole number: fromValue(1073741824, 'BinarySI') is `1Gi`. */
  static fromValue(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(value), 0, format)
  }

  /** Exactly unscaled × 10^scale (no rounding): fromScaled(15n, -1) is 1.5, written `1500m`. */
  static fromScaled(unscaled: bigint, scale: number, format: QuantityFormat = 'DecimalSI'): Quantity {
    if (!Number.isSafeInteger(scale)) throw new QuantityError('InvalidQuantity', `${scale} is not an integer scale`)
    return new Quantity(unscaled, scale, format)
  }

  isZero(): boolean {
    return this.unscaled === 0n
  }

  sign(): -1 | 0 | 1 {
    return this.unscaled < 0n ? -1 : this.unscaled > 0n ? 1 : 0
  }

  /** ceil(q / 10^scale) away from zero, as Kubernetes' ScaledValue (scale -3 is milli). */
  scaledValue(scale: number): number {
    const shift = scale - this.scale // divide by 10^shift
    if (this.unscaled !== 0n && digitCount(this.unscaled) - shift > 16) {
      throw new QuantityError('QuantityOverflow', `quantity ${this.toString()} is too large to count in units of 1e${scale}`)
    }
    const v = shift <= 0 ? this.unscaled * pow10(-shift) : divideAwayFromZero(this.unscaled, shift)
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new QuantityError('QuantityOverflow', `quantity ${this.toString()} is too large to count in units of 1e${scale}`)
    }
    return Number(v)
  }

  /** The value in whole units, rounded up (away from zero): bytes for memory. */
  value(): number {
    return this.scaledValue(0)
  }

  /** The value in thousandths, rounded up (away from zero): millicores for CPU. */
  milliValue(): number {
    return this.scaledValue(-3)
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `other`. */
  cmp(other: Quantity): -1 | 0 | 1 {
    const a = this.sign()
    const b = other.sign()
    if (a !== b) return a < b ? -1 : 1
    if (a === 0) return 0
    // Same sign: compare magnitudes by order first, so huge exponents never materialise.
    const ma = digitCount(this.unscaled) + this.scale
    const mb = digitCount(other.unscaled) + other.scale
    let r: number
    if (ma !== mb) {
      r = ma < mb ? -1 : 1
    } else {
      const s = Math.min(this.scale, other.scale)
      const x = abs(this.unscaled) * pow10(this.scale - s)
      const y = abs(other.unscaled) * pow10(other.scale - s)
      r = x < y ? -1 : x > y ? 1 : 0
    }
    return (a < 0 ? -r : r) as -1 | 0 | 1
  }

  equals(other: Quantity): boolean {
    return this.cmp(other) === 0
  }

  /** Kubernetes' canonical text (CanonicalizeBytes). */
  toString(): string {
    if (this.unscaled === 0n) return '0'
    let format = this.format
    if (format === 'BinarySI') {
      const oneKi = Quantity.fromValue(1024)
      const small = this.cmp(Quantity.fromValue(-1024)) > 0 && this.cmp(oneKi) < 0
      if (small || !this.isInteger()) format = 'DecimalSI'
    }
    if (format === 'BinarySI') {
      // An integer here, whatever the scale.
      let m = this.scale >= 0 ? this.unscaled * pow10(this.scale) : this.unscaled / pow10(-this.scale)
      let power = 0
      while (abs(m) >= 1024n && m % 1024n === 0n && power < binarySuffixByPower.length - 1) {
        m /= 1024n
        power++
      }
      return m.toString() + (binarySuffixByPower[power] ?? '')
    }
    // Move factors of ten into the exponent, then lower it to a multiple of 3.
    let m = this.unscaled
    let exp = this.scale
    while (m % 10n === 0n) {
      m /= 10n
      exp++
    }
    const r = ((exp % 3) + 3) % 3
    m *= pow10(r)
    exp -= r
    if (format === 'DecimalSI') {
      const suffix = decimalSuffixByExponent.get(exp)
      if (suffix !== undefined) return m.toString() + suffix
    }
    return exp === 0 ? m.toString() : `${m}e${exp}`
  }

  toJSON(): string {
    return this.toString()
  }

  private isInteger(): boolean {
    return this.scale >= 0 || this.unscaled % pow10(-this.scale) === 0n
  }
}

function toBigInt(n: number | bigint): bigint {
  if (typeof n === 'bigint') return n
  if (!Number.isSafeInteger(n)) throw new QuantityError('InvalidQuantity', `${n} is not a safe integer`)
  return BigInt(n)
}

interface Scanned {
  positive: boolean
  /** Digits before the point, leading zeros stripped, '0' if none. */
  num: string
  /** Digits after the point. */
  denom: string
  /** Whether any digit at all preceded the suffix. */
  hasDigits: boolean
  suffix: string
}

// Kubernetes' parseQuantityString: sign, digits, optional point and digits,
// then suffix letters, an optional sign and digits, and nothing else.
function scan(str: string): Scanned {
  let pos = 0
  const end = str.length
  let positive = true
  if (str[0] === '-') {
    positive = false
    pos++
  } else if (str[0] === '+') {
    pos++
  }
  const numberStart = pos
  while (pos < end && str[pos] === '0') pos++
  if (pos >= end) return { positive, num: '0', denom: '', hasDigits: pos > numberStart, suffix: '' }
  let i = pos
  while (isDigit(str[i])) i++
  let num = str.slice(pos, i)
  pos = i
  if (num === '') num = '0'
  let denom = ''
  if (str[pos] === '.') {
    pos++
    i = pos
    while (isDigit(str[i])) i++
    denom = str.slice(pos, i)
    pos = i
  }
  const hasDigits = /[0-9]/.test(str.slice(numberStart, pos))
  const suffixStart = pos
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos] ?? '')) pos++
  if (str[pos] === '-' || str[pos] === '+') pos++
  while (isDigit(str[pos])) pos++
  if (pos < end) throw new QuantityError('InvalidQuantity', errFormatWrong)
  return { positive, num, denom, hasDigits, suffix: str.slice(suffixStart) }
}

// The suffix's base, exponent and format (suffixHandler.interpret).
function interpretSuffix(suffix: string): { base: 10 | 2; exponent: number; format: QuantityFormat } | undefined {
  if (Object.hasOwn(decimalSuffixes, suffix)) return { base: 10, exponent: decimalSuffixes[suffix] ?? 0, format: 'DecimalSI' }
  if (Object.hasOwn(binarySuffixes, suffix)) return { base: 2, exponent: binarySuffixes[suffix] ?? 0, format: 'BinarySI' }
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const digits = suffix.slice(1)
    if (!/^[+-]?[0-9]+$/.test(digits)) return undefined
    const parsed = BigInt(digits)
    if (parsed > MAX_INT64 || parsed < -MAX_INT64 - 1n) return undefined
    // Kubernetes keeps the exponent as an int32, wrapping silently.
    return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)), format: 'DecimalExponent' }
  }
  return undefined
}

/**
 * Parses a quantity. Throws QuantityError 'InvalidQuantity' with Kubernetes'
 * message (`quantities must match the regular expression '...'`, `unable to
 * parse quantity's suffix`, `unable to parse numeric part of quantity`).
 */
export function parseQuantity(input: string | number): Quantity {
  const str = typeof input === 'number' ? String(input) : input
  if (str.length === 0) throw new QuantityError('InvalidQuantity', errFormatWrong)
  if (str === '0') return Quantity.fromScaled(0n, 0, 'DecimalSI')

  const s = scan(str)
  const suffix = interpretSuffix(s.suffix)
  if (!suffix) throw new QuantityError('InvalidQuantity', errSuffix)

  // With no digits at all Kubernetes' int64 fast path still reads 0, but its
  // arbitrary-precision path (long or very small values) refuses the text.
  if (!s.hasDigits && !takesFastPath(s, suffix.base, suffix.exponent)) {
    throw new QuantityError('InvalidQuantity', errNumeric)
  }

  const digits = BigInt(s.num + s.denom)
  let unscaled = s.positive ? digits : -digits
  let scale = -s.denom.length
  let format = suffix.format
  if (suffix.base === 10) scale += suffix.exponent
  else unscaled *= 2n ** BigInt(suffix.exponent)

  // Anything finer than 1n rounds up to it: ask for some, get some.
  if (scale < NANO) {
    unscaled = divideAwayFromZero(unscaled, NANO - scale)
    scale = NANO
  }
  if (format === 'BinarySI') {
    const max = MAX_INT64 * pow10(Math.max(0, -scale))
    if (abs(unscaled) > max) {
      unscaled = unscaled < 0n ? -MAX_INT64 : MAX_INT64
      scale = 0
    }
    // A binary value below 1 (0.5Ki is 512, but 0.0001Ki is not whole) reads as decimal.
    const one = pow10(Math.max(0, -scale))
    if (unscaled !== 0n && abs(unscaled) < one) format = 'DecimalSI'
  }
  return Quantity.fromScaled(unscaled, scale, format)
}

// Whether Kubernetes parses this through its int64 fast path.
function takesFastPath(s: Scanned, base: 10 | 2, exponent: number): boolean {
  if (base === 10) {
    const precision = INT64_MAX_DIGITS - (s.num.length + s.denom.length)
    return precision >= 0 && exponent - s.denom.length >= NANO
  }
  if (s.denom.length !== 0) return false
  const precision = 15 - s.num.length - Math.trunc((exponent * 3) / 10) - 1
  return precision >= 0
}

/** CPU text to integer millicores, rounded up (`100m` → 100, `0.5` → 500, `1` → 1000). */
export function cpuMillis(input: string | number | Quantity): number {
  return (input instanceof Quantity ? input : parseQuantity(input)).milliValue()
}

/** Memory or storage text to integer bytes, rounded up (`1Gi` → 1073741824, `1.5k` → 1500). */
export function memoryBytes(input: string | number | Quantity): number {
  return (input instanceof Quantity ? input : parseQuantity(input)).value()
}

/** Millicores back to canonical CPU text: 1500 → `1500m`, 2000 → `2`. */
export function formatMillis(millis: number): string {
  return Quantity.fromMillis(millis).toString()
}

/** Bytes back to canonical binary text: 1073741824 → `1Gi`, 1000 → `1000`. */
export function formatBytes(bytes: number): string {
  return Quantity.fromValue(bytes, 'BinarySI').toString()
}
