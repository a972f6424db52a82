// Types of ingress-routing.mjs (plain JavaScript, so that the built-in
// runtime can run under bare Node), for the TypeScript that imports it.

export const INGRESS_CLASS_ANNOTATION: string
export const DEFAULT_CLASS_ANNOTATION: string
export const SERVICE_NAME_LABEL: string

/** Kubernetes objects as JSON; only the fields routing reads matter. */
export type Json = Record<string, any>

export interface BackendRef {
  namespace: string
  service: string
  port: { number?: number; name?: string }
}

export interface PathRule {
  path: string
  pathType: 'Exact' | 'Prefix'
  /** Length of the path without empty elements (longest match wins). */
  length: number
  parts: string[]
  backend: BackendRef
  /** namespace/name of the Ingress it came from. */
  ingress: string
}

export interface Server {
  paths: PathRule[]
  defaultBackend: BackendRef | undefined
}

export interface RouteTable {
  hosts: Map<string, Server>
  /** By the suffix after `*.`. */
  wildcards: Map<string, Server>
  catchAll: Server
}

export interface RouteMatch {
  backend: BackendRef
  /** The server: a host, `*.suffix`, or '' for the catch-all. */
  host: string
  path?: string
  pathType?: 'Exact' | 'Prefix'
  ingress?: string
  default?: true
}

export interface ClassOptions {
  /** The IngressClass name this controller serves (kubewire). */
  className: string
  /** spec.controller of the IngressClasses it serves (kubewire.dev/ingress-controller). */
  controller: string
  watchWithoutClass?: boolean
}

export interface Target {
  ip: string
  port: number
}

export function ingressClassOf(ingress: Json): string | undefined
export function isOurIngress(ingress: Json, ingressClasses: readonly Json[], options: ClassOptions): boolean
export function hostOf(header: string | undefined): string
export function buildRoutes(ingresses: readonly Json[]): RouteTable
export function pathMatches(rule: Pick<PathRule, 'path' | 'pathType'> & { parts?: string[] }, requestPath: string): boolean
export function serverFor(table: RouteTable, host: string): { server: Server; name: string }
export function route(table: RouteTable, hostHeader: string | undefined, url: string | undefined): RouteMatch | undefined
export function backendTargets(
  backend: BackendRef,
  service: Json | undefined,
  slices: readonly Json[],
): { targets: Target[]; reason?: 'ServiceNotFound' | 'PortNotFound' | 'NoReadyEndpoints' }
export function loadBalancerStatus(service: Json | undefined): Array<{ ip: string } | { hostname: string }>
