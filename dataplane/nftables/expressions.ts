// nf_tables expressions as netlink attributes (pure), each written the way
// nft 1.0.6 writes it for the same rule text (attribute order included), so
// that `nft list` shows what the proxy meant. Constants are from the kernel's
// uapi <linux/netfilter/nf_tables.h>.
import type { NetlinkWriter } from '../netlink/writer.ts'

export const NFT_MSG = {
  NEWTABLE: 0, DELTABLE: 2, NEWCHAIN: 3, DELCHAIN: 5, NEWRULE: 6, DELRULE: 8,
  NEWSET: 9, DELSET: 11, NEWSETELEM: 12, DELSETELEM: 14,
} as const

export const REG_VERDICT = 0
export const REG_1 = 1
/** The 32-bit registers after the first one, for the fields of a concatenation. */
export const REG32 = (i: number): number => 8 + i

export const VERDICT = { DROP: 0, ACCEPT: 1, JUMP: -3, GOTO: -4, RETURN: -5 } as const

export const CMP_EQ = 0
export const CMP_NEQ = 1
export const PAYLOAD_NETWORK = 1
export const PAYLOAD_TRANSPORT = 2
export const META = { MARK: 3, OIFNAME: 7, L4PROTO: 16 } as const
export const CT = { STATE: 0, STATUS: 2 } as const
export const NAT_DNAT = 1
export const NF_NAT_RANGE_PROTO_SPECIFIED = 0x2
export const NF_NAT_RANGE_PROTO_RANDOM_FULLY = 0x10
export const NG_RANDOM = 1
export const DYNSET_OP_UPDATE = 1
export const FIB_F_DADDR = 0x2
export const FIB_RESULT_ADDRTYPE = 3
export const RTN_LOCAL = 2
export const REJECT_ICMP_UNREACH = 0
export const ICMP_PORT_UNREACH = 3

// Attribute numbers used below.
const LIST_ELEM = 1
const EXPR_NAME = 1
const EXPR_DATA = 2
const DATA_VALUE = 1
const DATA_VERDICT = 2
const VERDICT_CODE = 1
const VERDICT_CHAIN = 2

/** One expression of a rule: writes itself into the rule's expression list. */
export type Expr = (w: NetlinkWriter) => void

function expr(name: string, body: (w: NetlinkWriter) => void): Expr {
  return w => {
    const elem = w.nest(LIST_ELEM)
    w.str(EXPR_NAME, name)
    const data = w.nest(EXPR_DATA)
    body(w)
    w.endNest(data)
    w.endNest(elem)
  }
}

export function writeValue(w: NetlinkWriter, type: number, value: Uint8Array): void {
  const n = w.nest(type)
  w.bytes(DATA_VALUE, value)
  w.endNest(n)
}

/** A verdict as nf_tables data (inside an immediate or a map element). */
export function writeVerdict(w: NetlinkWriter, type: number, code: number, chain?: string): void {
  const outer = w.nest(type)
  const v = w.nest(DATA_VERDICT)
  w.u32(VERDICT_CODE, code)
  if (chain !== undefined) w.str(VERDICT_CHAIN, chain)
  w.endNest(v)
  w.endNest(outer)
}

export const payload = (base: number, offset: number, len: number, dreg: number): Expr =>
  expr('payload', w => {
    w.u32(1, dreg)
    w.u32(2, base)
    w.u32(3, offset)
    w.u32(4, len)
  })

export const metaLoad = (key: number, dreg: number): Expr =>
  expr('meta', w => {
    w.u32(2, key)
    w.u32(1, dreg)
  })

export const metaSet = (key: number, sreg: number): Expr =>
  expr('meta', w => {
    w.u32(2, key)
    w.u32(3, sreg)
  })

export const ctLoad = (key: number, dreg: number): Expr =>
  expr('ct', w => {
    w.u32(2, key)
    w.u32(1, dreg)
  })

export const cmp = (sreg: number, op: number, data: Uint8Array): Expr =>
  expr('cmp', w => {
    w.u32(1, sreg)
    w.u32(2, op)
    writeValue(w, 3, data)
  })

/** (reg & mask) ^ xor; `explicitOp` where the rule text spells the operator (nft then sends it). */
export const bitwise = (reg: number, mask: Uint8Array, xor: Uint8Array, explicitOp: boolean): Expr =>
  expr('bitwise', w => {
    w.u32(1, reg)
    w.u32(2, reg)
    if (explicitOp) w.u32(6, 0)
    w.u32(3, mask.length)
    writeValue(w, 4, mask)
    writeValue(w, 5, xor)
  })

export const immediateVerdict = (code: number, chain?: string): Expr =>
  expr('immediate', w => {
    w.u32(1, REG_VERDICT)
    writeVerdict(w, 2, code, chain)
  })

export const immediateData = (dreg: number, data: Uint8Array): Expr =>
  expr('immediate', w => {
    w.u32(1, dreg)
    writeValue(w, 2, data)
  })

/** A set lookup (dreg undefined: a plain match), by name and, for a set made in the same batch, by id. */
export const lookup = (sreg: number, set: string, setId: number | undefined, dreg?: number): Expr =>
  expr('lookup', w => {
    w.u32(2, sreg)
    if (dreg !== undefined) w.u32(3, dreg)
    w.str(1, set)
    if (setId !== undefined) w.u32(4, setId)
  })

export const numgen = (dreg: number, modulus: number, offset: number): Expr =>
  expr('numgen', w => {
    w.u32(1, dreg)
    w.u32(2, modulus)
    w.u32(3, NG_RANDOM)
    w.u32(4, offset)
  })

export const dnat = (addrReg: number, protoReg: number, flags?: number): Expr =>
  expr('nat', w => {
    w.u32(1, NAT_DNAT)
    w.u32(2, 2 /* NFPROTO_IPV4 */)
    w.u32(3, addrReg)
    w.u32(5, protoReg)
    if (flags !== undefined) w.u32(7, flags)
  })

export const masquerade = (flags: number): Expr =>
  expr('masq', w => {
    w.u32(1, flags)
  })

export const reject = (): Expr =>
  expr('reject', w => {
    w.u32(1, REJECT_ICMP_UNREACH)
    w.u8(2, ICMP_PORT_UNREACH)
  })

export const fibDaddrType = (dreg: number): Expr =>
  expr('fib', w => {
    w.u32(3, FIB_F_DADDR)
    w.u32(2, FIB_RESULT_ADDRTYPE)
    w.u32(1, dreg)
  })

export const dynsetUpdate = (keyReg: number, set: string, setId: number | undefined): Expr =>
  expr('dynset', w => {
    w.u32(4, keyReg)
    w.u32(3, DYNSET_OP_UPDATE)
    w.str(1, set)
    if (setId !== undefined) w.u32(2, setId)
  })
