// The claim binder's decision, pure (the part of Kubernetes' PV controller,
// pkg/controller/volume/persistentvolume, that kubewire needs).
//
// Why a loop and not the API server: in Kubernetes a claim is created
// Pending and bound by the controller manager, whoever created it (kubectl,
// the StatefulSet controller); kubewire keeps that shape, with one
// "provisioner" that always succeeds: every claim is bound at once to its
// own directory (see control/cluster/cluster-files.ts claimVolumeDir), with
// the capacity it asked for and its access modes. The same loop reclaims a
// deleted claim's directory, as a dynamically provisioned volume's default
// reclaim policy (Delete) has it. And it is the pvc-protection loop: a
// deleted claim keeps its `kubernetes.io/pvc-protection` finalizer (put on
// at create by the API server) while a scheduled, not finished pod names it.

import { jsonEqual } from '../api/merge-patch.ts'
import type { Pod } from './objects.ts'
import { isPodTerminal } from './pod-util.ts'
import type { PersistentVolumeClaim } from './stateful-set.ts'

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection'

/** The claims (`namespace/name`) a pod's volumes name. */
export function claimKeysOf(pod: Pod): string[] {
  const volumes = (pod.spec?.volumes as Array<{ persistentVolumeClaim?: { claimName?: string } }> | undefined) ?? []
  return volumes.flatMap(v => (v.persistentVolumeClaim?.claimName ? [`${pod.metadata.namespace ?? ''}/${v.persistentVolumeClaim.claimName}`] : []))
}

/** Whether a pod still uses the claim (podUsesPVC): scheduled, not finished, naming it. */
export function claimInUse(claim: PersistentVolumeClaim, pods: readonly Pod[]): boolean {
  const key = `${claim.metadata.namespace ?? ''}/${claim.metadata.name ?? ''}`
  return pods.some(p => !!p.spec?.nodeName && !isPodTerminal(p) && claimKeysOf(p).includes(key))
}

/** The finalizers a deleted claim keeps; undefined when nothing changes (still in use, or not protected). */
export function releasedFinalizers(claim: PersistentVolumeClaim, pods: readonly Pod[]): string[] | undefined {
  const finalizers = claim.metadata.finalizers ?? []
  if (!claim.metadata.deletionTimestamp || !finalizers.includes(PVC_PROTECTION_FINALIZER) || claimInUse(claim, pods)) return undefined
  return finalizers.filter(f => f !== PVC_PROTECTION_FINALIZER)
}

/** The name of the volume a claim is bound to: its directory, named as dynamic provisioning names a volume. */
export function claimVolumeName(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata.uid ?? ''}`
}

/** The status a claim should have; undefined when the stored one already says it. */
export function boundClaimStatus(claim: PersistentVolumeClaim): PersistentVolumeClaim['status'] | undefined {
  const storage = claim.spec?.resources?.requests?.storage
  const status: NonNullable<PersistentVolumeClaim['status']> = {
    ...claim.status,
    phase: 'Bound',
    accessModes: [...(claim.spec?.accessModes ?? [])],
    capacity: storage === undefined ? {} : { storage },
  }
  const current = claim.status ?? {}
  const same = current.phase === 'Bound' && jsonEqual(current.accessModes ?? [], status.accessModes) && jsonEqual(current.capacity ?? {}, status.capacity)
  return same ? undefined : status
}
