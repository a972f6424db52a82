// HttpClient (HTTPS, from the kubeconfig) and LocalClient (in-process, the
// same server's handler) behave the same; an informer over HTTPS survives a
// forced 410 without missing a change.
import t from 'tap'
import { HttpClient } from '../../../control/client/http-client.ts'
import { LocalClient } from '../../../control/client/local-client.ts'
import { informerSurvivesExpiry } from '../../unit/apiserver/informer-behaviour.ts'
import { clientBehaviour } from './client-behaviour.ts'
import { startTestServer } from './server.ts'

t.test('HttpClient', async t => {
  const { kubeconfig } = await startTestServer(t)
  const client = await HttpClient.fromKubeconfig(kubeconfig)
  t.teardown(() => client.close())
  t.equal(client.namespace, 'default')
  await clientBehaviour(t, client, 'over-https')
})

t.test('LocalClient on the server\'s handler', async t => {
  const { server } = await startTestServer(t)
  await clientBehaviour(t, new LocalClient(server.handler), 'in-process')
})

t.test('both transports see each other\'s writes', async t => {
  const { kubeconfig, server } = await startTestServer(t)
  const remote = await HttpClient.fromKubeconfig(kubeconfig)
  t.teardown(() => remote.close())
  const local = new LocalClient(server.handler)
  await remote.create(RESOURCES_CM, 'default', { metadata: { name: 'from-https' } })
  t.equal((await local.get(RESOURCES_CM, 'default', 'from-https')).metadata.name, 'from-https')
})

t.test('an informer over HTTPS survives a 410 without missing a change', async t => {
  const { kubeconfig } = await startTestServer(t, { watchCacheSize: 3 })
  const client = await HttpClient.fromKubeconfig(kubeconfig)
  t.teardown(() => client.close())
  await informerSurvivesExpiry(t, client)
})

const RESOURCES_CM = { group: '', version: 'v1', resource: 'configmaps' }
