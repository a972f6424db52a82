// A pod's /etc/resolv.conf and /etc/hosts as the kubelet makes them: the DNS
// policies, dnsConfig merged, the limits, hostname and subdomain, hostAliases,
// the files written and mounted (unless the container mounts its own).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  hostsFileContent, mergeOptions, parseResolvConf, podDnsFiles, podHostnameAndDomain, podResolvConf, podUtsHostname,
  resolvConfContent, type PodDnsSource,
} from '../../../control/agent/pod-dns.ts'
import type { Pod } from '../../../control/agent/pod-spec.ts'

const host = parseResolvConf('# the host\nnameserver 10.255.255.53\nnameserver 10.255.255.54\nsearch corp.example. lab.example\noptions timeout:2 attempts:3\n')
const source: PodDnsSource = { clusterDns: ['10.96.0.10'], clusterDomain: 'cluster.local', host }
const pod = (spec: Record<string, unknown> = {}, name = 'web-1', namespace = 'shop'): Pod => ({
  metadata: { name, namespace, uid: 'u1' },
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
})
const file = (p: Pod, s: PodDnsSource = source) => resolvConfContent(podResolvConf(p, s))

t.test('the host resolv.conf as the kubelet reads it', async t => {
  t.same(host, { nameservers: ['10.255.255.53', '10.255.255.54'], searches: ['corp.example', 'lab.example'], options: ['timeout:2', 'attempts:3'] })
  t.same(parseResolvConf('search a b\nsearch c .\n; comment\noptions ndots:2 ndots:3 rotate\nnameserver\n'), { nameservers: [], searches: ['c'], options: ['ndots:3', 'rotate'] }, 'the last search line wins; an option named twice keeps the last value')
  t.same(parseResolvConf(''), { nameservers: [], searches: [], options: [] })
})

t.test('ClusterFirst (the default): the cluster DNS, the cluster search path then the host\'s, ndots:5', async t => {
  const expected = 'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.96.0.10\noptions ndots:5\n'
  t.equal(file(pod()), expected)
  t.equal(file(pod({ dnsPolicy: 'ClusterFirst' })), expected)
  t.equal(file(pod({ dnsPolicy: 'ClusterFirstWithHostNet' })), expected, 'pods here never use the host network')
  const bare = { ...source, host: parseResolvConf('nameserver 10.255.255.53\n') }
  t.equal(file(pod({}, 'a', 'default'), bare), 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n')
  t.equal(file(pod(), { ...source, clusterDns: [] }), resolvConfContent(host), 'no cluster DNS configured: the host\'s, like Default')
})

t.test('Default: the host\'s resolver as it is; None: only dnsConfig', async t => {
  t.equal(file(pod({ dnsPolicy: 'Default' })), 'search corp.example lab.example\nnameserver 10.255.255.53\nnameserver 10.255.255.54\noptions timeout:2 attempts:3\n')
  t.equal(file(pod({ dnsPolicy: 'None' })), '', 'None without dnsConfig: an empty file')
  t.equal(file(pod({
    dnsPolicy: 'None',
    dnsConfig: { nameservers: ['192.0.2.53'], searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
  })), 'search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 192.0.2.53\noptions ndots:2 edns0\n', 'the Kubernetes documentation\'s example')
})

t.test('dnsConfig is merged: servers and searches appended once, options replaced by name', async t => {
  const merged = podResolvConf(pod({
    dnsConfig: { nameservers: ['10.96.0.10', '192.0.2.1'], searches: ['svc.cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '1' }, { name: 'single-request-reopen' }] },
  }), source)
  t.same(merged.nameservers, ['10.96.0.10', '192.0.2.1'])
  t.same(merged.searches, ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example', 'extra.example'])
  t.same(merged.options, ['ndots:1', 'single-request-reopen'])
  t.same(mergeOptions(['ndots:5', 'rotate'], [{ name: 'rotate' }, { name: 'timeout', value: '1' }]), ['ndots:5', 'rotate', 'timeout:1'])
})

t.test('limits: 3 nameservers, 32 search domains, 2048 characters', async t => {
  const many = podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'], searches: Array.from({ length: 40 }, (_, i) => `d${i}.example`) } }), source)
  t.same(many.nameservers, ['192.0.2.1', '192.0.2.2', '192.0.2.3'])
  t.equal(many.searches.length, 32)
  const long = podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { searches: Array.from({ length: 20 }, (_, i) => `${'x'.repeat(200)}${i}.example`) } }), source)
  t.ok(long.searches.join(' ').length <= 2048, 'the search line fits 2048 characters')
  t.equal(long.searches.length, 9)
})

t.test('hostname, subdomain and the FQDN', async t => {
  t.same(podHostnameAndDomain(pod()), { hostname: 'web-1' })
  t.same(podHostnameAndDomain(pod({ hostname: 'db-0', subdomain: 'db' })), { hostname: 'db-0', domain: 'db.shop.svc.cluster.local' })
  t.same(podHostnameAndDomain(pod({ subdomain: 'db' })), { hostname: 'web-1', domain: 'db.shop.svc.cluster.local' }, 'a subdomain without hostname: the pod name')
  t.equal(podHostnameAndDomain(pod({}, `${'a'.repeat(62)}-b`)).hostname, 'a'.repeat(62), 'cut to 63 characters, no trailing dash')
  t.equal(podUtsHostname(pod({ hostname: 'db-0', subdomain: 'db' })), 'db-0')
  t.equal(podUtsHostname(pod({ hostname: 'db-0', subdomain: 'db', setHostnameAsFQDN: true })), 'db-0.db.shop.svc.cluster.local')
  t.equal(podUtsHostname(pod({ setHostnameAsFQDN: true })), 'web-1', 'no subdomain: no FQDN to set')
})

t.test('the managed hosts file', async t => {
  const head = '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n'
  t.equal(hostsFileContent(pod(), ['10.244.1.5']), `${head}10.244.1.5\tweb-1\n`)
  t.equal(hostsFileContent(pod({ hostname: 'db-0', subdomain: 'db' }), ['10.244.1.5']), `${head}10.244.1.5\tdb-0.db.shop.svc.cluster.local\tdb-0\n`)
  t.equal(hostsFileContent(pod({ hostAliases: [{ ip: '192.0.2.7', hostnames: ['foo.local', 'bar.local'] }] }), ['10.244.1.5']),
    `${head}10.244.1.5\tweb-1\n\n# Entries added by HostAliases.\n192.0.2.7\tfoo.local\tbar.local\n`)
})

t.test('files in the pod directory, mounted read-only unless the container mounts its own', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-pod-dns-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const files = podDnsFiles(pod(), dir, '10.244.1.5', source)
  t.equal(readFileSync(join(dir, 'etc', 'resolv.conf'), 'utf8'), file(pod()))
  t.match(readFileSync(join(dir, 'etc', 'hosts'), 'utf8'), /\n10\.244\.1\.5\tweb-1\n$/)
  const ledger = join(dir, 'ledger')
  t.same(files.mounts({ name: 'c', image: 'x' }, ledger), [
    { source: join(dir, 'etc', 'resolv.conf'), target: '/etc/resolv.conf', readOnly: true },
    { source: join(dir, 'etc', 'hosts'), target: '/etc/hosts', readOnly: true },
  ])
  t.same(files.mounts({ name: 'c', image: 'x', volumeMounts: [{ name: 'h', mountPath: '/etc/hosts' }] }, ledger).map(m => m.target), ['/etc/resolv.conf'])
})
