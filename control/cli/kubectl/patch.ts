// `kubectl patch (TYPE NAME | TYPE/NAME) -p PATCH|--patch-file FILE
// [--type strategic|merge|json] [--subresource status|scale] [-o FORMAT]`:
// the patch (YAML or JSON, as kubectl reads it) goes to the server as it is,
// which applies it atomically; prints `deployment.apps/web patched`, or
// `patched (no change)` when the server kept the object as it was.

import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import type { PatchType, Subresource } from '../../client/api-client.ts'
import type { KubectlHandler } from './context.ts'
import { defaultNamespace } from './context.ts'
import { KubectlError, reportErrors } from './errors.ts'
import { parseFlags } from './flags.ts'
import { nameOf, parseOutput, renderData, withTypeMeta } from './output.ts'
import { parseResourceArgs, refOf } from './resource-kinds.ts'

const PATCH_TYPES: readonly PatchType[] = ['json', 'merge', 'strategic']
const SUBRESOURCES: readonly Subresource[] = ['status', 'scale']

/** The patch text as JSON (kubectl's yaml.ToJSON); a json patch must be a list of operations. */
export function parsePatch(text: string, type: PatchType): unknown {
  let patch: unknown
  try {
    patch = parseYaml(text)
  } catch (err) {
    throw new KubectlError('EINVALID', `unable to parse "${text}": ${(err as Error).message.split('\n')[0]}`)
  }
  if (type === 'json' && !Array.isArray(patch)) {
    throw new KubectlError('EINVALID', `unable to parse "${text}": json: cannot unmarshal object into Go value of type jsonpatch.Patch`)
  }
  if (type !== 'json' && (patch === null || typeof patch !== 'object' || Array.isArray(patch))) {
    throw new KubectlError('EINVALID', `unable to parse "${text}": the patch must be a ${type === 'merge' ? 'JSON merge' : 'strategic merge'} patch object`)
  }
  return patch
}

export const patch: KubectlHandler = async (args, _command, io, ctx) => {
  const flags = parseFlags(args, {
    patch: { type: 'string', short: 'p' },
    'patch-file': { type: 'string' },
    type: { type: 'string' },
    subresource: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    output: { type: 'string', short: 'o' },
  })
  if (flags.help) {
    io.out('Usage: kubewire patch (TYPE NAME | TYPE/NAME) -p PATCH|--patch-file FILE [--type strategic|merge|json] [--subresource status|scale] [-o json|yaml|name]')
    return 0
  }
  const type = (flags.string('type') ?? 'strategic') as PatchType
  if (!PATCH_TYPES.includes(type)) throw new KubectlError('EUSAGE', `--type must be one of [${PATCH_TYPES.join(' ')}], not "${type}"`)
  const subresource = flags.string('subresource') as Subresource | undefined
  if (subresource !== undefined && !SUBRESOURCES.includes(subresource)) {
    throw new KubectlError('EUSAGE', `invalid subresource value: "${subresource}". Must be one of [${SUBRESOURCES.join(' ')}]`)
  }
  const inline = flags.string('patch')
  const file = flags.string('patch-file')
  if (inline !== undefined && file !== undefined) throw new KubectlError('EUSAGE', 'cannot specify --patch and --patch-file together')
  if (inline === undefined && file === undefined) throw new KubectlError('EUSAGE', 'must specify --patch or --patch-file containing the contents of the patch')
  const text = inline ?? readFileSync(file as string, 'utf8')
  const body = parsePatch(text, type)
  const output = parseOutput(flags.string('output'))
  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  const targets = parseResourceArgs(flags.positionals)
  if (targets.length === 0) throw new KubectlError('EUSAGE', 'You must provide one or more resources by argument or filename.')
  const errors: unknown[] = []
  for (const { def, names } of targets) {
    if (names.length === 0) throw new KubectlError('EUSAGE', 'resource(s) were provided, but no name was specified')
    const ns = def.namespaced ? namespace : undefined
    for (const name of names) {
      try {
        const before = await ctx.client.get(refOf(def), ns, name)
        const after = await ctx.client.patch(refOf(def), ns, name, body, type, subresource)
        const unchanged = after.metadata.resourceVersion === before.metadata.resourceVersion
        if (output.type === 'table') io.out(`${nameOf(after, def)} patched${unchanged ? ' (no change)' : ''}`)
        else if (output.type === 'name') io.out(nameOf(after, def))
        else io.out(renderData(output, withTypeMeta(after, def)))
      } catch (err) {
        errors.push(err)
      }
    }
  }
  return reportErrors(io, errors)
}
