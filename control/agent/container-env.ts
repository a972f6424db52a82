// A container's environment as Kubernetes builds it: a base (PATH, HOSTNAME,
// HOME), then the container's `env` in order, with `$(VAR)` references to
// earlier variables expanded and `valueFrom.fieldRef` resolved from the pod.
// Pure; ConfigMap values are looked up by the caller-provided function.
import type { EnvVar, Pod } from './pod-spec.ts'
import { BASE_PATH } from '../../dataplane/process/container.ts'

export interface EnvContext {
  pod: Pod
  podIP: string
  hostIP: string
  nodeName: string
  configMapValue?: (name: string, key: string) => string | undefined
  /** Extra variables every container gets (e.g. Service environment variables). */
  extra?: Record<string, string>
}

export class EnvError extends Error {
  readonly code = 'CreateContainerConfigError'
}

export function containerEnv(vars: readonly EnvVar[] | undefined, ctx: EnvContext): Record<string, string> {
  const hostname = ctx.pod.spec.hostname ?? ctx.pod.metadata.name ?? ''
  const env: Record<string, string> = { PATH: BASE_PATH, HOSTNAME: hostname, HOME: '/root', ...ctx.extra }
  for (const v of vars ?? []) {
    if (v.value !== undefined) env[v.name] = expand(v.value, env)
    else if (v.valueFrom?.fieldRef) env[v.name] = fieldValue(v.valueFrom.fieldRef.fieldPath, ctx)
    else if (v.valueFrom?.configMapKeyRef) {
      const ref = v.valueFrom.configMapKeyRef
      const value = ctx.configMapValue?.(ref.name, ref.key)
      if (value === undefined && !ref.optional) throw new EnvError(`couldn't find key ${ref.key} in ConfigMap ${ctx.pod.metadata.namespace}/${ref.name}`)
      if (value !== undefined) env[v.name] = value
    } else env[v.name] = ''
  }
  return env
}

/** `$(NAME)` becomes the earlier variable's value; `$$(NAME)` stays literal `$(NAME)`; unknown names stay as written. */
export function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name?: string) => {
    if (match === '$$') return '$'
    return name !== undefined && name in env ? (env[name] as string) : match
  })
}

function fieldValue(path: string, ctx: EnvContext): string {
  const m = ctx.pod.metadata
  switch (path) {
    case 'metadata.name': return m.name ?? ''
    case 'metadata.namespace': return m.namespace ?? ''
    case 'metadata.uid': return m.uid ?? ''
    case 'spec.nodeName': return ctx.nodeName
    case 'spec.serviceAccountName': return 'default'
    case 'status.podIP': return ctx.podIP
    case 'status.hostIP': return ctx.hostIP
    default: {
      const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path)
      if (label) return (label[1] === 'labels' ? m.labels : m.annotations)?.[label[2] as string] ?? ''
      throw new EnvError(`unsupported fieldPath: ${path}`)
    }
  }
}
