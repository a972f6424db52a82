// Claims for StatefulSets: the binder loop against the fake API (Bound at
// once, pvc-protection until no pod uses a deleted claim, the directory
// removed with the claim, orphaned directories swept at start) and the node
// agent's persistentVolumeClaim volumes.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { RESOURCES } from '../../../control/client/api-client.ts'
import { prepareVolumes, VolumeError } from '../../../control/agent/volumes.ts'
import type { Pod as AgentPod } from '../../../control/agent/pod-spec.ts'
import type { Pod } from '../../../control/controllers/objects.ts'
import { ClaimBinder } from '../../../control/controllers/persistent-volume-claim-controller.ts'
import { claimInUse, PVC_PROTECTION_FINALIZER } from '../../../control/controllers/persistent-volume-claim.ts'
import type { PersistentVolumeClaim } from '../../../control/controllers/stateful-set.ts'
import { FakeApi } from './fakes/fake-api.ts'
import { FakeClock } from './fakes/fake-clock.ts'
import { fakeInformerFactory } from './fakes/fake-informer.ts'
import { settle } from './fakes/wait.ts'

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

function tempDir(t: TapTest): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-claims-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function start(t: TapTest, volumesDir: string, api = new FakeApi({ clock: new FakeClock() })) {
  const { factory, stopAll } = fakeInformerFactory(api)
  const binder = new ClaimBinder({ client: api, claims: factory<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims), pods: factory<Pod>(RESOURCES.pods), volumesDir })
  await binder.start()
  t.teardown(async () => {
    await binder.stop()
    stopAll()
  })
  return { api, quiet: async () => await settle(api, () => binder.idle()) }
}

const claim = (name: string): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim',
  // The API server puts the finalizer on at create; the fake API does not.
  metadata: { name, namespace: 'default', finalizers: [PVC_PROTECTION_FINALIZER] },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  status: { phase: 'Pending' },
})
const podUsing = (name: string, claimName: string, nodeName?: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }] },
})

t.test('a claim is bound at once, kept while a pod uses it, and its directory goes with it', async t => {
  const dir = tempDir(t)
  const w = await start(t, dir)
  await w.api.create(RESOURCES.persistentvolumeclaims, 'default', claim('data-web-0'))
  await w.quiet()
  t.same(w.api.peek<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims, 'default', 'data-web-0')?.status, { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } })
  const bound = w.api.peek<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims, 'default', 'data-web-0')
  t.equal(bound?.spec?.volumeName, `pvc-${bound?.metadata.uid}`, 'bound to a volume named as dynamic provisioning names one')

  const data = join(dir, 'default', 'data-web-0')
  mkdirSync(data, { recursive: true }) // what the agent does on first mount
  writeFileSync(join(data, 'file'), 'x')
  await w.api.create(RESOURCES.pods, 'default', podUsing('web-0', 'data-web-0', 'node-1'))
  await w.api.delete(RESOURCES.persistentvolumeclaims, 'default', 'data-web-0')
  await w.quiet()
  const deleting = w.api.peek<PersistentVolumeClaim>(RESOURCES.persistentvolumeclaims, 'default', 'data-web-0')
  t.ok(deleting?.metadata.deletionTimestamp, 'in use: it stays, terminating')
  t.ok(existsSync(join(data, 'file')), 'with its data')

  await w.api.delete(RESOURCES.pods, 'default', 'web-0')
  await w.quiet()
  t.notOk(w.api.peek(RESOURCES.persistentvolumeclaims, 'default', 'data-web-0'), 'the pod gone: so is the claim')
  t.notOk(existsSync(data), 'and its directory')
})

t.test('which pods use a claim (podUsesPVC)', async t => {
  const c = claim('data')
  t.notOk(claimInUse(c, [podUsing('p', 'data')]), 'not scheduled: no')
  t.ok(claimInUse(c, [podUsing('p', 'data', 'node-1')]), 'scheduled: yes')
  t.notOk(claimInUse(c, [{ ...podUsing('p', 'data', 'node-1'), status: { phase: 'Succeeded' } }]), 'finished: no')
  t.notOk(claimInUse(c, [podUsing('p', 'other', 'node-1')]), 'another claim: no')
  t.notOk(claimInUse(c, [{ ...podUsing('p', 'data', 'node-1'), metadata: { name: 'p', namespace: 'team' } }]), 'another namespace: no')
})

t.test('directories of claims that went while the control plane was down are swept at start', async t => {
  const dir = tempDir(t)
  const api = new FakeApi({ clock: new FakeClock() })
  await api.create(RESOURCES.persistentvolumeclaims, 'default', claim('kept'))
  mkdirSync(join(dir, 'default', 'kept'), { recursive: true })
  mkdirSync(join(dir, 'default', 'gone'), { recursive: true })
  const w = await start(t, dir, api)
  await w.quiet()
  t.ok(existsSync(join(dir, 'default', 'kept')))
  t.notOk(existsSync(join(dir, 'default', 'gone')))
})

t.test('the agent: a claim is a directory made on first use and kept; a missing or unbound claim fails the mount', async t => {
  const dir = tempDir(t)
  const pod = (claimName: string): AgentPod => ({
    metadata: { name: 'web-0', namespace: 'default', uid: 'u' },
    spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }] },
  })
  const claims: Record<string, { phase: string; deleting: boolean }> = {
    'data-web-0': { phase: 'Bound', deleting: false },
    pending: { phase: 'Pending', deleting: false },
    going: { phase: 'Bound', deleting: true },
  }
  const sources = { lookup: async (name: string) => claims[name], dir: (name: string) => join(dir, 'volumes', 'default', name) }
  const noConfigMaps = async () => undefined
  const paths = await prepareVolumes(pod('data-web-0'), join(dir, 'pod-a'), noConfigMaps, sources)
  t.equal(paths.get('data'), join(dir, 'volumes', 'default', 'data-web-0'))
  writeFileSync(join(paths.get('data')!, 'file'), 'kept')
  rmSync(join(dir, 'pod-a'), { recursive: true, force: true }) // the pod goes
  const again = await prepareVolumes(pod('data-web-0'), join(dir, 'pod-b'), noConfigMaps, sources)
  t.ok(existsSync(join(again.get('data')!, 'file')), 'the next pod sees the same data')
  const fails = async (name: string, message: string): Promise<void> => {
    await t.rejects(prepareVolumes(pod(name), join(dir, 'pod-c'), noConfigMaps, sources), new VolumeError('FailedMount', message))
  }
  await fails('missing', 'persistentvolumeclaim "missing" not found')
  await fails('pending', 'error processing PVC default/pending: PVC is not bound')
  await fails('going', 'error processing PVC default/going: PVC is being deleted')
})
