// `kubectl describe statefulset` and `kubectl describe daemonset`, pure: the
// set, the pods it controls and its events in, kubectl's text out (Replicas
// "3 desired | 3 total", Update Strategy and Partition, the DaemonSet's
// "Number of Nodes ..." lines, Pods Status, Pod Template, Volume Claims).

import { labelSelectorFromObject } from '../../api/label-selector.ts'
import type { LabelSelectorObject } from '../../api/label-selector.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { formatLabels } from './columns-workloads.ts'
import { describePodTemplate } from './describe-containers.ts'
import { DescribeWriter, LEVEL_0, LEVEL_1, list, num, obj, printAnnotations, printEvents, printLabels, rfc1123z, str } from './describe-writer.ts'

/** A labels.Selector as describe prints it with %s: empty text for an empty or missing selector. */
export function selectorString(selector: unknown): string {
  try {
    return labelSelectorFromObject(selector as LabelSelectorObject | undefined).toString()
  } catch (err) {
    return `Failed to get selector: ${(err as Error).message}`
  }
}

/** getPodStatusForController: the controlled pods matching the selector, by phase. */
export function podsStatusText(owner: KubeObject, selector: unknown, pods: readonly KubeObject[]): string {
  let matches: (pod: KubeObject) => boolean
  try {
    const parsed = labelSelectorFromObject(selector as LabelSelectorObject | undefined)
    matches = pod => parsed.matches(pod.metadata.labels ?? {})
  } catch {
    matches = () => false
  }
  const owned = pods.filter(p => matches(p) && p.metadata.ownerReferences?.some(r => r.controller === true && r.uid === owner.metadata.uid))
  const count = (phase: string): number => owned.filter(p => str(obj(p.status).phase) === phase).length
  return `${count('Running')} Running / ${count('Pending')} Waiting / ${count('Succeeded')} Succeeded / ${count('Failed')} Failed`
}

/** describeVolumeClaimTemplates. */
function describeVolumeClaimTemplates(w: DescribeWriter, templates: unknown): void {
  const claims = list(templates)
  if (claims.length === 0) {
    w.write(LEVEL_0, 'Volume Claims:\t<none>\n')
    return
  }
  w.write(LEVEL_0, 'Volume Claims:\n')
  for (const claim of claims) {
    const metadata = obj(claim.metadata)
    const spec = obj(claim.spec)
    const annotations = obj(metadata.annotations) as Record<string, string>
    w.write(LEVEL_1, `Name:\t${str(metadata.name)}\n`)
    w.write(LEVEL_1, `StorageClass:\t${annotations['volume.beta.kubernetes.io/storage-class'] ?? str(spec.storageClassName)}\n`)
    printLabels(w, 'Labels', obj(metadata.labels) as Record<string, string>, '  ')
    // kubectl prints a claim template's annotations with the labels printer.
    printLabels(w, 'Annotations', annotations, '  ')
    const storage = obj(obj(spec.resources).requests).storage
    w.write(LEVEL_1, `Capacity:\t${storage === undefined ? '<default>' : String(storage)}\n`)
    const modes = Array.isArray(spec.accessModes) ? spec.accessModes.map(String) : []
    w.write(LEVEL_1, `Access Modes:\t[${modes.join(' ')}]\n`)
  }
}

export function describeStatefulSet(set: KubeObject, pods: readonly KubeObject[], events: readonly KubeObject[] | undefined, now: number): string {
  const spec = obj(set.spec)
  const status = obj(set.status)
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${set.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${set.metadata.namespace ?? ''}\n`)
  w.write(LEVEL_0, `CreationTimestamp:\t${rfc1123z(set.metadata.creationTimestamp)}\n`)
  w.write(LEVEL_0, `Selector:\t${selectorString(spec.selector)}\n`)
  printLabels(w, 'Labels', set.metadata.labels)
  printAnnotations(w, 'Annotations', set.metadata.annotations)
  w.write(LEVEL_0, `Replicas:\t${num(spec.replicas)} desired | ${num(status.replicas)} total\n`)
  const strategy = obj(spec.updateStrategy)
  w.write(LEVEL_0, `Update Strategy:\t${str(strategy.type)}\n`)
  const rollingUpdate = strategy.rollingUpdate
  if (rollingUpdate !== undefined && rollingUpdate !== null) {
    const ru = obj(rollingUpdate)
    if (typeof ru.partition === 'number') {
      w.write(LEVEL_1, `Partition:\t${ru.partition}\n`)
      if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) w.write(LEVEL_1, `MaxUnavailable:\t${String(ru.maxUnavailable)}\n`)
    }
  }
  w.write(LEVEL_0, `Pods Status:\t${podsStatusText(set, spec.selector, pods)}\n`)
  describePodTemplate(w, spec.template)
  describeVolumeClaimTemplates(w, spec.volumeClaimTemplates)
  printEvents(w, events, now)
  return w.toString()
}

export function describeDaemonSet(set: KubeObject, pods: readonly KubeObject[], events: readonly KubeObject[] | undefined, now: number): string {
  const spec = obj(set.spec)
  const status = obj(set.status)
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${set.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${set.metadata.namespace ?? ''}\n`)
  w.write(LEVEL_0, `Selector:\t${selectorString(spec.selector)}\n`)
  w.write(LEVEL_0, `Node-Selector:\t${formatLabels(obj(obj(obj(spec.template).spec).nodeSelector))}\n`)
  printLabels(w, 'Labels', set.metadata.labels)
  printAnnotations(w, 'Annotations', set.metadata.annotations)
  // These lines carry no tab: kubectl writes them outside the aligned columns.
  w.write(LEVEL_0, `Desired Number of Nodes Scheduled: ${num(status.desiredNumberScheduled)}\n`)
  w.write(LEVEL_0, `Current Number of Nodes Scheduled: ${num(status.currentNumberScheduled)}\n`)
  w.write(LEVEL_0, `Number of Nodes Scheduled with Up-to-date Pods: ${num(status.updatedNumberScheduled)}\n`)
  w.write(LEVEL_0, `Number of Nodes Scheduled with Available Pods: ${num(status.numberAvailable)}\n`)
  w.write(LEVEL_0, `Number of Nodes Misscheduled: ${num(status.numberMisscheduled)}\n`)
  w.write(LEVEL_0, `Pods Status:\t${podsStatusText(set, spec.selector, pods)}\n`)
  describePodTemplate(w, spec.template)
  printEvents(w, events, now)
  return w.toString()
}
