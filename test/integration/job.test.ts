// Jobs on a real 2-node cluster: completions with a parallelism cap seen
// through a pod watch, a failing Job stopping at its backoffLimit, the TTL
// removing a finished Job with its pods, and activeDeadlineSeconds stopping
// a long-running one. The control plane runs with KUBEWIRE_JOB_BACKOFF_MS=200
// (the Job controller's pod-failure back-off starts at 200 ms, not 10 s).
import { join } from 'node:path'
import t from 'tap'
import { HttpClient } from '../../control/client/http-client.ts'
import { RESOURCES, type KubeObject } from '../../control/client/api-client.ts'
import { isolatedHome, kubewire, kubewireOk, leftoversSettled, removeHome, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
let client: HttpClient

interface Pod extends KubeObject {
  spec?: { nodeName?: string }
  status?: { phase?: string }
}
interface Condition {
  type: string
  status: string
  reason?: string
  message?: string
}
interface Job extends KubeObject {
  status?: { active?: number; succeeded?: number; failed?: number; completionTime?: string; conditions?: Condition[] }
}

function job(jobName: string, command: string, spec: Record<string, unknown> = {}, restartPolicy = 'Never'): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: jobName },
    spec: {
      ...spec,
      template: {
        spec: {
          restartPolicy,
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'work', image: 'busybox', command: ['sh', '-c', command] }],
        },
      },
    },
  }
}

const getJob = async (jobName: string): Promise<Job | undefined> => {
  try {
    return await client.get<Job>(RESOURCES.jobs, 'default', jobName)
  } catch {
    return undefined
  }
}
const podsOf = async (jobName: string): Promise<Pod[]> =>
  (await client.list<Pod>(RESOURCES.pods, 'default', { labelSelector: `batch.kubernetes.io/job-name=${jobName}` })).items
const conditionTrue = (j: Job | undefined, type: string): Condition | undefined =>
  j?.status?.conditions?.find(c => c.type === type && c.status === 'True')
const isActive = (p: Pod): boolean => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'

t.before(async () => {
  await kubewireOk(['up', '--nodes', '2', '--addons', 'none'], { KUBEWIRE_JOB_BACKOFF_MS: '200' })
  client = await HttpClient.fromKubeconfig(join(home, 'clusters', name, 'kubeconfig'))
})
t.teardown(async () => {
  client?.close()
  await kubewire(['down'])
  removeHome(home)
})

t.test('completions 5, parallelism 2: five pods succeed, never more than two active', async t => {
  // Every pod event, from before the Job exists: the active set at each step.
  const phases = new Map<string, Pod>()
  let maxActive = 0
  const watch = await client.watch<Pod>(RESOURCES.pods, 'default', { labelSelector: 'batch.kubernetes.io/job-name=count' }, e => {
    if (e.type === 'ERROR' || e.type === 'BOOKMARK') return
    const key = e.object.metadata.name ?? ''
    if (e.type === 'DELETED') phases.delete(key)
    else phases.set(key, e.object)
    maxActive = Math.max(maxActive, [...phases.values()].filter(isActive).length)
  })
  t.teardown(() => watch.stop())
  await client.create(RESOURCES.jobs, 'default', job('count', 'sleep 1', { completions: 5, parallelism: 2 }))
  const done = await waitFor('the Job to complete', async () => {
    const j = await getJob('count')
    return conditionTrue(j, 'Complete') ? j : undefined
  }, 60_000)
  t.match(done.status, { succeeded: 5 })
  t.equal(done.status?.active, undefined, 'nothing active')
  t.ok(done.status?.completionTime, 'completionTime set')
  t.ok(conditionTrue(done, 'SuccessCriteriaMet'), 'SuccessCriteriaMet came first')
  const pods = await podsOf('count')
  t.equal(pods.length, 5, 'five pods')
  t.ok(pods.every(p => p.status?.phase === 'Succeeded'), 'all Succeeded')
  t.ok(pods.every(p => p.metadata.ownerReferences?.[0]?.kind === 'Job' && p.metadata.name?.startsWith('count-')), 'count-xxxxx, owned by the Job')
  await waitFor('the watch to have seen all five', () => phases.size === 5, 10_000)
  t.ok(maxActive >= 1 && maxActive <= 2, `at most 2 active at once (saw ${maxActive})`)
})

t.test('exit 1, restartPolicy Never, backoffLimit 2: Failed with BackoffLimitExceeded after 3 pods', async t => {
  await client.create(RESOURCES.jobs, 'default', job('fail', 'exit 1', { backoffLimit: 2 }))
  const failed = await waitFor('the Job to fail', async () => {
    const j = await getJob('fail')
    return conditionTrue(j, 'Failed') ? j : undefined
  }, 60_000)
  t.match(conditionTrue(failed, 'Failed'), { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' })
  t.ok(conditionTrue(failed, 'FailureTarget'), 'FailureTarget came first')
  t.equal(failed.status?.failed, 3)
  const pods = await podsOf('fail')
  t.equal(pods.length, 3, 'one pod and two retries')
  t.ok(pods.every(p => p.status?.phase === 'Failed'))
})

t.test('ttlSecondsAfterFinished removes a finished Job and its pods', async t => {
  await client.create(RESOURCES.jobs, 'default', job('brief', 'true', { ttlSecondsAfterFinished: 2 }))
  await waitFor('the Job to complete', async () => conditionTrue(await getJob('brief'), 'Complete'), 60_000)
  t.equal((await podsOf('brief')).length, 1, 'its pod is there while the Job is')
  await waitFor('the Job to be gone', async () => (await getJob('brief')) === undefined, 30_000)
  await waitFor('its pod to be gone', async () => (await podsOf('brief')).length === 0, 30_000)
  t.pass('Job and pod deleted')
})

t.test('activeDeadlineSeconds stops a long-running Job and deletes its pod', async t => {
  await client.create(RESOURCES.jobs, 'default', job('slow', 'sleep 600', { activeDeadlineSeconds: 3 }))
  await waitFor('its pod to run', async () => (await podsOf('slow')).some(p => p.status?.phase === 'Running'), 60_000)
  const failed = await waitFor('the Job to fail', async () => {
    const j = await getJob('slow')
    return conditionTrue(j, 'Failed') ? j : undefined
  }, 60_000)
  t.match(conditionTrue(failed, 'Failed'), { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' })
  await waitFor('its pod to be gone', async () => (await podsOf('slow')).length === 0, 30_000)
  t.pass('the pod was deleted')
})

t.test('down leaves nothing', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
