// kubectl's connection flags, taken off a command line before a verb sees
// it: `--cluster C`, `--kubeconfig PATH`, `--context NAME` (each also as
// `--flag=value`). Which cluster a command talks to is main.ts's business
// (it builds ctx.client); the verbs themselves would reject these as unknown.
// `--name` is deliberately not taken: `expose --name` names the Service.

export interface GlobalFlags {
  /** The arguments left for the verb. */
  args: string[]
  cluster?: string
  kubeconfig?: string
  context?: string
}

const GLOBAL = ['cluster', 'kubeconfig', 'context'] as const

export function splitGlobalFlags(argv: readonly string[]): GlobalFlags {
  const out: GlobalFlags = { args: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const name = GLOBAL.find(g => arg === `--${g}` || arg.startsWith(`--${g}=`))
    if (name === undefined) {
      out.args.push(arg)
      continue
    }
    if (arg.includes('=')) out[name] = arg.slice(arg.indexOf('=') + 1)
    else {
      const value = argv[i + 1]
      if (value !== undefined) out[name] = value
      i++
    }
  }
  return out
}
