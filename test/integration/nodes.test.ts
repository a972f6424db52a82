// Growing and shrinking a running cluster: `node add` makes node-3, whose
// lease every other node's overlay picks up through the API; `node remove`
// drains it and every node drops its route.
import t from 'tap'
import { isolatedHome, kubewire, kubewireOk, leftoversSettled, pingFrom, removeHome, runPod, uniqueClusterName, waitFor } from './helpers/cluster.ts'

const name = uniqueClusterName()
const home = isolatedHome()
process.env.KUBEWIRE_CLUSTER = name
t.teardown(async () => {
  await kubewire(['down'])
  removeHome(home)
})

t.test('a node joins and leaves a running cluster', async t => {
  await kubewireOk(['up', '--nodes', '2'])
  const a = await runPod('a', { node: 'node-1' })
  const started = Date.now()
  const added = await kubewireOk(['node', 'add'])
  t.match(added, /node\/node-3 added \(198\.18\.\d+\.13, pods 10\.244\.3\.0\/24\)/)
  t.comment(`node-3 Ready with every overlay programmed after ${Date.now() - started} ms`)
  const c = await runPod('c', { node: 'node-3' })
  t.match(c.ip, /^10\.244\.3\./)
  t.ok(await pingFrom('a', c.ip), 'node-1 pod reaches the new node-3 pod')
  t.ok(await pingFrom('c', a.ip), 'and back')
  const status = await kubewireOk(['status'])
  t.match(status, /node-3\s+Ready/)

  const removed = await kubewireOk(['node', 'remove', 'node-3'])
  t.match(removed, /node\/node-3 removed/)
  await waitFor('node-1 to drop the route to node-3', async () => !(await kubewireOk(['exec', 'node-1', '--', 'ip', 'route'])).includes('10.244.3.0/24'))
  t.pass('route to node-3 gone from node-1')
  const after = await kubewireOk(['status'])
  t.notMatch(after, /node-3/, 'node-3 gone from status')
  t.notMatch(after, /\bc\s+Running/, 'its pod gone')
  const err = await kubewire(['node', 'remove', 'node-9'])
  t.match(err.stderr, /nodes "node-9" not found/)
})

t.test('down leaves nothing', async t => {
  await kubewireOk(['down'])
  t.same(await leftoversSettled(name), [])
})
