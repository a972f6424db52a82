// Rule text -> nf_tables expressions (pure), for the rule vocabulary the
// proxy writes (dataplane/proxy/ruleset.ts) and no more: each form compiles
// to what nft 1.0.6 sends for the same text, so `nft list` prints the rule
// back as written. Anything else is refused with the rule and the word that
// was not understood, never guessed.
import {
  bitwise, cmp, CMP_EQ, CMP_NEQ, CT, ctLoad, dnat, dynsetUpdate, fibDaddrType, immediateData, immediateVerdict,
  lookup, masquerade, META, metaLoad, metaSet, NF_NAT_RANGE_PROTO_RANDOM_FULLY, NF_NAT_RANGE_PROTO_SPECIFIED, numgen,
  payload, PAYLOAD_NETWORK, PAYLOAD_TRANSPORT, reject, REG32, REG_1, RTN_LOCAL, VERDICT, type Expr,
} from './expressions.ts'
import { ipv4Bytes, protoNumber, u16be, u32host } from './values.ts'

/** An anonymous set a rule uses (`{ tcp, udp }`, `vmap { 0 : goto a, ... }`), made just before the rule. */
export interface AnonymousSet {
  kind: 'l4protos' | 'numgen-vmap'
  /** Batch-local id the rule's lookup refers to. */
  id: number
  elements: [Uint8Array, { code: number; chain: string } | undefined][]
}

export interface CompiledRule {
  anonymousSets: AnonymousSet[]
  exprs: Expr[]
}

/** Named sets the batch knows: their batch-local id when made in this batch. */
export type SetIds = (name: string) => number | undefined

const CT_STATE_NEW = 0x8
const IPS_DST_NAT = 0x20
const IFNAMSIZ = 16

export class RuleSyntaxError extends Error {}

export function compileRule(rule: string, setIds: SetIds, newSetId: () => number): CompiledRule {
  const t = new Tokens(rule)
  const exprs: Expr[] = []
  const anonymousSets: AnonymousSet[] = []
  const named = (token: string): [string, number | undefined] => {
    if (!token.startsWith('@')) t.fail(token)
    const name = token.slice(1)
    return [name, setIds(name)]
  }
  while (!t.done()) {
    const word = t.next()
    switch (word) {
      case 'ip': {
        const field = t.next()
        if (field !== 'saddr' && field !== 'daddr') t.fail(field)
        const offset = field === 'saddr' ? 12 : 16
        if (t.peek() === '.') {
          // ip daddr . meta l4proto . th dport vmap @set
          t.expect('.', 'meta', 'l4proto', '.', 'th', 'dport', 'vmap')
          const [set, id] = named(t.next())
          exprs.push(payload(PAYLOAD_NETWORK, offset, 4, REG_1), metaLoad(META.L4PROTO, REG32(1)), payload(PAYLOAD_TRANSPORT, 2, 2, REG32(2)), lookup(REG_1, set, id, 0))
          break
        }
        let op = CMP_EQ
        if (t.peek() === '!=') {
          t.next()
          op = CMP_NEQ
        }
        const value = t.next()
        if (value.startsWith('@')) {
          if (op !== CMP_EQ) t.fail(value)
          const [set, id] = named(value)
          exprs.push(payload(PAYLOAD_NETWORK, offset, 4, REG_1), lookup(REG_1, set, id))
          break
        }
        exprs.push(...prefixMatch(t, offset, value, op))
        break
      }
      case 'fib':
        t.expect('daddr', 'type', 'local')
        exprs.push(fibDaddrType(REG_1), cmp(REG_1, CMP_EQ, u32host(RTN_LOCAL)))
        break
      case 'meta': {
        const key = t.next()
        if (key === 'l4proto') {
          const next = t.next()
          if (next === '.') {
            t.expect('th', 'dport', 'vmap')
            const [set, id] = named(t.next())
            exprs.push(metaLoad(META.L4PROTO, REG_1), payload(PAYLOAD_TRANSPORT, 2, 2, REG32(1)), lookup(REG_1, set, id, 0))
          } else if (next === '{') {
            const id = newSetId()
            const elements: AnonymousSet['elements'] = []
            for (const item of t.list()) elements.push([Uint8Array.of(protoNumber(item.join(' '), rule)), undefined])
            anonymousSets.push({ kind: 'l4protos', id, elements })
            exprs.push(metaLoad(META.L4PROTO, REG_1), lookup(REG_1, '__set%d', id))
          } else exprs.push(metaLoad(META.L4PROTO, REG_1), cmp(REG_1, CMP_EQ, Uint8Array.of(protoNumber(next, rule))))
          break
        }
        if (key !== 'mark') t.fail(key)
        if (t.peek() === '&') {
          // meta mark & MASK == VALUE
          t.next()
          const mask = hexNumber(t, t.next())
          t.expect('==')
          const value = hexNumber(t, t.next())
          exprs.push(metaLoad(META.MARK, REG_1), bitwise(REG_1, u32host(mask), u32host(0), true), cmp(REG_1, CMP_EQ, u32host(value)))
          break
        }
        t.expect('set')
        const source = t.next()
        if (source === 'meta') {
          t.expect('mark')
          const op = t.next()
          const bits = hexNumber(t, t.next())
          if (op === '|') exprs.push(metaLoad(META.MARK, REG_1), bitwise(REG_1, u32host(~bits >>> 0), u32host(bits), true))
          else if (op === '^') exprs.push(metaLoad(META.MARK, REG_1), bitwise(REG_1, u32host(0xffffffff), u32host(bits), true))
          else t.fail(op)
        } else if (source === 'numgen') {
          const [modulus, offset] = numgenArgs(t)
          exprs.push(numgen(REG_1, modulus, offset))
        } else t.fail(source)
        exprs.push(metaSet(META.MARK, REG_1))
        break
      }
      case 'numgen': {
        // numgen random mod N vmap { 0 : goto a, ... }
        const [modulus, offset] = numgenArgs(t)
        t.expect('vmap', '{')
        const id = newSetId()
        const elements: AnonymousSet['elements'] = []
        for (const item of t.list()) {
          const [key, colon, verb, chain, ...rest] = item
          if (colon !== ':' || (verb !== 'goto' && verb !== 'jump') || chain === undefined || rest.length > 0 || key === undefined) t.fail(item.join(' '))
          elements.push([u32host(integer(t, key as string)), { code: verb === 'goto' ? VERDICT.GOTO : VERDICT.JUMP, chain: chain as string }])
        }
        anonymousSets.push({ kind: 'numgen-vmap', id, elements })
        exprs.push(numgen(REG_1, modulus, offset), lookup(REG_1, '__map%d', id, 0))
        break
      }
      case 'ct': {
        const key = t.next()
        const flag = t.next()
        if (key === 'state' && flag === 'new') exprs.push(ctLoad(CT.STATE, REG_1), bitwise(REG_1, u32host(CT_STATE_NEW), u32host(0), false), cmp(REG_1, CMP_NEQ, u32host(0)))
        else if (key === 'status' && flag === 'dnat') exprs.push(ctLoad(CT.STATUS, REG_1), bitwise(REG_1, u32host(IPS_DST_NAT), u32host(0), false), cmp(REG_1, CMP_NEQ, u32host(0)))
        else t.fail(`${key} ${flag}`)
        break
      }
      case 'oifname': {
        const quoted = t.next()
        const m = /^"([^"]{1,15})"$/.exec(quoted)
        if (!m) t.fail(quoted)
        const name = new Uint8Array(IFNAMSIZ)
        name.set(Buffer.from((m as RegExpExecArray)[1] as string))
        exprs.push(metaLoad(META.OIFNAME, REG_1), cmp(REG_1, CMP_EQ, name))
        break
      }
      case 'masquerade': {
        let flags = 0
        if (t.peek() === 'fully-random') {
          t.next()
          flags |= NF_NAT_RANGE_PROTO_RANDOM_FULLY
        }
        exprs.push(masquerade(flags))
        break
      }
      case 'dnat': {
        t.expect('ip', 'to')
        const target = t.next()
        if (target === 'meta') {
          // dnat ip to meta mark & MASK map @endpoints: the map's value is address . port
          t.expect('mark', '&')
          const mask = hexNumber(t, t.next())
          t.expect('map')
          const [set, id] = named(t.next())
          exprs.push(metaLoad(META.MARK, REG_1), bitwise(REG_1, u32host(mask), u32host(0), true), lookup(REG_1, set, id, REG_1), dnat(REG_1, REG32(1)))
        } else {
          const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(target)
          if (!m) t.fail(target)
          const [, ip, port] = m as RegExpExecArray
          exprs.push(immediateData(REG_1, ipv4Bytes(ip as string, rule)), immediateData(2, u16be(integer(t, port as string))), dnat(REG_1, 2, NF_NAT_RANGE_PROTO_SPECIFIED))
        }
        break
      }
      case 'update': {
        const [set, id] = named(t.next())
        t.expect('{', 'ip', 'saddr', '}')
        exprs.push(payload(PAYLOAD_NETWORK, 12, 4, REG_1), dynsetUpdate(REG_1, set, id))
        break
      }
      case 'reject':
        exprs.push(reject())
        break
      case 'drop':
        exprs.push(immediateVerdict(VERDICT.DROP))
        break
      case 'accept':
        exprs.push(immediateVerdict(VERDICT.ACCEPT))
        break
      case 'return':
        exprs.push(immediateVerdict(VERDICT.RETURN))
        break
      case 'jump':
      case 'goto':
        exprs.push(immediateVerdict(word === 'jump' ? VERDICT.JUMP : VERDICT.GOTO, chainName(t, t.next())))
        break
      default:
        t.fail(word)
    }
  }
  return { anonymousSets, exprs }
}

/** `ip saddr 10.0.0.0/8`: whole bytes are compared as they are; a ragged prefix is masked first (as nft does). */
function prefixMatch(t: Tokens, offset: number, cidr: string, op: number): Expr[] {
  const [ip, bitsText] = cidr.split('/')
  const bits = bitsText === undefined ? 32 : integer(t, bitsText)
  if (ip === undefined || bits < 1 || bits > 32) t.fail(cidr)
  const address = ipv4Bytes(ip as string, cidr)
  if (bits % 8 === 0) return [payload(PAYLOAD_NETWORK, offset, bits / 8, REG_1), cmp(REG_1, op, address.subarray(0, bits / 8))]
  const mask = new Uint8Array(4)
  for (let i = 0; i < bits; i++) mask[i >> 3] = (mask[i >> 3] as number) | (0x80 >> (i & 7))
  const network = address.map((b, i) => b & (mask[i] as number))
  return [payload(PAYLOAD_NETWORK, offset, 4, REG_1), bitwise(REG_1, mask, new Uint8Array(4), false), cmp(REG_1, op, network)]
}

function numgenArgs(t: Tokens): [number, number] {
  t.expect('random', 'mod')
  const modulus = integer(t, t.next())
  let offset = 0
  if (t.peek() === 'offset') {
    t.next()
    offset = integer(t, t.next())
  }
  return [modulus, offset]
}

function chainName(t: Tokens, name: string): string {
  if (!/^[\w./@:-]+$/.test(name)) t.fail(name)
  return name
}

function integer(t: Tokens, text: string): number {
  if (!/^\d+$/.test(text)) t.fail(text)
  return Number(text)
}

function hexNumber(t: Tokens, text: string): number {
  if (!/^0x[0-9a-f]{1,8}$/i.test(text)) t.fail(text)
  return Number(text)
}

/** Words of one rule; braces and commas are words of their own. */
class Tokens {
  private readonly words: string[]
  private at = 0

  constructor(private readonly rule: string) {
    this.words = rule.replace(/([{},])/g, ' $1 ').trim().split(/\s+/).filter(w => w !== '')
  }

  done(): boolean {
    return this.at >= this.words.length
  }

  peek(): string | undefined {
    return this.words[this.at]
  }

  next(): string {
    const word = this.words[this.at++]
    if (word === undefined) throw new RuleSyntaxError(`nft rule ends too early: ${this.rule}`)
    return word
  }

  expect(...words: string[]): void {
    for (const w of words) {
      const got = this.next()
      if (got !== w) this.fail(got)
    }
  }

  /** The comma-separated items up to the closing brace (the opening one is read). */
  list(): string[][] {
    const items: string[][] = [[]]
    for (;;) {
      const word = this.next()
      if (word === '}') break
      if (word === ',') items.push([])
      else items[items.length - 1]?.push(word)
    }
    if (items.some(i => i.length === 0)) this.fail('{ }')
    return items
  }

  fail(word: string): never {
    throw new RuleSyntaxError(`nft rule not understood at "${word}": ${this.rule}`)
  }
}
