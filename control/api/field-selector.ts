// Field selectors: `?fieldSelector=` and `kubectl --field-selector`, matched
// against the few fields each kind makes selectable.
//
// Why: controllers and kubectl lean on a handful of them (the scheduler on
// `spec.nodeName=`, node agents on `spec.nodeName=<node>`, `kubectl get pods
// --field-selector status.phase=Running`). The grammar is apimachinery's
// fields/selector.go: terms joined by `,`, each `field=value`, `field==value`
// or `field!=value`, values escaping `\`, `,` and `=` with a backslash, no
// whitespace trimming, terms sorted. Which fields a kind offers is Kubernetes'
// per-kind allow list (AddFieldLabelConversionFunc); anything else is refused
// with its text, `field label not supported: spec.foo`. A missing field reads
// as '', so `spec.nodeName=` selects unscheduled pods.

/** A selector could not be parsed, or names a field its kind does not offer. */
export class FieldSelectorError extends Error {
  readonly code: 'InvalidSelector' | 'UnsupportedField'
  constructor(code: 'InvalidSelector' | 'UnsupportedField', message: string) {
    super(message)
    this.name = 'FieldSelectorError'
    this.code = code
  }
}

export type FieldOperator = '=' | '==' | '!='

export interface FieldRequirement {
  readonly field: string
  readonly operator: FieldOperator
  readonly value: string
}

/** The selectable fields of one object, each rendered as a string. */
export type Fields = Readonly<Record<string, string>>

export interface FieldSelector {
  /** The terms in Kubernetes' order (the raw terms sorted); all must hold. */
  readonly requirements: readonly FieldRequirement[]
  matches(fields: Fields): boolean
  /** True when the selector selects everything. */
  empty(): boolean
  /** Canonical text: `==` printed as `=`, values escaped. */
  toString(): string
  /** The value `field` must have if an `=`/`==` term pins it. */
  requiresExactMatch(field: string): string | undefined
}

class TermsSelector implements FieldSelector {
  readonly requirements: readonly FieldRequirement[]
  constructor(requirements: readonly FieldRequirement[]) {
    this.requirements = Object.freeze(requirements.map(r => Object.freeze({ ...r })))
  }
  matches(fields: Fields): boolean {
    return this.requirements.every(r => {
      const actual = Object.hasOwn(fields, r.field) ? (fields[r.field] ?? '') : ''
      return r.operator === '!=' ? actual !== r.value : actual === r.value
    })
  }
  empty(): boolean {
    return this.requirements.length === 0
  }
  toString(): string {
    return this.requirements
      .map(r => `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeFieldValue(r.value)}`)
      .join(',')
  }
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find(r => r.field === field && r.operator !== '!=')?.value
  }
}

/** Selects every object. */
export const everythingFields: FieldSelector = new TermsSelector([])

/** Selects the objects whose fields equal all of `set`, in key order. */
export function fieldSelectorFromSet(set: Fields | null | undefined): FieldSelector {
  const keys = Object.keys(set ?? {}).sort()
  return new TermsSelector(keys.map(k => ({ field: k, operator: '=' as const, value: set?.[k] ?? '' })))
}

/** Escapes `\`, `,` and `=` so any string can stand as a value (EscapeValue). */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, c => '\\' + c)
}

/** Reverses escapeFieldValue; throws on a bad escape or a bare `,`/`=` (UnescapeValue). */
export function unescapeFieldValue(s: string): string {
  let out = ''
  let inSlash = false
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw new FieldSelectorError('InvalidSelector', `invalid field selector: invalid escape sequence: \\${c}`)
      }
      out += c
      inSlash = false
    } else if (c === '\\') {
      inSlash = true
    } else if (c === ',' || c === '=') {
      // Kubernetes prints the rune as a number here (%v of a rune).
      throw new FieldSelectorError(
        'InvalidSelector',
        `invalid field selector: unescaped character in value: ${c.codePointAt(0)}`,
      )
    } else {
      out += c
    }
  }
  if (inSlash) throw new FieldSelectorError('InvalidSelector', 'invalid field selector: invalid escape sequence: \\')
  return out
}

// Splits at commas not preceded by a backslash, keeping escapes in the terms.
function splitTerms(s: string): string[] {
  if (s.length === 0) return []
  const terms: string[] = []
  let start = 0
  let inSlash = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (inSlash) inSlash = false
    else if (c === '\\') inSlash = true
    else if (c === ',') {
      terms.push(s.slice(start, i))
      start = i + 1
    }
  }
  terms.push(s.slice(start))
  return terms
}

const termOperators: readonly FieldOperator[] = ['!=', '==', '=']

// The first operator occurrence splits the term; `!=` and `==` win over `=`.
function splitTerm(term: string): { lhs: string; op: FieldOperator; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of termOperators) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) }
    }
  }
  return undefined
}

/**
 * Parses `a=b,c!=d` (no field allow list applied: see compileFieldSelector).
 * '' selects everything. Throws FieldSelectorError 'InvalidSelector'.
 */
export function parseFieldSelector(text: string): FieldSelector {
  const parts = splitTerms(text).sort()
  const reqs: FieldRequirement[] = []
  for (const part of parts) {
    if (part === '') continue
    const t = splitTerm(part)
    if (!t) throw new FieldSelectorError('InvalidSelector', `invalid selector: '${text}'; can't understand '${part}'`)
    reqs.push({ field: t.lhs, operator: t.op, value: unescapeFieldValue(t.rhs) })
  }
  return new TermsSelector(reqs)
}

// ---------------------------------------------------------------------------
// Which fields each kind offers, and how each reads off an object

type Getter = (obj: unknown) => string

// Walks a dotted path; anything missing or not a scalar reads as undefined.
function dig(obj: unknown, path: readonly string[]): unknown {
  let cur = obj
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, p)) return undefined
    cur = (cur as Record<string, unknown>)[p]
  }
  return cur
}

const str =
  (...path: string[]): Getter =>
  obj => {
    const v = dig(obj, path)
    return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : ''
  }
// strconv.FormatBool: a missing boolean is false.
const bool =
  (...path: string[]): Getter =>
  obj =>
    dig(obj, path) === true ? 'true' : 'false'
// strconv.Itoa: a missing count is 0.
const int =
  (...path: string[]): Getter =>
  obj => {
    const v = dig(obj, path)
    return typeof v === 'number' && Number.isFinite(v) ? String(Math.trunc(v)) : '0'
  }

const metaFields: Readonly<Record<string, Getter>> = {
  'metadata.name': str('metadata', 'name'),
  'metadata.namespace': str('metadata', 'namespace'),
}

// The pod's first IP: status.podIP, else status.podIPs[0].ip.
const podIP: Getter = obj => {
  const ip = dig(obj, ['status', 'podIP'])
  if (typeof ip === 'string' && ip !== '') return ip
  const ips = dig(obj, ['status', 'podIPs'])
  const first: unknown = Array.isArray(ips) ? ips[0] : undefined
  return str('ip')(first)
}

const kindFields: Readonly<Record<string, Readonly<Record<string, Getter>>>> = {
  Pod: {
    'spec.nodeName': str('spec', 'nodeName'),
    'spec.restartPolicy': str('spec', 'restartPolicy'),
    'spec.schedulerName': str('spec', 'schedulerName'),
    'spec.serviceAccountName': str('spec', 'serviceAccountName'),
    'spec.hostNetwork': bool('spec', 'hostNetwork'),
    'status.phase': str('status', 'phase'),
    'status.podIP': podIP,
    'status.nominatedNodeName': str('status', 'nominatedNodeName'),
  },
  Node: { 'spec.unschedulable': bool('spec', 'unschedulable') },
  Namespace: { 'status.phase': str('status', 'phase') },
  Secret: { type: str('type') },
  Service: { 'spec.clusterIP': str('spec', 'clusterIP'), 'spec.type': str('spec', 'type') },
  ReplicationController: { 'status.replicas': int('status', 'replicas') },
  ReplicaSet: { 'status.replicas': int('status', 'replicas') },
  Job: { 'status.successful': int('status', 'succeeded') },
  Event: {
    'involvedObject.kind': str('involvedObject', 'kind'),
    'involvedObject.namespace': str('involvedObject', 'namespace'),
    'involvedObject.name': str('involvedObject', 'name'),
    'involvedObject.uid': str('involvedObject', 'uid'),
    'involvedObject.apiVersion': str('involvedObject', 'apiVersion'),
    'involvedObject.resourceVersion': str('involvedObject', 'resourceVersion'),
    'involvedObject.fieldPath': str('involvedObject', 'fieldPath'),
    reason: str('reason'),
    reportingComponent: str('reportingComponent'),
    source: str('source', 'component'),
    type: str('type'),
  },
}

// Old names Kubernetes still accepts and rewrites.
const kindAliases: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Pod: { 'spec.host': 'spec.nodeName' },
}

function gettersFor(kind: string): Readonly<Record<string, Getter>> {
  const extra = Object.hasOwn(kindFields, kind) ? kindFields[kind] : undefined
  return { ...metaFields, ...extra }
}

/** The field names `kind` accepts in a selector, sorted (metadata.name and metadata.namespace for every kind). */
export function supportedFieldLabels(kind: string): string[] {
  return Object.keys(gettersFor(kind)).sort()
}

/** The selectable fields of `obj` (of `kind`), for FieldSelector.matches. */
export function selectableFields(kind: string, obj: unknown): Fields {
  const out: Record<string, string> = {}
  for (const [name, get] of Object.entries(gettersFor(kind))) out[name] = get(obj)
  return out
}

/**
 * Checks a parsed selector against `kind`'s allow list, rewriting old aliases
 * (`spec.host` → `spec.nodeName` for pods). Throws FieldSelectorError
 * 'UnsupportedField' with `field label not supported: <field>`.
 */
export function fieldSelectorForKind(selector: FieldSelector, kind: string): FieldSelector {
  const getters = gettersFor(kind)
  const aliases = Object.hasOwn(kindAliases, kind) ? kindAliases[kind] : undefined
  const reqs = selector.requirements.map(r => {
    const field = aliases && Object.hasOwn(aliases, r.field) ? (aliases[r.field] ?? r.field) : r.field
    if (!Object.hasOwn(getters, field)) {
      throw new FieldSelectorError('UnsupportedField', `field label not supported: ${r.field}`)
    }
    return { ...r, field }
  })
  return new TermsSelector(reqs)
}

/** parseFieldSelector then fieldSelectorForKind: what a list or watch of `kind` does with `?fieldSelector=`. */
export function compileFieldSelector(text: string, kind: string): FieldSelector {
  return fieldSelectorForKind(parseFieldSelector(text), kind)
}

/** Whether `obj` of `kind` satisfies `selector`. */
export function fieldSelectorMatchesObject(selector: FieldSelector, kind: string, obj: unknown): boolean {
  return selector.empty() || selector.matches(selectableFields(kind, obj))
}
