// `kubewire create job`: the Job kubectl builds from a CronJob's template (or
// an image), its output, kubectl's errors, and the client-side dry run, over
// an in-process API server.

import t from 'tap'
import { parse } from 'yaml'
import { INSTANTIATE_ANNOTATION, jobFor, jobFromCronJob } from '../../../control/cli/kubectl/create.ts'
import { kubectlVerbs } from '../../../control/cli/kubectl/index.ts'
import type { KubectlIo } from '../../../control/cli/kubectl/index.ts'
import { RESOURCES } from '../../../control/client/api-client.ts'
import type { KubeObject } from '../../../control/client/api-client.ts'
import { harness } from '../apiserver/helpers.ts'
import type { TapTest } from '../apiserver/helpers.ts'

const cronJob: KubeObject = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'backup', labels: { tier: 'ops' } },
  spec: {
    schedule: '0 3 * * *',
    jobTemplate: {
      metadata: { labels: { app: 'backup' }, annotations: { owner: 'ops-team' } },
      spec: { backoffLimit: 2, template: { spec: { containers: [{ name: 'dump', image: 'busybox', command: ['sh', '-c', 'echo dump'] }], restartPolicy: 'OnFailure' } } },
    },
  },
}

async function setup(t: TapTest) {
  const { client } = await harness(t)
  await client.create(RESOURCES.cronjobs, 'default', cronJob)
  await client.create(RESOURCES.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: {} })
  const run = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = []
    const err: string[] = []
    const io: KubectlIo = { out: s => out.push(s), err: s => err.push(s) }
    const dash = argv.indexOf('--')
    const code = await kubectlVerbs.create!(dash < 0 ? argv : argv.slice(0, dash), dash < 0 ? undefined : argv.slice(dash + 1), io, { client })
    return { code, out: out.join('\n'), err: err.join('\n') }
  }
  return { client, run }
}

t.test('the Job built from a CronJob', async t => {
  const source = { ...cronJob, metadata: { ...cronJob.metadata, uid: 'uid-backup' } }
  const job = jobFromCronJob('backup-now', source)
  t.same(job.metadata, {
    name: 'backup-now',
    annotations: { [INSTANTIATE_ANNOTATION]: 'manual', owner: 'ops-team' },
    labels: { app: 'backup' },
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'backup', uid: 'uid-backup', controller: true }],
  }, 'template labels and annotations, instantiate=manual, a controller reference without blockOwnerDeletion')
  t.same(job.spec, (cronJob.spec as { jobTemplate: { spec: unknown } }).jobTemplate.spec)
  t.same(jobFor('once', 'busybox', ['date']).spec, { template: { metadata: {}, spec: { containers: [{ name: 'once', image: 'busybox', command: ['date'], resources: {} }], restartPolicy: 'Never' } } })
})

t.test('create job --from=cronjob/NAME', async t => {
  const { client, run } = await setup(t)
  t.same(await run('job', 'backup-now', '--from=cronjob/backup'), { code: 0, out: 'job.batch/backup-now created', err: '' })
  const job = await client.get<KubeObject>(RESOURCES.jobs, 'default', 'backup-now')
  const cj = await client.get<KubeObject>(RESOURCES.cronjobs, 'default', 'backup')
  t.match(job.metadata.ownerReferences, [{ kind: 'CronJob', name: 'backup', uid: cj.metadata.uid, controller: true }])
  t.equal(job.metadata.annotations?.[INSTANTIATE_ANNOTATION], 'manual')
  t.equal(job.metadata.labels?.app, 'backup')
  t.match(job.spec, { backoffLimit: 2, template: { spec: { containers: [{ name: 'dump' }] } } })
  t.equal((await run('job', 'again', '--from', 'cj/backup', '-o', 'name')).out, 'job.batch/again', 'the short name and -o name')
  t.equal((await run('job', 'third', '--from=cronjobs.batch/backup')).code, 0, 'the qualified name')
  t.equal((await run('job', 'only', '--from=cronjob')).out, 'job.batch/only created', 'a bare type: the only CronJob there is')
  t.equal((await run('job', 'once', '--image=busybox', '--', 'date')).out, 'job.batch/once created', '--image works too')
  t.same((await client.get<KubeObject>(RESOURCES.jobs, 'default', 'once')).metadata.ownerReferences, undefined)
})

t.test("kubectl's errors", async t => {
  const { client, run } = await setup(t)
  const cases: Array<[string[], string]> = [
    [['job', 'x'], 'error: either --image or --from must be specified'],
    [['job', 'x', '--from=cronjob/backup', '--image=busybox'], 'error: either --image or --from must be specified'],
    [['job', 'x', '--from=cronjob/backup', '--', 'date'], 'error: cannot specify --from and command'],
    [['job', 'x', '--from=cronjob/missing'], 'Error from server (NotFound): cronjobs.batch "missing" not found'],
    [['job', 'x', '--from=configmap/settings'], 'error: unknown object type *v1.ConfigMap'],
    [['job', 'x', '--from=deployment/web'], 'Error from server (NotFound): deployments.apps "web" not found'],
    [['job', 'x', '--from=widget/w'], 'error: the server doesn\'t have a resource type "widget"'],
    [['job', 'x', '--from=cronjob/backup', '-n', 'elsewhere'], 'Error from server (NotFound): cronjobs.batch "backup" not found'],
  ]
  for (const [argv, message] of cases) t.same(await run(...argv), { code: 1, out: '', err: message }, argv.join(' '))
  t.match((await run('job')).err, /^error: exactly one NAME is required, got 0\nSee 'kubewire create --help' for usage\.$/)
  t.same((await client.list(RESOURCES.jobs, 'default')).items, [], 'nothing was created')
})

t.test('--dry-run=client prints the Job and creates nothing', async t => {
  const { client, run } = await setup(t)
  const yaml = await run('job', 'preview', '--from=cronjob/backup', '--dry-run=client', '-o', 'yaml')
  t.equal(yaml.code, 0)
  const printed = parse(yaml.out) as KubeObject
  t.match(printed, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'preview', annotations: { [INSTANTIATE_ANNOTATION]: 'manual' } } })
  t.notOk(printed.metadata.namespace, 'no namespace unless one was asked for')
  t.equal((await run('job', 'preview', '--from=cronjob/backup', '--dry-run=client')).out, 'job.batch/preview created (dry run)')
  t.same((await client.list(RESOURCES.jobs, 'default')).items, [])
})
