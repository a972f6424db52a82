// `kubectl describe deployment` and `kubectl describe replicaset`, pure:
// the object, the ReplicaSets or pods it owns and its events in, kubectl's
// text out (Replicas line, StrategyType, RollingUpdateStrategy, Pod
// Template, Conditions, OldReplicaSets / NewReplicaSet, Pods Status, Events).

import { labelSelectorFromObject } from '../../api/label-selector.ts'
import type { LabelSelectorObject } from '../../api/label-selector.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { findNewReplicaSet } from '../../controllers/deployment-util.ts'
import type { Deployment, ReplicaSet } from '../../controllers/objects.ts'
import { describePodTemplate } from './describe-containers.ts'
import { DescribeWriter, LEVEL_0, LEVEL_1, controllerOf, list, num, obj, printAnnotations, printEvents, printLabels, rfc1123z, str } from './describe-writer.ts'

/** metav1.FormatLabelSelector: `app=web,tier in (a,b)`, `<none>` for an empty one. */
export function selectorText(selector: unknown): string {
  try {
    const text = labelSelectorFromObject(selector as LabelSelectorObject | undefined).toString()
    return text === '' ? '<none>' : text
  } catch {
    return '<error>'
  }
}

function intOrString(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string' ? String(value) : '0'
}

function printConditions(w: DescribeWriter, conditions: unknown): void {
  const items = list(conditions)
  if (items.length === 0) return
  w.write(LEVEL_0, 'Conditions:\n  Type\tStatus\tReason\n')
  w.write(LEVEL_1, '----\t------\t------\n')
  for (const c of items) w.write(LEVEL_1, `${str(c.type)} \t${str(c.status)}\t${str(c.reason)}\n`)
}

function replicaSetsText(replicaSets: readonly ReplicaSet[]): string {
  const text = replicaSets.map(rs => `${rs.metadata.name ?? ''} (${num(rs.status?.replicas)}/${num(rs.spec?.replicas)} replicas created)`).join(', ')
  return text === '' ? '<none>' : text
}

/** The ReplicaSets a deployment controls. */
export function ownedBy(owner: KubeObject, objects: readonly KubeObject[]): KubeObject[] {
  return objects.filter(o => o.metadata.ownerReferences?.some(r => r.controller === true && r.uid === owner.metadata.uid))
}

export function describeDeployment(d: Deployment, replicaSets: readonly ReplicaSet[], events: readonly KubeObject[] | undefined, now: number): string {
  const spec = obj(d.spec)
  const status = obj(d.status)
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${d.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${d.metadata.namespace ?? ''}\n`)
  w.write(LEVEL_0, `CreationTimestamp:\t${rfc1123z(d.metadata.creationTimestamp)}\n`)
  printLabels(w, 'Labels', d.metadata.labels)
  printAnnotations(w, 'Annotations', d.metadata.annotations)
  w.write(LEVEL_0, `Selector:\t${selectorText(spec.selector)}\n`)
  w.write(
    LEVEL_0,
    `Replicas:\t${num(spec.replicas)} desired | ${num(status.updatedReplicas)} updated | ${num(status.replicas)} total | ` +
      `${num(status.availableReplicas)} available | ${num(status.unavailableReplicas)} unavailable\n`,
  )
  const strategy = obj(spec.strategy)
  w.write(LEVEL_0, `StrategyType:\t${str(strategy.type)}\n`)
  w.write(LEVEL_0, `MinReadySeconds:\t${num(spec.minReadySeconds)}\n`)
  if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
    const ru = obj(strategy.rollingUpdate)
    w.write(LEVEL_0, `RollingUpdateStrategy:\t${intOrString(ru.maxUnavailable)} max unavailable, ${intOrString(ru.maxSurge)} max surge\n`)
  }
  describePodTemplate(w, spec.template)
  printConditions(w, status.conditions)
  const owned = ownedBy(d, replicaSets) as ReplicaSet[]
  const newRS = findNewReplicaSet(d, owned)
  const oldRSs = owned.filter(rs => rs !== newRS)
  w.write(LEVEL_0, `OldReplicaSets:\t${replicaSetsText(oldRSs)}\n`)
  w.write(LEVEL_0, `NewReplicaSet:\t${replicaSetsText(newRS === undefined ? [] : [newRS])}\n`)
  printEvents(w, events, now)
  return w.toString()
}

export function describeReplicaSet(rs: ReplicaSet, pods: readonly KubeObject[], events: readonly KubeObject[] | undefined, now: number): string {
  const spec = obj(rs.spec)
  const status = obj(rs.status)
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${rs.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${rs.metadata.namespace ?? ''}\n`)
  w.write(LEVEL_0, `Selector:\t${selectorText(spec.selector)}\n`)
  printLabels(w, 'Labels', rs.metadata.labels)
  printAnnotations(w, 'Annotations', rs.metadata.annotations)
  const controlledBy = controllerOf(rs)
  if (controlledBy !== undefined) w.write(LEVEL_0, `Controlled By:\t${controlledBy}\n`)
  w.write(LEVEL_0, `Replicas:\t${num(status.replicas)} current / ${num(spec.replicas)} desired\n`)
  const owned = ownedBy(rs, pods)
  const count = (phase: string): number => owned.filter(p => str(obj(p.status).phase) === phase).length
  w.write(LEVEL_0, `Pods Status:\t${count('Running')} Running / ${count('Pending')} Waiting / ${count('Succeeded')} Succeeded / ${count('Failed')} Failed\n`)
  describePodTemplate(w, spec.template)
  printConditions(w, status.conditions)
  printEvents(w, events, now)
  return w.toString()
}
