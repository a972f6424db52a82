// Reading a request body: at most 3 MiB (kube-apiserver's limit), decoded as
// JSON, YAML (application/yaml), or for the kinds kubectl's generator commands
// send, Kubernetes protobuf (protobuf.ts).

import type { IncomingMessage } from 'node:http'
import { parse as parseYaml } from 'yaml'
import { StatusError, badRequest } from '../../api/status-error.ts'
import { PROTOBUF_MEDIA_TYPE, decodeKubernetesProtobuf } from './protobuf.ts'

export const MAX_BODY_BYTES = 3 * 1024 * 1024

function tooLarge(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Request entity too large: limit is ${MAX_BODY_BYTES}`,
    reason: 'RequestEntityTooLarge',
    code: 413,
  })
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) throw tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > MAX_BODY_BYTES) throw tooLarge()
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}

const JSON_MEDIA = new Set([
  '',
  'application/json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
])
const YAML_MEDIA = new Set(['application/yaml', 'text/yaml', 'application/apply-patch+yaml'])

/** 415 for a body this server cannot read (protobuf, CBOR): clients fall back to JSON. */
function unsupportedMediaType(): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml',
    reason: 'UnsupportedMediaType',
    code: 415,
  })
}

/** The decoded body, or undefined when empty. Throws 400 for what does not parse, 415 for what is not JSON or YAML. */
export function decodeBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (media === PROTOBUF_MEDIA_TYPE) return decodeKubernetesProtobuf(raw)
  if (!JSON_MEDIA.has(media) && !YAML_MEDIA.has(media)) throw unsupportedMediaType()
  const text = raw.toString('utf8')
  try {
    if (YAML_MEDIA.has(media)) return parseYaml(text) as unknown
    return JSON.parse(text) as unknown
  } catch (err) {
    throw badRequest(`couldn't decode the request body: ${(err as Error).message}`)
  }
}
