// `kubectl rollout status|history|undo|restart|pause|resume
// (deployment|statefulset|daemonset)/NAME`.
//
// - status waits through watch (observe.ts) and prints kubectl's progress
//   lines (rollout-status.ts) until the rollout completes, the deadline is
//   exceeded, or --timeout passes; --watch=false prints the current line once.
// - history lists the revisions (REVISION, CHANGE-CAUSE from
//   kubernetes.io/change-cause): a Deployment's from the ReplicaSets it owns,
//   a StatefulSet's or DaemonSet's from the ControllerRevisions it controls;
//   --revision=N prints that revision's pod template.
// - undo is kubectl's client-side rollback: planRollback (controllers/
//   deployment-rollback.ts) picks a Deployment's ReplicaSet, planRevisionRollback
//   (rollout-revisions.ts) a set's ControllerRevision; a JSON patch puts the
//   template back.
// - restart stamps kubectl.kubernetes.io/restartedAt on the pod template;
//   pause and resume flip a Deployment's spec.paused.

import type { KubeObject } from '../../client/api-client.ts'
import { RESOURCES } from '../../client/api-client.ts'
import { planRollback, rolloutHistory } from '../../controllers/deployment-rollback.ts'
import type { ControllerRevision } from '../../controllers/controller-history.ts'
import type { Deployment, ReplicaSet } from '../../controllers/objects.ts'
import type { KubectlContext, KubectlHandler, KubectlIo } from './context.ts'
import { defaultNamespace } from './context.ts'
import { describePodTemplate } from './describe-containers.ts'
import { DescribeWriter } from './describe-writer.ts'
import { KubectlError } from './errors.ts'
import { parseFlags } from './flags.ts'
import { observe } from './observe.ts'
import type { Kind } from './resource-kinds.ts'
import { parseResourceArgs, qualifiedKind, qualifiedResource, refOf } from './resource-kinds.ts'
import type { RevisionOwner } from './rollout-revisions.ts'
import { controlledRevisions, historyRows, planRevisionRollback, templateOfRevision } from './rollout-revisions.ts'
import type { RolloutState } from './rollout-status.ts'
import { daemonSetRolloutStatus, deploymentRolloutStatus, statefulSetRolloutStatus } from './rollout-status.ts'
import { tabbed } from './tab-writer.ts'

export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause'
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt'

const ROLLOUT_FLAGS = {
  namespace: { type: 'string', short: 'n' },
  watch: { type: 'boolean', short: 'w' },
  timeout: { type: 'duration' },
  revision: { type: 'int' },
  'to-revision': { type: 'int' },
} as const

const USAGE = `Usage: kubewire rollout SUBCOMMAND (deployment|statefulset|daemonset)/NAME [-n NAMESPACE]

  status   [--watch=false] [--timeout=DURATION] [--revision=N]   wait for the rollout to finish
  history  [--revision=N]                                         revisions and their change causes
  undo     [--to-revision=N]                                      roll back to the previous (or given) revision
  restart                                                         restart the pods (a new rollout)
  pause | resume                                                  stop or continue rolling out changes (deployments)`

type Sub = (io: KubectlIo, ctx: KubectlContext, target: Target, flags: ReturnType<typeof parseFlags>) => Promise<number>

interface Target {
  def: Kind
  namespace: string
  name: string
}

const id = (t: Target): string => `${qualifiedKind(t.def)}/${t.name}`

/** The kinds with revision history kept in ControllerRevisions. */
const isSet = (t: Target): boolean => t.def.group === 'apps' && (t.def.kind === 'StatefulSet' || t.def.kind === 'DaemonSet')

function requireRolloutKind(t: Target, what: string): void {
  if (t.def.kind !== 'Deployment' && !isSet(t)) throw new KubectlError('EINVALID', `no ${what} has been implemented for ${t.def.kind}`)
}

async function setRevisions(ctx: KubectlContext, set: RevisionOwner): Promise<ControllerRevision[]> {
  const list = await ctx.client.list<ControllerRevision>(RESOURCES.controllerrevisions, set.metadata.namespace)
  return controlledRevisions(set, list.items)
}

function rolloutState(t: Target, object: KubeObject, revision: number): RolloutState {
  if (t.def.kind === 'StatefulSet') return statefulSetRolloutStatus(object)
  if (t.def.kind === 'DaemonSet') return daemonSetRolloutStatus(object)
  return deploymentRolloutStatus(object as Deployment, revision)
}

async function ownedReplicaSets(ctx: KubectlContext, d: Deployment): Promise<ReplicaSet[]> {
  const list = await ctx.client.list<ReplicaSet>(RESOURCES.replicasets, d.metadata.namespace)
  return list.items.filter(rs => rs.metadata.ownerReferences?.some(r => r.controller === true && r.uid === d.metadata.uid))
}

const status: Sub = async (io, ctx, t, flags) => {
  requireRolloutKind(t, 'status viewer')
  const revision = flags.number('revision') ?? 0
  let last = ''
  const print = (object: KubeObject): boolean => {
    const state = rolloutState(t, object, revision)
    if (state.message !== last) io.out(state.message)
    last = state.message
    return state.done
  }
  if (!flags.boolean('watch', true)) {
    print(await ctx.client.get(refOf(t.def), t.namespace, t.name))
    return 0
  }
  const timeoutMs = flags.number('timeout')
  await observe(
    ctx.client,
    refOf(t.def),
    t.namespace,
    t.name,
    { timeoutMs: timeoutMs ? timeoutMs : undefined, signal: ctx.signal },
    (d, event) => {
      if (d === undefined) {
        if (event === 'GET') throw new KubectlError('ENOTFOUND', `${qualifiedResource(t.def)} "${t.name}" not found`)
        throw new KubectlError('EFAILED', 'object has been deleted')
      }
      return print(d)
    },
  )
  return 0
}

function printTemplate(io: KubectlIo, t: Target, revision: number, template: unknown): void {
  const w = new DescribeWriter()
  describePodTemplate(w, template)
  io.out(`${id(t)} with revision #${revision}\n${w.raw()}`)
}

function printHistory(io: KubectlIo, t: Target, rows: ReadonlyArray<{ revision: number; changeCause: string }>): void {
  if (rows.length === 0) {
    io.out(`${id(t)} \nNo rollout history found.`)
    return
  }
  io.out(`${id(t)} \n${tabbed('REVISION\tCHANGE-CAUSE\n' + rows.map(r => `${r.revision}\t${r.changeCause}\n`).join(''))}`)
}

const setHistory: Sub = async (io, ctx, t, flags) => {
  const set = await ctx.client.get<RevisionOwner>(refOf(t.def), t.namespace, t.name)
  const revisions = await setRevisions(ctx, set)
  const wanted = flags.number('revision') ?? 0
  if (wanted > 0) {
    const template = templateOfRevision(revisions, wanted)
    if (template === undefined) throw new KubectlError('ENOTFOUND', 'unable to find the specified revision')
    printTemplate(io, t, wanted, template)
    return 0
  }
  printHistory(io, t, historyRows(revisions, CHANGE_CAUSE_ANNOTATION))
  return 0
}

const history: Sub = async (io, ctx, t, flags) => {
  requireRolloutKind(t, 'history viewer')
  if (isSet(t)) return setHistory(io, ctx, t, flags)
  const d = await ctx.client.get<Deployment>(refOf(t.def), t.namespace, t.name)
  const replicaSets = await ownedReplicaSets(ctx, d)
  const revisions = rolloutHistory(d, replicaSets)
  const wanted = flags.number('revision') ?? 0
  if (wanted > 0) {
    const entry = revisions.find(r => r.revision === wanted)
    const rs = replicaSets.find(r => r.metadata.name === entry?.replicaSet)
    if (rs === undefined) throw new KubectlError('ENOTFOUND', 'unable to find the specified revision')
    printTemplate(io, t, wanted, rs.spec?.template)
    return 0
  }
  const rows = revisions.map(r => ({
    revision: r.revision,
    changeCause: replicaSets.find(rs => rs.metadata.name === r.replicaSet)?.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION] || '<none>',
  }))
  printHistory(io, t, rows)
  return 0
}

const setUndo: Sub = async (io, ctx, t, flags) => {
  const set = await ctx.client.get<RevisionOwner>(refOf(t.def), t.namespace, t.name)
  const toRevision = flags.number('to-revision') ?? 0
  const plan = planRevisionRollback(set, await setRevisions(ctx, set), toRevision)
  if (plan.kind === 'error') throw new KubectlError('EINVALID', plan.message)
  if (plan.kind === 'skipped') {
    io.out(`${id(t)} skipped rollback (current template already matches revision ${toRevision})`)
    return 0
  }
  // No resourceVersion guard, as kubectl has none: the controller's status writes would trip it.
  await ctx.client.patch(refOf(t.def), t.namespace, t.name, [{ op: 'replace', path: '/spec/template', value: plan.template }], 'json')
  io.out(`${id(t)} rolled back`)
  return 0
}

const undo: Sub = async (io, ctx, t, flags) => {
  if (isSet(t)) return setUndo(io, ctx, t, flags)
  if (t.def.kind !== 'Deployment') throw new KubectlError('EINVALID', `no rollbacker has been implemented for "${t.def.kind}"`)
  const d = await ctx.client.get<Deployment>(refOf(t.def), t.namespace, t.name)
  const toRevision = flags.number('to-revision') ?? 0
  const plan = planRollback(d, await ownedReplicaSets(ctx, d), toRevision)
  if (plan.kind === 'error') throw new KubectlError('EINVALID', plan.message)
  if (plan.kind === 'skipped') {
    io.out(`${id(t)} skipped rollback (current template already matches revision ${toRevision})`)
    return 0
  }
  await ctx.client.patch(refOf(t.def), t.namespace, t.name, plan.jsonPatch, 'json')
  io.out(`${id(t)} rolled back`)
  return 0
}

const restartedAtPatch = (): unknown => ({
  spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } } } },
})

/** kubectl's restarter for sets stamps the template whatever the strategy (with OnDelete the pods pick it up as they are deleted). */
async function restartSet(io: KubectlIo, ctx: KubectlContext, t: Target): Promise<number> {
  await ctx.client.patch(refOf(t.def), t.namespace, t.name, restartedAtPatch(), 'merge')
  io.out(`${id(t)} restarted`)
  return 0
}

async function flip(io: KubectlIo, ctx: KubectlContext, t: Target, verb: 'restart' | 'pause' | 'resume'): Promise<number> {
  const gerund = { restart: 'restarting', pause: 'pausing', resume: 'resuming' }[verb]
  if (verb === 'restart' && isSet(t)) return restartSet(io, ctx, t)
  if (t.def.kind !== 'Deployment') throw new KubectlError('EINVALID', `${qualifiedResource(t.def)} "${t.name}" ${gerund} is not supported`)
  const d: KubeObject & Deployment = await ctx.client.get<Deployment>(refOf(t.def), t.namespace, t.name)
  const paused = d.spec?.paused === true
  const fail = (why: string): KubectlError => new KubectlError('EINVALID', `${qualifiedResource(t.def)} "${t.name}" ${why}`)
  let patch: unknown
  if (verb === 'restart') {
    if (paused) throw fail("can't restart paused deployment (run rollout resume first)")
    patch = restartedAtPatch()
  } else if (verb === 'pause') {
    if (paused) throw fail('is already paused')
    patch = { spec: { paused: true } }
  } else {
    if (!paused) throw fail('is not paused')
    patch = { spec: { paused: null } }
  }
  await ctx.client.patch(refOf(t.def), t.namespace, t.name, patch, 'merge')
  io.out(`${id(t)} ${verb === 'restart' ? 'restarted' : verb === 'pause' ? 'paused' : 'resumed'}`)
  return 0
}

const SUBCOMMANDS: Record<string, Sub> = {
  status,
  history,
  undo,
  restart: (io, ctx, t) => flip(io, ctx, t, 'restart'),
  pause: (io, ctx, t) => flip(io, ctx, t, 'pause'),
  resume: (io, ctx, t) => flip(io, ctx, t, 'resume'),
}

export const rollout: KubectlHandler = async (args, _command, io, ctx) => {
  const [subcommand, ...rest] = args
  const flags = parseFlags(rest, ROLLOUT_FLAGS)
  if (subcommand === undefined || subcommand === '-h' || subcommand === '--help' || flags.help) {
    io.out(USAGE)
    return subcommand === undefined ? 1 : 0
  }
  const sub = SUBCOMMANDS[subcommand]
  if (sub === undefined) throw new KubectlError('EUSAGE', `unknown command "${subcommand}" for "kubewire rollout"\n\n${USAGE}`)
  const targets = parseResourceArgs(flags.positionals)
  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  const all = targets.flatMap(({ def, names }) => names.map(name => ({ def, namespace, name })))
  if (all.length === 0) throw new KubectlError('EUSAGE', 'required resource not specified')
  let code = 0
  for (const target of all) code = Math.max(code, await sub(io, ctx, target, flags))
  return code
}
