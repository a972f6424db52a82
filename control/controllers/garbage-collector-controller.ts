// The garbage collector loop: a small graph of owner uid → dependents kept
// from the informers of the kinds it is given; handlers enqueue objects whose
// owners may be gone (or are deleting in the foreground) and dependents of
// what was deleted; one worker confirms absent owners with a live GET (the
// cache may simply not have seen a new owner yet), then applies
// planGarbageCollection's actions.
//
// Limits (kept small, as asked): only the given kinds are watched, so only
// their objects are collected. Owners of other kinds are looked up through
// the API once (kinds.ts); an owner of a kind it cannot resolve is never
// considered gone.

import type { ApiClient, Informer, KubeObject, ResourceRef } from '../client/api-client.ts'
import { objectKey } from '../client/api-client.ts'
import { isConflict, isNotFound } from '../api/status-error.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller } from './controller.ts'
import { removeOwnerRefsPatch } from './controller-ref.ts'
import type { GcAction, GcDependent, OwnerState } from './garbage-collector.ts'
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, planGarbageCollection } from './garbage-collector.ts'
import { kindFor } from './kinds.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import type { SyncResult } from './work-queue.ts'

export interface GcResource {
  ref: ResourceRef
  informer: Informer
}

export interface GarbageCollectorOptions {
  client: ApiClient
  resources: readonly GcResource[]
  clock?: Clock
  logger?: Logger
}

const refId = (ref: ResourceRef): string => `${ref.group}/${ref.resource}`

export class GarbageCollector extends Controller {
  private readonly client: ApiClient
  private readonly resources: Map<string, GcResource>
  /** uid → item key ("group/resource|ns/name"). */
  private readonly byUid = new Map<string, string>()
  /** owner uid → item keys of its dependents. */
  private readonly dependents = new Map<string, Set<string>>()
  /** Owners of unwatched kinds confirmed alive through the API. */
  private readonly verifiedAlive = new Set<string>()

  constructor(options: GarbageCollectorOptions) {
    super(options.clock ?? systemClock, (options.logger ?? silentLogger).with({ component: 'garbage-collector' }))
    this.client = options.client
    this.resources = new Map(options.resources.map(r => [refId(r.ref), r]))
    for (const r of options.resources) {
      r.informer.on('add', o => this.observe(r.ref, o))
      r.informer.on('update', (o, old) => this.observe(r.ref, o, old))
      r.informer.on('delete', o => this.forget(r.ref, o))
    }
  }

  protected informers(): readonly Informer[] {
    return [...this.resources.values()].map(r => r.informer)
  }

  protected *initialKeys(): Iterable<string> {
    for (const r of this.resources.values()) {
      for (const o of r.informer.list()) {
        this.index(r.ref, o)
      }
    }
    for (const r of this.resources.values()) {
      for (const o of r.informer.list()) if (this.needsAttention(o)) yield this.itemKey(r.ref, o)
    }
  }

  private itemKey(ref: ResourceRef, o: KubeObject): string {
    return `${refId(ref)}|${objectKey(o)}`
  }

  private lookup(itemKey: string): { resource: GcResource; object: KubeObject } | undefined {
    const bar = itemKey.indexOf('|')
    const resource = this.resources.get(itemKey.slice(0, bar))
    const object = resource?.informer.get(itemKey.slice(bar + 1))
    return resource && object ? { resource, object } : undefined
  }

  // --- the graph -----------------------------------------------------------------

  private index(ref: ResourceRef, o: KubeObject, old?: KubeObject): void {
    const key = this.itemKey(ref, o)
    if (old) this.unindexRefs(key, old)
    if (o.metadata.uid) this.byUid.set(o.metadata.uid, key)
    for (const r of o.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(r.uid)
      if (!set) this.dependents.set(r.uid, (set = new Set()))
      set.add(key)
    }
  }

  private unindexRefs(key: string, o: KubeObject): void {
    for (const r of o.metadata.ownerReferences ?? []) {
      const set = this.dependents.get(r.uid)
      set?.delete(key)
      if (set && set.size === 0) this.dependents.delete(r.uid)
    }
  }

  private deletingInForeground(uid: string): boolean {
    const key = this.byUid.get(uid)
    const owner = key ? this.lookup(key)?.object : undefined
    return !!owner?.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER)
  }

  private needsAttention(o: KubeObject): boolean {
    if (this.finalizing(o)) return true
    return (o.metadata.ownerReferences ?? []).some(
      r => (!this.byUid.has(r.uid) && !this.verifiedAlive.has(r.uid)) || this.deletingInForeground(r.uid),
    )
  }

  private observe(ref: ResourceRef, o: KubeObject, old?: KubeObject): void {
    this.index(ref, o, old)
    if (this.needsAttention(o)) this.queue.add(this.itemKey(ref, o))
    // Owners deleting in the foreground wait for this one; references dropped may unblock them.
    for (const r of [...(old?.metadata.ownerReferences ?? []), ...(o.metadata.ownerReferences ?? [])]) {
      if (this.deletingInForeground(r.uid)) this.enqueueUid(r.uid)
    }
  }

  private forget(ref: ResourceRef, o: KubeObject): void {
    const key = this.itemKey(ref, o)
    const uid = o.metadata.uid ?? ''
    if (this.byUid.get(uid) === key) this.byUid.delete(uid)
    this.unindexRefs(key, o)
    for (const dep of this.dependents.get(uid) ?? []) this.queue.add(dep)
    for (const r of o.metadata.ownerReferences ?? []) if (this.deletingInForeground(r.uid)) this.enqueueUid(r.uid)
  }

  private enqueueUid(uid: string): void {
    const key = this.byUid.get(uid)
    if (key) this.queue.add(key)
  }

  // --- the worker ------------------------------------------------------------------

  protected async sync(key: string): Promise<SyncResult | void> {
    const found = this.lookup(key)
    if (!found) return
    const { resource } = found
    let object = found.object
    let owners = await this.ownerStates(object)
    if ([...owners.values()].some(s => s !== 'alive')) {
      // Decide on the object as it stands, not as cached: its references may
      // have changed (an orphaning owner removes them) since the cache saw it.
      try {
        object = await this.client.get(resource.ref, object.metadata.namespace, object.metadata.name ?? '')
      } catch (err) {
        if (isNotFound(err)) return
        throw err
      }
      if (object.metadata.uid !== found.object.metadata.uid) return
      owners = await this.ownerStates(object)
    }
    const dependents = this.finalizing(object) ? await this.liveDependents(object) : this.cachedDependents(object)
    const actions = planGarbageCollection({ resource: resource.ref, object, owners, dependents })
    for (const a of actions) await this.apply(a)
    if (actions.length > 0) {
      this.logger.info('collected', { object: key, actions: actions.map(a => `${a.type} ${objectKey(a.target.object)}`) })
    }
  }

  private finalizing(o: KubeObject): boolean {
    const f = o.metadata.finalizers ?? []
    return !!o.metadata.deletionTimestamp && (f.includes(ORPHAN_FINALIZER) || f.includes(FOREGROUND_FINALIZER))
  }

  private hasDependents(o: KubeObject): boolean {
    return (this.dependents.get(o.metadata.uid ?? '')?.size ?? 0) > 0
  }

  private cachedDependents(object: KubeObject): GcDependent[] {
    const out: GcDependent[] = []
    for (const depKey of this.dependents.get(object.metadata.uid ?? '') ?? []) {
      const dep = this.lookup(depKey)
      if (dep) out.push({ resource: dep.resource.ref, object: dep.object, hasDependents: this.hasDependents(dep.object) })
    }
    return out
  }

  // Before an owner's finalizer goes, its dependents are listed from the API:
  // one created just before the delete may not be cached yet, and orphaning
  // or waiting for it matters.
  private async liveDependents(object: KubeObject): Promise<GcDependent[]> {
    const uid = object.metadata.uid ?? ''
    const all: Array<{ ref: ResourceRef; object: KubeObject }> = []
    for (const r of this.resources.values()) {
      const list = await this.client.list(r.ref, object.metadata.namespace)
      for (const o of list.items) all.push({ ref: r.ref, object: o })
    }
    const owners = new Set(all.flatMap(({ object: o }) => (o.metadata.ownerReferences ?? []).map(ref => ref.uid)))
    return all
      .filter(({ object: o }) => (o.metadata.ownerReferences ?? []).some(ref => ref.uid === uid))
      .map(({ ref, object: o }) => ({ resource: ref, object: o, hasDependents: owners.has(o.metadata.uid ?? '') }))
  }

  private async ownerStates(object: KubeObject): Promise<Map<string, OwnerState>> {
    const owners = new Map<string, OwnerState>()
    if (object.metadata.deletionTimestamp) return owners
    for (const r of object.metadata.ownerReferences ?? []) owners.set(r.uid, await this.ownerState(object, r))
    return owners
  }

  private async ownerState(dependent: KubeObject, ref: { apiVersion: string; kind: string; name: string; uid: string }): Promise<OwnerState> {
    const cachedKey = this.byUid.get(ref.uid)
    if (cachedKey) return this.deletingInForeground(ref.uid) ? 'waitingForDependents' : 'alive'
    if (this.verifiedAlive.has(ref.uid)) return 'alive'
    const kind = kindFor(ref.apiVersion, ref.kind)
    if (!kind) return 'alive'
    try {
      const owner = await this.client.get(kind.ref, kind.namespaced ? dependent.metadata.namespace : undefined, ref.name)
      if (owner.metadata.uid !== ref.uid) return 'absent'
      if (!this.resources.has(refId(kind.ref))) this.verifiedAlive.add(ref.uid)
      const f = owner.metadata.finalizers ?? []
      return owner.metadata.deletionTimestamp && f.includes(FOREGROUND_FINALIZER) ? 'waitingForDependents' : 'alive'
    } catch (err) {
      if (isNotFound(err)) return 'absent'
      throw err
    }
  }

  private async apply(a: GcAction): Promise<void> {
    const { resource, object } = a.target
    const ns = object.metadata.namespace
    const name = object.metadata.name ?? ''
    try {
      switch (a.type) {
        case 'delete':
          await this.client.delete(resource, ns, name, { propagationPolicy: a.policy, preconditions: { uid: object.metadata.uid } })
          break
        case 'removeOwnerReferences':
          await this.client.patch(resource, ns, name, removeOwnerRefsPatch(object, a.ownerUids), 'merge')
          break
        case 'removeFinalizer': {
          const rest = (object.metadata.finalizers ?? []).filter(f => f !== a.finalizer)
          await this.client.patch(resource, ns, name, {
            metadata: { resourceVersion: object.metadata.resourceVersion, finalizers: rest.length > 0 ? rest : null },
          }, 'merge')
          break
        }
      }
    } catch (err) {
      if (isNotFound(err)) return
      // A delete whose uid precondition failed: the object was replaced, nothing to collect.
      if (a.type === 'delete' && isConflict(err)) return
      throw err
    }
  }
}
