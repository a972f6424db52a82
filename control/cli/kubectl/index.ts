// The kubectl-like verbs (re-exports only).
export { kubectlVerbs } from './verbs.ts'
export type { KubectlContext, KubectlHandler, KubectlIo } from './context.ts'
export { HttpDiscovery, registryDiscovery } from './discovery.ts'
export type { Discovery } from './discovery.ts'
export { splitGlobalFlags } from './global-flags.ts'
export type { GlobalFlags } from './global-flags.ts'
