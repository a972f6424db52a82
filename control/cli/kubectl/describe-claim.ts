// `kubectl describe persistentvolumeclaim`, pure: the claim, the pods in its
// namespace (for "Used By") and its events in, kubectl's text out. Capacity
// and Access Modes are the bound volume's, so they stay empty while Pending.

import type { KubeObject } from '../../client/api-client.ts'
import { since } from './columns-shared.ts'
import { claimCapacity, claimClass } from './columns-workloads.ts'
import { DescribeWriter, LEVEL_0, LEVEL_1, list, obj, printAnnotations, printEvents, printLabels, rfc1123z, str } from './describe-writer.ts'

/** The pods that mount the claim (getPodsForPVC): by volume claimName or a generic ephemeral volume's `<pod>-<volume>` claim. */
export function podsUsingClaim(claim: KubeObject, pods: readonly KubeObject[]): string[] {
  const name = claim.metadata.name ?? ''
  return pods
    .filter(pod =>
      list(obj(pod.spec).volumes).some(v => str(obj(v.persistentVolumeClaim).claimName) === name || (v.ephemeral !== undefined && `${pod.metadata.name ?? ''}-${str(v.name)}` === name)),
    )
    .map(pod => pod.metadata.name ?? '')
}

export function describePersistentVolumeClaim(claim: KubeObject, pods: readonly KubeObject[], events: readonly KubeObject[] | undefined, now: number): string {
  const spec = obj(claim.spec)
  const status = obj(claim.status)
  const w = new DescribeWriter()
  w.write(LEVEL_0, `Name:\t${claim.metadata.name ?? ''}\n`)
  w.write(LEVEL_0, `Namespace:\t${claim.metadata.namespace ?? ''}\n`)
  w.write(LEVEL_0, `StorageClass:\t${claimClass(claim)}\n`)
  if (claim.metadata.deletionTimestamp) w.write(LEVEL_0, `Status:\tTerminating (lasts ${since(claim.metadata.deletionTimestamp, now)})\n`)
  else w.write(LEVEL_0, `Status:\t${str(status.phase)}\n`)
  w.write(LEVEL_0, `Volume:\t${str(spec.volumeName)}\n`)
  printLabels(w, 'Labels', claim.metadata.labels)
  printAnnotations(w, 'Annotations', claim.metadata.annotations)
  w.write(LEVEL_0, `Finalizers:\t[${(claim.metadata.finalizers ?? []).join(' ')}]\n`)
  const { capacity, accessModes } = claimCapacity(claim)
  w.write(LEVEL_0, `Capacity:\t${capacity}\n`)
  w.write(LEVEL_0, `Access Modes:\t${accessModes}\n`)
  if (str(spec.volumeMode) !== '') w.write(LEVEL_0, `VolumeMode:\t${str(spec.volumeMode)}\n`)
  const dataSource = spec.dataSource
  if (dataSource !== undefined && dataSource !== null) {
    const source = obj(dataSource)
    w.write(LEVEL_0, 'DataSource:\n')
    if (str(source.apiGroup) !== '') w.write(LEVEL_1, `APIGroup:\t${str(source.apiGroup)}\n`)
    w.write(LEVEL_1, `Kind:\t${str(source.kind)}\n`)
    w.write(LEVEL_1, `Name:\t${str(source.name)}\n`)
  }
  const users = podsUsingClaim(claim, pods)
  w.write(LEVEL_0, `Used By:\t${users.length === 0 ? '<none>' : users.join('\n\t')}\n`)
  const conditions = list(status.conditions)
  if (conditions.length > 0) {
    w.write(LEVEL_0, 'Conditions:\n')
    w.write(LEVEL_1, 'Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n')
    w.write(LEVEL_1, '----\t------\t-----------------\t------------------\t------\t-------\n')
    for (const c of conditions) {
      w.write(LEVEL_1, `${str(c.type)} \t${str(c.status)} \t${rfc1123z(c.lastProbeTime)} \t${rfc1123z(c.lastTransitionTime)} \t${str(c.reason)} \t${str(c.message)}\n`)
    }
  }
  printEvents(w, events, now)
  return w.toString()
}
