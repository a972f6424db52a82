import t from 'tap'
import { decodeWaitStatus } from '../../../dataplane/native/spawn.ts'

t.test('waitpid statuses read as Node reports a child', async t => {
  t.same(decodeWaitStatus(0), { exitCode: 0, signal: null })
  t.same(decodeWaitStatus(3 << 8), { exitCode: 3, signal: null })
  t.same(decodeWaitStatus(255 << 8), { exitCode: 255, signal: null })
  t.same(decodeWaitStatus(15), { exitCode: null, signal: 'SIGTERM' })
  t.same(decodeWaitStatus(9 | 0x80), { exitCode: null, signal: 'SIGKILL' }, 'core dump bit ignored')
})
