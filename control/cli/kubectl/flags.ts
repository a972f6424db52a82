// Command-line flags the way kubectl (spf13/pflag) reads them: `--flag=value`,
// `--flag value`, `-n value`, `-nvalue`, `-n=value`, booleans as `--wait`,
// `--wait=false` or combined shorthands (`-Aw`), repeatable flags, Go
// durations (`30s`, `1m30s`) and pflag's error texts.
//
// Why not node:util parseArgs: it refuses `--wait=false` for a boolean and
// `--replicas 3`-style values that look like flags, and its errors do not read
// like kubectl's.

import { KubectlError } from './errors.ts'

export type FlagType = 'string' | 'boolean' | 'strings' | 'int' | 'duration'

export interface FlagSpec {
  type: FlagType
  short?: string
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>

type Value = string | boolean | string[] | number

export class Flags {
  readonly positionals: string[]
  /** -h / --help was given. */
  readonly help: boolean
  readonly #values: Map<string, Value>

  constructor(values: Map<string, Value>, positionals: string[], help: boolean) {
    this.#values = values
    this.positionals = positionals
    this.help = help
  }

  has(name: string): boolean {
    return this.#values.has(name)
  }

  string(name: string): string | undefined {
    const v = this.#values.get(name)
    return typeof v === 'string' ? v : undefined
  }

  boolean(name: string, fallback = false): boolean {
    const v = this.#values.get(name)
    return typeof v === 'boolean' ? v : fallback
  }

  strings(name: string): string[] {
    const v = this.#values.get(name)
    return Array.isArray(v) ? v : []
  }

  /** int flags; durations are in milliseconds. */
  number(name: string): number | undefined {
    const v = this.#values.get(name)
    return typeof v === 'number' ? v : undefined
  }
}

const BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])
const BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False'])

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A Go duration (`300ms`, `1.5h`, `2h45m`, `0`) in milliseconds, or undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (text === '0' || text === '+0' || text === '-0') return 0
  const match = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(text)
  if (match === null) return undefined
  let total = 0
  for (const part of text.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (DURATION_UNITS[part[2] ?? ''] ?? 0)
  }
  return match[1] === '-' ? -total : total
}

function invalid(value: string, flag: string, reason: string): KubectlError {
  return new KubectlError('EUSAGE', `invalid argument "${value}" for "${flag}" flag: ${reason}`)
}

function convert(spec: FlagSpec, raw: string, display: string): Value {
  switch (spec.type) {
    case 'boolean':
      if (BOOL_TRUE.has(raw)) return true
      if (BOOL_FALSE.has(raw)) return false
      throw invalid(raw, display, `strconv.ParseBool: parsing "${raw}": invalid syntax`)
    case 'int':
      if (!/^[+-]?\d+$/.test(raw)) throw invalid(raw, display, `strconv.ParseInt: parsing "${raw}": invalid syntax`)
      return Number(raw)
    case 'duration': {
      const ms = parseDuration(raw)
      if (ms === undefined) throw invalid(raw, display, `time: invalid duration "${raw}"`)
      return ms
    }
    default:
      return raw
  }
}

/** Parses `args` against `specs`; positionals keep their order. */
export function parseFlags(args: readonly string[], specs: FlagSpecs): Flags {
  const values = new Map<string, Value>()
  const positionals: string[] = []
  let help = false
  const byShort = new Map<string, string>()
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name)

  const set = (name: string, spec: FlagSpec, raw: string, display: string): void => {
    const value = convert(spec, raw, display)
    if (spec.type === 'strings') {
      const list = (values.get(name) as string[] | undefined) ?? []
      list.push(...String(value).split(',').filter(s => s !== ''))
      values.set(name, list)
    } else {
      values.set(name, value)
    }
  }

  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === '--') {
      positionals.push(...args.slice(i + 1))
      break
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=')
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
      if (name === 'help') {
        help = true
        continue
      }
      const spec = specs[name]
      if (spec === undefined) throw new KubectlError('EUSAGE', `unknown flag: --${name}`)
      if (eq >= 0) set(name, spec, arg.slice(eq + 1), `--${name}`)
      else if (spec.type === 'boolean') values.set(name, true)
      else {
        const next = args[i + 1]
        if (next === undefined) throw new KubectlError('EUSAGE', `flag needs an argument: --${name}`)
        set(name, spec, next, `--${name}`)
        i++
      }
      continue
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      // A run of shorthands: booleans may be combined; a value flag takes the rest.
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j] as string
        if (c === 'h') {
          help = true
          continue
        }
        const name = byShort.get(c)
        const spec = name === undefined ? undefined : specs[name]
        if (name === undefined || spec === undefined) throw new KubectlError('EUSAGE', `unknown shorthand flag: '${c}' in ${arg}`)
        const display = `--${name}`
        if (spec.type === 'boolean') {
          if (arg[j + 1] === '=') {
            set(name, spec, arg.slice(j + 2), display)
            break
          }
          values.set(name, true)
          continue
        }
        let rest = arg.slice(j + 1)
        if (rest.startsWith('=')) rest = rest.slice(1)
        if (rest !== '') set(name, spec, rest, display)
        else {
          const next = args[i + 1]
          if (next === undefined) throw new KubectlError('EUSAGE', `flag needs an argument: '${c}' in -${c}`)
          set(name, spec, next, display)
          i++
        }
        break
      }
      continue
    }
    positionals.push(arg)
  }
  return new Flags(values, positionals, help)
}

/** Flags most verbs share. */
export const NAMESPACE_FLAGS = {
  namespace: { type: 'string', short: 'n' },
} as const satisfies FlagSpecs
