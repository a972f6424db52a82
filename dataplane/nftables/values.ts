// Values as nf_tables holds them (pure): addresses and ports in network byte
// order, marks and other meta/ct integers in host byte order (little-endian
// on the machines kubewire runs on), each field of a concatenation padded to
// 4 bytes.

export function ipv4Bytes(ip: string, where: string): Uint8Array {
  const parts = ip.split('.')
  const out = new Uint8Array(4)
  if (parts.length !== 4) throw new Error(`not an IPv4 address: "${ip}" (in ${where})`)
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string
    const n = Number(p)
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new Error(`not an IPv4 address: "${ip}" (in ${where})`)
    out[i] = n
  }
  return out
}

export function u16be(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 255, n & 255)
}

export function u32host(n: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n >>> 0, true)
  return out
}

const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, sctp: 132 }

export function protoNumber(name: string, where: string): number {
  const n = PROTOCOLS[name]
  if (n === undefined) throw new Error(`unknown protocol "${name}" (in ${where})`)
  return n
}
