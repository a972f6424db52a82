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
// reclaim policy (Delete) has it.

import { jsonEqual } from '../api/merge-patch.ts'
import type { PersistentVolumeClaim } from './stateful-set.ts'

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
