import t from 'tap'
import { StatusError } from '../../../control/api/status-error.ts'
import { decodeKubernetesProtobuf } from '../../../control/apiserver/http/protobuf.ts'

// A tiny protobuf writer for building test bodies.
function varint(n: bigint): Buffer {
  const out: number[] = []
  let v = BigInt.asUintN(64, n)
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) byte |= 0x80
    out.push(byte)
  } while (v > 0n)
  return Buffer.from(out)
}
const key = (n: number, wire: number): Buffer => varint(BigInt((n << 3) | wire))
const int = (n: number, v: number): Buffer => Buffer.concat([key(n, 0), varint(BigInt(v))])
const bytes = (n: number, v: Buffer | string): Buffer => {
  const b = typeof v === 'string' ? Buffer.from(v) : v
  return Buffer.concat([key(n, 2), varint(BigInt(b.length)), b])
}
const msg = (n: number, ...parts: Buffer[]): Buffer => bytes(n, Buffer.concat(parts))
const entry = (n: number, k: string, v: string): Buffer => msg(n, bytes(1, k), bytes(2, v))
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), msg(1, bytes(1, apiVersion), bytes(2, kind)), bytes(2, raw), bytes(3, ''), bytes(4, '')])

t.test('a Deployment as kubectl create deployment sends it', async t => {
  const objectMeta = (name: string, labels: Record<string, string>): Buffer =>
    Buffer.concat([bytes(1, name), bytes(2, ''), bytes(3, ''), msg(8), ...Object.entries(labels).map(([k, v]) => entry(11, k, v))])
  const container = Buffer.concat([bytes(1, 'nginx'), bytes(2, 'nginx:1.25'), msg(6, bytes(1, ''), int(2, 0), int(3, 8080), bytes(4, 'TCP'), bytes(5, '')), msg(8), bytes(13, ''), bytes(14, ''), int(16, 0)])
  const podSpec = Buffer.concat([msg(2, container), bytes(3, ''), bytes(6, ''), int(11, 0)])
  const spec = Buffer.concat([
    int(1, 0),
    msg(2, entry(1, 'app', 'web')),
    msg(3, msg(1, objectMeta('', { app: 'web' })), msg(2, podSpec)),
    msg(4, bytes(1, ''), msg(2, msg(1, int(1, 1), bytes(3, '25%')), msg(2, int(1, 0), int(2, 2)))),
    int(5, 0),
  ])
  const raw = Buffer.concat([msg(1, objectMeta('web', { app: 'web' })), msg(2, spec), msg(3)])
  const decoded = decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', raw))
  t.same(decoded, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: {} }] },
      },
      strategy: { rollingUpdate: { maxUnavailable: '25%', maxSurge: 2 } },
    },
    status: {},
  })
})

t.test('what the schema does not know is refused, unless it is empty', async t => {
  const withZero = Buffer.concat([msg(1, bytes(1, 'ns'), int(99, 0), bytes(98, ''))])
  t.same(decodeKubernetesProtobuf(envelope('v1', 'Namespace', withZero)), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } })
  const withValue = Buffer.concat([msg(1, bytes(1, 'ns'), bytes(98, 'x'))])
  const cases: Array<[Buffer, RegExp]> = [
    [envelope('v1', 'Namespace', withValue), /field 98 of ObjectMeta is not supported/],
    [envelope('v1', 'Secret', Buffer.alloc(0)), /kind "Secret" is not supported/],
    [Buffer.from('{"json":true}'), /missing the k8s\\0 prefix/],
    [Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), Buffer.from([0x0a, 0x7f])]), /truncated/],
  ]
  for (const [body, message] of cases) {
    let caught: unknown
    try {
      decodeKubernetesProtobuf(body)
    } catch (err) {
      caught = err
    }
    t.ok(caught instanceof StatusError && caught.statusCode === 415, String(message))
    t.match((caught as Error).message, message)
  }
})
