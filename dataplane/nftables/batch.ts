// One nf_tables transaction as one netlink batch (pure): the commands of an
// `nft -f` script for one table of family ip, encoded as nft 1.0.6 encodes
// them. The kernel applies a batch all or nothing; writing it here rather
// than through nft skips nft's parser and its cache of the table, which for
// 10 000 Services cost seconds (see dataplane/proxy/ruleset.ts).
import { NFT_MSG, VERDICT, writeValue, writeVerdict } from './expressions.ts'
import { nfgenmsg } from '../netlink/family-headers.ts'
import { align4, NetlinkWriter, NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REQUEST } from '../netlink/writer.ts'
import { compileRule, type AnonymousSet } from './rule-compiler.ts'
import { protoNumber } from './values.ts'

const NFNL_SUBSYS_NFTABLES = 10
const NFNL_MSG_BATCH_BEGIN = 0x10
const NFNL_MSG_BATCH_END = 0x11
const NFPROTO_IPV4 = 2
// nfgenmsg of the batch delimiters (they name the subsystem) and of the commands (family ip).
const BATCH_HEADER = nfgenmsg(0, NFNL_SUBSYS_NFTABLES)
const IPV4_HEADER = nfgenmsg(NFPROTO_IPV4)

const NFT_SET_ANONYMOUS = 0x1
const NFT_SET_CONSTANT = 0x2
const NFT_SET_MAP = 0x8
const NFT_SET_TIMEOUT = 0x10
const NFT_SET_EVAL = 0x20
const NFT_DATA_VERDICT = 0xffffff00
const NF_ACCEPT = 1

// nft's datatype numbers (a concatenation packs them 6 bits each), lengths,
// and how a field's text is written into the value (straight into the
// batch: a full sync writes some 100 000 of them).
interface FieldType {
  id: number
  bytes: number
  write(buf: Buffer, at: number, text: string, start: number, end: number, where: string): void
}

const TYPES: Record<string, FieldType> = {
  ipv4_addr: { id: 7, bytes: 4, write: writeIpv4 },
  inet_proto: {
    id: 12, bytes: 1,
    write(buf, at, text, start, end, where) {
      const t = text.slice(start, end)
      buf[at] = /^\d+$/.test(t) ? Number(t) : protoNumber(t, where)
    },
  },
  inet_service: {
    id: 13, bytes: 2,
    write(buf, at, text, start, end, where) {
      buf.writeUInt16BE(decimal(text, start, end, 65535, where), at)
    },
  },
  mark: {
    id: 19, bytes: 4,
    write(buf, at, text, start, end, where) {
      buf.writeUInt32LE(decimal(text, start, end, 0xffffffff, where), at)
    },
  },
}

/** A decimal number in text[start, end), at most max. */
function decimal(text: string, start: number, end: number, max: number, where: string): number {
  let n = 0
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48
    if (d < 0 || d > 9) throw new Error(`not a number: "${text.slice(start, end)}" (in ${where})`)
    n = n * 10 + d
  }
  if (end === start || end - start > 10 || n > max) throw new Error(`not a number up to ${max}: "${text.slice(start, end)}" (in ${where})`)
  return n
}

function writeIpv4(buf: Buffer, at: number, text: string, start: number, end: number, where: string): void {
  let octet = 0
  let digits = 0
  let index = 0
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : text.charCodeAt(i)
    if (c === 46) {
      if (digits === 0 || digits > 3 || octet > 255 || index > 3) throw new Error(`not an IPv4 address: "${text.slice(start, end)}" (in ${where})`)
      buf[at + index++] = octet
      octet = 0
      digits = 0
    } else if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48)
      digits++
    } else throw new Error(`not an IPv4 address: "${text.slice(start, end)}" (in ${where})`)
  }
  if (index !== 4) throw new Error(`not an IPv4 address: "${text.slice(start, end)}" (in ${where})`)
}

interface SetType {
  flags: number
  keyType: number
  keyLen: number
  /** Map data: a verdict, or a concatenation of these types. */
  data?: 'verdict' | string[]
  timeoutMs?: number
  key: string[]
  keyFields: FieldType[]
  dataFields?: FieldType[]
  dataLen?: number
  /** nft's user data for such a set (byte orders and field descriptions `nft list` reads back). */
  udata: Uint8Array
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
// Captured from nft 1.0.6 (`nft --debug=mnl`) for the same declarations.
const UDATA_VALUE_KEY_VERDICT = hex('000400000000010400000000030800040d0000000100060400000000')
const UDATA_MARK_KEY_VALUE_DATA = hex('000401000000010400000000040800040d0000000100060400000000')
const UDATA_ADDRESS_SET = hex('000402000000')
const UDATA_L4PROTO_SET = hex('000401000000030e0004090000000106000410000000')
const UDATA_NUMGEN_VMAP = hex('00040100000001040000000004080004010000000100060400000000')

const concatLen = (fields: string[]): number => fields.reduce((n, f) => n + align4(typeOf(f).bytes), 0)
const concatId = (fields: string[]): number => fields.reduce((id, f) => (id << 6) | typeOf(f).id, 0)

function typeOf(name: string): (typeof TYPES)[string] {
  const t = TYPES[name]
  if (!t) throw new Error(`nft datatype "${name}" is not one kubewire writes`)
  return t
}

/** A set or map declaration as the proxy writes it, e.g. `type mark : ipv4_addr . inet_service`. */
export function parseSetDeclaration(decl: string): SetType {
  let type = declarations.get(decl)
  if (!type) declarations.set(decl, (type = parseDeclaration(decl)))
  return type
}
const declarations = new Map<string, SetType>()

function parseDeclaration(decl: string): SetType {
  const dynamic = /^type (\w+); flags dynamic,timeout; timeout (\d+)s;$/.exec(decl)
  if (dynamic) {
    const key = [dynamic[1] as string]
    return { flags: NFT_SET_TIMEOUT | NFT_SET_EVAL, keyType: concatId(key), keyLen: concatLen(key), key, keyFields: key.map(typeOf), timeoutMs: Number(dynamic[2]) * 1000, udata: UDATA_ADDRESS_SET }
  }
  const m = /^type ([\w .]+?)(?: : ([\w .]+))?$/.exec(decl)
  if (!m) throw new Error(`nft set declaration not understood: ${decl}`)
  const key = (m[1] as string).split(' . ')
  const dataText = m[2]
  const base = { keyType: concatId(key), keyLen: concatLen(key), key, keyFields: key.map(typeOf) }
  if (dataText === undefined) return { ...base, flags: 0, udata: UDATA_ADDRESS_SET }
  if (dataText === 'verdict') return { ...base, flags: NFT_SET_MAP, data: 'verdict', udata: UDATA_VALUE_KEY_VERDICT }
  const data = dataText.split(' . ')
  return { ...base, flags: NFT_SET_MAP, data, dataFields: data.map(typeOf), dataLen: concatLen(data), udata: UDATA_MARK_KEY_VALUE_DATA }
}

/** A value of the fields' concatenation (`a . b . c`), written as one data attribute of `type`. */
function writeConcat(w: NetlinkWriter, type: number, fields: readonly FieldType[], len: number, text: string, where: string): void {
  const outer = w.nest(type)
  const at = w.reserve(1 /* NFTA_DATA_VALUE */, len)
  const buf = w.buffer
  let start = 0
  let offset = 0
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as FieldType
    const end = i === fields.length - 1 ? text.length : text.indexOf(' . ', start)
    if (end < 0) throw new Error(`"${text}" does not have ${fields.length} fields (in ${where})`)
    field.write(buf, at + offset, text, start, end, where)
    offset += align4(field.bytes)
    start = end + 3
  }
  if (fields.length > 1 && text.indexOf(' . ', start) >= 0) throw new Error(`"${text}" has more than ${fields.length} fields (in ${where})`)
  w.endNest(outer)
}

function verdictOf(text: string, where: string): { code: number; chain?: string } {
  if (text.startsWith('goto ')) return { code: VERDICT.GOTO, chain: text.slice(5) }
  if (text.startsWith('jump ')) return { code: VERDICT.JUMP, chain: text.slice(5) }
  if (text === 'drop') return { code: VERDICT.DROP }
  if (text === 'accept') return { code: VERDICT.ACCEPT }
  throw new Error(`not a verdict: "${text}" (in ${where})`)
}

const HOOKS: Record<string, number> = { prerouting: 0, input: 1, forward: 2, output: 3, postrouting: 4 }
const PRIORITIES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 }

interface Hook { type: string; hook: number; priority: number; policy: number }

/** `type nat hook prerouting priority dstnat; policy accept;` */
export function parseHook(decl: string): Hook {
  const m = /^type (filter|nat|route) hook (\w+) priority ([\w-]+)(?: ([+-]) (\d+))?; policy (accept|drop);$/.exec(decl)
  const hook = m && HOOKS[m[2] as string]
  const named = m && (PRIORITIES[m[3] as string] ?? (/^-?\d+$/.test(m[3] as string) ? Number(m[3]) : undefined))
  if (!m || hook === undefined || hook === null || named === undefined || named === null) throw new Error(`nft base chain declaration not understood: ${decl}`)
  const shift = m[4] ? (m[4] === '-' ? -1 : 1) * Number(m[5]) : 0
  return { type: m[1] as string, hook, priority: named + shift, policy: m[6] === 'accept' ? NF_ACCEPT : 0 }
}

// Element lists are one nested attribute each, whose length is 16 bits.
// (Elements are numbered 1, 2, ... within a list, as nft numbers them.)
const ELEMENT_MESSAGE_BYTES = 60_000

export interface EncodedBatch {
  bytes: Buffer
  /** What the message with this sequence number did (for the kernel's error reports). */
  describe(seq: number): string
  /** Sequence number of the last command (it asks for an acknowledgement). */
  lastSeq: number
}

// The largest batch so far: the next one starts that big instead of growing (and copying) its way there.
let sizeHint = 1 << 16

export class NftBatch {
  private readonly w = new NetlinkWriter(1, sizeHint)
  private readonly what = new Map<number, string>()
  private readonly setIds = new Map<string, number>()
  private nextSetId = 1
  private lastSeq = 0
  private lastStart = 0

  constructor(private readonly table: string) {
    this.w.begin(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, BATCH_HEADER)
    this.w.end()
  }

  /** `table ip T; delete table ip T; table ip T` (the whole table replaced at once). */
  replaceTable(): void {
    this.newTable()
    this.deleteTable()
    this.newTable()
  }

  deleteTable(): void {
    this.message(NFT_MSG.DELTABLE, 0, `delete table ip ${this.table}`)
    this.w.str(1, this.table)
    this.done()
  }

  addChain(name: string, hookDecl?: string): void {
    this.message(NFT_MSG.NEWCHAIN, NLM_F_CREATE, `add chain ip ${this.table} ${name}`)
    this.w.str(1, this.table)
    this.w.str(3, name)
    if (hookDecl !== undefined) {
      const hook = parseHook(hookDecl)
      this.w.str(7, hook.type)
      this.w.u32(5, hook.policy)
      const n = this.w.nest(4)
      this.w.u32(1, hook.hook)
      this.w.u32(2, hook.priority)
      this.w.endNest(n)
    }
    this.done()
  }

  /** Removes every rule of the chain (`flush chain`). */
  flushChain(name: string): void {
    this.message(NFT_MSG.DELRULE, 0, `flush chain ip ${this.table} ${name}`)
    this.w.str(1, this.table)
    this.w.str(2, name)
    this.done()
  }

  deleteChain(name: string): void {
    this.message(NFT_MSG.DELCHAIN, 0, `delete chain ip ${this.table} ${name}`)
    this.w.str(1, this.table)
    this.w.str(3, name)
    this.done()
  }

  addSet(name: string, decl: string): void {
    const type = parseSetDeclaration(decl)
    const id = this.nextSetId++
    this.setIds.set(name, id)
    this.message(NFT_MSG.NEWSET, NLM_F_CREATE, `add ${type.data ? 'map' : 'set'} ip ${this.table} ${name} { ${decl} }`)
    this.w.str(1, this.table)
    this.w.str(2, name)
    this.w.u32(3, type.flags)
    this.w.u32(4, type.keyType)
    this.w.u32(5, type.keyLen)
    if (type.data === 'verdict') {
      this.w.u32(6, NFT_DATA_VERDICT)
      this.w.u32(7, 0)
    } else if (type.data) {
      this.w.u32(6, concatId(type.data))
      this.w.u32(7, concatLen(type.data))
    }
    this.w.u32(10, id)
    if (type.timeoutMs !== undefined) this.w.u64(11, type.timeoutMs)
    this.w.bytes(13, type.udata)
    this.done()
  }

  deleteSet(name: string, kind: 'set' | 'map' = 'set'): void {
    this.message(NFT_MSG.DELSET, 0, `delete ${kind} ip ${this.table} ${name}`)
    this.w.str(1, this.table)
    this.w.str(2, name)
    this.done()
  }

  /** Elements (key text -> value text, '' in a plain set) of the set `name` declared as `decl`. */
  addElements(name: string, decl: string, elements: Iterable<[string, string]>): void {
    const type = parseSetDeclaration(decl)
    const where = `add element ip ${this.table} ${name}`
    this.elementMessages(name, where, NFT_MSG.NEWSETELEM, elements, ([key, value], index) => {
      const elem = this.w.nest(index)
      writeConcat(this.w, 1, type.keyFields, type.keyLen, key, where)
      if (type.data === 'verdict') {
        const v = verdictOf(value, where)
        writeVerdict(this.w, 2, v.code, v.chain)
      } else if (type.dataFields) writeConcat(this.w, 2, type.dataFields, type.dataLen ?? 0, value, where)
      this.w.endNest(elem)
    })
  }

  deleteElements(name: string, decl: string, keys: Iterable<string>): void {
    const type = parseSetDeclaration(decl)
    const where = `delete element ip ${this.table} ${name}`
    this.elementMessages(name, where, NFT_MSG.DELSETELEM, keys, (key, index) => {
      const elem = this.w.nest(index)
      writeConcat(this.w, 1, type.keyFields, type.keyLen, key, where)
      this.w.endNest(elem)
    })
  }

  addRule(chain: string, rule: string): void {
    const compiled = compileRule(rule, name => this.setIds.get(name), () => this.nextSetId++)
    for (const set of compiled.anonymousSets) this.anonymousSet(set)
    this.message(NFT_MSG.NEWRULE, NLM_F_CREATE | NLM_F_APPEND, `add rule ip ${this.table} ${chain} ${rule}`)
    this.w.str(1, this.table)
    this.w.str(2, chain)
    const list = this.w.nest(4)
    for (const e of compiled.exprs) e(this.w)
    this.w.endNest(list)
    this.done()
  }

  /** The batch, closed; its last command asks for an acknowledgement, so success is confirmed, not assumed. */
  finish(): EncodedBatch {
    if (this.lastSeq !== 0) {
      const flags = this.w.finish().readUInt16LE(this.lastStart + 6)
      this.w.finish().writeUInt16LE(flags | NLM_F_ACK, this.lastStart + 6)
    }
    this.w.begin(NFNL_MSG_BATCH_END, NLM_F_REQUEST, BATCH_HEADER)
    this.w.end()
    const what = this.what
    sizeHint = Math.max(sizeHint, Math.min(this.w.length + (1 << 16), 1 << 28))
    return { bytes: this.w.finish(), describe: seq => what.get(seq) ?? `message ${seq}`, lastSeq: this.lastSeq }
  }

  private anonymousSet(set: AnonymousSet): void {
    const map = set.kind === 'numgen-vmap'
    const name = map ? '__map%d' : '__set%d'
    this.message(NFT_MSG.NEWSET, NLM_F_CREATE, `anonymous ${map ? 'map' : 'set'} of a rule`)
    this.w.str(1, this.table)
    this.w.str(2, name)
    this.w.u32(3, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | (map ? NFT_SET_MAP : 0))
    this.w.u32(4, map ? 4 /* integer */ : TYPES.inet_proto?.id ?? 12)
    this.w.u32(5, map ? 4 : 1)
    if (map) {
      this.w.u32(6, NFT_DATA_VERDICT)
      this.w.u32(7, 0)
    }
    this.w.u32(10, set.id)
    const desc = this.w.nest(9)
    this.w.u32(1, set.elements.length)
    this.w.endNest(desc)
    this.w.bytes(13, map ? UDATA_NUMGEN_VMAP : UDATA_L4PROTO_SET)
    this.done()
    this.elementMessages(name, 'elements of an anonymous set', NFT_MSG.NEWSETELEM, set.elements, ([key, verdict], index) => {
      const elem = this.w.nest(index)
      writeValue(this.w, 1, key)
      if (verdict) writeVerdict(this.w, 2, verdict.code, verdict.chain)
      this.w.endNest(elem)
    }, set.id)
  }

  /** Element messages of at most ELEMENT_MESSAGE_BYTES each (none for no elements). */
  private elementMessages<T>(set: string, where: string, type: number, items: Iterable<T>, write: (item: T, index: number) => void, anonymousId?: number): void {
    let list = -1
    let index = 0
    const id = anonymousId ?? this.setIds.get(set)
    const open = () => {
      this.message(type, type === NFT_MSG.NEWSETELEM ? NLM_F_CREATE : 0, where)
      this.w.str(1, this.table)
      this.w.str(2, set)
      if (id !== undefined) this.w.u32(4, id)
      list = this.w.nest(3)
      index = 0
    }
    const close = () => {
      this.w.endNest(list)
      this.done()
      list = -1
    }
    for (const item of items) {
      if (list < 0) open()
      write(item, ++index)
      if (this.w.messageLength > ELEMENT_MESSAGE_BYTES) close()
    }
    if (list >= 0) close()
  }

  private message(type: number, flags: number, what: string): void {
    this.lastStart = this.w.length
    this.lastSeq = this.w.begin((NFNL_SUBSYS_NFTABLES << 8) | type, NLM_F_REQUEST | flags, IPV4_HEADER)
    this.what.set(this.lastSeq, what)
  }

  private done(): void {
    this.w.end()
  }

  private newTable(): void {
    this.message(NFT_MSG.NEWTABLE, NLM_F_CREATE, `table ip ${this.table}`)
    this.w.str(1, this.table)
    this.w.u32(2, 0)
    this.done()
  }
}
