// Field numbers of the Kubernetes protobuf messages kubectl's generator
// commands send (`kubectl create namespace|configmap|deployment|service`,
// `kubectl run`, `kubectl expose`): from k8s.io/api's generated.proto.
//
// Only the fields those commands can set are listed. The decoder ignores
// unlisted fields that carry the zero value (Go's non-pointer fields are
// always encoded, empty or not) and refuses any unlisted field with a value,
// so nothing a client sent is ever dropped silently.

/** string, int (varint, signed 64-bit), bool, bytes (base64 in JSON), or a message/map. */
export type Scalar = 'string' | 'int' | 'bool' | 'bytes'
export type FieldType = Scalar | { message: string } | { map: Scalar | { message: string } }

export interface FieldSpec {
  readonly json: string
  readonly type: FieldType
  readonly repeated?: boolean
  /** A pointer field in Go: present means set, so a zero value is kept. */
  readonly keepZero?: boolean
}

type Fields = Readonly<Record<number, FieldSpec>>

const f = (json: string, type: FieldType, extra: Omit<FieldSpec, 'json' | 'type'> = {}): FieldSpec => ({ json, type, ...extra })
const msg = (message: string): FieldType => ({ message })
const list = (json: string, type: FieldType): FieldSpec => ({ json, type, repeated: true })

/** Special messages decoded by hand: Time, Quantity, IntOrString. */
export const SPECIAL = new Set(['Time', 'Quantity', 'IntOrString'])

export const MESSAGES: Readonly<Record<string, Fields>> = {
  TypeMeta: { 1: f('apiVersion', 'string'), 2: f('kind', 'string') },
  Unknown: { 1: f('typeMeta', msg('TypeMeta')), 2: f('raw', 'bytes'), 3: f('contentEncoding', 'string'), 4: f('contentType', 'string') },
  ObjectMeta: {
    1: f('name', 'string'),
    2: f('generateName', 'string'),
    3: f('namespace', 'string'),
    5: f('uid', 'string'),
    6: f('resourceVersion', 'string'),
    7: f('generation', 'int'),
    8: f('creationTimestamp', msg('Time')),
    11: f('labels', { map: 'string' }),
    12: f('annotations', { map: 'string' }),
    13: list('ownerReferences', msg('OwnerReference')),
    14: list('finalizers', 'string'),
  },
  OwnerReference: {
    1: f('kind', 'string'),
    3: f('name', 'string'),
    4: f('uid', 'string'),
    5: f('apiVersion', 'string'),
    6: f('controller', 'bool', { keepZero: true }),
    7: f('blockOwnerDeletion', 'bool', { keepZero: true }),
  },
  LabelSelector: { 1: f('matchLabels', { map: 'string' }), 2: list('matchExpressions', msg('LabelSelectorRequirement')) },
  LabelSelectorRequirement: { 1: f('key', 'string'), 2: f('operator', 'string'), 3: list('values', 'string') },

  Namespace: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('NamespaceSpec')), 3: f('status', msg('Empty')) },
  NamespaceSpec: { 1: list('finalizers', 'string') },
  Empty: {},
  ConfigMap: {
    1: f('metadata', msg('ObjectMeta')),
    2: f('data', { map: 'string' }),
    3: f('binaryData', { map: 'bytes' }),
    4: f('immutable', 'bool', { keepZero: true }),
  },

  Pod: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('PodSpec')), 3: f('status', msg('Empty')) },
  PodTemplateSpec: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('PodSpec')) },
  PodSpec: {
    2: list('containers', msg('Container')),
    3: f('restartPolicy', 'string'),
    4: f('terminationGracePeriodSeconds', 'int', { keepZero: true }),
    6: f('dnsPolicy', 'string'),
    7: f('nodeSelector', { map: 'string' }),
    8: f('serviceAccountName', 'string'),
    10: f('nodeName', 'string'),
    11: f('hostNetwork', 'bool'),
    14: f('securityContext', msg('Empty')),
    19: f('schedulerName', 'string'),
    20: list('initContainers', msg('Container')),
    30: f('enableServiceLinks', 'bool', { keepZero: true }),
  },
  Container: {
    1: f('name', 'string'),
    2: f('image', 'string'),
    3: list('command', 'string'),
    4: list('args', 'string'),
    5: f('workingDir', 'string'),
    6: list('ports', msg('ContainerPort')),
    7: list('env', msg('EnvVar')),
    8: f('resources', msg('ResourceRequirements')),
    13: f('terminationMessagePath', 'string'),
    14: f('imagePullPolicy', 'string'),
    16: f('stdin', 'bool'),
    17: f('stdinOnce', 'bool'),
    18: f('tty', 'bool'),
    20: f('terminationMessagePolicy', 'string'),
  },
  ContainerPort: { 1: f('name', 'string'), 2: f('hostPort', 'int'), 3: f('containerPort', 'int'), 4: f('protocol', 'string'), 5: f('hostIP', 'string') },
  EnvVar: { 1: f('name', 'string'), 2: f('value', 'string') },
  ResourceRequirements: { 1: f('limits', { map: { message: 'Quantity' } }), 2: f('requests', { map: { message: 'Quantity' } }) },

  Deployment: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('DeploymentSpec')), 3: f('status', msg('Empty')) },
  DeploymentSpec: {
    1: f('replicas', 'int', { keepZero: true }),
    2: f('selector', msg('LabelSelector')),
    3: f('template', msg('PodTemplateSpec')),
    4: f('strategy', msg('DeploymentStrategy')),
    5: f('minReadySeconds', 'int'),
    6: f('revisionHistoryLimit', 'int', { keepZero: true }),
    7: f('paused', 'bool'),
    9: f('progressDeadlineSeconds', 'int', { keepZero: true }),
  },
  DeploymentStrategy: { 1: f('type', 'string'), 2: f('rollingUpdate', msg('RollingUpdateDeployment')) },
  RollingUpdateDeployment: { 1: f('maxUnavailable', msg('IntOrString')), 2: f('maxSurge', msg('IntOrString')) },

  Service: { 1: f('metadata', msg('ObjectMeta')), 2: f('spec', msg('ServiceSpec')), 3: f('status', msg('ServiceStatus')) },
  ServiceStatus: { 1: f('loadBalancer', msg('Empty')) },
  ServiceSpec: {
    1: list('ports', msg('ServicePort')),
    2: f('selector', { map: 'string' }),
    3: f('clusterIP', 'string'),
    4: f('type', 'string'),
    5: list('externalIPs', 'string'),
    7: f('sessionAffinity', 'string'),
    8: f('loadBalancerIP', 'string'),
    10: f('externalName', 'string'),
    11: f('externalTrafficPolicy', 'string'),
    18: list('clusterIPs', 'string'),
  },
  ServicePort: {
    1: f('name', 'string'),
    2: f('protocol', 'string'),
    3: f('port', 'int'),
    4: f('targetPort', msg('IntOrString')),
    5: f('nodePort', 'int'),
    6: f('appProtocol', 'string', { keepZero: true }),
  },
}

/** The top-level message for a kind sent as a request body. */
export const KIND_MESSAGES: Readonly<Record<string, string>> = {
  Namespace: 'Namespace',
  ConfigMap: 'ConfigMap',
  Pod: 'Pod',
  Deployment: 'Deployment',
  Service: 'Service',
}
