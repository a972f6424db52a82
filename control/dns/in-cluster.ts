// The API connection of a program running in a pod, as client-go's
// rest.InClusterConfig builds it: https://KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT
// (the `kubernetes` Service, reached through the node's proxy like any
// Service), the service-account token as bearer token and ca.crt to verify
// the server, both from the directory the kubelet mounts in every pod
// (control/agent/service-account.ts).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SERVICE_ACCOUNT_MOUNT_PATH } from '../agent/service-account.ts'
import type { ConnectionConfig } from '../client/kubeconfig.ts'

export interface InClusterOptions {
  env?: NodeJS.ProcessEnv
  /** Where the token and ca.crt are (default the service-account mount). */
  dir?: string
  /** Another API address (tests); default from the environment. */
  server?: string
}

export function inClusterConnection(options: InClusterOptions = {}): ConnectionConfig {
  const env = options.env ?? process.env
  const dir = options.dir ?? SERVICE_ACCOUNT_MOUNT_PATH
  const host = env.KUBERNETES_SERVICE_HOST
  const port = env.KUBERNETES_SERVICE_PORT
  if (!options.server && (!host || !port)) {
    throw new Error('unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined')
  }
  const read = (name: string) => readFileSync(join(dir, name), 'utf8')
  return {
    server: options.server ?? `https://${host?.includes(':') ? `[${host}]` : host}:${port}`,
    token: read('token').trim(),
    ca: read('ca.crt'),
  }
}
