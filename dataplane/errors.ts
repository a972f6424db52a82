// Errors carry a stable `code` (like Node's own errors) so callers branch on the
// code, never on the message; the message is for people and names what is wrong.

export class KubewireError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KubewireError'
    this.code = code
  }
}

/** A command we spawned failed: carries the argv, exit code and stderr. */
export class CommandError extends KubewireError {
  readonly argv: readonly string[]
  readonly exitCode: number | null
  readonly stderr: string
  constructor(argv: readonly string[], exitCode: number | null, stderr: string, signal?: string | null) {
    const how = signal ? `was killed by ${signal}` : `exited with ${exitCode}`
    const detail = stderr.trim() ? `: ${stderr.trim()}` : ''
    super('ECOMMAND', `${argv.join(' ')} ${how}${detail}`)
    this.name = 'CommandError'
    this.argv = argv
    this.exitCode = exitCode
    this.stderr = stderr
  }
}
