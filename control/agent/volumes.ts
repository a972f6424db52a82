// Pod volumes on the host, shared by the pod's containers: an emptyDir is a
// directory in the pod's state directory (removed with the pod), a hostPath is
// the host's path, a configMap is a directory of files written from the
// ConfigMap's data, a persistentVolumeClaim is the claim's directory under the
// cluster's state directory (claimVolumeDir: made on first use, kept when the
// pod goes, so a replacement pod sees the same data; the control plane's
// claim binder removes it with the claim). Each container gets bind mounts at
// its mountPaths.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Mount } from '../../dataplane/process/container.ts'
import { ensureMountpoint } from '../../dataplane/process/mountpoints.ts'
import type { ContainerSpec, Pod } from './pod-spec.ts'

export class VolumeError extends Error {
  constructor(
    readonly reason: 'FailedMount' | 'CreateContainerConfigError',
    message: string,
  ) {
    super(message)
  }
  get code(): string {
    return this.reason
  }
}

export type ConfigMapData = (name: string) => Promise<Record<string, string> | undefined>

/** What the agent needs for persistentVolumeClaim volumes. */
export interface ClaimVolumes {
  /** The claim's phase (`Bound`...) and whether it is being deleted; undefined when there is no such claim. */
  lookup(name: string): Promise<{ phase: string; deleting: boolean } | undefined>
  /** The claim's directory on the host. */
  dir(name: string): string
}

/** Make every volume of the pod; returns volume name -> host path. */
export async function prepareVolumes(pod: Pod, podDir: string, configMap: ConfigMapData, claims?: ClaimVolumes): Promise<Map<string, string>> {
  const paths = new Map<string, string>()
  for (const v of pod.spec.volumes ?? []) {
    if (v.hostPath) {
      const type = v.hostPath.type ?? ''
      if (type === 'DirectoryOrCreate') mkdirSync(v.hostPath.path, { recursive: true })
      else if (type === 'Directory' && !isDir(v.hostPath.path)) {
        throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "${v.name}" : hostPath type check failed: ${v.hostPath.path} is not a directory`)
      }
      paths.set(v.name, v.hostPath.path)
    } else if (v.configMap) {
      const data = await configMap(v.configMap.name)
      if (!data && !v.configMap.optional) {
        throw new VolumeError('FailedMount', `MountVolume.SetUp failed for volume "${v.name}" : configmap "${v.configMap.name}" not found`)
      }
      const dir = join(podDir, 'volumes', 'configmap', v.name)
      mkdirSync(dir, { recursive: true })
      const items = v.configMap.items ?? Object.keys(data ?? {}).map(key => ({ key, path: key }))
      for (const item of items) {
        const value = data?.[item.key]
        if (value === undefined) continue
        const file = join(dir, item.path)
        mkdirSync(join(file, '..'), { recursive: true })
        writeFileSync(file, value)
      }
      paths.set(v.name, dir)
    } else if (v.persistentVolumeClaim) {
      const name = v.persistentVolumeClaim.claimName
      const claim = claims ? await claims.lookup(name) : undefined
      if (!claims || claim === undefined) throw new VolumeError('FailedMount', `persistentvolumeclaim "${name}" not found`)
      // The kubelet's words (desired_state_of_world_populator); the pod waits and tries again.
      const processing = `error processing PVC ${pod.metadata.namespace ?? 'default'}/${name}`
      if (claim.deleting) throw new VolumeError('FailedMount', `${processing}: PVC is being deleted`)
      if (claim.phase !== 'Bound') throw new VolumeError('FailedMount', `${processing}: PVC is not bound`)
      const dir = claims.dir(name)
      mkdirSync(dir, { recursive: true })
      paths.set(v.name, dir)
    } else {
      // emptyDir, and any volume type without host backing, is a fresh directory.
      const dir = join(podDir, 'volumes', 'empty-dir', v.name)
      mkdirSync(dir, { recursive: true })
      paths.set(v.name, dir)
    }
  }
  return paths
}

/** The container's bind mounts; creates missing mountpoints on the host (recorded in `ledger`). */
export function containerMounts(container: ContainerSpec, volumes: Map<string, string>, ledger: string): Mount[] {
  return (container.volumeMounts ?? []).map(m => {
    const base = volumes.get(m.name)
    if (base === undefined) {
      throw new VolumeError('CreateContainerConfigError', `volumeMount "${m.name}" of container "${container.name}" names no volume of the pod`)
    }
    const source = m.subPath ? join(base, m.subPath) : base
    if (m.subPath && !existsSync(source)) mkdirSync(source, { recursive: true })
    ensureMountpoint(m.mountPath, !isDir(source), ledger)
    return { source, target: m.mountPath, readOnly: m.readOnly ?? false }
  })
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}
