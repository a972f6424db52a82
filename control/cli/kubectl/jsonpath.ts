// kubectl's JSONPath templates (`-o jsonpath='{.items[*].metadata.name}'`):
// literal text around `{...}` expressions; fields `.a.b`, `['a.b']`,
// `.kubernetes\.io/name`; `[*]`, `.*`, `[n]`, `[-1]`, `[a:b]`, `[0,2]`; recursive
// `..name`; filters `[?(@.type=="Ready")]` (==, !=, <, <=, >, >=, or just
// `@.field` for "exists"); `{range EXPR}...{end}`; string literals `{"\n"}`.
// Several results of one expression are joined by spaces; objects print as
// compact JSON; a missing field prints nothing (kubectl's default
// --allow-missing-template-keys=true).

import { KubectlError } from './errors.ts'
import { compactJson } from './sorted-json.ts'

type Step =
  | { type: 'field'; name: string }
  | { type: 'recursive'; name: string | '*' }
  | { type: 'wildcard' }
  | { type: 'index'; indexes: number[] }
  | { type: 'slice'; start?: number; end?: number; step?: number }
  | { type: 'filter'; left: Path; op?: string; right?: Path | { literal: unknown } }

interface Path {
  root: '$' | '@'
  steps: Step[]
}

type Node =
  | { type: 'text'; text: string }
  | { type: 'path'; path: Path }
  | { type: 'range'; path: Path; body: Node[] }

function fail(template: string, reason: string): KubectlError {
  return new KubectlError('EUSAGE', `error parsing jsonpath ${template}, ${reason}`)
}

// --- parsing -------------------------------------------------------------------

function parsePath(text: string, template: string): Path {
  let s = text.trim()
  let root: Path['root'] = '@'
  if (s.startsWith('$')) {
    root = '$'
    s = s.slice(1)
  } else if (s.startsWith('@')) {
    s = s.slice(1)
  }
  const steps: Step[] = []
  let i = 0
  const readName = (): string => {
    let name = ''
    while (i < s.length) {
      const c = s[i] as string
      if (c === '\\' && i + 1 < s.length) {
        name += s[i + 1]
        i += 2
        continue
      }
      if (c === '.' || c === '[') break
      name += c
      i++
    }
    return name
  }
  while (i < s.length) {
    const c = s[i]
    if (c === '.') {
      if (s[i + 1] === '.') {
        i += 2
        if (s[i] === '*') {
          i++
          steps.push({ type: 'recursive', name: '*' })
        } else steps.push({ type: 'recursive', name: readName() })
        continue
      }
      i++
      if (s[i] === '*') {
        i++
        steps.push({ type: 'wildcard' })
        continue
      }
      const name = readName()
      if (name !== '') steps.push({ type: 'field', name })
      continue
    }
    if (c === '[') {
      const close = findClose(s, i, template)
      const inner = s.slice(i + 1, close).trim()
      i = close + 1
      steps.push(parseBracket(inner, template))
      continue
    }
    // A bare name at the start (`{metadata.name}` is accepted by kubectl as `.metadata.name`).
    const name = readName()
    if (name === '') throw fail(template, `unrecognized character in action: ${JSON.stringify(c)}`)
    steps.push({ type: 'field', name })
  }
  return { root, steps }
}

function findClose(s: string, open: number, template: string): number {
  let depth = 0
  let quote: string | undefined
  for (let i = open; i < s.length; i++) {
    const c = s[i]
    if (quote !== undefined) {
      if (c === '\\') i++
      else if (c === quote) quote = undefined
      continue
    }
    if (c === '"' || c === "'") quote = c
    else if (c === '[' || c === '(') depth++
    else if (c === ']' || c === ')') {
      depth--
      if (depth === 0) return i
    }
  }
  throw fail(template, 'unterminated array')
}

function unquote(text: string): string | undefined {
  const t = text.trim()
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) {
    return t.slice(1, -1).replace(/\\(.)/g, (_m, ch: string) => ({ n: '\n', t: '\t', r: '\r' })[ch] ?? ch)
  }
  return undefined
}

function parseBracket(inner: string, template: string): Step {
  if (inner === '*') return { type: 'wildcard' }
  if (inner.startsWith('?')) {
    const body = inner.slice(1).trim()
    if (!body.startsWith('(') || !body.endsWith(')')) throw fail(template, `invalid filter ${inner}`)
    const expr = body.slice(1, -1).trim()
    const match = /^(.*?)\s*(==|!=|<=|>=|<|>)\s*(.*)$/.exec(expr)
    if (match === null) return { type: 'filter', left: parsePath(expr, template) }
    const [, left = '', op = '', right = ''] = match
    const quoted = unquote(right)
    let operand: Path | { literal: unknown }
    if (quoted !== undefined) operand = { literal: quoted }
    else if (/^-?\d+(\.\d+)?$/.test(right)) operand = { literal: Number(right) }
    else if (right === 'true' || right === 'false') operand = { literal: right === 'true' }
    else operand = parsePath(right, template)
    return { type: 'filter', left: parsePath(left, template), op, right: operand }
  }
  const quoted = unquote(inner)
  if (quoted !== undefined) return { type: 'field', name: quoted }
  if (inner.includes(':')) {
    const [a, b, c] = inner.split(':').map(p => p.trim())
    const n = (p: string | undefined): number | undefined => (p === undefined || p === '' ? undefined : Number(p))
    return { type: 'slice', start: n(a), end: n(b), step: n(c) }
  }
  const parts = inner.split(',').map(p => p.trim())
  if (parts.every(p => /^-?\d+$/.test(p))) return { type: 'index', indexes: parts.map(Number) }
  if (parts.every(p => unquote(p) !== undefined)) {
    // ['a','b'] unions of fields are rare; take them one after another.
    return { type: 'field', name: unquote(parts[0] as string) as string }
  }
  throw fail(template, `invalid array index ${inner}`)
}

/** Parses a template; throws kubectl's "error parsing jsonpath" on bad input. */
export function parseJsonPath(template: string): Node[] {
  const nodes: Node[] = []
  const stack: Node[][] = [nodes]
  const rangeStack: Array<Extract<Node, { type: 'range' }>> = []
  let i = 0
  while (i < template.length) {
    const open = template.indexOf('{', i)
    const current = stack[stack.length - 1] as Node[]
    if (open < 0) {
      current.push({ type: 'text', text: template.slice(i) })
      break
    }
    if (open > i) current.push({ type: 'text', text: template.slice(i, open) })
    // The matching close brace, skipping quoted text.
    let close = -1
    let quote: string | undefined
    for (let j = open + 1; j < template.length; j++) {
      const c = template[j]
      if (quote !== undefined) {
        if (c === '\\') j++
        else if (c === quote) quote = undefined
      } else if (c === '"' || c === "'") quote = c
      else if (c === '}') {
        close = j
        break
      }
    }
    if (close < 0) throw fail(template, 'unclosed action')
    const action = template.slice(open + 1, close).trim()
    i = close + 1
    if (action === 'end') {
      const range = rangeStack.pop()
      if (range === undefined) throw fail(template, 'not in range, nothing to end')
      stack.pop()
      continue
    }
    if (action.startsWith('range ') || action === 'range') {
      const range: Extract<Node, { type: 'range' }> = { type: 'range', path: parsePath(action.slice(5), template), body: [] }
      current.push(range)
      rangeStack.push(range)
      stack.push(range.body)
      continue
    }
    const literal = unquote(action)
    if (literal !== undefined) {
      current.push({ type: 'text', text: literal })
      continue
    }
    current.push({ type: 'path', path: parsePath(action, template) })
  }
  if (rangeStack.length > 0) throw fail(template, 'unclosed range')
  return nodes
}

// --- evaluation ------------------------------------------------------------------

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value
  if (typeof value === 'object' && value !== null) return Object.keys(value).sort().map(k => (value as Record<string, unknown>)[k])
  return []
}

function recursive(value: unknown, name: string, out: unknown[]): void {
  if (typeof value !== 'object' || value === null) return
  if (!Array.isArray(value)) {
    const record = value as Record<string, unknown>
    if (name === '*') out.push(...children(record))
    else if (Object.hasOwn(record, name)) out.push(record[name])
  }
  for (const child of children(value)) recursive(child, name, out)
}

function compare(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case '==':
      return a === b || (typeof a === 'number' && typeof b === 'string' && String(a) === b) || (typeof b === 'number' && typeof a === 'string' && String(b) === a)
    case '!=':
      return !compare(a, '==', b)
    case '<':
      return typeof a === typeof b && (a as number) < (b as number)
    case '<=':
      return typeof a === typeof b && (a as number) <= (b as number)
    case '>':
      return typeof a === typeof b && (a as number) > (b as number)
    case '>=':
      return typeof a === typeof b && (a as number) >= (b as number)
    default:
      return false
  }
}

function evaluate(path: Path, root: unknown, current: unknown): unknown[] {
  let values: unknown[] = [path.root === '$' ? root : current]
  for (const step of path.steps) {
    const next: unknown[] = []
    for (const value of values) {
      switch (step.type) {
        case 'field':
          if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, step.name)) {
            next.push((value as Record<string, unknown>)[step.name])
          }
          break
        case 'recursive':
          recursive(value, step.name, next)
          break
        case 'wildcard':
          next.push(...children(value))
          break
        case 'index':
          if (Array.isArray(value)) {
            for (const index of step.indexes) {
              const item = value[index < 0 ? value.length + index : index]
              if (item !== undefined) next.push(item)
            }
          }
          break
        case 'slice':
          if (Array.isArray(value)) {
            const len = value.length
            const norm = (n: number | undefined, fallback: number): number => (n === undefined ? fallback : n < 0 ? Math.max(0, len + n) : Math.min(n, len))
            const by = step.step ?? 1
            for (let i = norm(step.start, 0); i < norm(step.end, len); i += by > 0 ? by : 1) next.push(value[i])
          }
          break
        case 'filter':
          for (const item of Array.isArray(value) ? value : [value]) {
            const left = evaluate(step.left, root, item)
            if (step.op === undefined) {
              if (left.length > 0 && left[0] !== null && left[0] !== false) next.push(item)
              continue
            }
            const right = step.right !== undefined && 'literal' in step.right ? [step.right.literal] : evaluate(step.right as Path, root, item)
            if (left.length > 0 && right.length > 0 && compare(left[0], step.op, right[0])) next.push(item)
          }
          break
      }
    }
    values = next
  }
  return values
}

function text(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'object') return compactJson(value)
  return String(value)
}

function run(nodes: readonly Node[], root: unknown, current: unknown): string {
  let out = ''
  for (const node of nodes) {
    if (node.type === 'text') out += node.text
    else if (node.type === 'path') out += evaluate(node.path, root, current).map(text).join(' ')
    else {
      let items = evaluate(node.path, root, current)
      if (items.length === 1 && Array.isArray(items[0])) items = items[0]
      for (const item of items) out += run(node.body, root, item)
    }
  }
  return out
}

/** Renders `template` over `data`. */
export function renderJsonPath(template: string, data: unknown): string {
  return run(parseJsonPath(template), data, data)
}
