// `kubectl scale [--replicas=N] (TYPE NAME... | TYPE/NAME... | TYPE -l SEL |
// TYPE --all) [--current-replicas=N] [--resource-version=RV]`: through the
// scale subresource (autoscaling/v1 Scale), as kubectl's scaler does, so only
// spec.replicas changes and the Deployment / ReplicaSet controllers take it
// from there. Prints `deployment.apps/web scaled`.

import type { KubeObject } from '../../client/api-client.ts'
import type { KubectlHandler } from './context.ts'
import { defaultNamespace } from './context.ts'
import { KubectlError, reportErrors } from './errors.ts'
import { parseFlags } from './flags.ts'
import type { Kind } from './resource-kinds.ts'
import { parseResourceArgs, qualifiedKind, qualifiedResource, refOf } from './resource-kinds.ts'

const SCALE_FLAGS = {
  replicas: { type: 'int' },
  'current-replicas': { type: 'int' },
  'resource-version': { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  selector: { type: 'string', short: 'l' },
  all: { type: 'boolean' },
  timeout: { type: 'duration' },
} as const

export const scale: KubectlHandler = async (args, _command, io, ctx) => {
  const flags = parseFlags(args, SCALE_FLAGS)
  if (flags.help) {
    io.out('Usage: kubewire scale --replicas=COUNT (TYPE NAME | TYPE/NAME | TYPE -l SELECTOR | TYPE --all) [--current-replicas=N] [--resource-version=RV]')
    return 0
  }
  const replicas = flags.number('replicas')
  if (replicas === undefined) throw new KubectlError('EUSAGE', 'required flag(s) "replicas" not set')
  if (replicas < 0) throw new KubectlError('EUSAGE', 'The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0')
  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  const targets = parseResourceArgs(flags.positionals)
  if (targets.length === 0) throw new KubectlError('EUSAGE', 'You must provide one or more resources by argument or filename.')
  const errors: unknown[] = []
  const work: Array<{ def: Kind; name: string }> = []
  for (const { def, names } of targets) {
    const ns = def.namespaced ? namespace : undefined
    if (names.length > 0) {
      for (const name of names) work.push({ def, name })
    } else if (flags.boolean('all') || flags.string('selector') !== undefined) {
      const selector = flags.string('selector')
      const list = await ctx.client.list(refOf(def), ns, selector ? { labelSelector: selector } : {})
      for (const o of list.items) work.push({ def, name: o.metadata.name ?? '' })
    } else {
      throw new KubectlError('EUSAGE', 'resource(s) were provided, but no name was specified')
    }
  }
  if (work.length === 0) throw new KubectlError('EINVALID', 'no objects passed to scale')
  for (const { def, name } of work) {
    const ns = def.namespaced ? namespace : undefined
    if (def.subresources.scale === undefined) {
      errors.push(new KubectlError('EINVALID', `${qualifiedResource(def)} "${name}" cannot be scaled: ${def.resource} have no scale subresource`))
      continue
    }
    try {
      const current = flags.number('current-replicas')
      const resourceVersion = flags.string('resource-version')
      if (current !== undefined || resourceVersion !== undefined) {
        const scaleObject = await ctx.client.get<KubeObject & { spec?: { replicas?: number } }>(refOf(def), ns, name, 'scale')
        const actual = scaleObject.spec?.replicas ?? 0
        if (current !== undefined && current !== -1 && actual !== current) {
          throw new KubectlError('EINVALID', `Expected replicas to be ${current}, was ${actual}`)
        }
        if (resourceVersion !== undefined && scaleObject.metadata.resourceVersion !== resourceVersion) {
          throw new KubectlError('EINVALID', `Expected resource version to be ${resourceVersion}, was ${scaleObject.metadata.resourceVersion ?? ''}`)
        }
      }
      const patch: Record<string, unknown> = { spec: { replicas } }
      if (resourceVersion !== undefined) patch.metadata = { resourceVersion }
      await ctx.client.patch(refOf(def), ns, name, patch, 'merge', 'scale')
      io.out(`${qualifiedKind(def)}/${name} scaled`)
    } catch (err) {
      errors.push(err)
    }
  }
  return reportErrors(io, errors)
}
