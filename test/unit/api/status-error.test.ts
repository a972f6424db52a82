import t from 'tap'
import {
  StatusError,
  aggregateMessages,
  alreadyExists,
  badRequest,
  conflict,
  deleteSuccessStatus,
  fieldDuplicate,
  fieldErrorBody,
  fieldErrorString,
  fieldForbidden,
  fieldInternalError,
  fieldInvalid,
  fieldNotFound,
  fieldNotSupported,
  fieldRequired,
  fieldTooLong,
  fieldTooMany,
  fieldTypeInvalid,
  forbidden,
  forbiddenMessage,
  gone,
  goQuote,
  internalError,
  invalid,
  isAlreadyExists,
  isConflict,
  isGoneOrExpired,
  isInvalid,
  isNotFound,
  isStatus,
  methodNotSupported,
  notFound,
  reasonForError,
  resourceExpired,
  serviceUnavailable,
  successStatus,
  timeoutError,
  tooOldResourceVersion,
  unauthorized,
} from '../../../control/api/status-error.ts'

t.test('builders: message, reason and HTTP code', async t => {
  const cases: Array<[string, StatusError, number, string, string]> = [
    ['NotFound', notFound('pods', 'web'), 404, 'NotFound', 'pods "web" not found'],
    ['NotFound in a group', notFound('deployments.apps', 'web'), 404, 'NotFound', 'deployments.apps "web" not found'],
    ['NotFound object form', notFound({ resource: 'leases', group: 'coordination.k8s.io' }, 'n1'), 404, 'NotFound', 'leases.coordination.k8s.io "n1" not found'],
    ['AlreadyExists', alreadyExists('pods', 'web'), 409, 'AlreadyExists', 'pods "web" already exists'],
    [
      'Conflict',
      conflict('pods', 'web'),
      409,
      'Conflict',
      'Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again',
    ],
    [
      'Conflict with a reason',
      conflict('deployments.apps', 'web', 'StorageError: invalid object'),
      409,
      'Conflict',
      'Operation cannot be fulfilled on deployments.apps "web": StorageError: invalid object',
    ],
    [
      'Invalid, one cause',
      invalid('Pod', 'web', [fieldRequired('spec.containers[0].image')]),
      422,
      'Invalid',
      'Pod "web" is invalid: spec.containers[0].image: Required value',
    ],
    [
      'Invalid, several causes',
      invalid('Deployment.apps', 'web', [
        fieldRequired('spec.selector'),
        fieldInvalid('spec.replicas', -1, 'must be greater than or equal to 0'),
      ]),
      422,
      'Invalid',
      'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]',
    ],
    [
      'Invalid, repeated causes joined once',
      invalid('Pod', 'web', [fieldRequired('a'), fieldRequired('a')]),
      422,
      'Invalid',
      'Pod "web" is invalid: a: Required value',
    ],
    ['Invalid, no causes', invalid('Pod', 'web', []), 422, 'Invalid', 'Pod "web" is invalid'],
    ['BadRequest', badRequest('field label not supported: spec.foo'), 400, 'BadRequest', 'field label not supported: spec.foo'],
    ['Unauthorized', unauthorized(), 401, 'Unauthorized', 'Unauthorized'],
    ['Unauthorized, empty', unauthorized(''), 401, 'Unauthorized', 'not authorized'],
    [
      'Forbidden',
      forbidden('pods', 'web', 'User "jane" cannot get resource "pods" in API group "" in the namespace "default"'),
      403,
      'Forbidden',
      'pods "web" is forbidden: User "jane" cannot get resource "pods" in API group "" in the namespace "default"',
    ],
    ['Forbidden, no name', forbidden('pods', '', 'nope'), 403, 'Forbidden', 'pods is forbidden: nope'],
    ['Forbidden, no resource', forbidden(undefined, '', 'nope'), 403, 'Forbidden', 'forbidden: nope'],
    [
      'MethodNotAllowed',
      methodNotSupported('pods', 'deletecollection'),
      405,
      'MethodNotAllowed',
      'deletecollection is not supported on resources of kind "pods"',
    ],
    ['Gone', gone('too old'), 410, 'Gone', 'too old'],
    ['Expired', resourceExpired('continue token expired'), 410, 'Expired', 'continue token expired'],
    ['too old resource version', tooOldResourceVersion(5, 100), 410, 'Expired', 'too old resource version: 5 (100)'],
    ['InternalError', internalError(new Error('disk full')), 500, 'InternalError', 'Internal error occurred: disk full'],
    ['ServiceUnavailable', serviceUnavailable('starting'), 503, 'ServiceUnavailable', 'starting'],
    ['Timeout', timeoutError('request did not complete within 60s'), 504, 'Timeout', 'Timeout: request did not complete within 60s'],
  ]
  for (const [name, err, code, reason, message] of cases) {
    t.ok(err instanceof Error && err instanceof StatusError, `${name} is a StatusError`)
    t.equal(err.message, message, `${name} message`)
    t.equal(err.status.message, message, `${name} status.message`)
    t.equal(err.statusCode, code, `${name} statusCode`)
    t.equal(err.status.code, code, `${name} status.code`)
    t.equal(err.code, reason, `${name} code`)
    t.equal(err.status.reason, reason, `${name} reason`)
    t.equal(err.status.kind, 'Status')
    t.equal(err.status.apiVersion, 'v1')
    t.equal(err.status.status, 'Failure')
  }
})

t.test('wire shape matches kube-apiserver', async t => {
  t.equal(
    JSON.stringify(notFound('pods', 'web').status),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"web\\" not found","reason":"NotFound","details":{"name":"web","kind":"pods"},"code":404}',
  )
  t.strictSame(alreadyExists('deployments.apps', 'web').status.details, { name: 'web', group: 'apps', kind: 'deployments' })
  t.equal(
    JSON.stringify(badRequest('nope').status),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nope","reason":"BadRequest","code":400}',
  )
  t.strictSame(
    invalid('Pod', 'web', [fieldRequired('spec.containers[0].image'), fieldInvalid('metadata.name', 'Web', 'bad')]).status.details,
    {
      name: 'web',
      kind: 'Pod',
      causes: [
        { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' },
        { reason: 'FieldValueInvalid', message: 'Invalid value: "Web": bad', field: 'metadata.name' },
      ],
    },
  )
  t.strictSame(internalError('boom').status.details, { causes: [{ message: 'boom' }] })
  t.strictSame(timeoutError('x', 3).status.details, { retryAfterSeconds: 3 })
  t.strictSame(forbidden('pods', '', 'x').status.details, { kind: 'pods' })
})

t.test('success statuses', async t => {
  t.equal(
    JSON.stringify(deleteSuccessStatus({ name: 'web', group: 'apps', kind: 'deployments', uid: 'u-1' })),
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{"name":"web","group":"apps","kind":"deployments","uid":"u-1"}}',
  )
  t.strictSame(successStatus('Pod', 'web'), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: 'web', kind: 'Pod' },
    code: 200,
  })
  t.strictSame(successStatus('Pod').details, { kind: 'Pod' }, 'collection delete: kind only')
  t.equal(successStatus('Pod', 'web', 202).code, 202)
})

t.test('field error texts', async t => {
  const cases: Array<[string, ReturnType<typeof fieldRequired>, string]> = [
    ['required', fieldRequired('spec.containers[0].image'), 'spec.containers[0].image: Required value'],
    ['required with detail', fieldRequired('spec.selector', 'must match template'), 'spec.selector: Required value: must match template'],
    ['invalid string', fieldInvalid('metadata.name', 'Web', 'must be lowercase'), 'metadata.name: Invalid value: "Web": must be lowercase'],
    ['invalid number', fieldInvalid('spec.replicas', -1, 'must be greater than or equal to 0'), 'spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
    ['invalid bool', fieldInvalid('x', true, ''), 'x: Invalid value: true'],
    ['invalid list', fieldInvalid('values', ['a', 'b'], 'no'), 'values: Invalid value: ["a","b"]: no'],
    ['invalid null', fieldInvalid('values', null, 'no'), 'values: Invalid value: null: no'],
    ['invalid object', fieldInvalid('x', { a: 1 }, 'no'), 'x: Invalid value: {"a":1}: no'],
    ['type invalid', fieldTypeInvalid('x', 'y', 'must be int'), 'x: Invalid value: "y": must be int'],
    [
      'not supported',
      fieldNotSupported('spec.restartPolicy', 'Sometimes', ['Always', 'OnFailure', 'Never']),
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ],
    ['not supported, no list', fieldNotSupported('x', 'y'), 'x: Unsupported value: "y"'],
    ['forbidden', fieldForbidden('spec.nodeName', 'may not be changed'), 'spec.nodeName: Forbidden: may not be changed'],
    ['duplicate', fieldDuplicate('spec.ports[1].port', 80), 'spec.ports[1].port: Duplicate value: 80'],
    ['not found', fieldNotFound('spec.volumes[0]', 'data'), 'spec.volumes[0]: Not found: "data"'],
    ['too long', fieldTooLong('metadata.annotations', 262144), 'metadata.annotations: Too long: may not be more than 262144 bytes'],
    ['too long 1', fieldTooLong('x', 1), 'x: Too long: may not be more than 1 byte'],
    ['too many', fieldTooMany('spec.containers', 3, 2), 'spec.containers: Too many: 3: must have at most 2 items'],
    ['too many, count unknown', fieldTooMany('spec.containers', -1, 1), 'spec.containers: Too many: must have at most 1 item'],
    ['internal', fieldInternalError('spec', new Error('oops')), 'spec: Internal error: oops'],
    ['quoting', fieldInvalid('x', 'a"b\\c\n\u0001', ''), 'x: Invalid value: "a\\"b\\\\c\\n\\x01"'],
  ]
  for (const [name, e, text] of cases) t.equal(fieldErrorString(e), text, name)
  t.equal(fieldErrorBody(fieldRequired('a')), 'Required value')
})

t.test('aggregating messages', async t => {
  t.equal(aggregateMessages([]), '')
  t.equal(aggregateMessages(['a']), 'a')
  t.equal(aggregateMessages(['a', 'a']), 'a')
  t.equal(aggregateMessages(['a', 'b', 'a']), '[a, b]')
})

t.test('forbidden messages as the authorizer writes them', async t => {
  t.equal(
    forbiddenMessage({ user: 'jane', verb: 'list', resource: 'pods', group: '', namespace: 'default' }),
    'User "jane" cannot list resource "pods" in API group "" in the namespace "default"',
  )
  t.equal(
    forbiddenMessage({ user: 'system:anonymous', verb: 'get', resource: 'nodes', subresource: 'proxy' }),
    'User "system:anonymous" cannot get resource "nodes/proxy" in API group "" at the cluster scope',
  )
  t.equal(
    forbiddenMessage({ user: 'jane', verb: 'create', resource: 'deployments', group: 'apps', namespace: 'shop' }),
    'User "jane" cannot create resource "deployments" in API group "apps" in the namespace "shop"',
  )
  t.equal(forbiddenMessage({ user: 'jane', verb: 'get', path: '/healthz' }), 'User "jane" cannot get path "/healthz"')
})

t.test('inspecting errors', async t => {
  t.equal(isNotFound(notFound('pods', 'x')), true)
  t.equal(isNotFound(new Error('pods "x" not found')), false)
  t.equal(isAlreadyExists(alreadyExists('pods', 'x')), true)
  t.equal(isConflict(conflict('pods', 'x')), true)
  t.equal(isInvalid(invalid('Pod', 'x', [])), true)
  t.equal(isGoneOrExpired(gone('x')), true)
  t.equal(isGoneOrExpired(tooOldResourceVersion(1, 2)), true)
  t.equal(isGoneOrExpired(badRequest('x')), false)
  t.equal(reasonForError('nope'), '')
  const wire = JSON.parse(JSON.stringify(conflict('pods', 'web').status)) as unknown
  t.equal(isStatus(wire), true)
  t.equal(isStatus({ kind: 'Pod', apiVersion: 'v1' }), false)
  t.equal(isStatus(null), false)
  if (isStatus(wire)) {
    const back = StatusError.fromStatus(wire)
    t.equal(back.code, 'Conflict')
    t.equal(back.statusCode, 409)
    t.equal(isConflict(back), true)
  }
  t.equal(new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure' }).code, 'Unknown')
})

t.test('goQuote', async t => {
  const cases: Array<[string, string]> = [
    ['web', '"web"'],
    ['', '""'],
    ['a"b', '"a\\"b"'],
    ['tab\there', '"tab\\there"'],
    ['\u0000\u007f', '"\\x00\\x7f"'],
    ['\u0085', '"\\u0085"'],
    ['héllo ☃', '"héllo ☃"'],
  ]
  for (const [input, want] of cases) t.equal(goQuote(input), want, JSON.stringify(input))
})
