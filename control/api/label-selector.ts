// Label selectors: the text of `?labelSelector=` and `kubectl -l`, and the
// object form (`matchLabels` + `matchExpressions`) of Deployments, Services,
// ReplicaSets..., compiled into one matcher.
//
// Why: every list, watch and controller in the cluster filters by labels, and
// users type selectors by hand, so parsing, matching, canonical text and the
// error messages follow apimachinery's labels/selector.go token for token:
// the same lexer rules (whitespace between tokens is ignored; `in` and `notin`
// are keywords only where an operator may stand), the same error texts, the
// same sorted, de-duplicated canonical form. Key and value syntax is checked
// as Kubernetes' IsQualifiedName and IsValidLabelValue do, with their texts.

import { aggregateMessages, fieldErrorString, fieldInvalid, goQuote } from './status-error.ts'
import type { FieldError } from './status-error.ts'

/** A selector could not be parsed or built; `message` is Kubernetes' text. */
export class LabelSelectorError extends Error {
  readonly code = 'InvalidSelector'
  constructor(message: string) {
    super(message)
    this.name = 'LabelSelectorError'
  }
}

/** selection.Operator: `!` is DoesNotExist, `gt`/`lt` compare integers. */
export type SelectorOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt'

export interface Requirement {
  readonly key: string
  readonly operator: SelectorOperator
  readonly values: readonly string[]
}

export type Labels = Readonly<Record<string, string>>

export interface LabelSelector {
  /** The requirements, sorted by key; all must hold (AND). */
  readonly requirements: readonly Requirement[]
  matches(labels: Labels | null | undefined): boolean
  /** True when the selector selects everything. */
  empty(): boolean
  /** Canonical text, e.g. `app=web,tier in (a,b)`; '' for everything and nothing. */
  toString(): string
  /** The value an object must have for `key` if the selector pins it (`=`, `==`, single-value `in`). */
  requiresExactMatch(key: string): string | undefined
}

/** The object form, as in a Deployment's `spec.selector`. */
export interface LabelSelectorObject {
  matchLabels?: Readonly<Record<string, string>> | null
  matchExpressions?: readonly LabelSelectorRequirementObject[] | null
}

export interface LabelSelectorRequirementObject {
  key: string
  /** In, NotIn, Exists or DoesNotExist. */
  operator: string
  values?: readonly string[] | null
}

// ---------------------------------------------------------------------------
// Key and value syntax (IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain)

const labelKeyFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'
const labelKeyErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
const labelValueFmt = '(' + labelKeyFmt + ')?'
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
const dns1123SubdomainFmt = dns1123LabelFmt + '(\\.' + dns1123LabelFmt + ')*'
const dns1123SubdomainErrMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"

const labelKeyRe = new RegExp('^' + labelKeyFmt + '$')
const labelValueRe = new RegExp('^' + labelValueFmt + '$')
const dns1123SubdomainRe = new RegExp('^' + dns1123SubdomainFmt + '$')

const maxLenError = (n: number): string => `must be no more than ${n} bytes`
const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8')

// Kubernetes' RegexError, double space before "or" included.
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`
  return `${msg} (e.g. ${examples.map(e => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`
}

/** Problems with a DNS-1123 subdomain (e.g. a label key prefix); [] when valid. */
export function validateDns1123Subdomain(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > 253) errs.push(maxLenError(253))
  if (!dns1123SubdomainRe.test(value)) errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, 'example.com'))
  return errs
}

/** Problems with a label key (optional DNS-subdomain prefix, '/', name ≤ 63); [] when valid. */
export function validateLabelKey(key: string): string[] {
  const errs: string[] = []
  const parts = key.split('/')
  let name: string
  if (parts.length === 1) {
    name = parts[0] ?? ''
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? ''
    name = parts[1] ?? ''
    if (prefix.length === 0) errs.push('prefix part must be non-empty')
    else errs.push(...validateDns1123Subdomain(prefix).map(m => 'prefix part ' + m))
  } else {
    return [
      'a valid label key ' +
        regexError(labelKeyErrMsg, labelKeyFmt, 'MyName', 'my.name', '123-abc') +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ]
  }
  if (name.length === 0) errs.push('name part must be non-empty')
  else if (byteLength(name) > 63) errs.push('name part ' + maxLenError(63))
  if (!labelKeyRe.test(name)) errs.push('name part ' + regexError(labelKeyErrMsg, labelKeyFmt, 'MyName', 'my.name', '123-abc'))
  return errs
}

/** Problems with a label value (empty, or ≤ 63 alphanumerics, '-', '_', '.'); [] when valid. */
export function validateLabelValue(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > 63) errs.push(maxLenError(63))
  if (!labelValueRe.test(value)) errs.push(regexError(labelValueErrMsg, labelValueFmt, 'MyValue', 'my_value', '12345'))
  return errs
}

/** Validates an object's labels as the API server does (ValidateLabels), one error per problem. */
export function validateLabels(labels: Labels | null | undefined, fieldPath = 'metadata.labels'): FieldError[] {
  const errs: FieldError[] = []
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const msg of validateLabelKey(k)) errs.push(fieldInvalid(fieldPath, k, msg))
    for (const msg of validateLabelValue(v)) errs.push(fieldInvalid(fieldPath, v, msg))
  }
  return errs
}

// ---------------------------------------------------------------------------
// Requirements

const int64Re = /^[+-]?[0-9]+$/
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

// strconv.ParseInt(s, 10, 64), or undefined.
function parseInt64(s: string): bigint | undefined {
  if (!int64Re.test(s)) return undefined
  const n = BigInt(s)
  return n < INT64_MIN || n > INT64_MAX ? undefined : n
}

// labels.NewRequirement: validates and returns the requirement, or throws with
// the aggregated field errors (paths `key`, `values`, `values[i][key]`).
function newRequirement(key: string, operator: SelectorOperator, values: readonly string[]): Requirement {
  const errs: FieldError[] = []
  for (const msg of joinOrNone(validateLabelKey(key))) errs.push(fieldInvalid('key', key, msg))
  const badValues = values.length === 0 ? null : [...values]
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) {
        errs.push(fieldInvalid('values', badValues, "for 'in', 'notin' operators, values set can't be empty"))
      }
      break
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) {
        errs.push(fieldInvalid('values', badValues, 'exact-match compatibility requires one single value'))
      }
      break
    case 'exists':
    case '!':
      if (values.length !== 0) {
        errs.push(fieldInvalid('values', badValues, 'values set must be empty for exists and does not exist'))
      }
      break
    case 'gt':
    case 'lt':
      if (values.length !== 1) {
        errs.push(fieldInvalid('values', badValues, "for 'Gt', 'Lt' operators, exactly one value is required"))
      }
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errs.push(fieldInvalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"))
        }
      })
      break
  }
  values.forEach((v, i) => {
    for (const msg of joinOrNone(validateLabelValue(v))) errs.push(fieldInvalid(`values[${i}][${key}]`, v, msg))
  })
  if (errs.length > 0) throw new LabelSelectorError(aggregateMessages(errs.map(fieldErrorString)))
  return Object.freeze({ key, operator, values: Object.freeze([...values]) })
}

// Kubernetes reports all problems of one key or value in one error, "; "-joined.
const joinOrNone = (msgs: string[]): string[] => (msgs.length > 0 ? [msgs.join('; ')] : [])

/** Whether one requirement holds for a set of labels (Requirement.Matches). */
export function requirementMatches(r: Requirement, labels: Labels | null | undefined): boolean {
  const has = labels != null && Object.hasOwn(labels, r.key)
  const value = has ? labels[r.key] : undefined
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value ?? '')
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value ?? '')
    case 'exists':
      return has
    case '!':
      return !has
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false
      const actual = parseInt64(value ?? '')
      const bound = parseInt64(r.values[0] ?? '')
      if (actual === undefined || bound === undefined) return false
      return r.operator === 'gt' ? actual > bound : actual < bound
    }
  }
}

/** One requirement's canonical text: `!a`, `a`, `a=b`, `a in (x,y)`, `a>5`. */
export function requirementToString(r: Requirement): string {
  const sorted = [...r.values].sort(compareStrings)
  switch (r.operator) {
    case 'exists':
      return r.key
    case '!':
      return '!' + r.key
    case 'in':
      return `${r.key} in (${sorted.join(',')})`
    case 'notin':
      return `${r.key} notin (${sorted.join(',')})`
    case 'gt':
      return `${r.key}>${sorted.join(',')}`
    case 'lt':
      return `${r.key}<${sorted.join(',')}`
    default:
      return `${r.key}${r.operator}${sorted.join(',')}`
  }
}

// Go compares strings bytewise; code-unit order agrees for the ASCII of labels.
const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

class RequirementsSelector implements LabelSelector {
  readonly requirements: readonly Requirement[]
  constructor(requirements: readonly Requirement[]) {
    // Stable sort by key, for a deterministic canonical text.
    this.requirements = Object.freeze([...requirements].sort((a, b) => compareStrings(a.key, b.key)))
  }
  matches(labels: Labels | null | undefined): boolean {
    return this.requirements.every(r => requirementMatches(r, labels))
  }
  empty(): boolean {
    return this.requirements.length === 0
  }
  toString(): string {
    return this.requirements.map(requirementToString).join(',')
  }
  requiresExactMatch(key: string): string | undefined {
    const r = this.requirements.find(x => x.key === key)
    if (!r) return undefined
    const pins = r.operator === '=' || r.operator === '==' || r.operator === 'in'
    return pins && r.values.length === 1 ? r.values[0] : undefined
  }
}

/** Selects every object (the empty selector). */
export const everything: LabelSelector = new RequirementsSelector([])

/** Selects no object (what a missing object-form selector means). */
export const nothing: LabelSelector = Object.freeze({
  requirements: Object.freeze([]) as readonly Requirement[],
  matches: () => false,
  empty: () => false,
  toString: () => '',
  requiresExactMatch: () => undefined,
})

/** A selector from requirements you already hold (e.g. to add one to a parsed selector). */
export function selectorFromRequirements(requirements: readonly Requirement[]): LabelSelector {
  return new RequirementsSelector(requirements)
}

/** Builds and validates one requirement, throwing LabelSelectorError like Kubernetes' NewRequirement. */
export function requirement(key: string, operator: SelectorOperator, values: readonly string[] = []): Requirement {
  return newRequirement(key, operator, values)
}

/**
 * Selects exactly the objects carrying all of `set` (`a=1,b=2`); an empty or
 * missing set selects everything. Not validated, as SelectorFromSet.
 */
export function selectorFromSet(set: Labels | null | undefined): LabelSelector {
  const keys = Object.keys(set ?? {})
  if (!set || keys.length === 0) return everything
  return new RequirementsSelector(
    keys.map(k => Object.freeze({ key: k, operator: '=' as const, values: Object.freeze([set[k] ?? '']) })),
  )
}

/**
 * Compiles the object form: a missing selector selects nothing, an empty one
 * everything (LabelSelectorAsSelector). Throws LabelSelectorError.
 */
export function labelSelectorFromObject(obj: LabelSelectorObject | null | undefined): LabelSelector {
  if (obj == null) return nothing
  const labels = obj.matchLabels ?? {}
  const exprs = obj.matchExpressions ?? []
  const reqs: Requirement[] = []
  for (const k of Object.keys(labels).sort(compareStrings)) reqs.push(newRequirement(k, '=', [labels[k] ?? '']))
  for (const e of exprs) {
    const op = Object.hasOwn(objectOperators, e.operator) ? objectOperators[e.operator] : undefined
    if (op === undefined) {
      throw new LabelSelectorError(`${goQuote(String(e.operator))} is not a valid label selector operator`)
    }
    reqs.push(newRequirement(e.key, op, [...(e.values ?? [])]))
  }
  return reqs.length === 0 ? everything : new RequirementsSelector(reqs)
}

const objectOperators: Readonly<Record<string, SelectorOperator>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
}

// ---------------------------------------------------------------------------
// The string form

type TokenKind = 'ident' | 'in' | 'notin' | '!' | '=' | '==' | '!=' | '>' | '<' | '(' | ')' | ',' | 'eos'

interface Token {
  kind: TokenKind
  text: string
}

const isWhitespace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n'
const isSpecial = (c: string): boolean => '=!(),><'.includes(c)

function lex(s: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  for (;;) {
    while (i < s.length && isWhitespace(s[i] ?? '')) i++
    if (i >= s.length) {
      tokens.push({ kind: 'eos', text: '' })
      return tokens
    }
    const c = s[i] ?? ''
    if (isSpecial(c)) {
      const two = s.slice(i, i + 2)
      const kind: TokenKind = two === '!=' || two === '==' ? two : (c as TokenKind)
      tokens.push({ kind, text: kind })
      i += kind.length
      continue
    }
    const start = i
    while (i < s.length && !isSpecial(s[i] ?? '') && !isWhitespace(s[i] ?? '')) i++
    const text = s.slice(start, i)
    tokens.push({ kind: text === 'in' || text === 'notin' ? text : 'ident', text })
  }
}

const binaryOperatorsText = 'in, notin, =, ==, !=, gt, lt'

// A recursive-descent parser over the tokens; `in` and `notin` read as
// identifiers wherever a key or value may stand (Kubernetes' "Values" context).
class Parser {
  private pos = 0
  constructor(private readonly tokens: Token[]) {}

  private peek(valuesContext = true): Token {
    const t = this.tokens[this.pos] ?? { kind: 'eos', text: '' }
    return valuesContext && (t.kind === 'in' || t.kind === 'notin') ? { kind: 'ident', text: t.text } : t
  }

  private next(valuesContext = true): Token {
    const t = this.peek(valuesContext)
    if (this.pos < this.tokens.length - 1) this.pos++
    return t
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = []
    for (;;) {
      const t = this.peek()
      if (t.kind === 'eos') return reqs
      if (t.kind !== 'ident' && t.kind !== '!') {
        throw new LabelSelectorError(`found '${t.text}', expected: !, identifier, or 'end of string'`)
      }
      try {
        reqs.push(this.parseRequirement())
      } catch (err) {
        if (err instanceof LabelSelectorError) {
          throw new LabelSelectorError(`unable to parse requirement: ${err.message}`)
        }
        throw err
      }
      const after = this.next()
      if (after.kind === 'eos') return reqs
      if (after.kind !== ',') throw new LabelSelectorError(`found '${after.text}', expected: ',' or 'end of string'`)
      const t2 = this.peek()
      if (t2.kind !== 'ident' && t2.kind !== '!') {
        throw new LabelSelectorError(`found '${t2.text}', expected: identifier after ','`)
      }
    }
  }

  private parseRequirement(): Requirement {
    let t = this.next()
    let negated = false
    if (t.kind === '!') {
      negated = true
      t = this.next()
    }
    if (t.kind !== 'ident') throw new LabelSelectorError(`found '${t.text}', expected: identifier`)
    const key = t.text
    const keyErrs = validateLabelKey(key)
    if (keyErrs.length > 0) throw new LabelSelectorError(fieldErrorString(fieldInvalid('<nil>', key, keyErrs.join('; '))))
    const following = this.peek().kind
    // `!key` ends the requirement whatever follows; a bare key means "exists".
    if (negated) return newRequirement(key, '!', [])
    if (following === 'eos' || following === ',') return newRequirement(key, 'exists', [])

    const opToken = this.next(false)
    let op: SelectorOperator
    switch (opToken.kind) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        op = opToken.kind
        break
      case '>':
        op = 'gt'
        break
      case '<':
        op = 'lt'
        break
      default:
        throw new LabelSelectorError(`found '${opToken.text}', expected: ${binaryOperatorsText}`)
    }
    const values = op === 'in' || op === 'notin' ? this.parseValueSet() : this.parseExactValue()
    return newRequirement(key, op, [...values].sort(compareStrings))
  }

  // `(a,b)`, `()`, `(a,,b)`: empty entries are the empty value.
  private parseValueSet(): Set<string> {
    const open = this.next()
    if (open.kind !== '(') throw new LabelSelectorError(`found '${open.text}' expected: '('`)
    const t = this.peek()
    if (t.kind === ')') {
      this.next()
      return new Set([''])
    }
    if (t.kind !== 'ident' && t.kind !== ',') {
      throw new LabelSelectorError(`found '${t.text}', expected: ',', ')' or identifier`)
    }
    const values = this.parseIdentifierList()
    const close = this.next()
    if (close.kind !== ')') throw new LabelSelectorError(`found '${t.text}', expected: ')'`)
    return values
  }

  private parseIdentifierList(): Set<string> {
    const values = new Set<string>()
    for (;;) {
      const t = this.next()
      if (t.kind === 'ident') {
        values.add(t.text)
        const t2 = this.peek()
        if (t2.kind === ',') continue
        if (t2.kind === ')') return values
        throw new LabelSelectorError(`found '${t2.text}', expected: ',' or ')'`)
      } else if (t.kind === ',') {
        if (values.size === 0) values.add('')
        const t2 = this.peek()
        if (t2.kind === ')') {
          values.add('')
          return values
        }
        if (t2.kind === ',') {
          this.next()
          values.add('')
        }
      } else {
        throw new LabelSelectorError(`found '${t.text}', expected: ',', or identifier`)
      }
    }
  }

  // The single value after `=`, `==`, `!=`, `>` or `<`; nothing means ''.
  private parseExactValue(): Set<string> {
    const t = this.peek()
    if (t.kind === 'eos' || t.kind === ',') return new Set([''])
    const v = this.next()
    if (v.kind === 'ident') return new Set([v.text])
    throw new LabelSelectorError(`found '${v.text}', expected: identifier`)
  }
}

/**
 * Parses the string form, e.g. `app=web, tier in (fe,be), !canary`.
 * '' selects everything. Throws LabelSelectorError with Kubernetes' message.
 */
export function parseLabelSelector(text: string): LabelSelector {
  const reqs = new Parser(lex(text)).parse()
  return reqs.length === 0 ? everything : new RequirementsSelector(reqs)
}
