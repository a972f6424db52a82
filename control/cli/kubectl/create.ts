// `kubectl create`: `-f FILE|DIR|-` (every document created, an existing one
// an AlreadyExists error; --save-config adds the last-applied annotation), and
// the generators `create namespace NAME`, `create deployment NAME
// --image=IMG [--replicas=N] [--port=P] [-- COMMAND...]` and `create
// configmap NAME --from-literal=K=V [--from-file=PATH]`. Generators accept
// `--dry-run=client -o yaml|json` to print the object instead.

import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import type { KubeObject } from '../../client/api-client.ts'
import { withLastApplied } from './apply-patch.ts'
import type { KubectlContext, KubectlHandler, KubectlIo } from './context.ts'
import { defaultNamespace, readStdin } from './context.ts'
import { KubectlError, reportErrors, withSource } from './errors.ts'
import { parseFlags } from './flags.ts'
import type { Flags } from './flags.ts'
import { loadManifests, validateDocument } from './manifest.ts'
import { nameOf, parseOutput, renderData } from './output.ts'
import type { Kind } from './resource-kinds.ts'
import { lookupResource, qualifiedKind, refOf } from './resource-kinds.ts'

/** The annotation kubectl puts on a Job started by hand from a CronJob. */
export const INSTANTIATE_ANNOTATION = 'cronjob.kubernetes.io/instantiate'

const COMMON_FLAGS = {
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  'dry-run': { type: 'string' },
  'save-config': { type: 'boolean' },
  validate: { type: 'string' },
} as const

/** A container name from an image, as kubectl derives it: `registry/nginx:1.25` → `nginx`. */
export function containerNameFor(image: string): string {
  let name = image.split('/').pop() ?? image
  name = name.split('@')[0] ?? name
  name = name.split(':')[0] ?? name
  return name.replace(/_/g, '-')
}

/** What `create deployment` makes. */
export function deploymentFor(name: string, images: readonly string[], options: { replicas?: number; port?: number; command?: readonly string[] }): KubeObject {
  const used = new Set<string>()
  const containers = images.map(image => {
    let container = containerNameFor(image)
    for (let i = 2; used.has(container); i++) container = `${containerNameFor(image)}-${i}`
    used.add(container)
    return {
      name: container,
      image,
      ...(options.command && options.command.length > 0 && images.length === 1 ? { command: [...options.command] } : {}),
      ...(options.port !== undefined ? { ports: [{ containerPort: options.port }] } : {}),
      resources: {},
    }
  })
  const labels = { app: name }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: labels },
      strategy: {},
      template: { metadata: { labels }, spec: { containers } },
    },
  }
}

/** What `create job NAME --image=IMG [-- COMMAND]` makes: one container named after the Job, restartPolicy Never. */
export function jobFor(name: string, image: string, command?: readonly string[]): KubeObject {
  const container = { name, image, ...(command && command.length > 0 ? { command: [...command] } : {}), resources: {} }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { template: { metadata: {}, spec: { containers: [container], restartPolicy: 'Never' } } },
  }
}

/**
 * What `create job NAME --from=cronjob/CJ` makes (createJobFromCronJob): the
 * job template's spec, labels and annotations plus
 * cronjob.kubernetes.io/instantiate=manual, and a controller reference to
 * the CronJob (without blockOwnerDeletion, as kubectl leaves it out).
 */
export function jobFromCronJob(name: string, cronJob: KubeObject): KubeObject {
  const template = (cronJob.spec as { jobTemplate?: { metadata?: KubeObject['metadata']; spec?: unknown } } | undefined)?.jobTemplate ?? {}
  const metadata: KubeObject['metadata'] = {
    name,
    annotations: { [INSTANTIATE_ANNOTATION]: 'manual', ...(template.metadata?.annotations ?? {}) },
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cronJob.metadata.name ?? '', uid: cronJob.metadata.uid ?? '', controller: true }],
  }
  const labels = template.metadata?.labels
  if (labels && Object.keys(labels).length > 0) metadata.labels = { ...labels }
  return { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: structuredClone(template.spec ?? {}) }
}

// --from=TYPE/NAME as kubectl's resource builder reads it; a bare TYPE means the only one of that type.
async function fetchFrom(ctx: KubectlContext, from: string, namespace: string): Promise<KubeObject> {
  const slash = from.indexOf('/')
  const def = lookupResource(slash < 0 ? from : from.slice(0, slash))
  const ns = def.namespaced ? namespace : undefined
  let source: KubeObject
  if (slash < 0) {
    const items = (await ctx.client.list(refOf(def), ns)).items
    if (items.length !== 1) throw new KubectlError('EFAILED', 'from must be an existing cronjob')
    source = items[0]!
  } else {
    const name = from.slice(slash + 1)
    if (name === '') throw new KubectlError('EUSAGE', 'arguments in resource/name form must have a single resource and name')
    source = await ctx.client.get(refOf(def), ns, name)
  }
  // kubectl type-switches on the decoded object: anything else is "*v1.Deployment" and the like.
  if (def.group !== 'batch' || def.kind !== 'CronJob') throw new KubectlError('EFAILED', `unknown object type *${def.version}.${def.kind}`)
  return source
}

async function createOne(io: KubectlIo, ctx: KubectlContext, def: Kind, object: KubeObject, flags: Flags): Promise<number> {
  const format = flags.string('output')
  const dryRun = flags.string('dry-run') ?? 'none'
  if (!['none', 'client', 'server'].includes(dryRun)) throw new KubectlError('EUSAGE', `Invalid dry-run value (${dryRun}). Must be "none", "server", or "client".`)
  const toCreate = flags.boolean('save-config') ? withLastApplied(object) : object
  if (dryRun === 'client') {
    const output = parseOutput(format)
    // kubectl shows a namespace in a dry run only when one was asked for.
    const shown = structuredClone(toCreate)
    if (!flags.has('namespace')) delete shown.metadata.namespace
    if (output.type === 'table') io.out(`${nameOf(object, def)} created (dry run)`)
    else if (output.type === 'name') io.out(nameOf(object, def))
    else io.out(renderData(output, shown))
    return 0
  }
  const created = await ctx.client.create(refOf(def), def.namespaced ? object.metadata.namespace : undefined, toCreate)
  const output = parseOutput(format)
  if (output.type === 'table') io.out(`${nameOf(created, def)} created`)
  else if (output.type === 'name') io.out(nameOf(created, def))
  else io.out(renderData(output, created))
  return 0
}

async function fromFiles(io: KubectlIo, ctx: KubectlContext, flags: Flags): Promise<number> {
  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  const docs = await loadManifests(flags.strings('filename'), { recursive: flags.boolean('recursive'), stdin: () => readStdin(ctx) })
  const errors: unknown[] = []
  for (const doc of docs) {
    try {
      const item = validateDocument(doc, { namespace, explicitNamespace: flags.has('namespace'), allowGenerateName: true })
      const object = flags.boolean('save-config') ? withLastApplied(item.object) : item.object
      const created = await ctx.client.create(refOf(item.def), item.def.namespaced ? item.object.metadata.namespace : undefined, object).catch(err => {
        throw withSource('creating', doc.source, err)
      })
      io.out(flags.string('output') === 'name' ? nameOf(created, item.def) : `${qualifiedKind(item.def)}/${created.metadata.name ?? ''} created`)
    } catch (err) {
      errors.push(err)
    }
  }
  return reportErrors(io, errors)
}

const GENERATORS: Record<string, (io: KubectlIo, ctx: KubectlContext, args: string[], command: string[] | undefined) => Promise<number>> = {
  async namespace(io, ctx, args) {
    const flags = parseFlags(args, COMMON_FLAGS)
    const [name, ...extra] = flags.positionals
    if (name === undefined || extra.length > 0) throw new KubectlError('EUSAGE', 'exactly one NAME is required, got ' + flags.positionals.length)
    return await createOne(io, ctx, lookupResource('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, flags)
  },
  async deployment(io, ctx, args, command) {
    const flags = parseFlags(args, { ...COMMON_FLAGS, image: { type: 'strings' }, replicas: { type: 'int' }, port: { type: 'int' } })
    const [name, ...extra] = flags.positionals
    if (name === undefined || extra.length > 0) throw new KubectlError('EUSAGE', 'exactly one NAME is required, got ' + flags.positionals.length)
    const images = flags.strings('image')
    if (images.length === 0) throw new KubectlError('EUSAGE', 'required flag(s) "image" not set')
    if (command && command.length > 0 && images.length > 1) throw new KubectlError('EUSAGE', 'cannot specify multiple --image options and command')
    const object = deploymentFor(name, images, {
      ...(flags.number('replicas') !== undefined ? { replicas: flags.number('replicas') } : {}),
      ...(flags.number('port') !== undefined ? { port: flags.number('port') } : {}),
      ...(command ? { command } : {}),
    })
    object.metadata.namespace = defaultNamespace(ctx, flags.string('namespace'))
    return await createOne(io, ctx, lookupResource('deployments'), object, flags)
  },
  async configmap(io, ctx, args) {
    const flags = parseFlags(args, { ...COMMON_FLAGS, 'from-literal': { type: 'strings' }, 'from-file': { type: 'strings' } })
    const [name, ...extra] = flags.positionals
    if (name === undefined || extra.length > 0) throw new KubectlError('EUSAGE', 'exactly one NAME is required, got ' + flags.positionals.length)
    const data: Record<string, string> = {}
    for (const literal of flags.strings('from-literal')) {
      const eq = literal.indexOf('=')
      if (eq <= 0) throw new KubectlError('EUSAGE', `invalid literal source ${literal}, expected key=value`)
      data[literal.slice(0, eq)] = literal.slice(eq + 1)
    }
    for (const spec of flags.strings('from-file')) {
      const eq = spec.indexOf('=')
      const [key, path] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [basename(spec), spec]
      data[key] = await readFile(path, 'utf8')
    }
    const object: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: defaultNamespace(ctx, flags.string('namespace')) }, data }
    return await createOne(io, ctx, lookupResource('configmaps'), object, flags)
  },
}
GENERATORS.job = async (io, ctx, args, command) => {
  const flags = parseFlags(args, { ...COMMON_FLAGS, image: { type: 'string' }, from: { type: 'string' } })
  const [name, ...extra] = flags.positionals
  if (name === undefined || extra.length > 0) throw new KubectlError('EUSAGE', 'exactly one NAME is required, got ' + flags.positionals.length)
  const image = flags.string('image') ?? ''
  const from = flags.string('from') ?? ''
  if ((image === '') === (from === '')) throw new KubectlError('EINVALID', 'either --image or --from must be specified')
  if (command && command.length > 0 && from !== '') throw new KubectlError('EINVALID', 'cannot specify --from and command')
  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  const object = image !== '' ? jobFor(name, image, command) : jobFromCronJob(name, await fetchFrom(ctx, from, namespace))
  object.metadata.namespace = namespace
  return await createOne(io, ctx, lookupResource('jobs'), object, flags)
}
GENERATORS.ns = GENERATORS.namespace as (typeof GENERATORS)[string]
GENERATORS.deploy = GENERATORS.deployment as (typeof GENERATORS)[string]
GENERATORS.cm = GENERATORS.configmap as (typeof GENERATORS)[string]

export const create: KubectlHandler = async (args, command, io, ctx) => {
  const [first, ...rest] = args
  if (first !== undefined && !first.startsWith('-')) {
    const generator = GENERATORS[first]
    if (generator === undefined) {
      throw new KubectlError('EUSAGE', `unknown resource "${first}" for "kubewire create" (supported: namespace, deployment, configmap, job; or -f FILE)`)
    }
    return await generator(io, ctx, rest, command)
  }
  const flags = parseFlags(args, { ...COMMON_FLAGS, filename: { type: 'strings', short: 'f' }, recursive: { type: 'boolean', short: 'R' } })
  if (flags.help) {
    io.out(`Usage: kubewire create -f FILENAME|DIR|- [-R] [--save-config]
       kubewire create namespace NAME
       kubewire create deployment NAME --image=IMAGE [--replicas=N] [--port=PORT] [-- COMMAND [ARG...]]
       kubewire create configmap NAME [--from-literal=KEY=VALUE] [--from-file=[KEY=]PATH]
       kubewire create job NAME --from=cronjob/NAME | --image=IMAGE [-- COMMAND [ARG...]]`)
    return 0
  }
  if (flags.strings('filename').length === 0) throw new KubectlError('EUSAGE', 'must specify one of -f and -k')
  return await fromFiles(io, ctx, flags)
}
