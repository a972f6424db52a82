// The cluster CA and the API server's serving certificate, made with the
// `openssl` command and kept in one directory (keys 0600, directory 0700).
//
// Why openssl: no X.509 library is needed (DESIGN.md allows either), and
// every run goes through the project's one process runner, argv arrays only.
// Files are reused across restarts so kubeconfigs stay valid: the CA is kept
// as long as it exists; the serving certificate is remade (with the same CA)
// when it no longer covers the requested names or addresses, is not signed by
// the CA, or expires within 30 days.
//
// The serving certificate names what a client may dial: 127.0.0.1, the
// `kubernetes` Service's cluster IP (10.96.0.1 by default), the in-cluster
// DNS names kubernetes, kubernetes.default, kubernetes.default.svc,
// kubernetes.default.svc.cluster.local, localhost, plus the caller's
// addresses (the underlay address nodes use) and names.

import { randomBytes, X509Certificate } from 'node:crypto'
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { runner as currentRunner } from '../../../dataplane/exec/run-command.ts'
import type { Runner } from '../../../dataplane/exec/run-command.ts'

export const CA_CERT_FILE = 'ca.crt'
export const CA_KEY_FILE = 'ca.key'
export const SERVING_CERT_FILE = 'apiserver.crt'
export const SERVING_KEY_FILE = 'apiserver.key'

export const DEFAULT_DNS_NAMES = [
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  'localhost',
] as const
export const DEFAULT_IP_ADDRESSES = ['127.0.0.1', '10.96.0.1'] as const

export interface CertificateOptions {
  /** Extra IP addresses the serving certificate must name. */
  ipAddresses?: readonly string[]
  /** Extra DNS names it must name. */
  dnsNames?: readonly string[]
  /** The process runner (default: dataplane/exec's current runner). */
  runner?: Runner
  /** Validity of a new serving certificate in days (default 825). */
  servingDays?: number
}

export interface ServingCertificates {
  /** PEM texts. */
  caCert: string
  cert: string
  key: string
  /** Their files. */
  caCertFile: string
  certFile: string
  keyFile: string
  /** What the serving certificate names. */
  ipAddresses: string[]
  dnsNames: string[]
}

const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Writes a file atomically (temp file, then rename) with the given mode. */
async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await writeFile(temp, text, { mode, flag: 'wx' })
    await chmod(temp, mode)
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}

async function newKey(run: Runner): Promise<string> {
  const { stdout } = await run(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'])
  return stdout
}

/** The names in a certificate's subjectAltName. */
function sansOf(cert: X509Certificate): { ips: Set<string>; dns: Set<string> } {
  const ips = new Set<string>()
  const dns = new Set<string>()
  for (const entry of (cert.subjectAltName ?? '').split(',')) {
    const item = entry.trim()
    if (item.startsWith('IP Address:')) ips.add(item.slice('IP Address:'.length))
    else if (item.startsWith('DNS:')) dns.add(item.slice('DNS:'.length))
  }
  return { ips, dns }
}

function servingCertUsable(certPem: string, caPem: string, ips: readonly string[], dnsNames: readonly string[]): boolean {
  try {
    const cert = new X509Certificate(certPem)
    const ca = new X509Certificate(caPem)
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false
    const sans = sansOf(cert)
    return ips.every(ip => sans.ips.has(ip)) && dnsNames.every(name => sans.dns.has(name))
  } catch {
    return false
  }
}

async function ensureCa(dir: string, run: Runner): Promise<{ cert: string; keyFile: string; certFile: string }> {
  const certFile = join(dir, CA_CERT_FILE)
  const keyFile = join(dir, CA_KEY_FILE)
  const [cert, key] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)])
  if (cert !== undefined && key !== undefined) {
    await chmod(keyFile, 0o600)
    return { cert, keyFile, certFile }
  }
  await writeAtomic(keyFile, await newKey(run), 0o600)
  const { stdout } = await run([
    'openssl', 'req', '-x509', '-new', '-key', keyFile, '-sha256', '-days', '3650',
    '-subj', '/CN=kubewire-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,digitalSignature,keyCertSign,cRLSign',
  ])
  await writeAtomic(certFile, stdout, 0o644)
  return { cert: stdout, keyFile, certFile }
}

/**
 * Makes (or reuses) the cluster CA and a serving certificate in `dir`:
 * ca.crt, ca.key, apiserver.crt, apiserver.key.
 */
export async function ensureServingCertificates(dir: string, options: CertificateOptions = {}): Promise<ServingCertificates> {
  const run = options.runner ?? currentRunner()
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
  const ipAddresses = [...new Set([...DEFAULT_IP_ADDRESSES, ...(options.ipAddresses ?? [])])]
  const dnsNames = [...new Set([...DEFAULT_DNS_NAMES, ...(options.dnsNames ?? [])])]
  for (const ip of ipAddresses) if (isIP(ip) === 0) throw new TypeError(`not an IP address: ${ip}`)
  const ca = await ensureCa(dir, run)
  const certFile = join(dir, SERVING_CERT_FILE)
  const keyFile = join(dir, SERVING_KEY_FILE)
  let [cert, key] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)])
  if (cert === undefined || key === undefined || !servingCertUsable(cert, ca.cert, ipAddresses, dnsNames)) {
    key = await newKey(run)
    await writeAtomic(keyFile, key, 0o600)
    const { stdout: csr } = await run(['openssl', 'req', '-new', '-key', keyFile, '-subj', '/CN=kube-apiserver'])
    const extFile = join(dir, `apiserver.ext.tmp-${process.pid}`)
    const san = [...ipAddresses.map(ip => `IP:${ip}`), ...dnsNames.map(name => `DNS:${name}`)].join(',')
    await writeFile(
      extFile,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${san}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    )
    try {
      const { stdout } = await run(
        [
          'openssl', 'x509', '-req', '-CA', ca.certFile, '-CAkey', ca.keyFile,
          '-set_serial', `0x${randomBytes(16).toString('hex')}`,
          '-days', String(options.servingDays ?? 825), '-sha256', '-extfile', extFile,
        ],
        { input: csr },
      )
      cert = stdout
    } finally {
      await rm(extFile, { force: true })
    }
    await writeAtomic(certFile, cert, 0o644)
  } else {
    await chmod(keyFile, 0o600)
  }
  return { caCert: ca.cert, cert, key, caCertFile: ca.certFile, certFile, keyFile, ipAddresses, dnsNames }
}
