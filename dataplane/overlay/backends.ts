// Importing this module registers every built-in backend.
import './host-gw.ts'
import './vxlan-kernel.ts'
import './vxlan.ts'

export { backendTypes, getBackend } from './backend.ts'
export type { Backend, BackendContext, BackendNode, Lease } from './backend.ts'
