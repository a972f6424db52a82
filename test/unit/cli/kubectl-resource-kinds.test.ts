// Which resource a user means, and how kubectl names it back.

import t from 'tap'
import { KubectlError } from '../../../control/cli/kubectl/errors.ts'
import { kindOf, lookupResource, parseResourceArgs, qualifiedKind, qualifiedResource } from '../../../control/cli/kubectl/resource-kinds.ts'

t.test('plural, singular, short name and kind all resolve', async t => {
  const table: Array<[string[], string]> = [
    [['pods', 'pod', 'po', 'Pod', 'pods.'], 'pods'],
    [['deployments', 'deployment', 'deploy', 'Deployment', 'deployments.apps', 'deploy.apps'], 'deployments'],
    [['replicasets', 'replicaset', 'rs'], 'replicasets'],
    [['services', 'service', 'svc'], 'services'],
    [['endpoints', 'ep'], 'endpoints'],
    [['nodes', 'node', 'no'], 'nodes'],
    [['namespaces', 'namespace', 'ns'], 'namespaces'],
    [['events', 'event', 'ev'], 'events'],
    [['configmaps', 'configmap', 'cm'], 'configmaps'],
    [['endpointslices', 'endpointslice', 'EndpointSlice'], 'endpointslices'],
  ]
  for (const [names, resource] of table) {
    for (const name of names.filter(n => !n.endsWith('.'))) t.equal(lookupResource(name).resource, resource, name)
  }
  t.throws(() => lookupResource('foo'), new KubectlError('ENOTFOUND', 'the server doesn\'t have a resource type "foo"'))
  t.throws(() => lookupResource('deployments.batch'), { message: 'the server doesn\'t have a resource type "deployments.batch"' })
})

t.test('kubectl names for output and errors', async t => {
  t.equal(qualifiedKind(lookupResource('deploy')), 'deployment.apps')
  t.equal(qualifiedKind(lookupResource('svc')), 'service')
  t.equal(qualifiedKind(lookupResource('endpointslices')), 'endpointslice.discovery.k8s.io')
  t.equal(qualifiedResource(lookupResource('deploy')), 'deployments.apps')
  t.equal(qualifiedResource(lookupResource('po')), 'pods')
  t.equal(kindOf('apps/v1', 'Deployment')?.resource, 'deployments')
  t.equal(kindOf('v1', 'Deployment'), undefined, 'a kind in the wrong group')
  t.equal(kindOf('apps/v1beta1', 'Deployment'), undefined, 'a version not served')
})

t.test('resource arguments', async t => {
  const parsed = (...args: string[]): Array<[string, string[]]> => parseResourceArgs(args).map(x => [x.def.resource, x.names])
  t.same(parsed('pods'), [['pods', []]])
  t.same(parsed('po', 'a', 'b'), [['pods', ['a', 'b']]])
  t.same(parsed('pods,svc'), [['pods', []], ['services', []]])
  t.same(parsed('all'), [['pods', []], ['services', []], ['daemonsets', []], ['deployments', []], ['replicasets', []], ['statefulsets', []], ['cronjobs', []], ['jobs', []]])
  t.same(parsed('all,cm'), [['pods', []], ['services', []], ['daemonsets', []], ['deployments', []], ['replicasets', []], ['statefulsets', []], ['cronjobs', []], ['jobs', []], ['configmaps', []]])
  t.same(parsed('deploy/web', 'svc/web', 'deploy/api'), [['deployments', ['web', 'api']], ['services', ['web']]])
  t.throws(() => parseResourceArgs(['deploy', 'svc/web']), { code: 'EUSAGE', message: /^there is no need to specify a resource type as a separate argument/ })
  t.throws(() => parseResourceArgs(['pods,foo']), { message: 'the server doesn\'t have a resource type "foo"' })
  t.same(parseResourceArgs([]), [])
})
