// The claim binder loop (`persistentvolume-binder`): binds every claim at
// once (boundClaimStatus, written through the status subresource) and, when
// the control plane knows where claims' directories live (`volumesDir`, the
// cluster's `<state>/volumes`), removes a claim's directory once the claim
// is gone. The control plane runs on the machine the agents do, so this is
// the one place that sees a claim go and can reach its data; at start it
// also sweeps directories whose claims went while it was down. It also
// releases a deleted claim (removes the pvc-protection finalizer) once no pod
// uses it, so pod changes queue the claims they name.

import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { ApiClient, Informer } from '../client/api-client.ts'
import { RESOURCES } from '../client/api-client.ts'
import { isConflict, isNotFound } from '../api/status-error.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { Controller, sameVersion } from './controller.ts'
import type { Logger } from './logger.ts'
import { silentLogger } from './logger.ts'
import type { Pod } from './objects.ts'
import { namespacedName } from './objects.ts'
import { boundClaimStatus, claimKeysOf, claimVolumeName, releasedFinalizers } from './persistent-volume-claim.ts'
import type { PersistentVolumeClaim } from './stateful-set.ts'
import type { SyncResult } from './work-queue.ts'

export interface ClaimBinderOptions {
  client: ApiClient
  claims: Informer<PersistentVolumeClaim>
  pods: Informer<Pod>
  /** `<state>/volumes`: claim `ns/name` lives in `<volumesDir>/<ns>/<name>`. */
  volumesDir?: string
  clock?: Clock
  logger?: Logger
}

/** The queue key of the start-up sweep (not a valid namespace/name). */
const SWEEP = ' sweep'

export class ClaimBinder extends Controller {
  constructor(private readonly options: ClaimBinderOptions) {
    super(options.clock ?? systemClock, (options.logger ?? silentLogger).with({ component: 'persistentvolume-binder' }))
    const claims = options.claims
    claims.on('add', c => this.queue.add(namespacedName(c)))
    claims.on('update', (c, old) => {
      if (!sameVersion(c, old)) this.queue.add(namespacedName(c))
    })
    claims.on('delete', c => this.queue.add(namespacedName(c)))
    const podChanged = (pod: Pod): void => {
      for (const key of claimKeysOf(pod)) this.queue.add(key)
    }
    options.pods.on('add', podChanged)
    options.pods.on('update', (pod, old) => {
      if (sameVersion(pod, old)) return
      podChanged(pod)
      podChanged(old)
    })
    options.pods.on('delete', podChanged)
  }

  protected informers(): readonly Informer[] {
    return [this.options.claims, this.options.pods]
  }

  protected initialKeys(): Iterable<string> {
    const keys = this.options.claims.list().map(namespacedName)
    return this.options.volumesDir ? [...keys, SWEEP] : keys
  }

  protected async sync(key: string): Promise<SyncResult | void> {
    if (key === SWEEP) return this.sweep()
    const claim = this.options.claims.get(key)
    if (!claim) {
      this.removeDir(key)
      return
    }
    if (claim.metadata.deletionTimestamp) {
      const namespace = claim.metadata.namespace
      const finalizers = releasedFinalizers(claim, this.options.pods.list().filter(p => p.metadata.namespace === namespace))
      if (!finalizers) return
      const patch = { metadata: { resourceVersion: claim.metadata.resourceVersion, finalizers: finalizers.length > 0 ? finalizers : null } }
      try {
        await this.options.client.patch(RESOURCES.persistentvolumeclaims, namespace, claim.metadata.name ?? '', patch, 'merge')
        this.logger.info('released claim', { claim: key })
      } catch (err) {
        if (isNotFound(err)) return
        if (isConflict(err)) return { requeueAfterMs: 0 }
        throw err
      }
      return
    }
    const status = boundClaimStatus(claim)
    if (!status) return
    try {
      let bound = claim
      // The volume is the claim's directory; it is named as dynamic provisioning names one (pvc-<uid>).
      if (!claim.spec?.volumeName) {
        const patch = { metadata: { resourceVersion: claim.metadata.resourceVersion }, spec: { volumeName: claimVolumeName(claim) } }
        bound = await this.options.client.patch<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims, claim.metadata.namespace, claim.metadata.name ?? '', patch, 'merge')
      }
      await this.options.client.update(RESOURCES.persistentvolumeclaims, claim.metadata.namespace, { ...bound, status }, 'status')
      this.logger.info('bound claim', { claim: key, capacity: status.capacity })
    } catch (err) {
      if (isNotFound(err)) return
      if (isConflict(err)) return { requeueAfterMs: 0 } // the newer version is on its way to the cache
      throw err
    }
  }

  private removeDir(key: string): void {
    const dir = this.options.volumesDir
    if (!dir) return
    const [namespace = '', name = ''] = key.split('/')
    if (!namespace || !name) return
    rmSync(join(dir, namespace, name), { recursive: true, force: true })
    this.logger.info('removed claim volume', { claim: key })
  }

  private sweep(): void {
    const dir = this.options.volumesDir
    if (!dir) return
    for (const namespace of safeList(dir)) {
      for (const name of safeList(join(dir, namespace))) {
        if (!this.options.claims.get(`${namespace}/${name}`)) this.removeDir(`${namespace}/${name}`)
      }
    }
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
