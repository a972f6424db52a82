// What every kubectl-like verb receives: its arguments, an output sink and a
// context holding the ApiClient. The verbs talk to the cluster only through
// that client; everything else in the context is optional so that main.ts can
// pass `{ client }` and tests can add a clock, stdin or an abort signal.

import type { ApiClient } from '../../client/api-client.ts'
import type { Discovery } from './discovery.ts'

export interface KubectlIo {
  /** One line (or block of lines) on stdout; the sink adds the newline. */
  out(text: string): void
  /** One line (or block of lines) on stderr. */
  err(text: string): void
}

export interface KubectlContext {
  client: ApiClient
  /** The kubeconfig context's namespace (default: the client's, else "default"). */
  namespace?: string
  /** Discovery and /version (api-resources, version); without it the built-in registry answers. */
  discovery?: Discovery
  /** Ends long-running verbs (get -w, rollout status, delete's wait) early; they then return 0. */
  signal?: AbortSignal
  /** What `-f -` reads (default: process.stdin). */
  stdin?: () => Promise<string>
  /** The clock for ages (default: Date.now). */
  now?: () => number
}

export type KubectlHandler = (args: string[], command: string[] | undefined, io: KubectlIo, ctx: KubectlContext) => Promise<number>

/** The namespace a command works in: -n, else the context's, else the client's, else "default". */
export function defaultNamespace(ctx: KubectlContext, flag: string | undefined): string {
  if (flag !== undefined && flag !== '') return flag
  if (ctx.namespace) return ctx.namespace
  const fromClient = (ctx.client as { namespace?: unknown }).namespace
  return typeof fromClient === 'string' && fromClient !== '' ? fromClient : 'default'
}

export function nowOf(ctx: KubectlContext): number {
  return ctx.now ? ctx.now() : Date.now()
}

export async function readStdin(ctx: KubectlContext): Promise<string> {
  if (ctx.stdin) return await ctx.stdin()
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
