// `kubectl set image (TYPE NAME | TYPE/NAME) CONTAINER=IMAGE ... [--all]`:
// changes container images of Deployments, ReplicaSets, StatefulSets,
// DaemonSets, Jobs and CronJobs (their pod template) and pods, through a strategic merge patch keyed by container
// name, so nothing else in the containers is touched. `*=IMAGE` sets every
// container. Prints `deployment.apps/web image updated`; an object whose
// images already match prints nothing, as kubectl does.

import type { KubeObject } from '../../client/api-client.ts'
import type { KubectlHandler } from './context.ts'
import { defaultNamespace } from './context.ts'
import { KubectlError, reportErrors } from './errors.ts'
import { parseFlags } from './flags.ts'
import type { Kind } from './resource-kinds.ts'
import { parseResourceArgs, qualifiedKind, refOf } from './resource-kinds.ts'

type Json = Record<string, unknown>
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {})

/** Where a kind keeps its pod spec: a path of keys from the object. */
function podSpecPath(def: Kind): string[] | undefined {
  if (def.kind === 'Pod') return ['spec']
  if (['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job'].includes(def.kind)) return ['spec', 'template', 'spec']
  if (def.kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template', 'spec']
  return undefined
}

/** The strategic merge patch setting `images` (container name or "*" → image); undefined when nothing changes. */
export function imagePatch(object: KubeObject, path: readonly string[], images: ReadonlyMap<string, string>): { patch: Json | undefined; unknown: string[] } {
  let spec: unknown = object
  for (const key of path) spec = obj(spec)[key]
  const changes: Record<string, Json[]> = {}
  const seen = new Set<string>()
  for (const field of ['initContainers', 'containers']) {
    const containers = Array.isArray(obj(spec)[field]) ? (obj(spec)[field] as unknown[]).map(obj) : []
    for (const c of containers) {
      const name = String(c.name ?? '')
      const image = images.get(name) ?? images.get('*')
      if (image === undefined) continue
      seen.add(name)
      if (c.image !== image) (changes[field] ??= []).push({ name, image })
    }
  }
  const unknown = [...images.keys()].filter(name => name !== '*' && !seen.has(name))
  if (Object.keys(changes).length === 0) return { patch: undefined, unknown }
  let patch: Json = changes
  for (const key of [...path].reverse()) patch = { [key]: patch }
  return { patch, unknown }
}

export const setVerb: KubectlHandler = async (args, _command, io, ctx) => {
  const [what, ...rest] = args
  if (what !== 'image') throw new KubectlError('EUSAGE', `unknown command "${what ?? ''}" for "kubewire set" (only "image" is supported)`)
  const flags = parseFlags(rest, { namespace: { type: 'string', short: 'n' }, all: { type: 'boolean' }, selector: { type: 'string', short: 'l' } })
  if (flags.help) {
    io.out('Usage: kubewire set image (TYPE NAME | TYPE/NAME) CONTAINER=IMAGE [CONTAINER=IMAGE...] [-n NAMESPACE]')
    return 0
  }
  const pairs = flags.positionals.filter(p => p.includes('='))
  const resources = flags.positionals.filter(p => !p.includes('='))
  if (pairs.length === 0) throw new KubectlError('EUSAGE', 'at least one image update is required')
  const images = new Map<string, string>()
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    images.set(pair.slice(0, eq), pair.slice(eq + 1))
  }
  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  const errors: unknown[] = []
  for (const { def, names } of parseResourceArgs(resources)) {
    const path = podSpecPath(def)
    const ns = def.namespaced ? namespace : undefined
    let objects: KubeObject[]
    if (names.length > 0) objects = await Promise.all(names.map(name => ctx.client.get(refOf(def), ns, name)))
    else if (flags.boolean('all') || flags.string('selector')) {
      const selector = flags.string('selector')
      objects = (await ctx.client.list(refOf(def), ns, selector ? { labelSelector: selector } : {})).items
    } else throw new KubectlError('EUSAGE', 'resource(s) were provided, but no name was specified')
    for (const object of objects) {
      const name = object.metadata.name ?? ''
      if (path === undefined) {
        errors.push(new KubectlError('EINVALID', `${qualifiedKind(def)}/${name} has no pod template to set images in`))
        continue
      }
      const { patch, unknown } = imagePatch(object, path, images)
      if (unknown.length > 0) {
        errors.push(new KubectlError('ENOTFOUND', `unable to find container named "${unknown[0] ?? ''}"`))
        continue
      }
      if (patch === undefined) continue
      try {
        await ctx.client.patch(refOf(def), ns, name, patch, 'strategic')
        io.out(`${qualifiedKind(def)}/${name} image updated`)
      } catch (err) {
        errors.push(err)
      }
    }
  }
  return reportErrors(io, errors)
}
