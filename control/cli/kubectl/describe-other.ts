// `kubectl describe` for the remaining kinds, pure: namespaces, config maps
// and endpoints the way kubectl lays them out, anything else with kubectl's
// generic describer shape (the usual header, then the object's fields).

import type { KubeObject } from '../../client/api-client.ts'
import { DescribeWriter, LEVEL_0, LEVEL_1, LEVEL_2, list, num, obj, printAnnotations, printEvents, printLabels, str } from './describe-writer.ts'
import { toYaml } from './output.ts'

export function describeNamespace(ns: KubeObject): string {
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${ns.metadata.name ?? ''}\n`)
  printLabels(w, 'Labels', ns.metadata.labels)
  printAnnotations(w, 'Annotations', ns.metadata.annotations)
  w.write(LEVEL_0, `Status:\t${str(obj(ns.status).phase)}\n`)
  return w.toString()
}

export function describeConfigMap(cm: KubeObject, events: readonly KubeObject[] | undefined, now: number): string {
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${cm.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${cm.metadata.namespace ?? ''}\n`)
  printLabels(w, 'Labels', cm.metadata.labels)
  printAnnotations(w, 'Annotations', cm.metadata.annotations)
  w.write(LEVEL_0, '\nData\n====\n')
  const data = obj(cm.data)
  for (const key of Object.keys(data).sort()) {
    w.write(LEVEL_0, `${key}:\n----\n`)
    w.write(LEVEL_0, `${String(data[key])}\n`)
    w.write(LEVEL_0, '\n')
  }
  w.write(LEVEL_0, '\nBinaryData\n====\n')
  const binary = obj(cm.binaryData)
  for (const key of Object.keys(binary).sort()) w.write(LEVEL_0, `${key}: ${Buffer.from(String(binary[key]), 'base64').length} bytes\n`)
  w.write(LEVEL_0, '\n')
  printEvents(w, events, now)
  return w.toString()
}

export function describeEndpoints(ep: KubeObject, events: readonly KubeObject[] | undefined, now: number): string {
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${ep.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${ep.metadata.namespace ?? ''}\n`)
  printLabels(w, 'Labels', ep.metadata.labels)
  printAnnotations(w, 'Annotations', ep.metadata.annotations)
  w.write(LEVEL_0, 'Subsets:\n')
  for (const subset of list(ep.subsets)) {
    const ips = (key: string): string => list(subset[key]).map(a => str(a.ip)).join(',') || '<none>'
    w.write(LEVEL_1, `Addresses:\t${ips('addresses')}\n`)
    w.write(LEVEL_1, `NotReadyAddresses:\t${ips('notReadyAddresses')}\n`)
    const ports = list(subset.ports)
    if (ports.length > 0) {
      w.write(LEVEL_1, 'Ports:\n')
      w.write(LEVEL_2, 'Name\tPort\tProtocol\n')
      w.write(LEVEL_2, '----\t----\t--------\n')
      for (const p of ports) w.write(LEVEL_2, `${str(p.name) || '<unset>'}\t${num(p.port)}\t${str(p.protocol) || 'TCP'}\n`)
    }
    w.write(LEVEL_0, '\n')
  }
  printEvents(w, events, now)
  return w.toString()
}

/** kubectl's generic describer: the header, then every other field. */
export function describeGeneric(object: KubeObject, events: readonly KubeObject[] | undefined, now: number): string {
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${object.metadata.name ?? ''}\n`)
  if (object.metadata.namespace) w.write(LEVEL_0, `Namespace:\t${object.metadata.namespace}\n`)
  printLabels(w, 'Labels', object.metadata.labels)
  printAnnotations(w, 'Annotations', object.metadata.annotations)
  w.write(LEVEL_0, `API Version:\t${object.apiVersion ?? ''}\n`)
  w.write(LEVEL_0, `Kind:\t${object.kind ?? ''}\n`)
  const rest: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(object)) if (!['apiVersion', 'kind', 'metadata'].includes(key)) rest[key] = value
  if (Object.keys(rest).length > 0) w.write(LEVEL_0, `${toYaml(rest).replace(/\t/g, ' ')}\n`)
  printEvents(w, events, now)
  return w.toString()
}
