// The kubectl-like verbs by name, for main.ts's verb table. Each handler
// parses its own flags; this wrapper turns thrown errors into kubectl's
// texts on stderr and exit code 1, so a handler never throws to its caller
// (usage errors also get "See 'kubewire VERB --help' for usage.").

import { annotate, label } from './metadata-edit.ts'
import { apiResources } from './api-resources.ts'
import { apply } from './apply.ts'
import type { KubectlHandler } from './context.ts'
import { create } from './create.ts'
import { deleteVerb } from './delete.ts'
import { describe } from './describe.ts'
import { KubectlError, errorMessage } from './errors.ts'
import { expose } from './expose.ts'
import { get } from './get.ts'
import { patch } from './patch.ts'
import { rollout } from './rollout.ts'
import { scale } from './scale.ts'
import { setVerb } from './set-image.ts'
import { version } from './version.ts'

function reporting(verb: string, handler: KubectlHandler): KubectlHandler {
  return async (args, command, io, ctx) => {
    try {
      return await handler(args, command, io, ctx)
    } catch (err) {
      let text = errorMessage(err)
      if (err instanceof KubectlError && err.code === 'EUSAGE' && !text.includes('\nSee ')) text += `\nSee 'kubewire ${verb} --help' for usage.`
      io.err(text)
      return 1
    }
  }
}

const handlers: Record<string, KubectlHandler> = {
  apply,
  create,
  get,
  describe,
  delete: deleteVerb,
  scale,
  rollout,
  set: setVerb,
  patch,
  label,
  annotate,
  expose,
  'api-resources': apiResources,
  version,
}

/** Verb name → handler `(args, command, io, ctx) => Promise<exit code>`. */
export const kubectlVerbs: Readonly<Record<string, KubectlHandler>> = Object.freeze(
  Object.fromEntries(Object.entries(handlers).map(([verb, handler]) => [verb, reporting(verb, handler)])),
)
