// ControllerRevisions for StatefulSets and DaemonSets (Kubernetes'
// pkg/controller/history): each distinct pod template is stored once as an
// immutable ControllerRevision owned by its set, numbered in the order it
// became current; `rollout history` lists them and `rollout undo` puts one's
// template back. Pure: builds objects and decisions, writes nothing.
//
// Shape as Kubernetes has it: name `<set>-<hash>`, label
// `controller.kubernetes.io/hash`, the set's selector labels, a controller
// owner reference, and `data` = the patch that restores the template
// (`{spec: {template: {..., $patch: replace}}}`).

import type { KubeObject, OwnerReference } from '../client/api-client.ts'
import { jsonEqual } from '../api/merge-patch.ts'
import { computeHash } from './deployment-util.ts'
import type { PodTemplateSpec } from './objects.ts'

export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash'
export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash'

export interface ControllerRevision extends KubeObject {
  data?: { spec?: { template?: PodTemplateSpec & { $patch?: string } } }
  revision?: number
}

export interface RevisionOwner extends KubeObject {
  spec?: { template?: PodTemplateSpec; [field: string]: unknown }
  status?: { collisionCount?: number; [field: string]: unknown }
}

/** The revision data of a template: the patch that restores it. */
export function revisionData(template: PodTemplateSpec | undefined): ControllerRevision['data'] {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: 'replace' } } }
}

/** The template a revision restores (without the `$patch` directive). */
export function revisionTemplate(revision: ControllerRevision): PodTemplateSpec {
  const { $patch: _directive, ...template } = structuredClone(revision.data?.spec?.template ?? {})
  return template
}

/** The hash naming a revision of this template (collisionCount as for Deployments). */
export function revisionHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  return computeHash(template, collisionCount)
}

/** A new ControllerRevision (to create) for the owner's current template. */
export function newRevision(owner: RevisionOwner, ownerRef: OwnerReference, selectorLabels: Record<string, string>, revision: number): ControllerRevision {
  const template = owner.spec?.template
  const hash = revisionHash(template, owner.status?.collisionCount)
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${owner.metadata.name}-${hash}`,
      namespace: owner.metadata.namespace,
      labels: { ...selectorLabels, [REVISION_HASH_LABEL]: hash },
      ownerReferences: [ownerRef],
    },
    data: revisionData(template),
    revision,
  }
}

/** Revisions oldest first (by number, then creation, then name). */
export function sortRevisions(revisions: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revisions].sort(
    (a, b) =>
      (a.revision ?? 0) - (b.revision ?? 0) ||
      String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
      String(a.metadata.name).localeCompare(String(b.metadata.name)),
  )
}

/** The number the next new revision gets: one past the highest. */
export function nextRevisionNumber(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((max, r) => Math.max(max, r.revision ?? 0), 0) + 1
}

/** The revisions holding the same template (equal data), oldest first. */
export function equalRevisions(revisions: readonly ControllerRevision[], template: PodTemplateSpec | undefined): ControllerRevision[] {
  const data = revisionData(template)
  return sortRevisions(revisions.filter(r => jsonEqual(r.data, data)))
}

/**
 * Which revisions to delete: beyond `limit` old ones, oldest first, never one
 * named in `live` (the current and update revisions, and those pods still run).
 */
export function revisionsToPrune(revisions: readonly ControllerRevision[], limit: number, live: ReadonlySet<string>): ControllerRevision[] {
  const old = sortRevisions(revisions).filter(r => !live.has(r.metadata.name ?? ''))
  return old.slice(0, Math.max(0, old.length - Math.max(0, limit)))
}
