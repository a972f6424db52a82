// Integration test helper: a real HTTPS API server on 127.0.0.1 (port 0) over
// a durable store in a temp directory, with its kubeconfig; all removed in
// teardown.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiServer } from '../../../control/apiserver/http/api-server.ts'
import type { ApiServer } from '../../../control/apiserver/http/api-server.ts'
import { generateToken, writeKubeconfig } from '../../../control/apiserver/tls/kubeconfig.ts'
import { DurableStore } from '../../../control/store/durable-store.ts'
import type { TapTest } from '../../unit/apiserver/helpers.ts'

export interface TestServer {
  server: ApiServer
  store: DurableStore
  dir: string
  kubeconfig: string
  token: string
}

export async function startTestServer(t: TapTest, options: { watchCacheSize?: number } = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kubewire-apiserver-it-'))
  const store = await DurableStore.open(join(dir, 'store'))
  const token = generateToken()
  const server = await createApiServer({
    store,
    listen: [{ host: '127.0.0.1', port: 0 }],
    tlsDir: join(dir, 'tls'),
    token,
    handlerOptions: { watchCacheSize: options.watchCacheSize, bookmarkIntervalMs: 200 },
  })
  const kubeconfig = join(dir, 'kubeconfig')
  await writeKubeconfig(kubeconfig, { server: server.url, caCert: server.certificates.caCert, token })
  t.teardown(async () => {
    await server.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { server, store, dir, kubeconfig, token }
}
