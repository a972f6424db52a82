// The control plane process of one cluster (DESIGN.md): in the root
// namespace, it opens the durable store, serves the Kubernetes API over HTTPS
// on the host's underlay address (where nodes and pods reach it) and on
// loopback, runs the controllers and the scheduler against the API in-process,
// and supervises one agent per node. `kubewire up` starts it detached;
// `kubewire down` stops it. SIGHUP re-reads the node list (node add/remove).
// Usage: node --import tsx control/server/main.ts --cluster NAME
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createApiServer } from '../apiserver/index.ts'
import { writeKubeconfig } from '../apiserver/tls/kubeconfig.ts'
import { ensureServiceAccountKey } from '../apiserver/tls/service-account-token.ts'
import { LocalClient } from '../client/local-client.ts'
import { createInformer } from '../client/informer.ts'
import { startControllers } from '../controllers/controller-manager.ts'
import { jsonLogger } from '../controllers/logger.ts'
import { DurableStore } from '../store/durable-store.ts'
import { AddressingPlan } from '../../dataplane/ipam/addressing-plan.ts'
import { writeJsonFile } from '../../dataplane/util/json-file.ts'
import { pidsWithTitle } from '../../dataplane/netns/netns.ts'
import { waitGone } from '../../dataplane/process/container.ts'
import { loadState } from '../cluster/cluster-state.ts'
import { API_PORT, clusterFiles, type ControlPlaneInfo, controlPlaneTitle } from '../cluster/cluster-files.ts'
import { AgentSupervisor } from './agent-supervisor.ts'

const { values } = parseArgs({ options: { cluster: { type: 'string' } } })
const cluster = values.cluster
if (!cluster) throw new Error('usage: control/server/main.ts --cluster NAME')
process.title = controlPlaneTitle(cluster)
const files = clusterFiles(cluster)
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`)

const state = loadState(cluster)
const hostIP = state.addressing.underlayCidr.replace(/\d+\/\d+$/, '1')
const token = readFileSync(files.token, 'utf8').trim()
// Made by `up`; made here too for a cluster brought up before pods had service accounts.
const serviceAccountKey = ensureServiceAccountKey(files.serviceAccountKey)
const store = await DurableStore.open(files.store)
const server = await createApiServer({
  store,
  listen: [{ host: hostIP, port: API_PORT }, { host: '127.0.0.1', port: 0 }],
  tlsDir: files.pki,
  token,
  serviceAccountKey,
  advertiseAddress: hostIP,
  handlerOptions: {
    settings: {
      serviceCidr: state.addressing.serviceCidr,
      ...(state.defaultUnreachableTolerationSeconds !== undefined ? { defaultTolerationSeconds: state.defaultUnreachableTolerationSeconds } : {}),
    },
  },
})
await writeKubeconfig(files.kubeconfig, { server: `https://${hostIP}:${API_PORT}`, caCert: server.certificates.caCert, token, contextName: cluster })
const client = new LocalClient(server.handler)
const controllers = startControllers({
  client,
  informerFactory: (ref, options) =>
    createInformer(client, ref, {
      ...(options?.labelSelector ? { labelSelector: options.labelSelector } : {}),
      ...(options?.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
    }),
  options: {
    host: 'control-plane',
    volumesDir: files.volumes,
    loadBalancerPool: new AddressingPlan(state.addressing).loadBalancerPool,
    logger: jsonLogger({ write: line => process.stdout.write(line + '\n') }),
    // Tests shorten the Job controller's 10 s pod-failure back-off with this.
    ...(Number(process.env.KUBEWIRE_JOB_BACKOFF_MS) > 0 ? { jobPodFailureBackoff: { baseMs: Number(process.env.KUBEWIRE_JOB_BACKOFF_MS) } } : {}),
    nodeLifecycle: {
      ...(state.nodeMonitorGracePeriodSeconds !== undefined ? { gracePeriodMs: state.nodeMonitorGracePeriodSeconds * 1000, monitorPeriodMs: Math.min(5000, state.nodeMonitorGracePeriodSeconds * 250) } : {}),
      ...(state.defaultUnreachableTolerationSeconds !== undefined ? { tolerationSeconds: state.defaultUnreachableTolerationSeconds } : {}),
    },
  },
})

// Agents left by a control plane that was killed step aside by themselves;
// make sure of it before starting this one's, so no node has two.
const strays = pidsWithTitle(`kubewire-agent ${cluster} `)
for (const pid of strays) process.kill(pid, 'SIGTERM')
if (strays.length) {
  log(`stopping ${strays.length} agents of an earlier control plane`)
  await waitGone(strays, 10_000)
}

const supervisor = new AgentSupervisor(log)
const reconcileAgents = () =>
  supervisor.reconcile(
    loadState(cluster).nodes.map(n => ({
      node: n.name,
      netns: n.netns,
      logPath: files.agentLog(n.name),
      args: ['--cluster', cluster, '--node', n.name],
    })),
  )
await reconcileAgents()
process.on('SIGHUP', () => void reconcileAgents().catch(e => log(`reconciling agents failed: ${(e as Error).message}`)))

mkdirSync(files.run, { recursive: true })
const loopback = server.addresses[1]
const info: ControlPlaneInfo = {
  pid: process.pid,
  url: server.url,
  loopbackUrl: `https://127.0.0.1:${loopback?.port}`,
  startedAt: new Date().toISOString(),
}
writeJsonFile(files.controlPlane, info)
log(`control plane of cluster ${cluster} serving on ${info.url} and ${info.loopbackUrl}`)

let stopping = false
async function shutdown(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  log(`${signal}: stopping`)
  await supervisor.stopAll()
  await controllers.stop()
  await server.close()
  await store.close()
  rmSync(files.controlPlane, { force: true })
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
