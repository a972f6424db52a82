// The cluster CA and serving certificate made with openssl: names, modes,
// reuse across restarts, renewal when asked for a new address.
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { ensureServingCertificates } from '../../../control/apiserver/tls/certificates.ts'
import { writeKubeconfig } from '../../../control/apiserver/tls/kubeconfig.ts'
import type { Runner } from '../../../dataplane/exec/run-command.ts'
import { runCommand } from '../../../dataplane/exec/run-command.ts'

const mode = (path: string): number => statSync(path).mode & 0o777

t.test('CA and serving certificate', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const calls: string[][] = []
  const runner: Runner = async (argv, options) => {
    calls.push([...argv])
    return await runCommand(argv, options)
  }
  const tlsDir = join(dir, 'tls')
  const first = await ensureServingCertificates(tlsDir, { ipAddresses: ['198.18.0.1'], runner })
  t.ok(calls.every(argv => argv[0] === 'openssl'), 'argv arrays, openssl only')
  t.equal(mode(tlsDir), 0o700)
  t.equal(mode(first.keyFile), 0o600)
  t.equal(mode(join(tlsDir, 'ca.key')), 0o600)
  const cert = new X509Certificate(first.cert)
  const ca = new X509Certificate(first.caCert)
  t.ok(ca.ca, 'the CA is a CA')
  t.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'signed by the CA')
  for (const name of ['IP Address:127.0.0.1', 'IP Address:10.96.0.1', 'IP Address:198.18.0.1', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local']) {
    t.ok(cert.subjectAltName?.includes(name), name)
  }
  t.ok(cert.checkHost('kubernetes.default.svc'))
  t.ok(cert.checkIP('10.96.0.1'))

  calls.length = 0
  const again = await ensureServingCertificates(tlsDir, { ipAddresses: ['198.18.0.1'], runner })
  t.same(calls, [], 'reused: no openssl run')
  t.equal(again.cert, first.cert)

  const wider = await ensureServingCertificates(tlsDir, { ipAddresses: ['198.18.0.1', '198.18.0.2'], runner })
  t.not(wider.cert, first.cert, 'a new address means a new serving certificate')
  t.equal(wider.caCert, first.caCert, 'from the same CA')
  t.ok(new X509Certificate(wider.cert).checkIP('198.18.0.2'))

  const kubeconfig = join(dir, 'kube', 'config')
  await writeKubeconfig(kubeconfig, { server: 'https://127.0.0.1:6443', caCert: first.caCert, token: 'abc', clusterName: 'lab' })
  t.equal(mode(kubeconfig), 0o600)
  const doc = parse(readFileSync(kubeconfig, 'utf8'))
  t.equal(doc['current-context'], 'lab')
  t.equal(Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), first.caCert)
  t.same(doc.users[0].user, { token: 'abc' })
})
