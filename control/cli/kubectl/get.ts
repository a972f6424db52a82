// `kubectl get KIND [NAME...] | KIND/NAME... [-n NS | -A] [-l SEL]
// [--field-selector SEL] [-o wide|json|yaml|name|jsonpath=...] [-w]
// [--watch-only] [--show-labels] [-L KEY] [--sort-by JSONPATH] [--show-kind]
// [--ignore-not-found] [--no-headers]`.
//
// Tables print section by section (one per kind, blank line between, names
// prefixed with the kind when several kinds are asked for); "No resources
// found ..." goes to stderr as kubectl's does. With -w the table stays open:
// every watch event prints one more row, aligned with what came before,
// until the watch ends or the command is interrupted.

import { isNotFound } from '../../api/status-error.ts'
import type { KubeObject, WatchEvent } from '../../client/api-client.ts'
import type { KubectlHandler, KubectlIo } from './context.ts'
import { defaultNamespace, nowOf } from './context.ts'
import { KubectlError, reportErrors } from './errors.ts'
import { parseFlags } from './flags.ts'
import { renderJsonPath } from './jsonpath.ts'
import type { OutputFormat } from './output.ts'
import { listOf, nameOf, parseOutput, renderData, withTypeMeta } from './output.ts'
import type { Kind, ResourceTarget } from './resource-kinds.ts'
import { parseResourceArgs, refOf } from './resource-kinds.ts'
import type { TableOptions } from './table-printer.ts'
import { headerCells, renderRows, rowCells, tableWriter } from './table-printer.ts'

const GET_FLAGS = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  selector: { type: 'string', short: 'l' },
  'field-selector': { type: 'string' },
  output: { type: 'string', short: 'o' },
  watch: { type: 'boolean', short: 'w' },
  'watch-only': { type: 'boolean' },
  'show-labels': { type: 'boolean' },
  'label-columns': { type: 'strings', short: 'L' },
  'no-headers': { type: 'boolean' },
  'sort-by': { type: 'string' },
  'show-kind': { type: 'boolean' },
  'ignore-not-found': { type: 'boolean' },
  'request-timeout': { type: 'duration' },
  'chunk-size': { type: 'int' },
} as const

const USAGE = `Usage: kubewire get TYPE[,TYPE...] [NAME...] | TYPE/NAME... [flags]

  -n, --namespace NS        the namespace (default: the context's)
  -A, --all-namespaces      every namespace
  -l, --selector SEL        label selector (app=web,tier!=db)
      --field-selector SEL  field selector (status.phase=Running)
  -o, --output FMT          wide|json|yaml|name|jsonpath=TEMPLATE
  -w, --watch               after listing, print every change
      --watch-only          print changes only
      --show-labels         a LABELS column
  -L, --label-columns KEY   a column per label key
      --sort-by JSONPATH    sort rows (e.g. .metadata.creationTimestamp)
      --ignore-not-found    no error for names that do not exist`

interface Fetched {
  target: ResourceTarget
  objects: KubeObject[]
  /** The list's resourceVersion (for -w). */
  resourceVersion: string | undefined
}

function relaxedPath(expression: string): string {
  const trimmed = expression.trim()
  if (trimmed.startsWith('{')) return trimmed
  return `{${trimmed.startsWith('.') || trimmed.startsWith('$') ? trimmed : `.${trimmed}`}}`
}

function sortObjects(objects: KubeObject[], sortBy: string | undefined): KubeObject[] {
  if (sortBy === undefined) return objects
  const template = relaxedPath(sortBy)
  const keyed = objects.map(object => {
    const text = renderJsonPath(template, object)
    const asNumber = text !== '' && !Number.isNaN(Number(text)) ? Number(text) : undefined
    return { object, text, asNumber }
  })
  keyed.sort((a, b) => {
    if (a.asNumber !== undefined && b.asNumber !== undefined) return a.asNumber - b.asNumber
    return a.text < b.text ? -1 : a.text > b.text ? 1 : 0
  })
  return keyed.map(k => k.object)
}

function noResourcesMessage(targets: readonly ResourceTarget[], namespace: string, allNamespaces: boolean): string {
  if (allNamespaces || targets.every(t => !t.def.namespaced)) return 'No resources found'
  return `No resources found in ${namespace} namespace.`
}

export const get: KubectlHandler = async (args, _command, io, ctx) => {
  const flags = parseFlags(args, GET_FLAGS)
  if (flags.help) {
    io.out(USAGE)
    return 0
  }
  const targets = parseResourceArgs(flags.positionals)
  if (targets.length === 0) {
    throw new KubectlError('EUSAGE', 'You must specify the type of resource to get. Use "kubewire api-resources" for a complete list of supported resources.')
  }
  const allNamespaces = flags.boolean('all-namespaces')
  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  if (allNamespaces && targets.some(t => t.names.length > 0)) {
    throw new KubectlError('EUSAGE', 'a resource cannot be retrieved by name across all namespaces')
  }
  const format = parseOutput(flags.string('output'))
  const watch = flags.boolean('watch') || flags.boolean('watch-only')
  if (watch && targets.length > 1) throw new KubectlError('EUSAGE', 'you may only specify a single resource type')
  const watchedNames = targets[0]?.names.length ?? 0
  if (watch && watchedNames > 1) {
    throw new KubectlError('EUSAGE', `watch is only supported on individual resources and resource collections, but ${watchedNames} resources were found`)
  }
  const labelSelector = flags.string('selector')
  const fieldSelector = flags.string('field-selector')
  const now = nowOf(ctx)

  const errors: unknown[] = []
  const fetched: Fetched[] = []
  for (const target of targets) {
    const ref = refOf(target.def)
    const ns = target.def.namespaced && !allNamespaces ? namespace : undefined
    if (target.names.length > 0) {
      const objects: KubeObject[] = []
      for (const name of target.names) {
        try {
          objects.push(await ctx.client.get(ref, ns, name))
        } catch (err) {
          if (!(isNotFound(err) && flags.boolean('ignore-not-found'))) errors.push(err)
        }
      }
      fetched.push({ target, objects, resourceVersion: objects[objects.length - 1]?.metadata.resourceVersion })
    } else {
      const list = await ctx.client.list(ref, ns, {
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
      })
      fetched.push({ target, objects: list.items, resourceVersion: list.metadata.resourceVersion })
    }
  }
  for (const f of fetched) f.objects = sortObjects(f.objects.map(o => withTypeMeta(o, f.target.def)), flags.string('sort-by'))

  const tableOptions: TableOptions = {
    wide: format.type === 'table' && format.wide,
    withNamespace: allNamespaces,
    withKind: flags.boolean('show-kind') || targets.length > 1,
    showLabels: flags.boolean('show-labels'),
    labelColumns: flags.strings('label-columns'),
    now,
  }

  const total = fetched.reduce((n, f) => n + f.objects.length, 0)
  const writer = tableWriter()
  if (!flags.boolean('watch-only')) {
    if (format.type === 'table') {
      const sections: string[] = []
      for (const f of fetched) {
        if (f.objects.length === 0) continue
        const rows = f.objects.map(o => rowCells(f.target.def, o, tableOptions))
        if (!flags.boolean('no-headers')) rows.unshift(headerCells(f.target.def, tableOptions))
        writer.resetWidths()
        sections.push(renderRows(rows, writer))
      }
      if (sections.length > 0) io.out(sections.join('\n\n'))
      // kubectl's watch path prints no "No resources found"; the first change then brings the header.
      if (total === 0 && errors.length === 0 && !flags.boolean('ignore-not-found') && !watch) io.err(noResourcesMessage(targets, namespace, allNamespaces))
    } else if (format.type === 'name') {
      for (const f of fetched) for (const o of f.objects) io.out(nameOf(o, f.target.def))
    } else {
      const single = targets.length === 1 && (targets[0]?.names.length ?? 0) === 1
      const all = fetched.flatMap(f => f.objects)
      if (single && all.length === 1) io.out(renderData(format, all[0]))
      else if (!(single && all.length === 0)) io.out(renderData(format, listOf(all)))
    }
  }
  if (!watch) return reportErrors(io, errors)
  if (errors.length > 0) return reportErrors(io, errors)

  const only = fetched[0] as Fetched
  const names = only.target.names
  await streamChanges(io, ctx, only, {
    namespace: only.target.def.namespaced && !allNamespaces ? namespace : undefined,
    labelSelector,
    fieldSelector: names.length === 1 ? `metadata.name=${names[0] ?? ''}` : fieldSelector,
    format,
    tableOptions,
    header: (flags.boolean('watch-only') || total === 0) && !flags.boolean('no-headers'),
    writer,
    timeoutMs: flags.number('request-timeout'),
  })
  return 0
}

interface StreamOptions {
  namespace: string | undefined
  labelSelector: string | undefined
  fieldSelector: string | undefined
  format: OutputFormat
  tableOptions: TableOptions
  /** Print the header before the first row (--watch-only). */
  header: boolean
  writer: ReturnType<typeof tableWriter>
  timeoutMs: number | undefined
}

/** Prints every change after the list until the watch ends or ctx.signal fires. */
async function streamChanges(io: KubectlIo, ctx: Parameters<KubectlHandler>[3], fetched: Fetched, options: StreamOptions): Promise<void> {
  const def: Kind = fetched.target.def
  let headerDue = options.header
  const print = (event: WatchEvent): void => {
    if (event.type === 'BOOKMARK' || event.type === 'ERROR') return
    const object = withTypeMeta(event.object, def)
    const format = options.format
    if (format.type === 'table') {
      const rows = [rowCells(def, object, { ...options.tableOptions, now: nowOf(ctx) })]
      if (headerDue) rows.unshift(headerCells(def, options.tableOptions))
      headerDue = false
      io.out(renderRows(rows, options.writer))
    } else if (format.type === 'name') {
      io.out(nameOf(object, def))
    } else if (format.type === 'yaml') {
      io.out(`${renderData(format, object)}\n---`)
    } else {
      io.out(renderData(format, object))
    }
  }
  if (ctx.signal?.aborted) return
  const handle = await ctx.client.watch(
    refOf(def),
    options.namespace,
    {
      ...(fetched.resourceVersion ? { resourceVersion: fetched.resourceVersion } : {}),
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
      ...(options.timeoutMs ? { timeoutSeconds: Math.max(1, Math.ceil(options.timeoutMs / 1000)) } : {}),
    },
    print,
  )
  const onAbort = (): void => handle.stop()
  ctx.signal?.addEventListener('abort', onAbort)
  try {
    if (ctx.signal?.aborted) handle.stop()
    await handle.done
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort)
  }
}
