// What the API server knows about one kind: its names in URLs and discovery,
// which verbs and subresources it serves, and the per-kind hooks (defaulting,
// validation, admission) that the generic verbs call.
//
// Why this split: kube-apiserver's generic registry (genericregistry.Store)
// does every verb the same way for every kind and asks a per-kind "strategy"
// only the questions that differ. Copying that shape keeps the verbs in one
// place and makes a new kind one definition plus, where Kubernetes has them,
// a few hooks (see kinds/*.ts).

import type { FieldError } from '../api/status-error.ts'
import type { KubeObject, ResourceRef } from '../client/api-client.ts'
import type { Store } from '../store/store.ts'
import type { NameRule } from './validation/names.ts'

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection'

export const ALL_VERBS: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

/** The scale subresource (autoscaling/v1 Scale) of a kind with a replica count. */
export interface ScaleSubresource {
  /** Scale.status.selector: the label selector of the pods, as text. */
  selector(object: KubeObject): string
}

/** Cluster-wide settings that some kinds' admission needs. */
export interface ClusterSettings {
  /** Where Service cluster IPs come from (first address: the `kubernetes` Service). */
  readonly serviceCidr: string
  /** NodePort range, inclusive. */
  readonly nodePortRange: { readonly min: number; readonly max: number }
  /** DefaultTolerationSeconds admission (kube-apiserver's --default-{not-ready,unreachable}-toleration-seconds). */
  readonly defaultTolerationSeconds?: number
}

/** What an admission hook may use besides the object. */
export interface AdmissionContext {
  readonly store: Store
  readonly settings: ClusterSettings
  readonly now: Date
  /** Every stored object of the definition's resource (a consistent read). */
  listAll(): Promise<KubeObject[]>
}

/**
 * Per-kind behaviour, each hook optional. Hooks that mutate get a private copy;
 * hooks that validate return field errors (empty: valid).
 */
export interface KindHooks {
  /**
   * Defaulting (SetDefaults_*): fills what a client left out. Runs on every
   * write of the main resource, so it must be idempotent.
   */
  defaults?(object: KubeObject): void
  /** PrepareForCreate: resets what a client may not set on create (usually status). */
  prepareForCreate?(object: KubeObject): void
  /** PrepareForUpdate of the main resource, after status was carried over from `old`. */
  prepareForUpdate?(object: KubeObject, old: KubeObject): void
  /** Validate: the whole object, on create and update. */
  validate?(object: KubeObject): FieldError[]
  /** ValidateUpdate's extra checks (immutable fields...), after validate. */
  validateUpdate?(object: KubeObject, old: KubeObject): FieldError[]
  /**
   * Admission after validation (allocations such as Service cluster IPs).
   * `old` is undefined on create. May throw a StatusError.
   */
  admit?(object: KubeObject, old: KubeObject | undefined, context: AdmissionContext): Promise<void>
  /**
   * Graceful deletion (CheckGracefulDelete): the grace period in seconds for a
   * delete that asked for `requested` (undefined: none given). 0 deletes at once.
   * Kinds without this hook are never deleted gracefully.
   */
  gracePeriod?(object: KubeObject, requested: number | undefined): number
  /** Finalizers kept outside metadata.finalizers (a Namespace's spec.finalizers). */
  hasSpecFinalizers?(object: KubeObject): boolean
  /** Called on the copy being marked for deletion (a Namespace turns Terminating). */
  markDeleting?(object: KubeObject): void
  /** May refuse a delete by throwing a StatusError (the namespaces that must always exist). */
  beforeDelete?(object: KubeObject): void
}

export interface ResourceDefinition {
  /** '' for the core group. */
  readonly group: string
  readonly version: string
  /** Plural, lower case: the URL segment. */
  readonly resource: string
  readonly singular: string
  readonly kind: string
  readonly listKind: string
  readonly shortNames: readonly string[]
  /** kubectl's `get all` and friends. */
  readonly categories: readonly string[]
  readonly namespaced: boolean
  readonly verbs: readonly Verb[]
  /** Which rule metadata.name follows. */
  readonly nameRule: NameRule
  /** metadata.generation is 1 on create and grows when spec changes. */
  readonly tracksGeneration: boolean
  /** A delete answers with the deleted object (ReturnDeletedObject) rather than a Status. */
  readonly returnDeletedObject: boolean
  /** Writes of this kind are serialized (kinds whose admission allocates from shared pools). */
  readonly serializeWrites: boolean
  readonly subresources: {
    readonly status?: true
    readonly scale?: ScaleSubresource
    /** pods/binding: POST a Binding to set spec.nodeName. */
    readonly binding?: true
  }
  readonly hooks: KindHooks
}

/** What a kind definition must say; the rest has Kubernetes' usual defaults. */
export type ResourceDefinitionInput = Pick<ResourceDefinition, 'group' | 'version' | 'resource' | 'kind' | 'namespaced'> &
  Partial<Omit<ResourceDefinition, 'group' | 'version' | 'resource' | 'kind' | 'namespaced'>>

export function defineResource(input: ResourceDefinitionInput): ResourceDefinition {
  return Object.freeze({
    singular: input.kind.toLowerCase(),
    listKind: `${input.kind}List`,
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    nameRule: 'dns1123-subdomain' as const,
    tracksGeneration: false,
    returnDeletedObject: false,
    serializeWrites: false,
    subresources: {},
    hooks: {},
    ...input,
  })
}

/** 'v1' or 'apps/v1'. */
export function groupVersion(def: Pick<ResourceDefinition, 'group' | 'version'>): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`
}

export function refOf(def: ResourceDefinition): ResourceRef {
  return { group: def.group, version: def.version, resource: def.resource }
}

/** How errors name the resource: `pods`, `deployments.apps`. */
export function groupResource(def: Pick<ResourceDefinition, 'group' | 'resource'>): { resource: string; group: string } {
  return { resource: def.resource, group: def.group }
}
