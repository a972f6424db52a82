// Images map to runtimes (DESIGN.md): there is no container runtime and no
// image pull. A container with `command` runs that host command (with `args`
// appended), as Kubernetes' command overrides the image's entrypoint. Without
// one, well-known images get a built-in behaviour; anything else fails the
// container with a clear reason, as an image that cannot be pulled would.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface ImageInput {
  image: string
  command?: string[]
  args?: string[]
}

export type ResolvedImage = { argv: string[] } | { error: { reason: string; message: string } }

// Built-in runtimes are handed to node as source (`node -e`), not as a path: a
// volume mounted over the directory kubewire lives in must not break them.
// A runtime may import sibling modules (`from './in-cluster.mjs'`), so that
// shared and pure parts live in files of their own that tests import too;
// each such import is replaced by a `data:` URL holding that module's source
// (itself composed the same way), which Node imports without touching the disk.
const sources = new Map<string, string>()
const RELATIVE_IMPORT = /(\bfrom\s*|\bimport\s*)(['"])\.\/([\w.-]+\.mjs)\2/g
/** One argument may be at most 128 KiB on Linux (MAX_ARG_STRLEN). */
const MAX_SOURCE_BYTES = 128 * 1024 - 1

/** A runtime's source with its sibling imports inlined (what `node -e` gets). */
export function runtimeSource(file: string, importing: readonly string[] = []): string {
  let source = sources.get(file)
  if (source === undefined) {
    if (importing.includes(file)) throw new Error(`built-in runtime ${[...importing, file].join(' -> ')}: import cycle`)
    const text = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')
    source = text.replace(RELATIVE_IMPORT, (_m, keyword: string, quote: string, dependency: string) => {
      const inlined = Buffer.from(runtimeSource(dependency, [...importing, file])).toString('base64')
      return `${keyword}${quote}data:text/javascript;base64,${inlined}${quote}`
    })
    if (Buffer.byteLength(source) > MAX_SOURCE_BYTES) throw new Error(`built-in runtime ${file} is ${Buffer.byteLength(source)} bytes composed, more than one argument may hold`)
    sources.set(file, source)
  }
  return source
}
const nodeRuntime = (node: string, file: string) => [node, '--input-type=module', '-e', runtimeSource(file), '--']

// kubewire/dns: the cluster DNS. Its program speaks the Kubernetes API, so it
// is control/dns/main.ts, in TypeScript; dataplane/ never imports control/
// (DESIGN.md), so it is named here by path only and run by node with tsx's
// ESM loader (an absolute file URL: the container's working directory is not
// the repository).
const DNS_MAIN = fileURLToPath(new URL('../../control/dns/main.ts', import.meta.url))
const tsRuntime = (node: string, main: string) => [node, '--import', import.meta.resolve('tsx/esm'), main]

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
  // kubewire/ingress: our ingress controller (IngressClass kubewire).
  ingress: { entrypoint: node => nodeRuntime(node, 'ingress.mjs'), cmd: [] },
  dns: { entrypoint: node => tsRuntime(node, DNS_MAIN), cmd: [] },
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
