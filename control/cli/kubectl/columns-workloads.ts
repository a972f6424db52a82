// The `kubectl get` columns of StatefulSets, DaemonSets, Jobs, CronJobs,
// PersistentVolumeClaims and ControllerRevisions, computed as kubectl's
// printers (pkg/printers/internalversion/printers.go) compute them:
// - statefulsets READY is readyReplicas/spec.replicas;
// - daemonsets NODE SELECTOR is the template's nodeSelector (`<none>`);
// - jobs STATUS is the first of Complete, Failed, Terminating, Suspended,
//   FailureTarget, SuccessCriteriaMet that holds, else Running; COMPLETIONS
//   reads "2/3", "1/1 of 4" (parallel, no completions) or "0/1"; DURATION
//   runs from startTime to completionTime (or now);
// - cronjobs TIMEZONE and LAST SCHEDULE read `<none>` when unset, SUSPEND
//   `<unset>`; the wide columns come from the job template;
// - persistentvolumeclaims show CAPACITY and ACCESS MODES (RWO,ROX,RWX,RWOP)
//   from the status only once a volume is bound;
// - controllerrevisions CONTROLLER reads `statefulset.apps/web`.

import type { KubeObject } from '../../client/api-client.ts'
import type { PrintColumn } from './columns-shared.ts'
import { ageColumn, column, list, nameColumn, num, obj, selectorText, since, str } from './columns-shared.ts'
import { humanDuration } from '../../apiserver/http/table-columns.ts'

/** The CONTAINERS and IMAGES cells of a pod spec. */
function containerCells(podSpec: unknown): { names: string; images: string } {
  const containers = list(obj(podSpec).containers)
  return { names: containers.map(c => str(c.name)).join(','), images: containers.map(c => str(c.image)).join(',') }
}

/** labels.FormatLabels: `k=v,k2=v2` sorted by key, `<none>` when empty. */
export function formatLabels(labels: unknown): string {
  const entries = Object.entries(obj(labels)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${str(v)}`).join(',')
}

const templateSpec = (o: KubeObject): unknown => obj(obj(o.spec).template).spec
const jobTemplateSpec = (o: KubeObject): Record<string, unknown> => obj(obj(obj(o.spec).jobTemplate).spec)

function templateColumns(spec: (o: KubeObject) => unknown, selector?: (o: KubeObject) => unknown): PrintColumn[] {
  const columns = [column('CONTAINERS', o => containerCells(spec(o)).names, true), column('IMAGES', o => containerCells(spec(o)).images, true)]
  if (selector !== undefined) columns.push(column('SELECTOR', o => selectorText(selector(o)), true))
  return columns
}

export const STATEFUL_SET_COLUMNS: PrintColumn[] = [
  nameColumn,
  column('READY', o => `${num(obj(o.status).readyReplicas)}/${num(obj(o.spec).replicas)}`),
  ageColumn,
  ...templateColumns(templateSpec),
]

export const DAEMON_SET_COLUMNS: PrintColumn[] = [
  nameColumn,
  column('DESIRED', o => String(num(obj(o.status).desiredNumberScheduled))),
  column('CURRENT', o => String(num(obj(o.status).currentNumberScheduled))),
  column('READY', o => String(num(obj(o.status).numberReady))),
  column('UP-TO-DATE', o => String(num(obj(o.status).updatedNumberScheduled))),
  column('AVAILABLE', o => String(num(obj(o.status).numberAvailable))),
  column('NODE SELECTOR', o => formatLabels(obj(templateSpec(o)).nodeSelector)),
  ageColumn,
  ...templateColumns(templateSpec, o => obj(o.spec).selector),
]

const hasTrueCondition = (o: KubeObject, type: string): boolean => list(obj(o.status).conditions).some(c => c.type === type && c.status === 'True')

/** printJob's STATUS. */
export function jobStatus(job: KubeObject): string {
  if (hasTrueCondition(job, 'Complete')) return 'Complete'
  if (hasTrueCondition(job, 'Failed')) return 'Failed'
  if (job.metadata.deletionTimestamp) return 'Terminating'
  for (const type of ['Suspended', 'FailureTarget', 'SuccessCriteriaMet']) if (hasTrueCondition(job, type)) return type
  return 'Running'
}

/** printJob's COMPLETIONS. */
export function jobCompletions(job: KubeObject): string {
  const spec = obj(job.spec)
  const succeeded = num(obj(job.status).succeeded)
  if (typeof spec.completions === 'number') return `${succeeded}/${spec.completions}`
  const parallelism = num(spec.parallelism)
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`
}

/** printJob's DURATION: how long it took, or has taken so far; empty before it starts. */
export function jobDuration(job: KubeObject, now: number): string {
  const status = obj(job.status)
  if (typeof status.startTime !== 'string') return ''
  if (typeof status.completionTime !== 'string') return since(status.startTime, now)
  return humanDuration(Date.parse(status.completionTime) - Date.parse(status.startTime))
}

export const JOB_COLUMNS: PrintColumn[] = [
  nameColumn,
  column('STATUS', jobStatus),
  column('COMPLETIONS', jobCompletions),
  column('DURATION', jobDuration),
  ageColumn,
  ...templateColumns(templateSpec, o => obj(o.spec).selector),
]

/** printBoolPtr: True, False or <unset>. */
export function boolText(value: unknown): string {
  if (typeof value !== 'boolean') return '<unset>'
  return value ? 'True' : 'False'
}

export const CRON_JOB_COLUMNS: PrintColumn[] = [
  nameColumn,
  column('SCHEDULE', o => str(obj(o.spec).schedule)),
  column('TIMEZONE', o => str(obj(o.spec).timeZone) || '<none>'),
  column('SUSPEND', o => boolText(obj(o.spec).suspend)),
  column('ACTIVE', o => String(list(obj(o.status).active).length)),
  column('LAST SCHEDULE', (o, now) => (typeof obj(o.status).lastScheduleTime === 'string' ? since(obj(o.status).lastScheduleTime, now) : '<none>')),
  ageColumn,
  ...templateColumns(o => obj(jobTemplateSpec(o).template).spec, o => jobTemplateSpec(o).selector),
]

const ACCESS_MODES: ReadonlyArray<[string, string]> = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
]

/** helper.GetAccessModesAsString: the short names in kubectl's fixed order. */
export function accessModesText(modes: unknown): string {
  const given = Array.isArray(modes) ? modes : []
  return ACCESS_MODES.filter(([mode]) => given.includes(mode))
    .map(([, short]) => short)
    .join(',')
}

/** storageutil.GetPersistentVolumeClaimClass: the beta annotation first, then spec.storageClassName. */
export function claimClass(claim: KubeObject): string {
  return claim.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? str(obj(claim.spec).storageClassName)
}

/** CAPACITY and ACCESS MODES: the bound volume's, from the status; empty while unbound. */
export function claimCapacity(claim: KubeObject): { capacity: string; accessModes: string } {
  if (str(obj(claim.spec).volumeName) === '') return { capacity: '', accessModes: '' }
  const status = obj(claim.status)
  const storage = obj(status.capacity).storage
  return { capacity: typeof storage === 'string' || typeof storage === 'number' ? String(storage) : '0', accessModes: accessModesText(status.accessModes) }
}

export const PERSISTENT_VOLUME_CLAIM_COLUMNS: PrintColumn[] = [
  nameColumn,
  column('STATUS', o => (o.metadata.deletionTimestamp ? 'Terminating' : str(obj(o.status).phase))),
  column('VOLUME', o => str(obj(o.spec).volumeName)),
  column('CAPACITY', o => claimCapacity(o).capacity),
  column('ACCESS MODES', o => claimCapacity(o).accessModes),
  column('STORAGECLASS', claimClass),
  column('VOLUMEATTRIBUTESCLASS', o => str(obj(o.spec).volumeAttributesClassName) || '<unset>'),
  ageColumn,
  column('VOLUMEMODE', o => str(obj(o.spec).volumeMode) || '<unset>', true),
]

/** The CONTROLLER cell: `statefulset.apps/web`, `<none>` without a controller. */
export function controllerName(object: KubeObject): string {
  const ref = object.metadata.ownerReferences?.find(r => r.controller === true)
  if (ref === undefined) return '<none>'
  const slash = ref.apiVersion.indexOf('/')
  const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash)
  const kind = group === '' ? ref.kind : `${ref.kind}.${group}`
  return `${kind.toLowerCase()}/${ref.name}`
}

export const CONTROLLER_REVISION_COLUMNS: PrintColumn[] = [
  nameColumn,
  column('CONTROLLER', controllerName),
  column('REVISION', o => String(num(o.revision))),
  ageColumn,
]
