// Structured logs for the control loops: one JSON line per record, tagged
// with the component, a summary line per reconcile (STYLE.md "Logs").

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export type LogFields = Readonly<Record<string, unknown>>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** A logger that adds `fields` to every record. */
  with(fields: LogFields): Logger
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

/** Writes JSON lines (`{"level","component",...,"msg"}`) at `level` and above. */
export function jsonLogger(
  options: { level?: LogLevel; write?: (line: string) => void; fields?: LogFields } = {},
): Logger {
  const min = order[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const base = options.fields ?? {}
  const emit =
    (level: LogLevel) =>
    (message: string, fields: LogFields = {}): void => {
      if (order[level] < min) return
      write(JSON.stringify({ time: new Date().toISOString(), level, ...base, ...fields, msg: message }, errorReplacer))
    }
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    with: fields => jsonLogger({ ...options, fields: { ...base, ...fields } }),
  }
}

/** Drops everything (tests). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  with: () => silentLogger,
}

// Errors serialise as their message (and code, when they carry one).
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return code === undefined ? value.message : `${String(code)}: ${value.message}`
  }
  return value
}
