// What `kubectl describe` prints for containers and volumes, shared by the
// pod describer (with container statuses: State, Ready, Restart Count) and
// every pod template (Deployments, ReplicaSets, `rollout history --revision`).

import type { DescribeWriter } from './describe-writer.ts'
import { LEVEL_0, LEVEL_1, LEVEL_2, LEVEL_3, list, num, obj, printAnnotations, printLabels, printTolerations, rfc1123z, str } from './describe-writer.ts'

type Json = Record<string, unknown>

function portText(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string' ? String(value) : ''
}

/** DescribeProbe: `http-get http://:80/ delay=0s timeout=1s period=10s #success=1 #failure=3`. */
export function describeProbe(probe: Json): string {
  const attrs =
    `delay=${num(probe.initialDelaySeconds)}s timeout=${num(probe.timeoutSeconds)}s period=${num(probe.periodSeconds)}s ` +
    `#success=${num(probe.successThreshold)} #failure=${num(probe.failureThreshold)}`
  if (probe.exec !== undefined) {
    const command = Array.isArray(obj(probe.exec).command) ? (obj(probe.exec).command as unknown[]).map(String) : []
    return `exec [${command.join(' ')}] ${attrs}`
  }
  if (probe.httpGet !== undefined) {
    const get = obj(probe.httpGet)
    const scheme = (str(get.scheme) || 'HTTP').toLowerCase()
    const port = portText(get.port)
    const host = str(get.host)
    const hostPort = port === '' ? host : host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
    let path = str(get.path)
    if (path !== '' && !path.startsWith('/')) path = `/${path}`
    return `http-get ${scheme}://${hostPort}${path} ${attrs}`
  }
  if (probe.tcpSocket !== undefined) {
    const socket = obj(probe.tcpSocket)
    return `tcp-socket ${str(socket.host)}:${portText(socket.port)} ${attrs}`
  }
  if (probe.grpc !== undefined) {
    const grpc = obj(probe.grpc)
    return `grpc <pod>:${num(grpc.port)} ${str(grpc.service)} ${attrs}`
  }
  return `unknown ${attrs}`
}

function describeState(w: DescribeWriter, title: string, state: Json): void {
  if (state.running !== undefined) {
    w.write(LEVEL_2, `${title}:\tRunning\n`)
    w.write(LEVEL_3, `Started:\t${rfc1123z(obj(state.running).startedAt)}\n`)
  } else if (state.waiting !== undefined) {
    w.write(LEVEL_2, `${title}:\tWaiting\n`)
    const reason = str(obj(state.waiting).reason)
    if (reason !== '') w.write(LEVEL_3, `Reason:\t${reason}\n`)
  } else if (state.terminated !== undefined) {
    const t = obj(state.terminated)
    w.write(LEVEL_2, `${title}:\tTerminated\n`)
    if (str(t.reason) !== '') w.write(LEVEL_3, `Reason:\t${str(t.reason)}\n`)
    if (str(t.message) !== '') w.write(LEVEL_3, `Message:\t${str(t.message)}\n`)
    w.write(LEVEL_3, `Exit Code:\t${num(t.exitCode)}\n`)
    if (num(t.signal) > 0) w.write(LEVEL_3, `Signal:\t${num(t.signal)}\n`)
    w.write(LEVEL_3, `Started:\t${rfc1123z(t.startedAt)}\n`)
    w.write(LEVEL_3, `Finished:\t${rfc1123z(t.finishedAt)}\n`)
  } else {
    w.write(LEVEL_2, `${title}:\tWaiting\n`)
  }
}

function describeResources(w: DescribeWriter, resources: Json): void {
  for (const [title, key] of [['Limits', 'limits'], ['Requests', 'requests']] as const) {
    const values = obj(resources[key])
    const names = Object.keys(values).sort()
    if (names.length === 0) continue
    w.write(LEVEL_2, `${title}:\n`)
    for (const name of names) w.write(LEVEL_3, `${name}:\t${String(values[name])}\n`)
  }
}

function describeEnv(w: DescribeWriter, container: Json): void {
  const env = list(container.env)
  w.write(LEVEL_2, `Environment:${env.length === 0 ? '\t<none>' : ''}\n`)
  for (const e of env) {
    const from = obj(e.valueFrom)
    if (e.valueFrom === undefined) {
      str(e.value)
        .split('\n')
        .forEach((s, i) => w.write(LEVEL_3, i === 0 ? `${str(e.name)}:\t${s}\n` : `\t${s}\n`))
    } else if (from.fieldRef !== undefined) {
      const ref = obj(from.fieldRef)
      w.write(LEVEL_3, `${str(e.name)}:\t (${str(ref.apiVersion)}:${str(ref.fieldPath)})\n`)
    } else if (from.resourceFieldRef !== undefined) {
      const ref = obj(from.resourceFieldRef)
      w.write(LEVEL_3, `${str(e.name)}:\t${str(ref.resource)} (${str(ref.containerName)})\n`)
    } else if (from.secretKeyRef !== undefined) {
      const ref = obj(from.secretKeyRef)
      w.write(LEVEL_3, `${str(e.name)}:\t<set to the key '${str(ref.key)}' in secret '${str(ref.name)}'>\tOptional: ${ref.optional === true}\n`)
    } else if (from.configMapKeyRef !== undefined) {
      const ref = obj(from.configMapKeyRef)
      w.write(LEVEL_3, `${str(e.name)}:\t<set to the key '${str(ref.key)}' of config map '${str(ref.name)}'>\tOptional: ${ref.optional === true}\n`)
    }
  }
}

function describeMounts(w: DescribeWriter, container: Json): void {
  const mounts = [...list(container.volumeMounts)].sort((a, b) => (str(a.mountPath) < str(b.mountPath) ? -1 : str(a.mountPath) > str(b.mountPath) ? 1 : 0))
  w.write(LEVEL_2, `Mounts:${mounts.length === 0 ? '\t<none>' : ''}\n`)
  for (const m of mounts) {
    const flags = [m.readOnly === true ? 'ro' : 'rw']
    if (str(m.subPath) !== '') flags.push(`path=${JSON.stringify(str(m.subPath))}`)
    w.write(LEVEL_3, `${str(m.mountPath)} from ${str(m.name)} (${flags.join(',')})\n`)
  }
}

/** describeContainers: one block per container, with its status when `statuses` is given. */
export function describeContainers(w: DescribeWriter, label: string, containers: unknown, statuses: unknown, space: string): void {
  const items = list(containers)
  const byName = new Map(list(statuses).map(s => [str(s.name), s]))
  if (items.length === 0) {
    w.write(LEVEL_0, `${space}${label}: <none>\n`)
    return
  }
  w.write(LEVEL_0, `${space}${label}:\n`)
  for (const container of items) {
    const status = byName.get(str(container.name))
    w.write(LEVEL_1, `${space === '' ? '' : ' '}${str(container.name)}:\n`)
    if (status !== undefined) w.write(LEVEL_2, `Container ID:\t${str(status.containerID)}\n`)
    w.write(LEVEL_2, `Image:\t${str(container.image)}\n`)
    if (status !== undefined) w.write(LEVEL_2, `Image ID:\t${str(status.imageID)}\n`)
    const ports = list(container.ports)
    const portsText = ports.map(p => `${num(p.containerPort)}/${str(p.protocol) || 'TCP'}`).join(', ')
    const hostText = ports.map(p => `${num(p.hostPort)}/${str(p.protocol) || 'TCP'}`).join(', ')
    if (portsText.includes(',')) w.write(LEVEL_2, `Ports:\t${portsText}\n`)
    else w.write(LEVEL_2, `Port:\t${portsText || '<none>'}\n`)
    if (hostText.includes(',')) w.write(LEVEL_2, `Host Ports:\t${hostText}\n`)
    else w.write(LEVEL_2, `Host Port:\t${hostText || '<none>'}\n`)
    for (const [title, key] of [['Command', 'command'], ['Args', 'args']] as const) {
      const values = Array.isArray(container[key]) ? (container[key] as unknown[]).map(String) : []
      if (values.length === 0) continue
      w.write(LEVEL_2, `${title}:\n`)
      for (const v of values) for (const s of v.split('\n')) w.write(LEVEL_3, `${s}\n`)
    }
    if (status !== undefined) {
      describeState(w, 'State', obj(status.state))
      if (obj(status.lastState).terminated !== undefined) describeState(w, 'Last State', obj(status.lastState))
      w.write(LEVEL_2, `Ready:\t${status.ready === true ? 'True' : 'False'}\n`)
      w.write(LEVEL_2, `Restart Count:\t${num(status.restartCount)}\n`)
    }
    describeResources(w, obj(container.resources))
    for (const [title, key] of [['Liveness', 'livenessProbe'], ['Readiness', 'readinessProbe'], ['Startup', 'startupProbe']] as const) {
      if (container[key] !== undefined) w.write(LEVEL_2, `${title}:\t${describeProbe(obj(container[key]))}\n`)
    }
    describeEnv(w, container)
    describeMounts(w, container)
  }
}

/** describeVolumes: each volume with its source type. */
export function describeVolumes(w: DescribeWriter, volumes: unknown, space: string): void {
  const items = list(volumes)
  if (items.length === 0) {
    w.write(LEVEL_0, `${space}Volumes:\t<none>\n`)
    return
  }
  w.write(LEVEL_0, `${space}Volumes:\n`)
  for (const v of items) {
    w.write(LEVEL_1, `${space === '' ? '' : ' '}${str(v.name)}:\n`)
    if (v.hostPath !== undefined) {
      const h = obj(v.hostPath)
      w.write(LEVEL_2, `Type:\tHostPath (bare host directory volume)\n    Path:\t${str(h.path)}\n    HostPathType:\t${typeof h.type === 'string' ? h.type : '<none>'}\n`)
    } else if (v.emptyDir !== undefined) {
      const e = obj(v.emptyDir)
      const limit = e.sizeLimit === undefined || e.sizeLimit === null || String(e.sizeLimit) === '0' ? '<unset>' : String(e.sizeLimit)
      w.write(LEVEL_2, `Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t${str(e.medium)}\n    SizeLimit:\t${limit}\n`)
    } else if (v.configMap !== undefined) {
      const c = obj(v.configMap)
      w.write(LEVEL_2, `Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t${str(c.name)}\n    Optional:\t${c.optional === true}\n`)
    } else if (v.secret !== undefined) {
      const s = obj(v.secret)
      w.write(LEVEL_2, `Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t${str(s.secretName)}\n    Optional:\t${s.optional === true}\n`)
    } else {
      w.write(LEVEL_1, '<unknown>\n')
    }
  }
}

/** DescribePodTemplate: the `Pod Template:` block of Deployments and ReplicaSets. */
export function describePodTemplate(w: DescribeWriter, template: unknown): void {
  w.write(LEVEL_0, 'Pod Template:\n')
  if (template === undefined || template === null) {
    w.write(LEVEL_1, '<unset>')
    return
  }
  const metadata = obj(obj(template).metadata)
  const spec = obj(obj(template).spec)
  printLabels(w, 'Labels', obj(metadata.labels) as Record<string, string>, '  ')
  if (Object.keys(obj(metadata.annotations)).length > 0) printAnnotations(w, 'Annotations', obj(metadata.annotations) as Record<string, string>, '  ')
  if (str(spec.serviceAccountName) !== '') w.write(LEVEL_1, `Service Account:\t${str(spec.serviceAccountName)}\n`)
  if (list(spec.initContainers).length > 0) describeContainers(w, 'Init Containers', spec.initContainers, undefined, '  ')
  describeContainers(w, 'Containers', spec.containers, undefined, '  ')
  describeVolumes(w, spec.volumes, '  ')
  if (str(spec.priorityClassName) !== '') w.write(LEVEL_1, `Priority Class Name:\t${str(spec.priorityClassName)}\n`)
  printLabels(w, 'Node-Selectors', obj(spec.nodeSelector) as Record<string, string>, '  ')
  printTolerations(w, 'Tolerations', spec.tolerations, '  ')
}
