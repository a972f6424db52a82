// `kubectl version [--client] [-o json|yaml]`: this CLI's Kubernetes API
// level and the server's /version (through ctx.discovery; without one the
// server part is reported as unavailable rather than guessed).

import type { KubectlHandler } from './context.ts'
import { clientVersion } from './discovery.ts'
import { KubectlError, errorMessage } from './errors.ts'
import { parseFlags } from './flags.ts'
import { toYaml } from './output.ts'

export const version: KubectlHandler = async (args, _command, io, ctx) => {
  const flags = parseFlags(args, { client: { type: 'boolean' }, output: { type: 'string', short: 'o' } })
  if (flags.help) {
    io.out('Usage: kubewire version [--client] [-o json|yaml]')
    return 0
  }
  const output = flags.string('output')
  if (output !== undefined && output !== 'json' && output !== 'yaml') throw new KubectlError('EUSAGE', `--output must be 'yaml' or 'json'`)
  const client = clientVersion()
  let server: Record<string, string> | undefined
  let failure: unknown
  if (!flags.boolean('client')) {
    if (ctx.discovery === undefined) failure = new KubectlError('EFAILED', 'the server version is unavailable: no discovery client')
    else {
      try {
        server = await ctx.discovery.serverVersion()
      } catch (err) {
        failure = err
      }
    }
  }
  if (output !== undefined) {
    const doc = { clientVersion: client, ...(server ? { serverVersion: server } : {}) }
    io.out(output === 'json' ? JSON.stringify(doc, null, 2) : toYaml(doc))
  } else {
    io.out(`Client Version: ${client.gitVersion ?? ''}`)
    if (server) io.out(`Server Version: ${server.gitVersion ?? ''}`)
  }
  if (failure !== undefined) {
    io.err(errorMessage(failure))
    return 1
  }
  return 0
}
