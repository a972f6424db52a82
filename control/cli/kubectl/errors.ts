// How failures read: exactly as kubectl prints them (cmdutil.CheckErr and
// StandardErrorMessage), because users recognise and search for those texts.
//
//   Error from server (NotFound): pods "x" not found          a Status from the server
//   The Deployment "web" is invalid: spec.replicas: ...        one 422 Invalid, from its causes
//   error: the server doesn't have a resource type "foo"      a client-side error
//
// Several failures of one command (apply of many documents) are printed one
// per line, Statuses as "Error from server (...)" and the rest without the
// "error: " prefix, as kubectl's aggregate printing does.

import { StatusError, goQuote } from '../../api/status-error.ts'
import type { KubectlIo } from './context.ts'

export type KubectlErrorCode = 'EUSAGE' | 'ENOTFOUND' | 'EINVALID' | 'ETIMEOUT' | 'EFAILED'

/** A client-side failure; `message` is kubectl's text without the "error: " prefix. */
export class KubectlError extends Error {
  readonly code: KubectlErrorCode
  constructor(code: KubectlErrorCode, message: string) {
    super(message)
    this.name = 'KubectlError'
    this.code = code
  }
}

/** kubectl's AddSourceToErr: `error when creating "app.yaml": <message>`, keeping a Status a Status. */
export function withSource(verb: string, source: string | undefined, err: unknown): unknown {
  if (!source) return err
  if (err instanceof StatusError) {
    return new StatusError({ ...err.status, message: `error when ${verb} ${goQuote(source)}: ${err.status.message ?? ''}` })
  }
  const message = err instanceof Error ? err.message : String(err)
  return new KubectlError(err instanceof KubectlError ? err.code : 'EFAILED', `error when ${verb} ${goQuote(source)}: ${message}`)
}

/** StandardErrorMessage: the text for a Status error, or undefined for any other error. */
export function standardErrorMessage(err: unknown): string | undefined {
  if (!(err instanceof StatusError)) return undefined
  const status = err.status
  if (status.reason === 'Unauthorized') return `error: You must be logged in to the server (${status.message ?? 'Unauthorized'})`
  const refused = status.reason === 'ServiceUnavailable' ? /ECONNREFUSED (\S+)/.exec(status.message ?? '') : null
  if (refused !== null) return `The connection to the server ${refused[1]} was refused - did you specify the right host or port?`
  if (status.reason) return `Error from server (${status.reason}): ${err.message}`
  return `Error from server: ${err.message}`
}

function plainMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}

/** The text kubectl prints when this is the command's only error (CheckErr). */
export function errorMessage(err: unknown): string {
  if (err instanceof StatusError && err.status.reason === 'Invalid') {
    const details = err.status.details
    if (details === undefined) return err.message
    let head = 'The request is invalid'
    if (details.kind || details.name) head = `The ${details.kind ?? ''} ${goQuote(details.name ?? '')} is invalid`
    const causes = [...new Set((details.causes ?? []).map(c => `${c.field ?? ''}: ${c.message ?? ''}`))]
    if (causes.length === 0) return head
    if (causes.length === 1) return `${head}: ${causes[0]}`
    return [`${head}: `, ...causes.map(c => `* ${c}`)].join('\n')
  }
  const standard = standardErrorMessage(err)
  if (standard !== undefined) return standard
  const message = plainMessage(err)
  return message.startsWith('error: ') ? message : `error: ${message}`
}

/** The text of one error among several (MultipleErrors / messageForError). */
export function aggregateMessage(err: unknown): string {
  return standardErrorMessage(err) ?? plainMessage(err)
}

/** Prints a command's errors as kubectl does; returns the exit code (1, or 0 for none). */
export function reportErrors(io: KubectlIo, errors: readonly unknown[]): number {
  if (errors.length === 0) return 0
  if (errors.length === 1) io.err(errorMessage(errors[0]))
  else for (const err of errors) io.err(aggregateMessage(err))
  return 1
}
