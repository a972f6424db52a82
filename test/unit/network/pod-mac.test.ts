import t from 'tap'
import { podMac } from '../../../dataplane/network/pod-network.ts'

t.test('a pod MAC is 0a:58 plus its address: locally administered, unicast, the same for the same address', async t => {
  t.equal(podMac('10.244.1.5'), '0a:58:0a:f4:01:05')
  t.equal(podMac('10.244.255.254'), '0a:58:0a:f4:ff:fe')
  const first = parseInt(podMac('10.244.1.5').slice(0, 2), 16)
  t.equal(first & 0b10, 0b10, 'locally administered')
  t.equal(first & 0b01, 0, 'unicast')
})
