// `kubectl label` and `kubectl annotate`: `TYPE NAME... KEY=VALUE... KEY-...
// [--overwrite] [-l SEL | --all]`. Changes go out as a merge patch of
// metadata.labels / metadata.annotations (null removes a key), so concurrent
// writers of other fields are never overwritten. Messages are kubectl's:
// `pod/web labeled`, `not labeled`, `unlabeled`, `annotated`, and the
// --overwrite refusal.

import { validateLabelKey, validateLabelValue } from '../../api/label-selector.ts'
import type { KubeObject } from '../../client/api-client.ts'
import type { KubectlHandler } from './context.ts'
import { defaultNamespace } from './context.ts'
import { KubectlError, reportErrors } from './errors.ts'
import { parseFlags } from './flags.ts'
import { parseResourceArgs, qualifiedKind, refOf } from './resource-kinds.ts'

export interface MetadataChanges {
  set: Map<string, string>
  remove: string[]
}

/** Splits `KEY=VALUE` / `KEY-` arguments from resource arguments. */
export function splitChanges(positionals: readonly string[], field: 'labels' | 'annotations'): { resources: string[]; changes: MetadataChanges } {
  const resources: string[] = []
  const changes: MetadataChanges = { set: new Map(), remove: [] }
  for (const arg of positionals) {
    const eq = arg.indexOf('=')
    if (eq > 0) {
      const key = arg.slice(0, eq)
      const value = arg.slice(eq + 1)
      const problems = validateLabelKey(key)
      if (field === 'labels') problems.push(...validateLabelValue(value))
      if (problems.length > 0) throw new KubectlError('EUSAGE', `invalid ${field === 'labels' ? 'label' : 'annotation'} value: "${arg}": ${problems.join('; ')}`)
      changes.set.set(key, value)
    } else if (arg.endsWith('-') && arg.length > 1 && resources.length > 0) {
      changes.remove.push(arg.slice(0, -1))
    } else {
      resources.push(arg)
    }
  }
  if (changes.set.size === 0 && changes.remove.length === 0) {
    throw new KubectlError('EUSAGE', `at least one ${field === 'labels' ? 'label' : 'annotation'} update is required`)
  }
  return { resources, changes }
}

function editor(field: 'labels' | 'annotations'): KubectlHandler {
  const singular = field === 'labels' ? 'label' : 'annotation'
  const done = field === 'labels' ? 'labeled' : 'annotated'
  return async (args, _command, io, ctx) => {
    const flags = parseFlags(args, {
      namespace: { type: 'string', short: 'n' },
      overwrite: { type: 'boolean' },
      all: { type: 'boolean' },
      selector: { type: 'string', short: 'l' },
      'resource-version': { type: 'string' },
    })
    if (flags.help) {
      io.out(`Usage: kubewire ${singular === 'label' ? 'label' : 'annotate'} (TYPE NAME... | TYPE/NAME...) KEY=VALUE... KEY-... [--overwrite] [-l SELECTOR | --all]`)
      return 0
    }
    const { resources, changes } = splitChanges(flags.positionals, field)
    const namespace = defaultNamespace(ctx, flags.string('namespace'))
    const overwrite = flags.boolean('overwrite')
    const errors: unknown[] = []
    for (const { def, names } of parseResourceArgs(resources)) {
      const ns = def.namespaced ? namespace : undefined
      let objects: KubeObject[]
      if (names.length > 0) objects = await Promise.all(names.map(name => ctx.client.get(refOf(def), ns, name)))
      else if (flags.boolean('all') || flags.string('selector')) {
        const selector = flags.string('selector')
        objects = (await ctx.client.list(refOf(def), ns, selector ? { labelSelector: selector } : {})).items
      } else throw new KubectlError('EUSAGE', 'resource(s) were provided, but no name was specified')
      for (const object of objects) {
        const name = object.metadata.name ?? ''
        const before = { ...(object.metadata[field] ?? {}) }
        if (!overwrite) {
          const clashes = [...changes.set].filter(([k, v]) => before[k] !== undefined && before[k] !== v)
          if (clashes.length > 0) {
            const [key] = clashes[0] as [string, string]
            errors.push(
              new KubectlError(
                'EINVALID',
                field === 'labels'
                  ? `'${key}' already has a value (${before[key] ?? ''}), and --overwrite is false`
                  : `--overwrite is false but found the following declared annotation(s): ${clashes.map(([k]) => `'${k}' already has a value (${before[k] ?? ''})`).join('; ')}`,
              ),
            )
            continue
          }
        }
        const after = { ...before }
        const patch: Record<string, string | null> = {}
        for (const [k, v] of changes.set) {
          after[k] = v
          if (before[k] !== v) patch[k] = v
        }
        for (const k of changes.remove) {
          if (before[k] === undefined) {
            if (field === 'labels') io.out(`label "${k}" not found.`)
            continue
          }
          delete after[k]
          patch[k] = null
        }
        let message = done
        if (Object.keys(patch).length === 0) message = field === 'labels' ? 'not labeled' : done
        else if (field === 'labels' && !overwrite && Object.keys(after).length < Object.keys(before).length) message = 'unlabeled'
        try {
          if (Object.keys(patch).length > 0) {
            const metadata: Record<string, unknown> = { [field]: patch }
            const resourceVersion = flags.string('resource-version')
            if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion
            await ctx.client.patch(refOf(def), ns, name, { metadata }, 'merge')
          }
          io.out(`${qualifiedKind(def)}/${name} ${message}`)
        } catch (err) {
          errors.push(err)
        }
      }
    }
    return reportErrors(io, errors)
  }
}

export const label: KubectlHandler = editor('labels')
export const annotate: KubectlHandler = editor('annotations')
