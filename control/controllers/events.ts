// Events (core/v1): what `kubectl describe` and `kubectl get events` show,
// recorded the way client-go's legacy EventRecorder does.
//
// Why the correlator: a controller that fails the same way every few seconds
// must not write a new Event each time. As in client-go (events_cache.go):
// - an identical event (same source, object, type, reason and message) seen
//   before bumps `count` and `lastTimestamp` of the stored Event (a merge
//   patch) instead of creating another;
// - more than 10 events of the same object, type and reason with different
//   messages within 10 minutes collapse into one Event whose message starts
//   "(combined from similar events): ";
// - a token bucket per object and message (burst 25, one token per 5 minutes)
//   drops the excess.
// Events are named `<object>.<hex nanoseconds>` in the object's namespace
// ("default" for cluster-scoped objects), as Kubernetes names them.
// Recording never blocks or throws: writes go out in order on a background
// chain; failures are logged and dropped (client-go retries a few times).

import type { ApiClient, KubeObject } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isNotFound } from '../api/status-error.ts'
import type { Clock } from './clock.ts'
import { formatTime } from './clock.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'

export type EventType = 'Normal' | 'Warning'

export interface EventSource {
  component: string
  host?: string
}

export interface ObjectReference {
  kind?: string
  namespace?: string
  name?: string
  uid?: string
  apiVersion?: string
  resourceVersion?: string
  fieldPath?: string
}

export interface CoreEvent extends KubeObject {
  involvedObject: ObjectReference
  reason: string
  message: string
  source: EventSource
  firstTimestamp: string
  lastTimestamp: string
  count: number
  type: EventType
  reportingComponent: string
  reportingInstance: string
}

/** What controllers hold: fire and forget. */
export interface EventRecorder {
  event(object: KubeObject, type: EventType, reason: string, message: string): void
}

/** A recorder that drops everything. */
export const nullRecorder: EventRecorder = { event: () => {} }

/** The reference an Event keeps to the object it is about. */
export function objectReference(object: KubeObject): ObjectReference {
  const ref: ObjectReference = {}
  if (object.kind) ref.kind = object.kind
  if (object.metadata.namespace) ref.namespace = object.metadata.namespace
  if (object.metadata.name) ref.name = object.metadata.name
  if (object.metadata.uid) ref.uid = object.metadata.uid
  if (object.apiVersion) ref.apiVersion = object.apiVersion
  if (object.metadata.resourceVersion) ref.resourceVersion = object.metadata.resourceVersion
  return ref
}

// ---------------------------------------------------------------------------
// The correlator (pure state machine; time comes in as an argument)

export const AGGREGATE_MAX_EVENTS = 10
export const AGGREGATE_WINDOW_MS = 600_000
export const SPAM_BURST = 25
export const SPAM_REFILL_MS = 300_000
const CACHE_SIZE = 4096

/** What to do with one event: create it, or patch the stored one. */
export type Correlated =
  | { action: 'create'; event: CoreEvent; key: string }
  | { action: 'patch'; event: CoreEvent; key: string; patch: { count: number; lastTimestamp: string; message: string } }
  | { action: 'drop'; event: CoreEvent }

interface Observation {
  count: number
  firstTimestamp: string
  name: string
  resourceVersion?: string
}

const join = (parts: Array<string | undefined>): string => parts.map(p => p ?? '').join('\u0000')

function objectKeyOf(e: CoreEvent): Array<string | undefined> {
  const o = e.involvedObject
  return [e.source.component, e.source.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion]
}

/** A small LRU map. */
class Lru<V> {
  private readonly map = new Map<string, V>()
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key)
    if (v !== undefined) {
      this.map.delete(key)
      this.map.set(key, v)
    }
    return v
  }
  set(key: string, value: V): void {
    this.map.delete(key)
    this.map.set(key, value)
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value
      if (oldest !== undefined) this.map.delete(oldest)
    }
  }
}

export class EventCorrelator {
  private readonly spam = new Lru<{ tokens: number; at: number }>(CACHE_SIZE)
  private readonly aggregate = new Lru<{ messages: Set<string>; at: number }>(CACHE_SIZE)
  private readonly observed = new Lru<Observation>(CACHE_SIZE)

  /**
   * Decides what `event` (fresh: count 1, first = last = now) becomes.
   * Call `stored` with the server's answer to remember its resourceVersion.
   */
  correlate(event: CoreEvent, now: number): Correlated {
    if (!this.allow(event, now)) return { action: 'drop', event }
    const [aggregated, key] = this.aggregateEvent(event, now)
    const last = this.observed.get(key)
    if (last && last.count > 0) {
      const patched: CoreEvent = {
        ...aggregated,
        metadata: { ...aggregated.metadata, name: last.name },
        count: last.count + 1,
        firstTimestamp: last.firstTimestamp,
      }
      if (last.resourceVersion) patched.metadata.resourceVersion = last.resourceVersion
      this.observed.set(key, { ...last, count: patched.count })
      return {
        action: 'patch',
        event: patched,
        key,
        patch: { count: patched.count, lastTimestamp: patched.lastTimestamp, message: patched.message },
      }
    }
    this.observed.set(key, {
      count: aggregated.count,
      firstTimestamp: aggregated.firstTimestamp,
      name: aggregated.metadata.name ?? '',
    })
    return { action: 'create', event: aggregated, key }
  }

  /** Records what the server stored under `key` (its name and resourceVersion). */
  stored(key: string, event: KubeObject & { count?: unknown; firstTimestamp?: unknown }): void {
    const last = this.observed.get(key)
    this.observed.set(key, {
      count: typeof event.count === 'number' ? event.count : (last?.count ?? 1),
      firstTimestamp: typeof event.firstTimestamp === 'string' ? event.firstTimestamp : (last?.firstTimestamp ?? ''),
      name: event.metadata.name ?? last?.name ?? '',
      resourceVersion: event.metadata.resourceVersion,
    })
  }

  /** Forgets `key` (the stored Event is gone). */
  forget(key: string): void {
    this.observed.set(key, { count: 0, firstTimestamp: '', name: '' })
  }

  // Token bucket per object and message (EventSourceObjectSpamFilter).
  private allow(e: CoreEvent, now: number): boolean {
    const key = join([...objectKeyOf(e), e.type, e.reason, e.message])
    const bucket = this.spam.get(key) ?? { tokens: SPAM_BURST, at: now }
    bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + Math.max(0, now - bucket.at) / SPAM_REFILL_MS)
    bucket.at = now
    const ok = bucket.tokens >= 1
    if (ok) bucket.tokens -= 1
    this.spam.set(key, bucket)
    return ok
  }

  // EventAggregator: similar events (same object, type, reason) with many
  // different messages collapse into one.
  private aggregateEvent(e: CoreEvent, now: number): [CoreEvent, string] {
    const aggregateKey = join([...objectKeyOf(e), e.type, e.reason])
    const eventKey = join([aggregateKey, e.message])
    let record = this.aggregate.get(aggregateKey)
    if (!record || now - record.at > AGGREGATE_WINDOW_MS) record = { messages: new Set(), at: now }
    record.at = now
    record.messages.add(e.message)
    this.aggregate.set(aggregateKey, record)
    if (record.messages.size < AGGREGATE_MAX_EVENTS) return [e, eventKey]
    const first = record.messages.values().next().value
    if (first !== undefined) record.messages.delete(first)
    return [{ ...e, message: `(combined from similar events): ${e.message}` }, aggregateKey]
  }
}

// ---------------------------------------------------------------------------
// The recorder

export interface ApiEventRecorderOptions {
  client: ApiClient
  clock: Clock
  source: EventSource
  logger?: Logger
}

/** Writes Events through the ApiClient, correlated; `flush()` awaits the writes. */
export class ApiEventRecorder implements EventRecorder {
  private readonly correlator = new EventCorrelator()
  private chain: Promise<void> = Promise.resolve()
  private sequence = 0n
  private readonly logger: Logger

  constructor(private readonly options: ApiEventRecorderOptions) {
    this.logger = options.logger ?? silentLogger
  }

  event(object: KubeObject, type: EventType, reason: string, message: string): void {
    const now = this.options.clock.now()
    const event = this.makeEvent(object, type, reason, message, now)
    const decision = this.correlator.correlate(event, now)
    if (decision.action === 'drop') {
      this.logger.debug('event dropped by the spam filter', { reason, object: event.involvedObject.name })
      return
    }
    this.chain = this.chain.then(() => this.write(decision)).catch(() => {})
  }

  /** Resolves when every event recorded so far has been written (or dropped). */
  async flush(): Promise<void> {
    await this.chain
  }

  private makeEvent(object: KubeObject, type: EventType, reason: string, message: string, now: number): CoreEvent {
    const involvedObject = objectReference(object)
    // Unique names even when the clock stands still (a manual clock in tests).
    const nanos = BigInt(now) * 1_000_000n + (this.sequence++ % 1_000_000n)
    const time = formatTime(now)
    const source: EventSource = { component: this.options.source.component }
    if (this.options.source.host) source.host = this.options.source.host
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${involvedObject.name ?? 'unknown'}.${nanos.toString(16)}`,
        namespace: involvedObject.namespace || 'default',
      },
      involvedObject,
      reason,
      message,
      source,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
      type,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    }
  }

  private async write(d: Exclude<Correlated, { action: 'drop' }>): Promise<void> {
    const { client } = this.options
    const ns = d.event.metadata.namespace
    try {
      if (d.action === 'patch') {
        try {
          const stored = await client.patch(RESOURCES.events, ns, d.event.metadata.name ?? '', d.patch, 'merge')
          this.correlator.stored(d.key, stored)
          return
        } catch (err) {
          if (!isNotFound(err)) throw err
          // The stored Event expired or was deleted: create it again.
        }
      }
      const body: CoreEvent = { ...d.event, metadata: { ...d.event.metadata } }
      delete body.metadata.resourceVersion
      const created = await client.create(RESOURCES.events, ns, body)
      this.correlator.stored(d.key, created)
    } catch (err) {
      this.correlator.forget(d.key)
      this.logger.warn('could not write event', { reason: d.event.reason, object: d.event.involvedObject.name, error: err })
    }
  }
}
