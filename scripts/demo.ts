// `npm start`: bring up a 2-node cluster named "demo", run a few pods, prove
// cross-node traffic with curl, and say what to try next. Runs the same code
// as the `kubewire` commands it prints, so the transcript is what a user gets.
import { main } from '../control/cli/main.ts'
import { clusterFiles } from '../control/cluster/cluster-files.ts'
import { clusterExists } from '../control/cluster/cluster-state.ts'
import { RESOURCES } from '../control/client/api-client.ts'
import { HttpClient } from '../control/client/http-client.ts'

const CLUSTER = 'demo'
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)

async function kw(...args: string[]): Promise<void> {
  console.log(bold(`\n$ kubewire ${args.join(' ')}`))
  const code = await main(args)
  if (code !== 0) throw new Error(`kubewire ${args.join(' ')} failed with exit code ${code}`)
}

process.env.KUBEWIRE_CLUSTER = CLUSTER
if (clusterExists(CLUSTER)) {
  console.log(`A cluster "${CLUSTER}" exists from an earlier run: starting afresh.`)
  await kw('down', '--name', CLUSTER)
}
await kw('up', '--name', CLUSTER, '--nodes', '2')
await kw('run', 'web-1', '--image', 'nginx', '--node', 'node-1')
await kw('run', 'web-2', '--image', 'registry.k8s.io/e2e-test-images/agnhost:2.53', '--node', 'node-2', '--', 'serve-hostname')
await kw('run', 'client', '--node', 'node-2')
for (const pod of ['web-1', 'web-2', 'client']) await kw('wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=60s')
await kw('status')
const kubeconfig = clusterFiles(CLUSTER).kubeconfig
const client = await HttpClient.fromKubeconfig(kubeconfig)
const podIP = async (pod: string) => ((await client.get(RESOURCES.pods, 'default', pod)).status as { podIP: string }).podIP
const web1 = await podIP('web-1')
const web2 = await podIP('web-2')
await kw('exec', 'client', '--', 'curl', '-sI', `http://${web1}/`)
await kw('exec', 'client', '--', 'ping', '-c', '2', web1)
await kw('apply', '-f', 'examples/hello.yaml')
await kw('rollout', 'status', 'deployment/hello', '--timeout=60s')
await kw('get', 'pods', '-l', 'app=hello', '-o', 'wide')
await kw('expose', 'deployment', 'hello', '--port=80', '--target-port=9376')
const clusterIP = ((await client.get(RESOURCES.services, 'default', 'hello')).spec as { clusterIP: string }).clusterIP
client.close()
await kw('get', 'service', 'hello')
// The Endpoints controller and every node's proxy take a moment after the Service is created.
await kw('exec', 'client', '--', 'sh', '-c', `until curl -s -o /dev/null http://${clusterIP}/; do sleep 0.1; done; for i in 1 2 3 4 5 6; do curl -s http://${clusterIP}/; echo; done`)
// By name, through the cluster DNS at 10.96.0.10 and the pod's search path (the DNS pod may still be starting).
await kw('exec', 'client', '--', 'sh', '-c', 'until getent hosts hello >/dev/null; do sleep 0.2; done; getent hosts hello; curl -s http://hello/; echo')

console.log(`
${bold('It works:')} pod "client" on node-2 reached pod "web-1" on node-1 (${web1})
through node-2's routing table, the underlay bridge kw-${CLUSTER} and node-1's cni0;
the Deployment in examples/hello.yaml rolled out 3 replicas across both nodes,
and its Service (ClusterIP ${clusterIP}) spread six requests over them through
the nftables proxy on node-2; the cluster DNS answers for it as "hello".

Try next:
  npx kubewire scale deployment/hello --replicas=6 && npx kubewire get pods -o wide
  npx kubewire describe deployment hello
  npx kubewire exec node-2 -- nft list table ip kw-${CLUSTER}-proxy   # the Service rules
  npx kubewire exec client -- dig +search hello                    # A record from kube-dns (10.96.0.10)
  npx kubewire exec client -- cat /etc/resolv.conf                 # the pod's resolver, as the kubelet writes it
  npx kubewire apply -f examples/web-service.yaml && curl -s http://198.18.0.11:30080/hostname   # a NodePort, from the host
  npx kubewire exec client -- curl -s http://${web2}:9376/     # a pod on the same node (answers its hostname)
  npx kubewire apply -f examples/statefulset.yaml && npx kubewire rollout status sts/store   # store-0..2 in order, each with its claim
  npx kubewire apply -f examples/job.yaml && npx kubewire wait --for=condition=Complete job/count   # also daemonset, cronjob, sidecar
  npx kubewire exec node-1 -- ip route                            # the other node's pods onlink via the VXLAN TAP kwvx0
  npx kubewire overlay stats                                      # the TypeScript encapsulator's counters, per node
  npx kubewire exec web-1 -- ps ax                                # the pod's own PID namespace
  npx kubewire logs web-1                                         # nginx's access log
  kubectl --kubeconfig ${kubeconfig} get pods -o wide   # any kubectl works too
  tcpdump -ni kw-${CLUSTER} -T vxlan udp port 8472 &  npx kubewire exec client -- ping -c1 ${web1}   # VXLAN on the underlay
  npx kubewire run mine --node node-1 -- python3 -m http.server 80     # any host command as a container
  npx kubewire delete pod mine
  npx kubewire down                                               # removes everything
`)
