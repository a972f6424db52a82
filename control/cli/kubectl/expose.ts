// `kubectl expose (deployment|replicaset|pod|service) NAME [--port=P]
// [--target-port=T] [--type=ClusterIP|NodePort|LoadBalancer] [--name=N]
// [--protocol=TCP] [--selector=K=V,...]`: a Service selecting the object's
// pods, carrying its labels, with its port from --port or the containers'
// ports. Prints `service/NAME exposed`.

import type { KubeObject } from '../../client/api-client.ts'
import { RESOURCES } from '../../client/api-client.ts'
import type { KubectlHandler } from './context.ts'
import { defaultNamespace } from './context.ts'
import { KubectlError } from './errors.ts'
import { parseFlags } from './flags.ts'
import { parseOutput, renderData } from './output.ts'
import { parseResourceArgs, refOf } from './resource-kinds.ts'

type Json = Record<string, unknown>
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {})
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : [])

/** The pods an object stands for, as a plain map selector, or an error text. */
function selectorOf(object: KubeObject): Record<string, string> | string {
  switch (object.kind) {
    case 'Pod':
      return { ...(object.metadata.labels ?? {}) }
    case 'Service':
      return { ...(obj(obj(object.spec).selector) as Record<string, string>) }
    case 'Deployment':
    case 'ReplicaSet': {
      const selector = obj(obj(object.spec).selector)
      if (list(selector.matchExpressions).length > 0) return `the ${object.kind.toLowerCase()} has a selector with matchExpressions, which a Service cannot use`
      return { ...(obj(selector.matchLabels) as Record<string, string>) }
    }
    default:
      return `cannot expose a ${object.kind ?? 'object'}`
  }
}

/** Container ports of an object (pod spec or template), for exposing without --port. */
function containerPorts(object: KubeObject): Array<{ port: number; protocol: string; name?: string }> {
  if (object.kind === 'Service') return list(obj(object.spec).ports).map(p => ({ port: Number(p.port), protocol: String(p.protocol ?? 'TCP') }))
  const spec = object.kind === 'Pod' ? obj(object.spec) : obj(obj(obj(object.spec).template).spec)
  return list(spec.containers).flatMap(c =>
    list(c.ports).map(p => ({ port: Number(p.containerPort), protocol: String(p.protocol ?? 'TCP'), ...(typeof p.name === 'string' ? { name: p.name } : {}) })),
  )
}

export const expose: KubectlHandler = async (args, _command, io, ctx) => {
  const flags = parseFlags(args, {
    namespace: { type: 'string', short: 'n' },
    port: { type: 'string' },
    'target-port': { type: 'string' },
    type: { type: 'string' },
    name: { type: 'string' },
    protocol: { type: 'string' },
    selector: { type: 'string' },
    labels: { type: 'string', short: 'l' },
    output: { type: 'string', short: 'o' },
    'dry-run': { type: 'string' },
  })
  if (flags.help) {
    io.out('Usage: kubewire expose (deployment|replicaset|pod|service) NAME [--port=PORT] [--target-port=PORT] [--type=TYPE] [--name=NAME]')
    return 0
  }
  const targets = parseResourceArgs(flags.positionals)
  const target = targets[0]
  const name = target?.names[0]
  if (target === undefined || name === undefined || targets.length > 1 || target.names.length > 1) {
    throw new KubectlError('EUSAGE', 'You must provide one resource by argument: TYPE NAME or TYPE/NAME')
  }
  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  const object = await ctx.client.get(refOf(target.def), target.def.namespaced ? namespace : undefined, name)
  object.kind ??= target.def.kind
  let selector: Record<string, string> | string
  const selectorFlag = flags.string('selector')
  if (selectorFlag !== undefined) {
    selector = Object.fromEntries(selectorFlag.split(',').map(kv => kv.split('=') as [string, string]))
  } else {
    selector = selectorOf(object)
  }
  if (typeof selector === 'string') throw new KubectlError('EINVALID', `couldn't retrieve selectors via --selector flag or introspection: ${selector}`)
  if (Object.keys(selector).length === 0) throw new KubectlError('EINVALID', "couldn't retrieve selectors via --selector flag or introspection")

  const protocol = flags.string('protocol') ?? 'TCP'
  const targetPortFlag = flags.string('target-port')
  const targetPort = (value: string): number | string => (/^\d+$/.test(value) ? Number(value) : value)
  let ports: Json[]
  const portFlag = flags.string('port')
  if (portFlag !== undefined) {
    ports = portFlag.split(',').map((p, i, all) => ({
      ...(all.length > 1 ? { name: `port-${i + 1}` } : {}),
      port: Number(p),
      protocol,
      targetPort: targetPortFlag !== undefined ? targetPort(targetPortFlag) : Number(p),
    }))
  } else {
    const found = containerPorts(object)
    if (found.length === 0) throw new KubectlError('EINVALID', "couldn't find port via --port flag or introspection")
    ports = found.map((p, i) => ({
      ...(found.length > 1 ? { name: p.name ?? `port-${i + 1}` } : {}),
      port: p.port,
      protocol: flags.string('protocol') ?? p.protocol,
      targetPort: targetPortFlag !== undefined ? targetPort(targetPortFlag) : p.port,
    }))
  }
  const labels = flags.string('labels')
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: flags.string('name') ?? name,
      namespace,
      labels: labels ? Object.fromEntries(labels.split(',').map(kv => kv.split('=') as [string, string])) : { ...(object.metadata.labels ?? {}) },
    },
    spec: { ports, selector, ...(flags.string('type') ? { type: flags.string('type') } : {}) },
  }
  const output = parseOutput(flags.string('output'))
  if (flags.string('dry-run') === 'client') {
    io.out(output.type === 'table' ? `service/${service.metadata.name ?? ''} exposed (dry run)` : output.type === 'name' ? `service/${service.metadata.name ?? ''}` : renderData(output, service))
    return 0
  }
  const created = await ctx.client.create(RESOURCES.services, namespace, service)
  if (output.type === 'table') io.out(`service/${created.metadata.name ?? ''} exposed`)
  else if (output.type === 'name') io.out(`service/${created.metadata.name ?? ''}`)
  else io.out(renderData(output, created))
  return 0
}
