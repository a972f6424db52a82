// Ingress on a real cluster: `up` deploys the ingress controller (IngressClass
// kubewire, namespace kubewire-ingress) behind a LoadBalancer Service; an
// Ingress with host and path rules routes to two Services (Prefix and Exact),
// a default backend catches the rest of its host, other hosts get 404 — from a
// pod through the controller's ClusterIP and from the host through its
// NodePort and its LoadBalancer address.
import { join } from 'node:path'
import t from 'tap'
import { HttpClient } from '../../control/client/http-client.ts'
import { RESOURCES, type KubeObject } from '../../control/client/api-client.ts'
import { runCommand } from '../../dataplane/exec/run-command.ts'
import { isolatedHome, kubewire, kubewireOk, leftoversSettled, nodeInternalIP, removeHome, runPod, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
let client: HttpClient

const NETEXEC = 'registry.k8s.io/e2e-test-images/agnhost:2.53'
interface Pod extends KubeObject { status?: { conditions?: { type: string; status: string }[] } }
const ready = (p: Pod) => (p.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True')

async function app(appName: string): Promise<void> {
  await client.create(RESOURCES.deployments, 'default', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: appName },
    spec: {
      replicas: 1, selector: { matchLabels: { app: appName } },
      template: {
        metadata: { labels: { app: appName } },
        spec: { containers: [{ name: 'netexec', image: NETEXEC, args: ['netexec', '--http-port=8080'], ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }] },
      },
    },
  })
  await client.create(RESOURCES.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: appName }, spec: { selector: { app: appName }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } })
}

const backend = (service: string) => ({ service: { name: service, port: { name: 'web' } } })

const nodeIP = (node: string) => nodeInternalIP(client, node)

t.before(async () => {
  await kubewireOk(['up', '--nodes', '2'])
  client = await HttpClient.fromKubeconfig(join(home, 'clusters', name, 'kubeconfig'))
  await app('shop')
  await app('api')
  await app('fallback')
  await client.create(RESOURCES.ingresses, 'default', {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'site' },
    spec: {
      ingressClassName: 'kubewire',
      defaultBackend: backend('fallback'),
      rules: [
        { host: 'shop.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('shop') }, { path: '/hostname', pathType: 'Exact', backend: backend('api') }] } },
        { host: 'web.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('shop') }] } },
        { host: 'api.example', http: { paths: [{ path: '/other', pathType: 'Exact', backend: backend('api') }] } },
      ],
    },
  } as KubeObject)
  await runPod('client', { node: 'node-2' })
  await waitFor('the ingress controller and the apps ready', async () => {
    const controller = (await client.list<Pod>(RESOURCES.pods, 'kubewire-ingress')).items
    const apps = (await client.list<Pod>(RESOURCES.pods, 'default', { labelSelector: 'app in (shop,api,fallback)' })).items
    return controller.length === 1 && controller.every(ready) && apps.length === 3 && apps.every(ready)
  }, 60_000)
})
t.teardown(async () => {
  client?.close()
  await kubewire(['down'])
  removeHome(home)
})

t.test('up deploys the controller: IngressClass kubewire (default), a LoadBalancer Service', async t => {
  const cls = await client.get(RESOURCES.ingressclasses, undefined, 'kubewire')
  t.equal(cls.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true')
  const svc = await client.get(RESOURCES.services, 'kubewire-ingress', 'ingress-controller')
  t.equal((svc.spec as { type: string }).type, 'LoadBalancer')
  await waitFor('a LoadBalancer address', async () => ((await client.get(RESOURCES.services, 'kubewire-ingress', 'ingress-controller')).status as { loadBalancer?: { ingress?: unknown[] } })?.loadBalancer?.ingress?.length === 1, 10_000)
  t.pass('the Service has its address from the pool')
})

t.test('host and path rules, Exact before Prefix, the default backend and 404', async t => {
  const svc = await client.get(RESOURCES.services, 'kubewire-ingress', 'ingress-controller')
  const ip = (svc.spec as { clusterIP: string }).clusterIP
  const nodePort = (svc.spec as { ports: { nodePort: number }[] }).ports[0]?.nodePort as number
  const pods = async (appName: string) => (await client.list(RESOURCES.pods, 'default', { labelSelector: `app=${appName}` })).items.map(p => p.metadata.name)
  const [shop] = await pods('shop')
  const [api] = await pods('api')
  const [fallback] = await pods('fallback')
  const fromPod = (host: string, path: string) => kubewire(['exec', 'client', '--', 'curl', '-s', '--max-time', '2', '-H', `Host: ${host}`, `http://${ip}${path}`])
  await waitFor('the controller to route shop.example', async () => (await fromPod('shop.example', '/hostname')).stdout === api, 20_000)
  t.equal((await fromPod('shop.example', '/hostname')).stdout, api, 'shop.example: Exact /hostname beats Prefix / -> api')
  t.equal((await fromPod('web.example', '/hostname')).stdout, shop, 'web.example: Prefix / -> shop')
  t.equal((await fromPod('api.example', '/hostname')).stdout, fallback, 'api.example: no path matches -> the default backend')
  const notFound = await kubewire(['exec', 'client', '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', '-H', 'Host: other.example', `http://${ip}/hostname`])
  t.equal(notFound.stdout, '404', 'a host no rule names: 404')
  const fromHost = await runCommand(['curl', '-s', '--max-time', '2', '-H', 'Host: shop.example', `http://${await nodeIP('node-1')}:${nodePort}/hostname`])
  t.equal(fromHost.stdout, api, 'from the host through the NodePort')
  const lbIP = ((svc.status as { loadBalancer?: { ingress?: { ip: string }[] } }).loadBalancer?.ingress?.[0]?.ip) as string
  const viaLoadBalancer = await waitFor('the LoadBalancer address to answer from the host', async () => {
    const r = await runCommand(['curl', '-s', '--max-time', '2', '-H', 'Host: web.example', `http://${lbIP}/hostname`], { allowFailure: true })
    return r.exitCode === 0 ? r.stdout : undefined
  }, 10_000)
  t.equal(viaLoadBalancer, shop, `from the host through the LoadBalancer address ${lbIP}`)
})

t.test('down leaves nothing', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
