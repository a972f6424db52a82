// `kubectl describe TYPE [NAME_PREFIX] | TYPE/NAME [-n NS | -A] [-l SEL]
// [--show-events=false]`: reads what each describer needs through the
// ApiClient (the object's events by involvedObject field selector, a
// Deployment's ReplicaSets, a set's pods, the pods using a claim, a
// Service's EndpointSlices, a Node's pods) and
// prints the describers' text, several objects separated by blank lines.
// As in kubectl, a name that matches nothing exactly describes every object
// whose name starts with it.

import { isNotFound } from '../../api/status-error.ts'
import type { KubeObject } from '../../client/api-client.ts'
import { RESOURCES } from '../../client/api-client.ts'
import type { Deployment, ReplicaSet } from '../../controllers/objects.ts'
import type { KubectlContext, KubectlHandler } from './context.ts'
import { defaultNamespace, nowOf } from './context.ts'
import { describeCronJob, describeJob } from './describe-batch.ts'
import { describePersistentVolumeClaim } from './describe-claim.ts'
import { describeNode } from './describe-node.ts'
import { describeConfigMap, describeEndpoints, describeGeneric, describeNamespace } from './describe-other.ts'
import { describePod } from './describe-pod.ts'
import { describeService } from './describe-service.ts'
import { describeDaemonSet, describeStatefulSet } from './describe-sets.ts'
import { describeDeployment, describeReplicaSet } from './describe-workloads.ts'
import { KubectlError, reportErrors } from './errors.ts'
import { parseFlags } from './flags.ts'
import { withTypeMeta } from './output.ts'
import type { Kind } from './resource-kinds.ts'
import { parseResourceArgs, refOf } from './resource-kinds.ts'

const DESCRIBE_FLAGS = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  selector: { type: 'string', short: 'l' },
  'show-events': { type: 'boolean' },
} as const

/** The events about `object` (kubectl's SearchEvents), or undefined when not asked for. */
async function eventsFor(ctx: KubectlContext, object: KubeObject, showEvents: boolean): Promise<KubeObject[] | undefined> {
  if (!showEvents) return undefined
  const terms = [`involvedObject.name=${object.metadata.name ?? ''}`, `involvedObject.kind=${object.kind ?? ''}`]
  // Node events carry the node's name as uid (the kubelet's habit), so cluster-scoped objects match by name.
  if (object.metadata.namespace) terms.push(`involvedObject.namespace=${object.metadata.namespace}`, `involvedObject.uid=${object.metadata.uid ?? ''}`)
  const list = await ctx.client.list(RESOURCES.events, object.metadata.namespace || undefined, { fieldSelector: terms.join(',') })
  return list.items
}

/** The text of one object, with whatever its describer needs fetched. */
export async function describeObject(ctx: KubectlContext, def: Kind, object: KubeObject, showEvents = true): Promise<string> {
  const now = nowOf(ctx)
  const ns = object.metadata.namespace
  switch (def.kind) {
    case 'Pod':
      return describePod(object, await eventsFor(ctx, object, showEvents), now)
    case 'Deployment': {
      const replicaSets = await ctx.client.list<ReplicaSet>(RESOURCES.replicasets, ns)
      return describeDeployment(object as Deployment, replicaSets.items, await eventsFor(ctx, object, showEvents), now)
    }
    case 'ReplicaSet': {
      const pods = await ctx.client.list(RESOURCES.pods, ns)
      return describeReplicaSet(object as ReplicaSet, pods.items, await eventsFor(ctx, object, showEvents), now)
    }
    case 'StatefulSet':
    case 'DaemonSet': {
      const pods = await ctx.client.list(RESOURCES.pods, ns)
      const describeSet = def.kind === 'StatefulSet' ? describeStatefulSet : describeDaemonSet
      return describeSet(object, pods.items, await eventsFor(ctx, object, showEvents), now)
    }
    case 'Job':
      return describeJob(object, await eventsFor(ctx, object, showEvents), now)
    case 'CronJob':
      return describeCronJob(object, await eventsFor(ctx, object, showEvents), now)
    case 'PersistentVolumeClaim': {
      const pods = await ctx.client.list(RESOURCES.pods, ns)
      return describePersistentVolumeClaim(object, pods.items, await eventsFor(ctx, object, showEvents), now)
    }
    case 'Service': {
      const name = object.metadata.name ?? ''
      const slices = await ctx.client.list(RESOURCES.endpointslices, ns, { labelSelector: `kubernetes.io/service-name=${name}` })
      let endpoints: KubeObject | undefined
      try {
        endpoints = await ctx.client.get(RESOURCES.endpoints, ns, name)
      } catch (err) {
        if (!isNotFound(err)) throw err
      }
      return describeService(object, slices.items, endpoints, await eventsFor(ctx, object, showEvents), now)
    }
    case 'Node': {
      const pods = await ctx.client.list(RESOURCES.pods, undefined, {
        fieldSelector: `spec.nodeName=${object.metadata.name ?? ''},status.phase!=Succeeded,status.phase!=Failed`,
      })
      return describeNode(object, pods.items, await eventsFor(ctx, object, showEvents), now)
    }
    case 'Namespace':
      return describeNamespace(object)
    case 'ConfigMap':
      return describeConfigMap(object, await eventsFor(ctx, object, showEvents), now)
    case 'Endpoints':
      return describeEndpoints(object, await eventsFor(ctx, object, showEvents), now)
    default:
      return describeGeneric(object, def.kind === 'Event' ? undefined : await eventsFor(ctx, object, showEvents), now)
  }
}

export const describe: KubectlHandler = async (args, _command, io, ctx) => {
  const flags = parseFlags(args, DESCRIBE_FLAGS)
  if (flags.help) {
    io.out('Usage: kubewire describe TYPE [NAME_PREFIX] | TYPE/NAME [-n NAMESPACE | -A] [-l SELECTOR] [--show-events=false]')
    return 0
  }
  const targets = parseResourceArgs(flags.positionals)
  if (targets.length === 0) throw new KubectlError('EUSAGE', 'You must specify the type of resource to describe. Use "kubewire api-resources" for a complete list of supported resources.')
  const allNamespaces = flags.boolean('all-namespaces')
  const namespace = defaultNamespace(ctx, flags.string('namespace'))
  const showEvents = flags.boolean('show-events', true)
  const errors: unknown[] = []
  const found: Array<{ def: Kind; object: KubeObject }> = []
  for (const { def, names } of targets) {
    const ref = refOf(def)
    const ns = def.namespaced && !allNamespaces ? namespace : undefined
    if (names.length === 0) {
      const selector = flags.string('selector')
      const list = await ctx.client.list(ref, ns, selector ? { labelSelector: selector } : {})
      for (const object of list.items) found.push({ def, object: withTypeMeta(object, def) })
      continue
    }
    for (const name of names) {
      try {
        found.push({ def, object: withTypeMeta(await ctx.client.get(ref, ns, name), def) })
      } catch (err) {
        if (!isNotFound(err)) throw err
        const prefixed = (await ctx.client.list(ref, ns)).items.filter(o => (o.metadata.name ?? '').startsWith(name))
        if (prefixed.length === 0) errors.push(err)
        for (const object of prefixed) found.push({ def, object: withTypeMeta(object, def) })
      }
    }
  }
  if (found.length === 0 && errors.length === 0) {
    io.err(allNamespaces || targets.every(t => !t.def.namespaced) ? 'No resources found' : `No resources found in ${namespace} namespace.`)
    return 0
  }
  const texts: string[] = []
  for (const { def, object } of found) texts.push((await describeObject(ctx, def, object, showEvents)).replace(/\n$/, ''))
  if (texts.length > 0) io.out(texts.join('\n\n\n'))
  return reportErrors(io, errors)
}
