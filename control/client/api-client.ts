// The one way components talk to each other (DESIGN.md: "only through the
// API: list + watch + status writes"). Controllers, the scheduler, node agents,
// DNS and the CLI all hold an ApiClient. Two transports implement it: an
// in-process one that calls the API server's handler directly (controllers
// inside the control-plane process) and an HTTPS one (agents in node
// namespaces, the CLI, pods). Both go through the same API logic, so
// validation, defaulting, resourceVersion checks and watch behave the same.
//
// Errors are StatusError (control/api/status-error.ts) carrying Kubernetes'
// Status object: callers branch on `code` ('NotFound', 'Conflict', ...).

/** A Kubernetes resource as it appears in API paths. */
export interface ResourceRef {
  /** '' for the core group. */
  group: string
  version: string
  /** Plural, lower-case: 'pods', 'deployments'. */
  resource: string
}

export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
  blockOwnerDeletion?: boolean
}

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
  finalizers?: string[]
}

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: ObjectMeta
  [field: string]: unknown
}

export interface ListOptions {
  labelSelector?: string
  fieldSelector?: string
  /** For list: '0' (any) or a revision; for watch: resume after this one. */
  resourceVersion?: string
  /** Watch only: ask for periodic BOOKMARK events carrying the newest resourceVersion. */
  allowWatchBookmarks?: boolean
  /** Watch only: the server ends the watch after this many seconds. */
  timeoutSeconds?: number
}

export interface ObjectList<T extends KubeObject = KubeObject> {
  apiVersion: string
  kind: string
  metadata: { resourceVersion: string }
  items: T[]
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType
  /** For ERROR: a Status object (e.g. 410 Expired: resume too old). */
  object: T
}

export interface WatchHandle {
  stop(): void
  /** Settles when the watch ends (stopped, server closed it, or an error). */
  readonly done: Promise<void>
}

export interface DeleteOptions {
  gracePeriodSeconds?: number
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground'
  preconditions?: { uid?: string; resourceVersion?: string }
}

export type PatchType = 'merge' | 'json' | 'strategic'

export type Subresource = 'status' | 'scale'

export interface ApiClient {
  get<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, subresource?: Subresource): Promise<T>
  list<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, options?: ListOptions): Promise<ObjectList<T>>
  /**
   * POST. With subresource 'binding' (pods only), `object` is a Binding
   * ({metadata: {name: pod}, target: {kind: 'Node', name: node}}) and the
   * answer a Success Status: how a scheduler binds a pod.
   */
  create<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, subresource?: 'binding'): Promise<T>
  /** PUT: replaces the object (or its status/scale); Conflict if metadata.resourceVersion is stale. */
  update<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, subresource?: Subresource): Promise<T>
  patch<T extends KubeObject = KubeObject>(
    ref: ResourceRef, namespace: string | undefined, name: string, patch: unknown, type?: PatchType, subresource?: Subresource,
  ): Promise<T>
  /** Resolves with the object as it stands (pods with a grace period: still there, deletionTimestamp set) or a Status. */
  delete(ref: ResourceRef, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<KubeObject>
  /** Streams events for matching objects after options.resourceVersion (absent: from now). */
  watch<T extends KubeObject = KubeObject>(
    ref: ResourceRef, namespace: string | undefined, options: ListOptions, onEvent: (event: WatchEvent<T>) => void,
  ): Promise<WatchHandle>
}

/** A list + watch cache of one resource (client-go's informer), resyncing after 410. */
export interface Informer<T extends KubeObject = KubeObject> {
  /** Resolves once the first list is in the cache. */
  readonly synced: Promise<void>
  hasSynced(): boolean
  /** Cached objects (frozen: copy before changing). */
  list(): T[]
  /** By "namespace/name" (or "name" when cluster-scoped). */
  get(key: string): T | undefined
  on(event: 'add', handler: (object: T) => void): void
  on(event: 'update', handler: (object: T, old: T) => void): void
  on(event: 'delete', handler: (object: T) => void): void
  stop(): void
}

export const core = (resource: string): ResourceRef => ({ group: '', version: 'v1', resource })
export const apps = (resource: string): ResourceRef => ({ group: 'apps', version: 'v1', resource })

export const RESOURCES = {
  namespaces: core('namespaces'),
  nodes: core('nodes'),
  pods: core('pods'),
  services: core('services'),
  endpoints: core('endpoints'),
  events: core('events'),
  configmaps: core('configmaps'),
  persistentvolumeclaims: core('persistentvolumeclaims'),
  deployments: apps('deployments'),
  replicasets: apps('replicasets'),
  statefulsets: apps('statefulsets'),
  daemonsets: apps('daemonsets'),
  controllerrevisions: apps('controllerrevisions'),
  jobs: { group: 'batch', version: 'v1', resource: 'jobs' },
  cronjobs: { group: 'batch', version: 'v1', resource: 'cronjobs' },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
  ingresses: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' },
  ingressclasses: { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses' },
} as const satisfies Record<string, ResourceRef>

export function objectKey(object: KubeObject): string {
  const { namespace, name } = object.metadata
  return namespace ? `${namespace}/${name}` : `${name}`
}
