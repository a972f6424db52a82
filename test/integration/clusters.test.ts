// Several clusters on one machine, and cleanup: two clusters with different
// names run side by side on different underlays without seeing each other;
// `down` of one leaves the other intact; an `up` killed half-way is cleaned
// up completely by `down`.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import t from 'tap'
import {
  CLI, isolatedHome, kubewire, kubewireOk, leftovers, leftoversSettled, pingFrom, removeHome, runPod, uniqueClusterName, waitFor,
} from './helpers/cluster.ts'

const home = isolatedHome()
const one = uniqueClusterName()
const two = uniqueClusterName()
const crashed = uniqueClusterName()

t.teardown(async () => {
  for (const name of [one, two, crashed]) await kubewire(['down', '--name', name])
  removeHome(home)
})

function underlayOf(status: string): string {
  const m = /vxlan\s+(198\.1[89]\.\d+\.0\/24)/.exec(status)
  if (!m) throw new Error(`no underlay in:\n${status}`)
  return m[1] as string
}

t.test('two clusters side by side', async t => {
  await Promise.all([kubewireOk(['up', '--name', one, '--nodes', '2', '--addons', 'none']), kubewireOk(['up', '--name', two, '--nodes', '2', '--addons', 'none'])])
  const u1 = underlayOf(await kubewireOk(['status', '--name', one]))
  const u2 = underlayOf(await kubewireOk(['status', '--name', two]))
  t.not(u1, u2, `distinct underlays (${u1}, ${u2})`)

  // Same pod names and, by the addressing plan, the same pod addresses in both.
  for (const name of [one, two]) {
    const env = { KUBEWIRE_CLUSTER: name }
    await runPod('x', { node: 'node-1', env })
    await runPod('y', { node: 'node-2', env })
  }
  for (const name of [one, two]) {
    const env = { KUBEWIRE_CLUSTER: name }
    t.ok(await pingFrom('x', '10.244.2.2', env), `${name}: pod x reaches pod y across nodes`)
  }
  const otherNode = u2.replace(/0\/24$/, '11')
  t.notOk(await pingFrom('x', otherNode, { KUBEWIRE_CLUSTER: one }), `${one} cannot reach ${two}'s node ${otherNode}`)

  await kubewireOk(['down', '--name', one])
  t.same(await leftoversSettled(one), [], `${one} is gone entirely`)
  t.ok(await pingFrom('x', '10.244.2.2', { KUBEWIRE_CLUSTER: two }), `${two} still works after ${one} went down`)
  await kubewireOk(['down', '--name', two])
  t.same(await leftoversSettled(two), [], `${two} is gone entirely`)
})

t.test('an up killed half-way is cleaned up by down', async t => {
  // Many nodes make `up` long enough to be caught in the middle.
  const child = spawn(process.execPath, [CLI, 'up', '--name', crashed, '--nodes', '40'], { stdio: 'ignore', detached: true })
  const exited = new Promise(r => child.on('close', r))
  await waitFor('the crashing up to create its first node namespace', () => existsSync(`/run/netns/kw-${crashed}-node-1`), 20_000)
  child.kill('SIGKILL')
  await exited
  t.ok(leftovers(crashed).length > 0, `the killed up left objects behind (${leftovers(crashed).length})`)

  const retry = await kubewire(['up', '--name', crashed])
  t.equal(retry.code, 1, 'a second up refuses while leftovers exist')
  t.match(retry.stderr, new RegExp(`cluster "${crashed}" already exists \\(remove it with: kubewire down --name ${crashed}\\)`))

  const down = await kubewireOk(['down', '--name', crashed])
  t.match(down, new RegExp(`Deleted cluster "${crashed}"`))
  t.same(await leftoversSettled(crashed), [], 'down after a killed up leaves nothing')
  const up = await kubewireOk(['up', '--name', crashed, '--nodes', '1'])
  t.match(up, /is up/, 'and the name can be used again')
  await kubewireOk(['down', '--name', crashed])
  t.same(await leftoversSettled(crashed), [], 'clean again')
})
