// `kubectl rollout undo [--to-revision=N]`, pure: which ReplicaSet holds the
// revision, and the patch that puts its template back into the Deployment.
//
// Why this way: as in kubectl (polymorphichelpers/rollback.go), a rollback
// is the client re-applying an old template; the Deployment controller then
// finds the old ReplicaSet (same template) and rolls to it, giving it the
// next revision number. The Deployment's annotations become the
// ReplicaSet's (those copied from the Deployment when that revision was
// current), keeping the controller's own (revision, desired/max replicas,
// last-applied-configuration). Revision 0 means "the previous one".
// Messages are kubectl's.

import type { KubeObject } from '../client/api-client.ts'
import { createMergePatch } from '../api/merge-patch.ts'
import type { JsonValue } from '../api/merge-patch.ts'
import type { Deployment, PodTemplateSpec, ReplicaSet } from './objects.ts'
import { controllerRefOf, deepCopy } from './objects.ts'
import { ANNOTATIONS_TO_SKIP, POD_TEMPLATE_HASH_LABEL, equalIgnoreHash, revisionOf } from './deployment-util.ts'

export type RollbackPlan =
  /** Send `mergePatch` (or kubectl's `jsonPatch`) to the Deployment. */
  | {
      kind: 'patch'
      revision: number
      replicaSet: string
      template: PodTemplateSpec
      annotations: Record<string, string>
      mergePatch: JsonValue
      jsonPatch: Array<{ op: 'replace'; path: string; value: unknown }>
    }
  /** The template already matches: kubectl prints `message` and changes nothing. */
  | { kind: 'skipped'; revision: number; message: string }
  /** kubectl's error text. */
  | { kind: 'error'; message: string }

/**
 * Plans `rollout undo` of `deployment` to `toRevision` (0: the previous
 * revision) among `replicaSets` (those it controls are used).
 */
export function planRollback(deployment: Deployment, replicaSets: readonly ReplicaSet[], toRevision = 0): RollbackPlan {
  const name = deployment.metadata.name ?? ''
  if (toRevision < 0) return { kind: 'error', message: `unable to find specified revision ${toRevision} in history` }
  const owned = replicaSets.filter(rs => controllerRefOf(rs)?.uid === deployment.metadata.uid)

  let target: ReplicaSet | undefined
  let latest: { rs: ReplicaSet; v: number } | undefined
  let previous: { rs: ReplicaSet; v: number } | undefined
  for (const rs of owned) {
    const v = revisionOf(rs)
    if (v === undefined) continue
    if (toRevision === 0) {
      if (!latest || latest.v < v) {
        previous = latest
        latest = { rs, v }
      } else if (!previous || previous.v < v) {
        previous = { rs, v }
      }
    } else if (v === toRevision) {
      target = rs
      break
    }
  }
  if (toRevision > 0 && !target) return { kind: 'error', message: `unable to find specified revision ${toRevision} in history` }
  if (toRevision === 0) {
    if (!previous) return { kind: 'error', message: `no rollout history found for deployment "${name}"` }
    target = previous.rs
  }
  if (!target) return { kind: 'error', message: `no rollout history found for deployment "${name}"` }
  const revision = revisionOf(target) ?? 0

  if (deployment.spec?.paused) {
    return {
      kind: 'error',
      message: "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
    }
  }
  if (equalIgnoreHash(target.spec?.template, deployment.spec?.template)) {
    return { kind: 'skipped', revision, message: 'skipped rollback (current template already matches revision)' }
  }

  const template = deepCopy(target.spec?.template ?? {})
  if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL]
  const annotations: Record<string, string> = {}
  for (const [k, v] of Object.entries(deployment.metadata.annotations ?? {})) if (ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v
  for (const [k, v] of Object.entries(target.metadata.annotations ?? {})) if (!ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v

  const before = { metadata: { annotations: deployment.metadata.annotations ?? {} }, spec: { template: deployment.spec?.template ?? {} } }
  const after = { metadata: { annotations }, spec: { template } }
  return {
    kind: 'patch',
    revision,
    replicaSet: target.metadata.name ?? '',
    template,
    annotations,
    mergePatch: createMergePatch(before, after),
    jsonPatch: [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: annotations },
    ],
  }
}

/** The revisions of a deployment's ReplicaSets, oldest first (`rollout history`). */
export function rolloutHistory(deployment: KubeObject, replicaSets: readonly ReplicaSet[]): Array<{ revision: number; replicaSet: string }> {
  return replicaSets
    .filter(rs => controllerRefOf(rs)?.uid === deployment.metadata.uid)
    .map(rs => ({ revision: revisionOf(rs) ?? 0, replicaSet: rs.metadata.name ?? '' }))
    .sort((a, b) => a.revision - b.revision)
}
