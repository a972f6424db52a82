// PodSpec defaulting and validation, shared by Pods and by the pod templates
// of Deployments and ReplicaSets (Kubernetes defaults and validates a
// template exactly like a pod, under `spec.template.spec`).
//
// Why these fields: they are what `kubectl get -o yaml` shows a user right
// after creating a pod (restartPolicy, dnsPolicy, imagePullPolicy,
// terminationMessagePath...) and what the node agent reads (probe timings,
// grace periods). Validation covers the mistakes people actually make in
// manifests, with Kubernetes' paths and texts.

import { validateLabels } from '../../api/label-selector.ts'
import {
  fieldDuplicate,
  fieldInvalid,
  fieldNotFound,
  fieldNotSupported,
  fieldRequired,
} from '../../api/status-error.ts'
import type { FieldError } from '../../api/status-error.ts'
import { dns1123LabelErrors } from '../validation/names.ts'
import { validateAnnotations } from '../validation/object-meta.ts'
import { ensureRecord, isRecord, numberAt, recordAt, recordsAt, setDefault, stringAt, stringMapAt } from './json-fields.ts'
import type { JsonRecord } from './json-fields.ts'

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never']
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']
const PROTOCOLS = ['SCTP', 'TCP', 'UDP']
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never']

/** The tag of an image reference; 'latest' when it has neither tag nor digest (ParseImageName). */
export function imageTag(image: string): string {
  const at = image.indexOf('@')
  const name = at >= 0 ? image.slice(0, at) : image
  const lastSlash = name.lastIndexOf('/')
  const colon = name.indexOf(':', lastSlash + 1)
  if (colon >= 0) return name.slice(colon + 1)
  return at >= 0 ? '' : 'latest'
}

function defaultProbe(probe: JsonRecord | undefined): void {
  if (probe === undefined) return
  setDefault(probe, 'timeoutSeconds', 1)
  setDefault(probe, 'periodSeconds', 10)
  setDefault(probe, 'successThreshold', 1)
  setDefault(probe, 'failureThreshold', 3)
  const httpGet = recordAt(probe, 'httpGet')
  if (httpGet !== undefined) {
    setDefault(httpGet, 'path', '/')
    setDefault(httpGet, 'scheme', 'HTTP')
  }
}

function defaultContainer(container: JsonRecord): void {
  const image = stringAt(container, 'image')
  if (image !== undefined && image !== '') {
    setDefault(container, 'imagePullPolicy', imageTag(image) === 'latest' ? 'Always' : 'IfNotPresent')
  }
  setDefault(container, 'terminationMessagePath', '/dev/termination-log')
  setDefault(container, 'terminationMessagePolicy', 'File')
  if (container.resources === undefined || container.resources === null) container.resources = {}
  for (const [port] of recordsAt(container, 'ports')) setDefault(port, 'protocol', 'TCP')
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(recordAt(container, probe))
  for (const [env] of recordsAt(container, 'env')) {
    const fieldRef = recordAt(recordAt(env, 'valueFrom'), 'fieldRef')
    if (fieldRef !== undefined) setDefault(fieldRef, 'apiVersion', 'v1')
  }
}

/** SetDefaults_PodSpec and its containers, volumes and probes. */
export function defaultPodSpec(spec: JsonRecord): void {
  setDefault(spec, 'restartPolicy', 'Always')
  setDefault(spec, 'terminationGracePeriodSeconds', 30)
  setDefault(spec, 'dnsPolicy', 'ClusterFirst')
  setDefault(spec, 'schedulerName', 'default-scheduler')
  if (spec.securityContext === undefined || spec.securityContext === null) spec.securityContext = {}
  if (spec.enableServiceLinks === undefined) spec.enableServiceLinks = true
  for (const key of ['containers', 'initContainers']) {
    for (const [container] of recordsAt(spec, key)) defaultContainer(container)
  }
  for (const [volume] of recordsAt(spec, 'volumes')) {
    for (const source of ['configMap', 'secret']) {
      const s = recordAt(volume, source)
      if (s !== undefined) setDefault(s, 'defaultMode', 420)
    }
    const hostPath = recordAt(volume, 'hostPath')
    if (hostPath !== undefined) setDefault(hostPath, 'type', '')
  }
}

/** A template's labels and annotations, and its pod spec defaults. */
export function defaultPodTemplate(template: JsonRecord): void {
  defaultPodSpec(ensureRecord(template, 'spec'))
}

function validatePort(value: unknown, path: string, errs: FieldError[], required: boolean): void {
  if (value === undefined || value === 0) {
    if (required) errs.push(fieldRequired(path, ''))
    return
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    errs.push(fieldInvalid(path, value, 'must be between 1 and 65535, inclusive'))
  }
}

function validateContainer(
  container: JsonRecord,
  path: string,
  names: Set<string>,
  volumes: Set<string>,
  errs: FieldError[],
): void {
  const name = stringAt(container, 'name') ?? ''
  if (name === '') {
    errs.push(fieldRequired(`${path}.name`, ''))
  } else {
    for (const msg of dns1123LabelErrors(name)) errs.push(fieldInvalid(`${path}.name`, name, msg))
    if (names.has(name)) errs.push(fieldDuplicate(`${path}.name`, name))
    names.add(name)
  }
  const image = container.image
  if (image === undefined || image === null || image === '') errs.push(fieldRequired(`${path}.image`, ''))
  else if (typeof image !== 'string' || image.trim() !== image) {
    errs.push(fieldInvalid(`${path}.image`, image, 'must not have leading or trailing whitespace'))
  }
  const pull = container.imagePullPolicy
  if (pull !== undefined && !PULL_POLICIES.includes(String(pull))) {
    errs.push(fieldNotSupported(`${path}.imagePullPolicy`, pull, PULL_POLICIES))
  }
  const portNames = new Set<string>()
  for (const [port, i] of recordsAt(container, 'ports')) {
    const portPath = `${path}.ports[${i}]`
    validatePort(port.containerPort, `${portPath}.containerPort`, errs, true)
    if (port.hostPort !== undefined) validatePort(port.hostPort, `${portPath}.hostPort`, errs, false)
    const protocol = port.protocol
    if (protocol !== undefined && !PROTOCOLS.includes(String(protocol))) {
      errs.push(fieldNotSupported(`${portPath}.protocol`, protocol, PROTOCOLS))
    }
    const portName = stringAt(port, 'name')
    if (portName !== undefined && portName !== '') {
      if (portNames.has(portName)) errs.push(fieldDuplicate(`${portPath}.name`, portName))
      portNames.add(portName)
    }
  }
  for (const [env, i] of recordsAt(container, 'env')) {
    if (!stringAt(env, 'name')) errs.push(fieldRequired(`${path}.env[${i}].name`, ''))
  }
  for (const [mount, i] of recordsAt(container, 'volumeMounts')) {
    const mountPath = `${path}.volumeMounts[${i}]`
    const volume = stringAt(mount, 'name') ?? ''
    if (volume === '') errs.push(fieldRequired(`${mountPath}.name`, ''))
    else if (!volumes.has(volume)) errs.push(fieldNotFound(`${mountPath}.name`, volume))
    if (!stringAt(mount, 'mountPath')) errs.push(fieldRequired(`${mountPath}.mountPath`, ''))
  }
}

/** ValidatePodSpec (the parts users trip over), at `path` (`spec` or `spec.template.spec`). */
export function validatePodSpec(spec: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  if (!isRecord(spec)) return [fieldRequired(path, '')]
  const volumes = new Set<string>()
  for (const [volume, i] of recordsAt(spec, 'volumes')) {
    const volumePath = `${path}.volumes[${i}].name`
    const name = stringAt(volume, 'name') ?? ''
    if (name === '') errs.push(fieldRequired(volumePath, ''))
    else {
      for (const msg of dns1123LabelErrors(name)) errs.push(fieldInvalid(volumePath, name, msg))
      if (volumes.has(name)) errs.push(fieldDuplicate(volumePath, name))
      volumes.add(name)
    }
    const claim = volume.persistentVolumeClaim
    if (claim !== undefined && !stringAt(claim, 'claimName')) {
      errs.push(fieldRequired(`${path}.volumes[${i}].persistentVolumeClaim.claimName`, ''))
    }
  }
  const containers = recordsAt(spec, 'containers')
  if (containers.length === 0) errs.push(fieldRequired(`${path}.containers`, ''))
  const names = new Set<string>()
  for (const [container, i] of containers) validateContainer(container, `${path}.containers[${i}]`, names, volumes, errs)
  for (const [container, i] of recordsAt(spec, 'initContainers')) {
    validateContainer(container, `${path}.initContainers[${i}]`, names, volumes, errs)
  }
  const restartPolicy = spec.restartPolicy
  if (restartPolicy !== undefined && !RESTART_POLICIES.includes(String(restartPolicy))) {
    errs.push(fieldNotSupported(`${path}.restartPolicy`, restartPolicy, RESTART_POLICIES))
  }
  const dnsPolicy = spec.dnsPolicy
  if (dnsPolicy !== undefined && !DNS_POLICIES.includes(String(dnsPolicy))) {
    errs.push(fieldNotSupported(`${path}.dnsPolicy`, dnsPolicy, DNS_POLICIES))
  }
  const grace = numberAt(spec, 'terminationGracePeriodSeconds')
  if (grace !== undefined && grace < 0) {
    errs.push(fieldInvalid(`${path}.terminationGracePeriodSeconds`, grace, 'must be greater than or equal to 0'))
  }
  const nodeSelector = stringMapAt(spec, 'nodeSelector')
  if (nodeSelector !== undefined) errs.push(...validateLabels(nodeSelector, `${path}.nodeSelector`))
  return errs
}

/** A pod template: its labels and annotations, and its spec. */
export function validatePodTemplate(template: unknown, path: string): FieldError[] {
  if (!isRecord(template)) return [fieldRequired(path, '')]
  const errs: FieldError[] = []
  const labels = stringMapAt(recordAt(template, 'metadata'), 'labels')
  if (labels !== undefined) errs.push(...validateLabels(labels, `${path}.metadata.labels`))
  const annotations = stringMapAt(recordAt(template, 'metadata'), 'annotations')
  if (annotations !== undefined) errs.push(...validateAnnotations(annotations, `${path}.metadata.annotations`))
  errs.push(...validatePodSpec(template.spec, `${path}.spec`))
  return errs
}
