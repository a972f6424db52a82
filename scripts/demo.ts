// `npm start`: bring up a 2-node cluster named "demo", run a few pods, prove
// cross-node traffic with curl, and say what to try next. Runs the same code
// as the `kubewire` commands it prints, so the transcript is what a user gets.
import { fileURLToPath } from 'node:url'
import { main } from '../control/cli/main.ts'
import { clusterExists } from '../control/cluster/cluster-state.ts'
import { runCommand } from '../dataplane/exec/run-command.ts'

const CLUSTER = 'demo'
const server = fileURLToPath(new URL('./hostname-server.mjs', import.meta.url))
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)

async function kw(...args: string[]): Promise<void> {
  const shown = args.map(a => (a === process.execPath ? 'node' : a === server ? 'scripts/hostname-server.mjs' : a))
  console.log(bold(`\n$ kubewire ${shown.join(' ')}`))
  const code = await main(args)
  if (code !== 0) throw new Error(`kubewire ${args.join(' ')} failed with exit code ${code}`)
}

/** Wait until the pod's server answers (processes take a moment to start listening). */
async function waitForServer(fromNetns: string, url: string): Promise<void> {
  const deadline = Date.now() + 15_000
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const r = await runCommand(['ip', 'netns', 'exec', fromNetns, 'curl', '-s', '-o', '/dev/null', '--max-time', '1', url], { allowFailure: true })
    if (r.exitCode === 0) return
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 15 s`)
    await new Promise(r => setTimeout(r, delay))
  }
}

process.env.KUBEWIRE_CLUSTER = CLUSTER
if (clusterExists(CLUSTER)) {
  console.log(`A cluster "${CLUSTER}" exists from an earlier run: starting afresh.`)
  await kw('down', '--name', CLUSTER)
}
await kw('up', '--name', CLUSTER, '--nodes', '2')
await kw('run', 'web-1', '--node', 'node-1', '--', process.execPath, server, '8080')
await kw('run', 'web-2', '--node', 'node-2', '--', process.execPath, server, '8080')
await kw('run', 'client', '--node', 'node-2')
await kw('status')
await waitForServer(`kw-${CLUSTER}-pod-default.client`, 'http://10.244.1.2:8080/')
await kw('exec', 'client', '--', 'curl', '-s', 'http://10.244.1.2:8080/')
await kw('exec', 'client', '--', 'ping', '-c', '2', '10.244.1.2')

console.log(`
${bold('It works:')} pod "client" on node-2 reached pod "web-1" on node-1 (10.244.1.2)
through node-2's routing table, the underlay bridge kw-${CLUSTER} and node-1's cni0.

Try next:
  npx kubewire exec client -- curl -s http://10.244.2.2:8080/     # a pod on the same node
  npx kubewire exec node-1 -- ip route                            # host-gw routes to the other node's pods
  npx kubewire exec web-1 -- ps ax                                # the pod's own PID namespace
  tcpdump -ni kw-${CLUSTER} icmp &  npx kubewire exec client -- ping -c1 10.244.1.2   # packets on the underlay
  npx kubewire run mine --node node-1 -- python3 -m http.server 80
  npx kubewire delete pod mine
  npx kubewire down                                               # removes everything
`)
