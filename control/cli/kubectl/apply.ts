// `kubectl apply -f FILE|DIR|-`: client-side apply. Each object is read from
// the server; a missing one is created (carrying its configuration in the
// last-applied-configuration annotation), an existing one gets the three-way
// merge patch of apply-patch.ts, sent with the live resourceVersion as a
// precondition and recomputed when someone wrote in between.
//
// Documents are applied in order and each on its own: one that fails
// (locally or on the server) is reported at the end and the others still go
// in, as kubectl does. A YAML syntax error stops everything before any write.

import { isAlreadyExists, isConflict, isNotFound } from '../../api/status-error.ts'
import type { JsonObject } from '../../api/merge-patch.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { lastApplied, threeWayMergePatch, isEmptyPatch, withLastApplied, LAST_APPLIED_ANNOTATION } from './apply-patch.ts'
import type { KubectlHandler } from './context.ts'
import { defaultNamespace, readStdin } from './context.ts'
import { KubectlError, reportErrors, withSource } from './errors.ts'
import { parseFlags } from './flags.ts'
import { loadManifests, validateDocument } from './manifest.ts'
import type { ManifestObject } from './manifest.ts'
import { qualifiedKind, refOf } from './resource-kinds.ts'

const MAX_CONFLICT_RETRIES = 5

export const FILE_FLAGS = {
  filename: { type: 'strings', short: 'f' },
  recursive: { type: 'boolean', short: 'R' },
  namespace: { type: 'string', short: 'n' },
} as const

export type ApplyResult = 'created' | 'configured' | 'unchanged'

/** Applies one validated object; returns what happened. */
export async function applyObject(
  client: Parameters<KubectlHandler>[3]['client'],
  item: ManifestObject,
  warn: (text: string) => void,
  dryRun = false,
): Promise<ApplyResult> {
  const ref = refOf(item.def)
  const namespace = item.def.namespaced ? item.object.metadata.namespace : undefined
  const name = item.object.metadata.name ?? ''
  const modified = withLastApplied(item.object)
  for (let attempt = 0; ; attempt++) {
    let current: KubeObject
    try {
      current = await client.get(ref, namespace, name)
    } catch (err) {
      if (!isNotFound(err)) throw withSource('retrieving current configuration of', item.doc.source, err)
      if (dryRun) return 'created'
      try {
        await client.create(ref, namespace, modified)
        return 'created'
      } catch (createErr) {
        if (isAlreadyExists(createErr) && attempt < MAX_CONFLICT_RETRIES) continue
        throw withSource('creating', item.doc.source, createErr)
      }
    }
    const original = lastApplied(current)
    if (original === undefined && current.metadata.annotations?.[LAST_APPLIED_ANNOTATION] === undefined && attempt === 0) {
      warn(
        `Warning: resource ${item.def.resource}/${name} is missing the ${LAST_APPLIED_ANNOTATION} annotation which is required by kubectl apply. ` +
          'kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. ' +
          'The missing annotation will be patched automatically.',
      )
    }
    const patch = threeWayMergePatch(original, modified, current)
    if (isEmptyPatch(patch)) return 'unchanged'
    if (dryRun) return 'configured'
    const metadata = (patch.metadata ?? {}) as JsonObject
    patch.metadata = { ...metadata, resourceVersion: current.metadata.resourceVersion ?? null }
    try {
      await client.patch(ref, namespace, name, patch, 'merge')
      return 'configured'
    } catch (err) {
      if ((isConflict(err) || isNotFound(err)) && attempt < MAX_CONFLICT_RETRIES) continue
      throw withSource('patching', item.doc.source, err)
    }
  }
}

export const apply: KubectlHandler = async (args, _command, io, ctx) => {
  const flags = parseFlags(args, {
    ...FILE_FLAGS,
    output: { type: 'string', short: 'o' },
    'dry-run': { type: 'string' },
    validate: { type: 'string' },
  })
  if (flags.help) {
    io.out('Usage: kubewire apply -f FILENAME|DIR|- [-R] [-n NAMESPACE] [-o name] [--dry-run=none|client]')
    return 0
  }
  const files = flags.strings('filename')
  if (files.length === 0) throw new KubectlError('EUSAGE', 'must specify one of -f and -k')
  if (flags.positionals.length > 0) throw new KubectlError('EUSAGE', `Unexpected args: [${flags.positionals.join(' ')}]`)
  const output = flags.string('output')
  if (output !== undefined && output !== 'name') throw new KubectlError('EUSAGE', `unable to match a printer suitable for the output format "${output}", allowed formats are: name`)
  const dryRunFlag = flags.string('dry-run') ?? 'none'
  if (!['none', 'client'].includes(dryRunFlag)) throw new KubectlError('EUSAGE', `Invalid dry-run value (${dryRunFlag}). Must be "none" or "client".`)
  const dryRun = dryRunFlag === 'client'

  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  const docs = await loadManifests(files, { recursive: flags.boolean('recursive'), stdin: () => readStdin(ctx) })
  const errors: unknown[] = []
  let applied = 0
  for (const doc of docs) {
    let item: ManifestObject
    try {
      item = validateDocument(doc, { namespace, explicitNamespace: flags.has('namespace') })
    } catch (err) {
      errors.push(err)
      continue
    }
    try {
      const result = await applyObject(ctx.client, item, text => io.err(text), dryRun)
      const id = `${qualifiedKind(item.def)}/${item.object.metadata.name ?? ''}`
      io.out(output === 'name' ? id : `${id} ${result}${dryRun ? ' (dry run)' : ''}`)
      applied++
    } catch (err) {
      errors.push(err)
    }
  }
  if (applied === 0 && errors.length === 0) throw new KubectlError('EINVALID', 'no objects passed to apply')
  return reportErrors(io, errors)
}
