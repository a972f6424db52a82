// Reading Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf).
//
// Why: kubectl's generator commands (`kubectl create namespace`, `kubectl
// run`, `kubectl create deployment`, `kubectl expose`...) send their objects
// as protobuf and do not fall back to JSON on a 415. Responses stay JSON
// (kubectl accepts both). The envelope is the `k8s\0` magic and a
// runtime.Unknown message carrying the type and the raw object; the object is
// decoded with protobuf-schema.ts into the same JSON a client would have sent.
// Anything outside that schema is refused with 415, never guessed.

import { StatusError } from '../../api/status-error.ts'
import { KIND_MESSAGES, MESSAGES, SPECIAL } from './protobuf-schema.ts'
import type { FieldSpec, FieldType, Scalar } from './protobuf-schema.ts'

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf'
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00])

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ProtobufError'
  }
}

export function unsupportedProtobuf(detail: string): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf: ${detail})`,
    reason: 'UnsupportedMediaType',
    code: 415,
  })
}

interface RawField {
  number: number
  wire: number
  /** varint value, or the bytes of a length-delimited field. */
  value: bigint | Buffer
}

function readVarint(buf: Buffer, pos: { at: number }): bigint {
  let result = 0n
  let shift = 0n
  for (;;) {
    if (pos.at >= buf.length) throw new ProtobufError('truncated varint')
    const byte = buf[pos.at++] as number
    result |= BigInt(byte & 0x7f) << shift
    if ((byte & 0x80) === 0) return result
    shift += 7n
    if (shift > 70n) throw new ProtobufError('varint too long')
  }
}

function readFields(buf: Buffer): RawField[] {
  const out: RawField[] = []
  const pos = { at: 0 }
  while (pos.at < buf.length) {
    const key = Number(readVarint(buf, pos))
    const number = key >>> 3
    const wire = key & 7
    if (wire === 0) out.push({ number, wire, value: readVarint(buf, pos) })
    else if (wire === 2) {
      const length = Number(readVarint(buf, pos))
      if (pos.at + length > buf.length) throw new ProtobufError('truncated field')
      out.push({ number, wire, value: buf.subarray(pos.at, pos.at + length) })
      pos.at += length
    } else if (wire === 1) {
      out.push({ number, wire, value: buf.subarray(pos.at, pos.at + 8) })
      pos.at += 8
    } else if (wire === 5) {
      out.push({ number, wire, value: buf.subarray(pos.at, pos.at + 4) })
      pos.at += 4
    } else {
      throw new ProtobufError(`unsupported wire type ${wire}`)
    }
  }
  return out
}

const toInt = (v: bigint): number => Number(BigInt.asIntN(64, v))

function isZero(field: RawField): boolean {
  return field.wire === 0 ? field.value === 0n : field.wire === 2 ? (field.value as Buffer).length === 0 : false
}

function scalar(type: Scalar, field: RawField, where: string): unknown {
  switch (type) {
    case 'string':
      if (!(field.value instanceof Buffer)) throw new ProtobufError(`${where}: expected bytes`)
      return field.value.toString('utf8')
    case 'bytes':
      if (!(field.value instanceof Buffer)) throw new ProtobufError(`${where}: expected bytes`)
      return field.value.toString('base64')
    case 'int':
      if (typeof field.value !== 'bigint') throw new ProtobufError(`${where}: expected a varint`)
      return toInt(field.value)
    case 'bool':
      if (typeof field.value !== 'bigint') throw new ProtobufError(`${where}: expected a varint`)
      return field.value !== 0n
  }
}

function special(name: string, buf: Buffer): unknown {
  const fields = readFields(buf)
  const get = (n: number): RawField | undefined => fields.find(x => x.number === n)
  if (name === 'Time') {
    const seconds = get(1)
    if (seconds === undefined || seconds.value === 0n) return undefined
    return new Date(toInt(seconds.value as bigint) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
  }
  if (name === 'Quantity') return (get(1)?.value as Buffer | undefined)?.toString('utf8') ?? '0'
  // IntOrString: type 0 → intVal, 1 → strVal
  const type = get(1)?.value ?? 0n
  if (type === 1n) return (get(3)?.value as Buffer | undefined)?.toString('utf8') ?? ''
  return toInt((get(2)?.value as bigint | undefined) ?? 0n)
}

function value(type: FieldType, field: RawField, where: string): unknown {
  if (typeof type === 'string') return scalar(type, field, where)
  if ('message' in type) {
    if (!(field.value instanceof Buffer)) throw new ProtobufError(`${where}: expected a message`)
    return SPECIAL.has(type.message) ? special(type.message, field.value) : decodeMessage(type.message, field.value, where)
  }
  throw new ProtobufError(`${where}: a map is not a value`)
}

function mapEntry(spec: FieldSpec, field: RawField, where: string): [string, unknown] {
  if (!(field.value instanceof Buffer)) throw new ProtobufError(`${where}: expected a map entry`)
  const entry = readFields(field.value)
  const key = entry.find(x => x.number === 1)
  const val = entry.find(x => x.number === 2)
  const valueType = (spec.type as { map: FieldType }).map
  const k = key === undefined ? '' : (scalar('string', key, where) as string)
  if (val === undefined) return [k, typeof valueType === 'string' ? (valueType === 'string' || valueType === 'bytes' ? '' : 0) : {}]
  return [k, value(valueType, val, `${where}[${k}]`)]
}

/** Decodes one message of the schema into JSON. */
export function decodeMessage(name: string, buf: Buffer, where = name): Record<string, unknown> {
  const schema = MESSAGES[name]
  if (schema === undefined) throw new ProtobufError(`${where}: message ${name} is not known`)
  const out: Record<string, unknown> = {}
  for (const field of readFields(buf)) {
    const spec = schema[field.number]
    const path = `${where}.${spec?.json ?? `#${field.number}`}`
    if (spec === undefined) {
      if (isZero(field)) continue
      throw new ProtobufError(`${path}: field ${field.number} of ${name} is not supported`)
    }
    if (typeof spec.type === 'object' && 'map' in spec.type) {
      const [k, v] = mapEntry(spec, field, path)
      const map = (out[spec.json] ??= {}) as Record<string, unknown>
      map[k] = v
      continue
    }
    if (!spec.repeated && !spec.keepZero && typeof spec.type === 'string' && isZero(field)) continue
    const decoded = value(spec.type, field, path)
    if (decoded === undefined) continue
    if (spec.repeated) ((out[spec.json] ??= []) as unknown[]).push(decoded)
    else out[spec.json] = decoded
  }
  return out
}

/** Decodes a `k8s\0`-framed body into the object (with apiVersion and kind). Throws 415 for what it cannot read. */
export function decodeKubernetesProtobuf(body: Buffer): Record<string, unknown> {
  try {
    if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new ProtobufError('missing the k8s\\0 prefix')
    const unknown = decodeMessage('Unknown', body.subarray(4))
    const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string }
    const kind = typeMeta.kind ?? ''
    const message = KIND_MESSAGES[kind]
    if (message === undefined) throw new ProtobufError(`kind ${JSON.stringify(kind)} is not supported`)
    if (unknown.contentEncoding) throw new ProtobufError(`content encoding ${String(unknown.contentEncoding)} is not supported`)
    const raw = Buffer.from(String(unknown.raw ?? ''), 'base64')
    return { apiVersion: typeMeta.apiVersion, kind, ...decodeMessage(message, raw, kind) }
  } catch (err) {
    if (err instanceof ProtobufError) throw unsupportedProtobuf(err.message)
    throw err
  }
}
