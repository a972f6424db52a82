// Command-line flags of the built-in runtimes, as agnhost and ingress-nginx
// take them: --name=value, --name value, and --flag (true) for a flag whose
// default is a boolean. Unknown names are kept; anything else is skipped.

/** The flags in `args` over `defaults`. */
export function flags(args, defaults) {
  const out = { ...defaults }
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(args[i])
    if (!m) continue
    const [, name, value] = m
    if (value !== undefined) out[name] = value
    else if (typeof defaults[name] === 'boolean') out[name] = true
    else out[name] = args[++i]
  }
  return out
}
