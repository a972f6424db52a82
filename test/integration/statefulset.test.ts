// A StatefulSet on a real 2-node cluster with the DNS add-on: a headless
// Service and a 3-replica set with a volume claim template. The pods come up
// in order (seen on a watch: each is ADDED only after the one before was
// Ready), each `web-i.nginx.default.svc.cluster.local` resolves to pod i from
// another pod, a file written into web-1's volume survives web-1 being
// deleted and coming back (same name, same hostname), a rolling update with a
// partition replaces the highest ordinal first and stops at the partition,
// scaling down removes web-2 then web-1, a deleted claim's directory goes,
// and `down` leaves nothing.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { RESOURCES, type KubeObject, type WatchEvent, type WatchHandle } from '../../control/client/api-client.ts'
import { HttpClient } from '../../control/client/http-client.ts'
import { isolatedHome, kubewire, kubewireOk, leftoversSettled, removeHome, runPod, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
let client: HttpClient
let watch: WatchHandle | undefined
const events: Array<WatchEvent<Pod>> = []

interface Pod extends KubeObject {
  spec: { hostname?: string; subdomain?: string; nodeName?: string }
  status?: { podIP?: string; phase?: string; conditions?: { type: string; status: string }[] }
}
interface StatefulSetStatus { replicas?: number; readyReplicas?: number; currentRevision?: string; updateRevision?: string; updatedReplicas?: number; currentReplicas?: number }

const ready = (p: Pod) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True')
const revisionOf = (p: Pod) => p.metadata.labels?.['controller-revision-hash']
const pods = async () => new Map((await client.list<Pod>(RESOURCES.pods, 'default', { labelSelector: 'app=web' })).items.map(p => [p.metadata.name ?? '', p]))
const setStatus = async () => ((await client.get(RESOURCES.statefulsets, 'default', 'web')) as { status?: StatefulSetStatus }).status ?? {}
const exec = (pod: string, ...command: string[]) => kubewireOk(['exec', pod, '--', ...command])
const claimDir = (claim: string) => join(home, 'clusters', name, 'volumes', 'default', claim)
/** Index of the first watch event satisfying `match`, -1 if none. */
const firstEvent = (match: (e: WatchEvent<Pod>) => boolean) => events.findIndex(match)
const is = (type: string, pod: string, extra: (p: Pod) => boolean = () => true) => (e: WatchEvent<Pod>) => e.type === type && e.object.metadata.name === pod && extra(e.object)

const statefulSet: KubeObject = {
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web' },
  spec: {
    serviceName: 'nginx', replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      },
    },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
  },
}

t.before(async () => {
  await kubewireOk(['up', '--nodes', '2', '--addons', 'dns'])
  client = await HttpClient.fromKubeconfig(join(home, 'clusters', name, 'kubeconfig'))
  watch = await client.watch<Pod>(RESOURCES.pods, 'default', { labelSelector: 'app=web' }, e => events.push(e))
  await client.create(RESOURCES.services, 'default', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'nginx' },
    spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'web', port: 80 }] },
  })
  await client.create(RESOURCES.statefulsets, 'default', statefulSet)
  await runPod('client', { node: 'node-2' })
})
t.teardown(async () => {
  watch?.stop()
  client?.close()
  await kubewire(['down'])
  removeHome(home)
})

t.test('the pods come up in order, each after the one before is Ready', async t => {
  await waitFor('3 ready pods', async () => [...(await pods()).values()].filter(ready).length === 3, 60_000)
  for (const i of [1, 2]) {
    const added = firstEvent(is('ADDED', `web-${i}`))
    const previousReady = firstEvent(e => is('MODIFIED', `web-${i - 1}`)(e) && ready(e.object))
    t.ok(previousReady >= 0 && added > previousReady, `web-${i} added (event ${added}) after web-${i - 1} was Ready (event ${previousReady})`)
  }
  const all = await pods()
  for (const i of [0, 1, 2]) {
    const p = all.get(`web-${i}`)!
    t.match(p.spec, { hostname: `web-${i}`, subdomain: 'nginx' })
    t.equal(p.metadata.labels?.['statefulset.kubernetes.io/pod-name'], `web-${i}`)
    const claim = await client.get(RESOURCES.persistentvolumeclaims, 'default', `data-web-${i}`) as KubeObject & { status?: unknown }
    t.match(claim.status, { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] }, `data-web-${i} bound`)
  }
  t.match(await setStatus(), { replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3 })
})

t.test('web-i.nginx.default.svc.cluster.local is pod i', async t => {
  const all = await pods()
  for (const i of [0, 1, 2]) {
    const fqdn = `web-${i}.nginx.default.svc.cluster.local`
    const ip = all.get(`web-${i}`)?.status?.podIP
    const answer = await waitFor(`${fqdn} to resolve`, async () => {
      const r = await kubewire(['exec', 'client', '--', 'dig', '+short', '+time=2', '+tries=1', fqdn])
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined
    }, 20_000)
    t.equal(answer, ip, `${fqdn} -> ${ip}`)
  }
})

t.test('web-1 deleted comes back as web-1, same hostname, same data', async t => {
  await exec('web-1', 'sh', '-c', 'echo kept > /data/file')
  t.equal((await exec('web-1', 'hostname')).trim(), 'web-1')
  t.ok(existsSync(join(claimDir('data-web-1'), 'file')), 'the data is in the claim\'s directory')
  const before = (await pods()).get('web-1')!
  await client.delete(RESOURCES.pods, 'default', 'web-1')
  const after = await waitFor('a new ready web-1', async () => {
    const p = (await pods()).get('web-1')
    return p && p.metadata.uid !== before.metadata.uid && ready(p) ? p : undefined
  }, 60_000)
  t.not(after.metadata.uid, before.metadata.uid)
  t.equal((await exec('web-1', 'hostname')).trim(), 'web-1')
  t.equal((await exec('web-1', 'cat', '/data/file')).trim(), 'kept', 'the file is still there')
})

t.test('a rolling update replaces the highest ordinal first and stops at the partition', async t => {
  const old = await pods()
  const oldRevision = revisionOf(old.get('web-0')!)
  const from = events.length
  await client.patch(RESOURCES.statefulsets, 'default', 'web', {
    spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }, template: { metadata: { annotations: { rev: '2' } } } },
  })
  const updateRevision = await waitFor('a new update revision', async () => {
    const s = await setStatus()
    return s.updateRevision && s.updateRevision !== oldRevision ? s.updateRevision : undefined
  })
  await waitFor('web-1 and web-2 updated and ready', async () => {
    const all = await pods()
    return ['web-1', 'web-2'].every(n => all.get(n) && ready(all.get(n)!) && revisionOf(all.get(n)!) === updateRevision)
  }, 60_000)
  const later = events.slice(from)
  const deletedAt = (pod: string) => later.findIndex(e => e.type === 'DELETED' && e.object.metadata.name === pod)
  const readyAgainAt = (pod: string) => later.findIndex(e => e.object.metadata.name === pod && revisionOf(e.object) === updateRevision && ready(e.object))
  t.ok(deletedAt('web-2') >= 0 && deletedAt('web-2') < deletedAt('web-1'), 'web-2 went before web-1')
  t.ok(readyAgainAt('web-2') < deletedAt('web-1'), 'web-1 went only once the new web-2 was Ready')
  const all = await pods()
  t.equal(all.get('web-0')?.metadata.uid, old.get('web-0')?.metadata.uid, 'web-0 (below the partition) untouched')
  t.equal(revisionOf(all.get('web-0')!), oldRevision)
  t.match(await setStatus(), { currentRevision: oldRevision, updateRevision, currentReplicas: 1, updatedReplicas: 2 })
})

t.test('scale down to 1 removes web-2, then web-1; the claims stay until deleted', async t => {
  const from = events.length
  await client.patch(RESOURCES.statefulsets, 'default', 'web', { spec: { replicas: 1 } }, 'merge', 'scale')
  await waitFor('only web-0 left', async () => [...(await pods()).keys()].join() === 'web-0', 60_000)
  const deleted = events.slice(from).filter(e => e.type === 'DELETED').map(e => e.object.metadata.name)
  t.same(deleted, ['web-2', 'web-1'])
  const claims = (await client.list(RESOURCES.persistentvolumeclaims, 'default')).items.map(c => c.metadata.name).sort()
  t.same(claims, ['data-web-0', 'data-web-1', 'data-web-2'], 'Retain keeps them')
  t.ok(existsSync(join(claimDir('data-web-1'), 'file')), 'and their data')
  await client.delete(RESOURCES.persistentvolumeclaims, 'default', 'data-web-1')
  await waitFor("the deleted claim's directory to go", () => !existsSync(claimDir('data-web-1')), 10_000)
  t.ok(existsSync(claimDir('data-web-0')), 'the others stay')
})

t.test('down leaves nothing', async t => {
  watch?.stop()
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
  t.notOk(existsSync(join(home, 'clusters', name)), 'no state directory, so no claim directories')
})
