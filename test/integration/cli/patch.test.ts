// `patch` against a real API server: strategic, merge and JSON patches, the
// status and scale subresources, "(no change)", -o, and kubectl's errors.

import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { Deployment } from '../../../control/controllers/objects.ts'
import { startCliCluster } from './cluster.ts'

t.test('patch', async t => {
  const cluster = await startCliCluster(t)
  t.equal((await cluster.run('create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=1')).code, 0)
  const get = () => cluster.client.get<Deployment>(RESOURCES.deployments, 'default', 'web')

  t.same(await cluster.run('patch', 'deployment', 'web', '-p', '{"spec":{"replicas":2}}'), { code: 0, out: 'deployment.apps/web patched', err: '' }, 'strategic by default')
  t.equal((await get()).spec?.replicas, 2)
  t.equal((await cluster.run('patch', 'deploy/web', '-p', '{"spec":{"replicas":2}}')).out, 'deployment.apps/web patched (no change)')
  t.equal((await cluster.run('patch', 'deploy/web', '--type=merge', '-p', 'metadata: {labels: {tier: front}}')).out, 'deployment.apps/web patched', 'YAML is read as kubectl reads it')
  t.equal((await get()).metadata.labels?.tier, 'front')
  t.equal((await cluster.run('patch', 'deploy/web', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/replicas","value":3}]')).out, 'deployment.apps/web patched')
  t.equal((await get()).spec?.replicas, 3)
  t.equal((await cluster.run('patch', 'deploy/web', '--subresource=scale', '--type=merge', '-p', '{"spec":{"replicas":1}}')).out, 'deployment.apps/web patched')
  t.equal((await get()).spec?.replicas, 1, 'through the scale subresource')
  const named = await cluster.run('patch', 'deploy/web', '-p', '{"metadata":{"annotations":{"a":"b"}}}', '-o', 'name')
  t.equal(named.out, 'deployment.apps/web')
  const json = JSON.parse((await cluster.run('patch', 'deploy/web', '-p', '{"metadata":{"annotations":{"c":"d"}}}', '-o', 'json')).out)
  t.match(json, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { annotations: { a: 'b', c: 'd' } } })

  t.same(await cluster.run('patch', 'deploy/nope', '-p', '{}'), { code: 1, out: '', err: 'Error from server (NotFound): deployments.apps "nope" not found' })
  t.match((await cluster.run('patch', 'deploy/web')).err, /^error: must specify --patch or --patch-file/)
  t.match((await cluster.run('patch', 'deploy/web', '--type=xml', '-p', '{}')).err, /^error: --type must be one of \[json merge strategic\], not "xml"/)
  t.match((await cluster.run('patch', 'deploy/web', '-p', '{"spec": ')).err, /^error: unable to parse "\{"spec": ": /)
  t.match((await cluster.run('patch', 'deploy/web', '--type=json', '-p', '{"op":"add"}')).err, /^error: unable to parse .*jsonpatch\.Patch/)
  const invalid = await cluster.run('patch', 'deploy/web', '--type=merge', '-p', '{"spec":{"replicas":-1}}')
  t.equal(invalid.code, 1)
  t.match(invalid.err, /The Deployment "web" is invalid: spec\.replicas: Invalid value: -1: must be greater than or equal to 0/)
  t.equal((await get()).spec?.replicas, 1, 'nothing applied')
})
