// Error texts exactly as kubectl prints them.

import t from 'tap'
import { alreadyExists, invalid, fieldInvalid, fieldRequired, notFound, unauthorized, StatusError } from '../../../control/api/status-error.ts'
import { KubectlError, aggregateMessage, errorMessage, reportErrors, withSource } from '../../../control/cli/kubectl/errors.ts'

t.test('one error', async t => {
  t.equal(errorMessage(notFound({ resource: 'pods' }, 'x')), 'Error from server (NotFound): pods "x" not found')
  t.equal(errorMessage(alreadyExists({ resource: 'deployments', group: 'apps' }, 'web')), 'Error from server (AlreadyExists): deployments.apps "web" already exists')
  t.equal(
    errorMessage(invalid({ kind: 'Deployment', group: 'apps' }, 'web', [fieldInvalid('spec.replicas', -1, 'must be greater than or equal to 0')])),
    'The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  )
  t.equal(
    errorMessage(invalid({ kind: 'Pod' }, 'p', [fieldRequired('spec.containers[0].image'), fieldRequired('spec.containers[0].name')])),
    'The Pod "p" is invalid: \n* spec.containers[0].image: Required value\n* spec.containers[0].name: Required value',
  )
  t.equal(errorMessage(unauthorized()), 'error: You must be logged in to the server (Unauthorized)')
  const refused = new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'ServiceUnavailable', code: 503, message: 'GET /api/v1/pods: connect ECONNREFUSED 127.0.0.1:6443' })
  t.equal(errorMessage(refused), 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?')
  t.equal(errorMessage(new KubectlError('EUSAGE', 'bad')), 'error: bad')
  t.equal(errorMessage(new Error('error: already prefixed')), 'error: already prefixed')
})

t.test('the source of a manifest error', async t => {
  const wrapped = withSource('creating', 'app.yaml', alreadyExists('services', 'web'))
  t.ok(wrapped instanceof StatusError)
  t.equal(errorMessage(wrapped), 'Error from server (AlreadyExists): error when creating "app.yaml": services "web" already exists')
  t.equal(errorMessage(withSource('creating', 'app.yaml', new Error('boom'))), 'error: error when creating "app.yaml": boom')
  t.equal(withSource('creating', undefined, 'x'), 'x')
})

t.test('several errors, one per line without the "error: " prefix', async t => {
  t.equal(aggregateMessage(new KubectlError('EINVALID', 'resource mapping not found')), 'resource mapping not found')
  t.equal(aggregateMessage(invalid('Deployment.apps', 'web', [fieldRequired('spec.selector')])), 'Error from server (Invalid): Deployment.apps "web" is invalid: spec.selector: Required value')
  const lines: string[] = []
  const io = { out: () => {}, err: (text: string) => lines.push(text) }
  t.equal(reportErrors(io, []), 0)
  t.equal(reportErrors(io, [new KubectlError('EINVALID', 'a'), notFound('pods', 'b')]), 1)
  t.same(lines, ['a', 'Error from server (NotFound): pods "b" not found'])
})
