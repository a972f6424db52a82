import t from 'tap'
import { ClusterNames, podVeth, validateClusterName, validatePodName } from '../../dataplane/names.ts'

t.test('cluster names: short, lowercase, no dash', async t => {
  for (const good of ['demo', 'a', 'kw2', 'abcdefgh']) t.equal(validateClusterName(good), good)
  for (const bad of ['', 'Demo', '1abc', 'my-cl', 'abcdefghi', 'a_b', 'a.b']) {
    t.throws(() => validateClusterName(bad), { code: 'EBADNAME', message: new RegExp(`"${bad.replace('.', '\\.')}"`) }, `rejects "${bad}"`)
  }
})

t.test('derived names carry the prefix and fit Linux limits', async t => {
  const n = new ClusterNames('abcdefgh')
  t.equal(n.underlayBridge, 'kw-abcdefgh')
  t.equal(n.nodeNetns('node-1'), 'kw-abcdefgh-node-1')
  t.equal(n.nodeUplink(99), 'kw-abcdefgh-n99')
  t.ok(n.nodeUplink(99).length <= 15, 'longest uplink name fits IFNAMSIZ')
  t.throws(() => n.nodeUplink(100), { code: 'EBADNAME' })
  t.equal(n.podNetns('default', 'web-1'), 'kw-abcdefgh-pod-default.web-1')
  t.equal(n.nftTable('masq'), 'kw-abcdefgh-masq')
  const long = n.podNetns('default', 'x'.repeat(250))
  t.ok(long.length < 255 && long.startsWith('kw-abcdefgh-pod-default.'), 'very long pod names are hashed')
})

t.test('owns() never confuses clusters whose names share a start', async t => {
  const a = new ClusterNames('a')
  t.ok(a.owns('kw-a'))
  t.ok(a.owns('kw-a-node-1'))
  t.notOk(a.owns('kw-a1-node-1'))
  t.notOk(a.owns('kw-ab'))
  t.notOk(a.owns('kw-b-node-1'))
})

t.test('pod veths: veth + 8 hex, stable, distinct', async t => {
  const v = podVeth('default', 'web')
  t.match(v, /^veth[0-9a-f]{8}$/)
  t.equal(podVeth('default', 'web'), v)
  t.not(podVeth('other', 'web'), v)
  const many = new Set(Array.from({ length: 1000 }, (_, i) => podVeth('default', `pod-${i}`)))
  t.equal(many.size, 1000)
})

t.test('pod names follow RFC 1123 subdomains', async t => {
  t.equal(validatePodName('web-1.a'), 'web-1.a')
  for (const bad of ['Web', '-web', 'web-', 'we_b', '']) t.throws(() => validatePodName(bad), { code: 'EBADNAME' })
})
