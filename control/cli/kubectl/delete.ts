// `kubectl delete (-f FILE | TYPE NAME... | TYPE/NAME... | TYPE -l SEL |
// TYPE --all) [-n NS | -A] [--grace-period=N] [--force] [--now]
// [--cascade=background|foreground|orphan] [--wait=false] [--timeout=D]
// [--ignore-not-found]`.
//
// Every object is deleted first (printing `pod "web" deleted`), then, as with
// kubectl's default --wait=true, the command waits through watch until each
// one is really gone: a pod on a node lingers while its agent stops it, a
// namespace while it is emptied, anything with finalizers until they are
// done. --timeout bounds that wait; its default is the longest grace period
// plus a minute.

import { isNotFound } from '../../api/status-error.ts'
import type { DeleteOptions, KubeObject } from '../../client/api-client.ts'
import type { KubectlHandler } from './context.ts'
import { defaultNamespace, readStdin } from './context.ts'
import { KubectlError, reportErrors, withSource } from './errors.ts'
import { parseFlags } from './flags.ts'
import { loadManifests, validateDocument } from './manifest.ts'
import { observe } from './observe.ts'
import type { Kind } from './resource-kinds.ts'
import { parseResourceArgs, qualifiedKind, refOf } from './resource-kinds.ts'

const DELETE_FLAGS = {
  filename: { type: 'strings', short: 'f' },
  recursive: { type: 'boolean', short: 'R' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  selector: { type: 'string', short: 'l' },
  'field-selector': { type: 'string' },
  all: { type: 'boolean' },
  'grace-period': { type: 'int' },
  force: { type: 'boolean' },
  now: { type: 'boolean' },
  cascade: { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'duration' },
  'ignore-not-found': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
} as const

const WAIT_MARGIN_MS = 60_000

interface Victim {
  def: Kind
  namespace: string | undefined
  name: string
  /** The source file (delete -f), for error texts. */
  source?: string
}

function propagation(cascade: string | undefined): DeleteOptions['propagationPolicy'] {
  switch (cascade) {
    case undefined:
    case 'background':
    case 'true':
      return 'Background'
    case 'foreground':
      return 'Foreground'
    case 'orphan':
    case 'false':
      return 'Orphan'
    default:
      throw new KubectlError('EUSAGE', `invalid cascade value (${cascade}). Must be "background", "foreground", or "orphan".`)
  }
}

export const deleteVerb: KubectlHandler = async (args, _command, io, ctx) => {
  const flags = parseFlags(args, DELETE_FLAGS)
  if (flags.help) {
    io.out('Usage: kubewire delete (-f FILE | TYPE NAME... | TYPE/NAME... | TYPE -l SELECTOR | TYPE --all) [-n NAMESPACE] [--grace-period=N] [--force] [--wait=false] [--timeout=DURATION]')
    return 0
  }
  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  const allNamespaces = flags.boolean('all-namespaces')
  const output = flags.string('output')
  if (output !== undefined && output !== 'name') throw new KubectlError('EUSAGE', `unable to match a printer suitable for the output format "${output}", allowed formats are: name`)
  const force = flags.boolean('force')
  let grace = flags.number('grace-period')
  if (flags.boolean('now')) {
    if (grace !== undefined && grace !== 1) throw new KubectlError('EUSAGE', '--now and --grace-period cannot be specified together')
    grace = 1
  }
  if (force && grace === undefined) grace = 0
  // kubectl turns --grace-period=0 into 1 unless --force says "really immediately".
  if (grace === 0 && !force) grace = 1
  if (grace !== undefined && grace < 0) grace = undefined
  const options: DeleteOptions = { propagationPolicy: propagation(flags.string('cascade')), ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}) }
  if (force && grace === 0) {
    io.err('Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.')
  }

  const errors: unknown[] = []
  const victims: Victim[] = []
  const files = flags.strings('filename')
  if (files.length > 0) {
    if (flags.positionals.length > 0) throw new KubectlError('EUSAGE', 'Unexpected args: ' + JSON.stringify(flags.positionals))
    const docs = await loadManifests(files, { recursive: flags.boolean('recursive'), stdin: () => readStdin(ctx) })
    for (const doc of docs) {
      try {
        const item = validateDocument(doc, { namespace, explicitNamespace: flags.has('namespace') })
        victims.push({ def: item.def, namespace: item.object.metadata.namespace, name: item.object.metadata.name ?? '', source: doc.source })
      } catch (err) {
        errors.push(err)
      }
    }
  } else {
    const targets = parseResourceArgs(flags.positionals)
    if (targets.length === 0) throw new KubectlError('EUSAGE', 'You must provide one or more resources by argument or filename.')
    const selector = flags.string('selector')
    const fieldSelector = flags.string('field-selector')
    const byQuery = flags.boolean('all') || selector !== undefined || fieldSelector !== undefined
    for (const { def, names } of targets) {
      const ns = def.namespaced && !allNamespaces ? namespace : undefined
      if (names.length > 0) {
        if (byQuery) throw new KubectlError('EUSAGE', 'name cannot be provided when a selector is specified')
        for (const name of names) victims.push({ def, namespace: ns, name })
        continue
      }
      if (!byQuery) throw new KubectlError('EUSAGE', 'resource(s) were provided, but no name was specified')
      const list = await ctx.client.list(refOf(def), ns, { ...(selector ? { labelSelector: selector } : {}), ...(fieldSelector ? { fieldSelector } : {}) })
      for (const o of list.items) victims.push({ def, namespace: def.namespaced ? o.metadata.namespace : undefined, name: o.metadata.name ?? '' })
    }
    if (victims.length === 0 && errors.length === 0) {
      io.out('No resources found')
      return 0
    }
  }

  const deleted: Array<Victim & { uid: string | undefined; graceSeconds: number }> = []
  for (const victim of victims) {
    try {
      const result: KubeObject = await ctx.client.delete(refOf(victim.def), victim.namespace, victim.name, options)
      const id = qualifiedKind(victim.def)
      io.out(output === 'name' ? `${id}/${victim.name}` : `${id} "${victim.name}" ${force && grace === 0 ? 'force deleted' : 'deleted'}`)
      const uid = result.kind === 'Status' ? (result as unknown as { details?: { uid?: string } }).details?.uid : result.metadata?.uid
      deleted.push({ ...victim, uid, graceSeconds: result.metadata?.deletionGracePeriodSeconds ?? 0 })
    } catch (err) {
      if (isNotFound(err) && flags.boolean('ignore-not-found')) continue
      errors.push(withSource('deleting', victim.source, err))
    }
  }

  if (flags.boolean('wait', true) && deleted.length > 0) {
    const longestGrace = Math.max(0, ...deleted.map(d => d.graceSeconds))
    const timeoutMs = flags.number('timeout') || longestGrace * 1000 + WAIT_MARGIN_MS
    const deadline = Date.now() + timeoutMs
    for (const d of deleted) {
      try {
        const outcome = await observe(
          ctx.client,
          refOf(d.def),
          d.namespace,
          d.name,
          { timeoutMs: Math.max(0, deadline - Date.now()), timeoutMessage: `timed out waiting for the condition on ${d.def.resource}/${d.name}`, signal: ctx.signal },
          object => object === undefined || (d.uid !== undefined && object.metadata.uid !== d.uid),
        )
        if (outcome === 'aborted') break
      } catch (err) {
        errors.push(err)
      }
    }
  }
  return reportErrors(io, errors)
}
