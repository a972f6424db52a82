// An in-memory ApiClient with just enough of the API server's semantics for
// the controllers: resourceVersion bumped on every write, generation bumped
// when anything outside metadata and status changes, uid and
// creationTimestamp on create, generateName, NotFound / AlreadyExists /
// Conflict (stale resourceVersion, failed uid precondition), the status
// subresource (a main update keeps status, a status update keeps the rest),
// merge patch, deletion with finalizers (deletionTimestamp until the last
// finalizer goes), propagationPolicy Foreground/Orphan adding the
// foregroundDeletion/orphan finalizers, graceful pod deletion (optional),
// label and field selectors, and watches that resume from a resourceVersion
// and turn "stopped matching the selector" into DELETED, as the real one.
//
// Watch events are delivered asynchronously (setImmediate), so caches lag
// behind writes a little, as they do for real.

import { randomUUID } from 'node:crypto'
import type {
  ApiClient,
  DeleteOptions,
  KubeObject,
  ListOptions,
  ObjectList,
  PatchType,
  ResourceRef,
  Subresource,
  WatchEvent,
  WatchHandle,
} from '../../../../control/client/api-client.ts'
import { parseLabelSelector } from '../../../../control/api/label-selector.ts'
import { compileFieldSelector, fieldSelectorMatchesObject } from '../../../../control/api/field-selector.ts'
import { applyMergePatch, jsonEqual } from '../../../../control/api/merge-patch.ts'
import { alreadyExists, badRequest, conflict, invalid, fieldRequired, notFound } from '../../../../control/api/status-error.ts'
import type { StatusError } from '../../../../control/api/status-error.ts'
import type { Clock } from '../../../../control/controllers/clock.ts'
import { formatTime, systemClock } from '../../../../control/controllers/clock.ts'

interface KindInfo {
  kind: string
  apiVersion: string
  namespaced: boolean
}

const kinds: Record<string, KindInfo> = {
  '/pods': { kind: 'Pod', apiVersion: 'v1', namespaced: true },
  '/nodes': { kind: 'Node', apiVersion: 'v1', namespaced: false },
  '/events': { kind: 'Event', apiVersion: 'v1', namespaced: true },
  '/services': { kind: 'Service', apiVersion: 'v1', namespaced: true },
  '/endpoints': { kind: 'Endpoints', apiVersion: 'v1', namespaced: true },
  'discovery.k8s.io/endpointslices': { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', namespaced: true },
  '/configmaps': { kind: 'ConfigMap', apiVersion: 'v1', namespaced: true },
  '/namespaces': { kind: 'Namespace', apiVersion: 'v1', namespaced: false },
  'apps/replicasets': { kind: 'ReplicaSet', apiVersion: 'apps/v1', namespaced: true },
  'apps/deployments': { kind: 'Deployment', apiVersion: 'apps/v1', namespaced: true },
  'apps/statefulsets': { kind: 'StatefulSet', apiVersion: 'apps/v1', namespaced: true },
  'apps/daemonsets': { kind: 'DaemonSet', apiVersion: 'apps/v1', namespaced: true },
  'apps/controllerrevisions': { kind: 'ControllerRevision', apiVersion: 'apps/v1', namespaced: true },
  'batch/jobs': { kind: 'Job', apiVersion: 'batch/v1', namespaced: true },
  'batch/cronjobs': { kind: 'CronJob', apiVersion: 'batch/v1', namespaced: true },
  '/persistentvolumeclaims': { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespaced: true },
}

const resourceKey = (ref: ResourceRef): string => `${ref.group}/${ref.resource}`

function kindOf(ref: ResourceRef): KindInfo {
  const info = kinds[resourceKey(ref)]
  if (!info) throw new Error(`fake api: unknown resource ${resourceKey(ref)}`)
  return info
}

const clone = <T>(v: T): T => structuredClone(v)

// The generateName alphabet of Kubernetes (no vowels, no ambiguous digits).
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
function randomSuffix(n = 5): string {
  let s = ''
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)]
  return s
}

// Everything except metadata and status: what bumps generation.
function specPart(o: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o
  return rest
}

export interface ApiCall {
  verb: 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'watch'
  resource: string
  namespace?: string
  name?: string
  subresource?: string
}

interface HistoryEntry {
  rv: number
  resource: string
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  object: KubeObject
  old?: KubeObject
}

interface Watcher {
  resource: string
  kind: string
  namespace?: string
  matches: (o: KubeObject) => boolean
  onEvent: (e: WatchEvent) => void
  pending: WatchEvent[]
  scheduled: boolean
  stopped: boolean
}

interface Failure {
  verb: ApiCall['verb']
  resource?: string
  subresource?: string
  error: StatusError | Error
  times: number
}

export interface FakeApiOptions {
  clock?: Clock
  /** Bound pods deleted with a grace period keep existing (deletionTimestamp set) until finishPodDeletion. */
  gracefulPodDeletion?: boolean
}

export class FakeApi implements ApiClient {
  readonly calls: ApiCall[] = []
  /** Number of successful writes (creates, updates, patches, deletes that changed something). */
  writes = 0
  /** Called synchronously after every committed change (invariant checks). */
  onChange: ((entry: { type: string; resource: string; object: KubeObject }) => void) | undefined
  private rv = 0
  private readonly store = new Map<string, Map<string, KubeObject>>()
  private readonly history: HistoryEntry[] = []
  private readonly watchers = new Set<Watcher>()
  private failures: Failure[] = []
  private readonly clock: Clock
  private readonly graceful: boolean

  constructor(options: FakeApiOptions = {}) {
    this.clock = options.clock ?? systemClock
    this.graceful = options.gracefulPodDeletion ?? false
  }

  /** Makes the next `times` calls of `verb` (on `resource`, e.g. 'pods') fail with `error`. */
  failNext(verb: ApiCall['verb'], resource: string | undefined, error: StatusError | Error, times = 1, subresource?: string): void {
    this.failures.push({ verb, resource, subresource, error, times })
  }

  /** Watch events not yet delivered. */
  pendingDeliveries(): number {
    let n = 0
    for (const w of this.watchers) n += w.pending.length
    return n
  }

  /** The stored objects of a resource (copies), optionally in one namespace. */
  objects<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace?: string): T[] {
    const items = [...(this.store.get(resourceKey(ref))?.values() ?? [])]
    return clone(items.filter(o => namespace === undefined || o.metadata.namespace === namespace)) as T[]
  }

  /** One stored object (a copy), or undefined. */
  peek<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string): T | undefined {
    const o = this.table(ref).get(this.key(ref, namespace, name))
    return o ? (clone(o) as T) : undefined
  }

  /** What the node agent does once a pod's processes are gone: removes it. */
  finishPodDeletion(namespace: string, name: string): void {
    const ref = { group: '', version: 'v1', resource: 'pods' }
    const cur = this.table(ref).get(this.key(ref, namespace, name))
    if (cur) this.remove(ref, cur)
  }

  // ---------------------------------------------------------------------------

  private record(call: ApiCall): void {
    this.calls.push(call)
    const i = this.failures.findIndex(
      f => f.verb === call.verb && (f.resource === undefined || f.resource === call.resource) &&
        (f.subresource === undefined || f.subresource === call.subresource),
    )
    const f = i >= 0 ? this.failures[i] : undefined
    if (f) {
      if (--f.times <= 0) this.failures.splice(i, 1)
      throw f.error
    }
  }

  private table(ref: ResourceRef): Map<string, KubeObject> {
    const k = resourceKey(ref)
    let t = this.store.get(k)
    if (!t) {
      t = new Map()
      this.store.set(k, t)
    }
    return t
  }

  private key(ref: ResourceRef, namespace: string | undefined, name: string): string {
    return kindOf(ref).namespaced ? `${namespace ?? 'default'}/${name}` : name
  }

  private mustGet(ref: ResourceRef, namespace: string | undefined, name: string): KubeObject {
    const o = this.table(ref).get(this.key(ref, namespace, name))
    if (!o) throw notFound({ resource: ref.resource, group: ref.group }, name)
    return o
  }

  private emit(entry: Omit<HistoryEntry, 'rv'> & { rv: number }): void {
    this.history.push(entry)
    this.writes++
    this.onChange?.({ type: entry.type, resource: entry.resource, object: entry.object })
    for (const w of this.watchers) this.offer(w, entry)
  }

  private offer(w: Watcher, entry: HistoryEntry): void {
    if (w.stopped || w.resource !== entry.resource) return
    if (w.namespace !== undefined && entry.object.metadata.namespace !== w.namespace) return
    const now = w.matches(entry.object)
    const before = entry.old ? w.matches(entry.old) : false
    let type: WatchEvent['type'] | undefined
    if (entry.type === 'ADDED') type = now ? 'ADDED' : undefined
    else if (entry.type === 'DELETED') type = before || now ? 'DELETED' : undefined
    else if (now && before) type = 'MODIFIED'
    else if (now) type = 'ADDED'
    else if (before) type = 'DELETED'
    if (!type) return
    w.pending.push({ type, object: clone(entry.object) })
    if (!w.scheduled) {
      w.scheduled = true
      setImmediate(() => {
        w.scheduled = false
        for (const e of w.pending.splice(0)) if (!w.stopped) w.onEvent(e)
      })
    }
  }

  private commit(ref: ResourceRef, cur: KubeObject, next: KubeObject): KubeObject {
    next.metadata.resourceVersion = cur.metadata.resourceVersion
    if (jsonEqual(next, cur)) return clone(cur)
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0 && !this.awaitsGrace(ref, next)) {
      return this.remove(ref, next, cur)
    }
    next.metadata.resourceVersion = String(++this.rv)
    this.table(ref).set(this.key(ref, next.metadata.namespace, next.metadata.name ?? ''), next)
    this.emit({ rv: this.rv, resource: resourceKey(ref), type: 'MODIFIED', object: next, old: cur })
    return clone(next)
  }

  // A pod whose deletion grace period is running stays until the agent finishes it.
  private awaitsGrace(ref: ResourceRef, o: KubeObject): boolean {
    return ref.resource === 'pods' && ref.group === '' && (o.metadata.deletionGracePeriodSeconds ?? 0) > 0
  }

  private remove(ref: ResourceRef, o: KubeObject, old: KubeObject = o): KubeObject {
    this.table(ref).delete(this.key(ref, o.metadata.namespace, o.metadata.name ?? ''))
    const gone = clone(o)
    gone.metadata.resourceVersion = String(++this.rv)
    this.emit({ rv: this.rv, resource: resourceKey(ref), type: 'DELETED', object: gone, old })
    return clone(gone)
  }

  private selectorFilter(ref: ResourceRef, options: ListOptions = {}): (o: KubeObject) => boolean {
    const info = kindOf(ref)
    const labels = parseLabelSelector(options.labelSelector ?? '')
    const fields = compileFieldSelector(options.fieldSelector ?? '', info.kind)
    return o => labels.matches(o.metadata.labels) && fieldSelectorMatchesObject(fields, info.kind, o)
  }

  // ---------------------------------------------------------------------------
  // ApiClient

  async get<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, subresource?: Subresource): Promise<T> {
    this.record({ verb: 'get', resource: ref.resource, namespace, name, subresource })
    return clone(this.mustGet(ref, namespace, name)) as T
  }

  async list<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, options?: ListOptions): Promise<ObjectList<T>> {
    this.record({ verb: 'list', resource: ref.resource, namespace })
    const info = kindOf(ref)
    const match = this.selectorFilter(ref, options)
    const items = [...this.table(ref).values()].filter(
      o => (namespace === undefined || o.metadata.namespace === namespace) && match(o),
    )
    return {
      apiVersion: info.apiVersion,
      kind: `${info.kind}List`,
      metadata: { resourceVersion: String(this.rv) },
      items: clone(items) as T[],
    }
  }

  async create<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, subresource?: 'binding'): Promise<T> {
    if (subresource === 'binding') {
      // pods/binding as the API server does it: spec.nodeName once, and PodScheduled=True.
      const target = (object as unknown as { target: { name: string } }).target.name
      const name = object.metadata.name as string
      this.record({ verb: 'create', resource: 'pods/binding', namespace, name })
      await this.patch(ref, namespace, name, { spec: { nodeName: target } }, 'merge')
      const pod = await this.get<KubeObject & { status?: { conditions?: object[] } }>(ref, namespace, name)
      const conditions = (pod.status?.conditions ?? []).filter(c => (c as { type?: string }).type !== 'PodScheduled')
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: formatTime(this.clock.now()) })
      await this.patch(ref, namespace, name, { status: { conditions } }, 'merge', 'status')
      return object
    }
    this.record({ verb: 'create', resource: ref.resource, namespace, name: object.metadata.name })
    const info = kindOf(ref)
    const o = clone(object) as KubeObject
    o.apiVersion ??= info.apiVersion
    o.kind ??= info.kind
    if (info.namespaced) o.metadata.namespace = namespace ?? o.metadata.namespace ?? 'default'
    else delete o.metadata.namespace
    const table = this.table(ref)
    if (!o.metadata.name) {
      if (!o.metadata.generateName) throw invalid(info.kind, '', [fieldRequired('metadata.name', 'name or generateName is required')])
      do o.metadata.name = o.metadata.generateName + randomSuffix()
      while (table.has(this.key(ref, o.metadata.namespace, o.metadata.name)))
    }
    const k = this.key(ref, o.metadata.namespace, o.metadata.name)
    if (table.has(k)) throw alreadyExists({ resource: ref.resource, group: ref.group }, o.metadata.name)
    o.metadata.uid = randomUUID()
    o.metadata.creationTimestamp = formatTime(this.clock.now())
    o.metadata.generation = 1
    delete o.metadata.deletionTimestamp
    o.metadata.resourceVersion = String(++this.rv)
    table.set(k, o)
    this.emit({ rv: this.rv, resource: resourceKey(ref), type: 'ADDED', object: o })
    return clone(o) as T
  }

  async update<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, subresource?: Subresource): Promise<T> {
    const name = object.metadata.name ?? ''
    this.record({ verb: 'update', resource: ref.resource, namespace, name, subresource })
    const cur = this.mustGet(ref, namespace, name)
    const rv = object.metadata.resourceVersion
    if ((rv && rv !== cur.metadata.resourceVersion) || (object.metadata.uid && object.metadata.uid !== cur.metadata.uid)) {
      throw conflict({ resource: ref.resource, group: ref.group }, name)
    }
    return this.write(ref, cur, clone(object) as KubeObject, subresource) as T
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ResourceRef, namespace: string | undefined, name: string, patch: unknown, type: PatchType = 'merge', subresource?: Subresource,
  ): Promise<T> {
    this.record({ verb: 'patch', resource: ref.resource, namespace, name, subresource })
    if (type !== 'merge') throw badRequest(`fake api: patch type ${type} is not supported`)
    const cur = this.mustGet(ref, namespace, name)
    const pre = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion
    if (typeof pre === 'string' && pre !== cur.metadata.resourceVersion) {
      throw conflict({ resource: ref.resource, group: ref.group }, name)
    }
    const patched = applyMergePatch(cur, patch) as unknown as KubeObject
    return this.write(ref, cur, patched, subresource) as T
  }

  private write(ref: ResourceRef, cur: KubeObject, incoming: KubeObject, subresource?: Subresource): KubeObject {
    let next: KubeObject
    if (subresource === 'status') {
      next = clone(cur)
      if (incoming.status === undefined) delete next.status
      else next.status = incoming.status
    } else {
      next = incoming
      next.metadata = {
        ...incoming.metadata,
        name: cur.metadata.name,
        uid: cur.metadata.uid,
        creationTimestamp: cur.metadata.creationTimestamp,
        generation: cur.metadata.generation,
      }
      if (cur.metadata.namespace !== undefined) next.metadata.namespace = cur.metadata.namespace
      if (cur.metadata.deletionTimestamp) {
        next.metadata.deletionTimestamp = cur.metadata.deletionTimestamp
        if (cur.metadata.deletionGracePeriodSeconds !== undefined) {
          next.metadata.deletionGracePeriodSeconds = cur.metadata.deletionGracePeriodSeconds
        }
      } else {
        delete next.metadata.deletionTimestamp
      }
      if (cur.status === undefined) delete next.status
      else next.status = clone(cur.status)
      next.apiVersion = cur.apiVersion
      next.kind = cur.kind
      if (!jsonEqual(specPart(next), specPart(cur))) next.metadata.generation = (cur.metadata.generation ?? 0) + 1
    }
    return this.commit(ref, cur, next)
  }

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<KubeObject> {
    this.record({ verb: 'delete', resource: ref.resource, namespace, name })
    const cur = this.mustGet(ref, namespace, name)
    const pre = options.preconditions
    if ((pre?.uid && pre.uid !== cur.metadata.uid) || (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)) {
      throw conflict({ resource: ref.resource, group: ref.group }, name, 'precondition failed')
    }
    const isPod = ref.group === '' && ref.resource === 'pods'
    const spec = (cur as { spec?: { nodeName?: string; terminationGracePeriodSeconds?: number } }).spec
    let grace = 0
    if (isPod && this.graceful && spec?.nodeName) grace = options.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30
    const next = clone(cur)
    const finalizers = [...(cur.metadata.finalizers ?? [])]
    if (!cur.metadata.deletionTimestamp) {
      if (options.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion')
      if (options.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan')
    }
    if (finalizers.length === 0 && grace === 0) return this.remove(ref, cur)
    if (cur.metadata.deletionTimestamp && (cur.metadata.deletionGracePeriodSeconds ?? 0) <= grace) return clone(cur)
    next.metadata.finalizers = finalizers
    if (finalizers.length === 0) delete next.metadata.finalizers
    next.metadata.deletionTimestamp = formatTime(this.clock.now() + grace * 1000)
    next.metadata.deletionGracePeriodSeconds = grace
    // commit() would remove it at once without finalizers; a pod in its grace period stays.
    next.metadata.resourceVersion = String(++this.rv)
    this.table(ref).set(this.key(ref, next.metadata.namespace, name), next)
    this.emit({ rv: this.rv, resource: resourceKey(ref), type: 'MODIFIED', object: next, old: cur })
    return clone(next)
  }

  async watch<T extends KubeObject = KubeObject>(
    ref: ResourceRef, namespace: string | undefined, options: ListOptions, onEvent: (event: WatchEvent<T>) => void,
  ): Promise<WatchHandle> {
    this.record({ verb: 'watch', resource: ref.resource, namespace })
    const info = kindOf(ref)
    const w: Watcher = {
      resource: resourceKey(ref),
      kind: info.kind,
      namespace,
      matches: this.selectorFilter(ref, options),
      onEvent: onEvent as (e: WatchEvent) => void,
      pending: [],
      scheduled: false,
      stopped: false,
    }
    const from = options.resourceVersion ? Number(options.resourceVersion) : this.rv
    for (const entry of this.history) if (entry.rv > from) this.offer(w, entry)
    this.watchers.add(w)
    let finish: () => void = () => {}
    const done = new Promise<void>(resolve => (finish = resolve))
    return {
      stop: () => {
        w.stopped = true
        this.watchers.delete(w)
        finish()
      },
      done,
    }
  }
}
