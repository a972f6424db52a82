// `kubectl rollout status|history|undo|restart|pause|resume deployment/NAME`.
//
// - status waits through watch (observe.ts) and prints kubectl's progress
//   lines until the rollout completes, the deadline is exceeded, or
//   --timeout passes; --watch=false prints the current line once.
// - history lists the revisions of the ReplicaSets the Deployment owns
//   (REVISION, CHANGE-CAUSE from kubernetes.io/change-cause); --revision=N
//   prints that revision's pod template.
// - undo is kubectl's client-side rollback: planRollback (controllers/
//   deployment-rollback.ts) picks the ReplicaSet and this sends its JSON patch.
// - restart stamps kubectl.kubernetes.io/restartedAt on the pod template;
//   pause and resume flip spec.paused.

import type { KubeObject } from '../../client/api-client.ts'
import { RESOURCES } from '../../client/api-client.ts'
import { planRollback, rolloutHistory } from '../../controllers/deployment-rollback.ts'
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
import { deploymentRolloutStatus } from './rollout-status.ts'
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

const USAGE = `Usage: kubewire rollout SUBCOMMAND deployment/NAME [-n NAMESPACE]

  status   [--watch=false] [--timeout=DURATION] [--revision=N]   wait for the rollout to finish
  history  [--revision=N]                                         revisions and their change causes
  undo     [--to-revision=N]                                      roll back to the previous (or given) revision
  restart                                                         restart the pods (a new rollout)
  pause | resume                                                  stop or continue rolling out changes`

type Sub = (io: KubectlIo, ctx: KubectlContext, target: Target, flags: ReturnType<typeof parseFlags>) => Promise<number>

interface Target {
  def: Kind
  namespace: string
  name: string
}

const id = (t: Target): string => `${qualifiedKind(t.def)}/${t.name}`

function requireDeployment(t: Target, what: string): void {
  if (t.def.kind !== 'Deployment') throw new KubectlError('EINVALID', `no ${what} has been implemented for ${t.def.kind}`)
}

async function ownedReplicaSets(ctx: KubectlContext, d: Deployment): Promise<ReplicaSet[]> {
  const list = await ctx.client.list<ReplicaSet>(RESOURCES.replicasets, d.metadata.namespace)
  return list.items.filter(rs => rs.metadata.ownerReferences?.some(r => r.controller === true && r.uid === d.metadata.uid))
}

const status: Sub = async (io, ctx, t, flags) => {
  requireDeployment(t, 'status viewer')
  const revision = flags.number('revision') ?? 0
  let last = ''
  const print = (d: Deployment): boolean => {
    const state = deploymentRolloutStatus(d, revision)
    if (state.message !== last) io.out(state.message)
    last = state.message
    return state.done
  }
  if (!flags.boolean('watch', true)) {
    print(await ctx.client.get<Deployment>(refOf(t.def), t.namespace, t.name))
    return 0
  }
  const timeoutMs = flags.number('timeout')
  await observe<Deployment>(
    ctx.client,
    refOf(t.def),
    t.namespace,
    t.name,
    { timeoutMs: timeoutMs ? timeoutMs : undefined, signal: ctx.signal },
    (d, event) => {
      if (d === undefined) {
        if (event === 'GET') throw new KubectlError('ENOTFOUND', `deployments.apps "${t.name}" not found`)
        throw new KubectlError('EFAILED', 'object has been deleted')
      }
      return print(d)
    },
  )
  return 0
}

const history: Sub = async (io, ctx, t, flags) => {
  requireDeployment(t, 'history viewer')
  const d = await ctx.client.get<Deployment>(refOf(t.def), t.namespace, t.name)
  const replicaSets = await ownedReplicaSets(ctx, d)
  const revisions = rolloutHistory(d, replicaSets)
  const wanted = flags.number('revision') ?? 0
  if (wanted > 0) {
    const entry = revisions.find(r => r.revision === wanted)
    const rs = replicaSets.find(r => r.metadata.name === entry?.replicaSet)
    if (rs === undefined) throw new KubectlError('ENOTFOUND', 'unable to find the specified revision')
    const w = new DescribeWriter()
    describePodTemplate(w, rs.spec?.template)
    io.out(`${id(t)} with revision #${wanted}\n${w.raw()}`)
    return 0
  }
  if (revisions.length === 0) {
    io.out(`${id(t)} \nNo rollout history found.`)
    return 0
  }
  const rows = revisions.map(r => {
    const cause = replicaSets.find(rs => rs.metadata.name === r.replicaSet)?.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION] || '<none>'
    return `${r.revision}\t${cause}\n`
  })
  io.out(`${id(t)} \n${tabbed('REVISION\tCHANGE-CAUSE\n' + rows.join(''))}`)
  return 0
}

const undo: Sub = async (io, ctx, t, flags) => {
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

async function flip(io: KubectlIo, ctx: KubectlContext, t: Target, verb: 'restart' | 'pause' | 'resume'): Promise<number> {
  const gerund = { restart: 'restarting', pause: 'pausing', resume: 'resuming' }[verb]
  if (t.def.kind !== 'Deployment') throw new KubectlError('EINVALID', `${qualifiedResource(t.def)} "${t.name}" ${gerund} is not supported`)
  const d: KubeObject & Deployment = await ctx.client.get<Deployment>(refOf(t.def), t.namespace, t.name)
  const paused = d.spec?.paused === true
  const fail = (why: string): KubectlError => new KubectlError('EINVALID', `${qualifiedResource(t.def)} "${t.name}" ${why}`)
  let patch: unknown
  if (verb === 'restart') {
    if (paused) throw fail("can't restart paused deployment (run rollout resume first)")
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    patch = { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: at } } } } }
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
