// Images map to runtimes (DESIGN.md): there is no container runtime and no
// image pull. A container with `command` runs that host command (with `args`
// appended), as Kubernetes' command overrides the image's entrypoint. Without
// one, well-known images get a built-in behaviour; anything else fails the
// container with a clear reason, as an image that cannot be pulled would.
import { readFileSync } from 'node:fs'

export interface ImageInput {
  image: string
  command?: string[]
  args?: string[]
}

export type ResolvedImage = { argv: string[] } | { error: { reason: string; message: string } }

// Built-in runtimes are handed to node as source (`node -e`), not as a path: a
// volume mounted over the directory kubewire lives in must not break them.
const sources = new Map<string, string>()
function runtime(file: string): string {
  let source = sources.get(file)
  if (source === undefined) {
    source = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')
    sources.set(file, source)
  }
  return source
}
const nodeRuntime = (node: string, file: string) => [node, '--input-type=module', '-e', runtime(file), '--']

interface BuiltIn {
  /** Kubernetes' ENTRYPOINT; `args` replace `cmd`. */
  entrypoint: (node: string) => string[]
  cmd: string[]
}

const BUILT_INS: Record<string, BuiltIn> = {
  nginx: { entrypoint: node => nodeRuntime(node, 'nginx.mjs'), cmd: [] },
  agnhost: { entrypoint: node => nodeRuntime(node, 'agnhost.mjs'), cmd: [] },
  pause: { entrypoint: () => ['sleep', 'infinity'], cmd: [] },
  busybox: { entrypoint: () => [], cmd: ['sh'] },
}

/** The short name of an image: `registry.k8s.io/e2e-test-images/agnhost:2.53` -> `agnhost`. */
export function imageName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? ''
  const lastPart = withoutDigest.split('/').pop() ?? ''
  return lastPart.split(':')[0] ?? ''
}

export function builtInImages(): string[] {
  return Object.keys(BUILT_INS)
}

export function resolveImage(input: ImageInput, nodeBinary: string = process.execPath): ResolvedImage {
  if (input.command?.length) return { argv: [...input.command, ...(input.args ?? [])] }
  const builtIn = BUILT_INS[imageName(input.image)]
  if (!builtIn) {
    return {
      error: {
        reason: 'ErrImagePull',
        message:
          `kubewire has no built-in runtime for image "${input.image}" and the container has no command; ` +
          `give it a command (a host program to run) or use one of: ${builtInImages().join(', ')}`,
      },
    }
  }
  const argv = [...builtIn.entrypoint(nodeBinary), ...(input.args ?? builtIn.cmd)]
  if (argv.length === 0) return { error: { reason: 'CreateContainerError', message: `image "${input.image}" has nothing to run` } }
  return { argv }
}
