import t from 'tap'
import { fstabField, mountTable } from '../../../dataplane/process/container.ts'

t.test('fstab fields escape what would split or end them', async t => {
  t.equal(fstabField('/var/lib/a'), '/var/lib/a')
  t.equal(fstabField('/my dir/x\ty'), '/my\\040dir/x\\011y')
  t.equal(fstabField('/a\\b\nc'), '/a\\134b\\012c')
})

t.test('the pod\'s sysfs, then one bind line a mount, read-only ones bind,ro, in order', async t => {
  t.equal(
    mountTable([
      { source: '/state/pod/etc/hosts', target: '/etc/hosts', readOnly: true },
      { source: '/state/pod/volumes/empty-dir/data', target: '/data dir', readOnly: false },
    ]),
    'kubewire-sysfs /sys sysfs rw 0 0\n/state/pod/etc/hosts /etc/hosts none bind,ro 0 0\n/state/pod/volumes/empty-dir/data /data\\040dir none bind 0 0\n',
  )
  t.equal(mountTable([]), 'kubewire-sysfs /sys sysfs rw 0 0\n')
})
