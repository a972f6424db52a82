// Importing this module registers every built-in backend.
import './host-gw.ts'

export { backendTypes, getBackend } from './backend.ts'
export type { Backend, BackendNode, Lease } from './backend.ts'
