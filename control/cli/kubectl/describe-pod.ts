// `kubectl describe pod`, pure: the pod and its events in, kubectl's text out
// (Name ... Node, Start Time, Labels, Status, IP, Controlled By, Containers
// with State / Ready / Restart Count / probes, Conditions, Volumes, QoS
// Class, Node-Selectors, Tolerations, Events).

import type { KubeObject } from '../../client/api-client.ts'
import { humanDuration } from '../../apiserver/http/table-columns.ts'
import { describeContainers, describeVolumes } from './describe-containers.ts'
import {
  DescribeWriter,
  LEVEL_0,
  LEVEL_1,
  controllerOf,
  list,
  obj,
  printAnnotations,
  printEvents,
  printLabels,
  printTolerations,
  rfc1123z,
  str,
} from './describe-writer.ts'

export function describePod(pod: KubeObject, events: readonly KubeObject[] | undefined, now: number): string {
  const spec = obj(pod.spec)
  const status = obj(pod.status)
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${pod.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${pod.metadata.namespace ?? ''}\n`)
  if (typeof spec.priority === 'number') w.write(LEVEL_0, `Priority:\t${spec.priority}\n`)
  if (str(spec.priorityClassName) !== '') w.write(LEVEL_0, `Priority Class Name:\t${str(spec.priorityClassName)}\n`)
  if (str(spec.runtimeClassName) !== '') w.write(LEVEL_0, `Runtime Class Name:\t${str(spec.runtimeClassName)}\n`)
  if (str(spec.serviceAccountName) !== '') w.write(LEVEL_0, `Service Account:\t${str(spec.serviceAccountName)}\n`)
  if (str(spec.nodeName) === '') w.write(LEVEL_0, 'Node:\t<none>\n')
  else w.write(LEVEL_0, `Node:\t${str(spec.nodeName)}/${str(status.hostIP)}\n`)
  if (str(status.startTime) !== '') w.write(LEVEL_0, `Start Time:\t${rfc1123z(status.startTime)}\n`)
  printLabels(w, 'Labels', pod.metadata.labels)
  printAnnotations(w, 'Annotations', pod.metadata.annotations)
  const phase = str(status.phase)
  if (pod.metadata.deletionTimestamp && phase !== 'Failed' && phase !== 'Succeeded') {
    const left = Date.parse(pod.metadata.deletionTimestamp) - now
    w.write(LEVEL_0, `Status:\tTerminating (lasts ${humanDuration(left)})\n`)
    w.write(LEVEL_0, `Termination Grace Period:\t${pod.metadata.deletionGracePeriodSeconds ?? 0}s\n`)
  } else {
    w.write(LEVEL_0, `Status:\t${phase}\n`)
  }
  if (str(status.reason) !== '') w.write(LEVEL_0, `Reason:\t${str(status.reason)}\n`)
  if (str(status.message) !== '') w.write(LEVEL_0, `Message:\t${str(status.message)}\n`)
  w.write(LEVEL_0, `IP:\t${str(status.podIP)}\n`)
  const ips = list(status.podIPs)
  if (ips.length === 0) w.write(LEVEL_0, 'IPs:\t<none>\n')
  else {
    w.write(LEVEL_0, 'IPs:\n')
    for (const ip of ips) w.write(LEVEL_0, `  IP:\t${str(ip.ip)}\n`)
  }
  const controlledBy = controllerOf(pod)
  if (controlledBy !== undefined) w.write(LEVEL_0, `Controlled By:\t${controlledBy}\n`)
  if (str(status.nominatedNodeName) !== '') w.write(LEVEL_0, `NominatedNodeName:\t${str(status.nominatedNodeName)}\n`)
  if (list(spec.initContainers).length > 0) describeContainers(w, 'Init Containers', spec.initContainers, status.initContainerStatuses, '')
  describeContainers(w, 'Containers', spec.containers, status.containerStatuses, '')
  const gates = list(spec.readinessGates)
  const conditions = list(status.conditions)
  if (gates.length > 0) {
    w.write(LEVEL_0, 'Readiness Gates:\n  Type\tStatus\n')
    for (const gate of gates) {
      const condition = conditions.find(c => c.type === gate.conditionType)
      w.write(LEVEL_1, `${str(gate.conditionType)} \t${condition === undefined ? '<none>' : str(condition.status)} \n`)
    }
  }
  if (conditions.length > 0) {
    w.write(LEVEL_0, 'Conditions:\n  Type\tStatus\n')
    for (const c of conditions) w.write(LEVEL_1, `${str(c.type)} \t${str(c.status)} \n`)
  }
  describeVolumes(w, spec.volumes, '')
  w.write(LEVEL_0, `QoS Class:\t${str(status.qosClass) || 'BestEffort'}\n`)
  printLabels(w, 'Node-Selectors', obj(spec.nodeSelector) as Record<string, string>)
  printTolerations(w, 'Tolerations', spec.tolerations)
  printEvents(w, events, now)
  return w.toString()
}
