// `rollout history` and `rollout undo` for StatefulSets and DaemonSets, pure:
// their history is the ControllerRevisions they control (kubectl's
// controlledHistory: the set's selector and a controller reference to its
// uid), each revision's data the patch that restores a pod template.
// kubectl's texts: "unable to find the specified revision" (history),
// "no last revision to roll back to", "unable to find specified revision N
// in history" (undo), and a skip when the template already matches.

import { labelSelectorFromObject } from '../../api/label-selector.ts'
import type { LabelSelectorObject } from '../../api/label-selector.ts'
import { jsonEqual } from '../../api/merge-patch.ts'
import type { KubeObject } from '../../client/api-client.ts'
import type { ControllerRevision } from '../../controllers/controller-history.ts'
import { revisionTemplate, sortRevisions } from '../../controllers/controller-history.ts'
import type { PodTemplateSpec } from '../../controllers/objects.ts'

export interface RevisionOwner extends KubeObject {
  spec?: { selector?: LabelSelectorObject; template?: PodTemplateSpec; [field: string]: unknown }
}

/** The revisions the set controls, oldest first. */
export function controlledRevisions(owner: RevisionOwner, revisions: readonly ControllerRevision[]): ControllerRevision[] {
  let matches: (labels: Record<string, string>) => boolean
  try {
    const selector = labelSelectorFromObject(owner.spec?.selector)
    matches = labels => selector.matches(labels)
  } catch {
    return []
  }
  const owned = revisions.filter(r => matches(r.metadata.labels ?? {}) && r.metadata.ownerReferences?.some(ref => ref.controller === true && ref.uid === owner.metadata.uid))
  return sortRevisions(owned)
}

export interface HistoryRow {
  revision: number
  changeCause: string
}

/** printHistory's rows: one per revision number, ascending, the change cause or `<none>`. */
export function historyRows(revisions: readonly ControllerRevision[], changeCauseAnnotation: string): HistoryRow[] {
  const byNumber = new Map<number, ControllerRevision>()
  for (const r of revisions) byNumber.set(r.revision ?? 0, r)
  return [...byNumber.entries()]
    .sort(([a], [b]) => a - b)
    .map(([revision, r]) => ({ revision, changeCause: r.metadata.annotations?.[changeCauseAnnotation] || '<none>' }))
}

/** The pod template a revision holds (what `history --revision=N` prints). */
export function templateOfRevision(revisions: readonly ControllerRevision[], revision: number): PodTemplateSpec | undefined {
  const found = revisions.filter(r => (r.revision ?? 0) === revision).pop()
  return found === undefined ? undefined : revisionTemplate(found)
}

export type RevisionRollback =
  | { kind: 'error'; message: string }
  | { kind: 'skipped' }
  | { kind: 'restore'; template: PodTemplateSpec; revision: number }

/** kubectl's StatefulSetRollbacker / DaemonSetRollbacker: which template to put back, if any. */
export function planRevisionRollback(owner: RevisionOwner, revisions: readonly ControllerRevision[], toRevision = 0): RevisionRollback {
  const notFound: RevisionRollback = { kind: 'error', message: `unable to find specified revision ${toRevision} in history` }
  if (toRevision < 0) return notFound
  const history = sortRevisions(revisions)
  if (toRevision === 0 && history.length <= 1) return { kind: 'error', message: 'no last revision to roll back to' }
  const target = toRevision === 0 ? history[history.length - 2] : history.find(r => (r.revision ?? 0) === toRevision)
  if (target === undefined) return notFound
  const template = revisionTemplate(target)
  if (jsonEqual(template, owner.spec?.template ?? {})) return { kind: 'skipped' }
  return { kind: 'restore', template, revision: target.revision ?? 0 }
}
