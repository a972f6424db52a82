// runCommand starts real (harmless) processes: argv in, stdout, stderr and exit status out.
import t from 'tap'
import { CommandError } from '../../../dataplane/errors.ts'
import { runCommand } from '../../../dataplane/exec/run-command.ts'

t.test('stdin in, stdout and stderr out', async t => {
  const big = 'x'.repeat(1 << 20)
  t.equal((await runCommand(['cat'], { input: big })).stdout.length, big.length, 'more than a pipe buffer each way')
  t.same(await runCommand(['sh', '-c', 'echo out; echo err >&2']), { stdout: 'out\n', stderr: 'err\n', exitCode: 0 })
})

t.test('failures carry argv, exit code and stderr', async t => {
  t.same(await runCommand(['sh', '-c', 'echo no >&2; exit 3'], { allowFailure: true }), { stdout: '', stderr: 'no\n', exitCode: 3 })
  const failed = await runCommand(['sh', '-c', 'echo no >&2; exit 3']).catch(e => e as CommandError)
  t.ok(failed instanceof CommandError)
  t.equal((failed as CommandError).exitCode, 3)
  t.equal((failed as CommandError).stderr, 'no\n')
  t.match((failed as CommandError).message, /^sh -c .* exited with 3: no$/)
  await t.rejects(runCommand(['sh', '-c', 'kill -TERM $$'], { allowFailure: true }), /killed by SIGTERM/, 'a signal is a failure even with allowFailure')
  await t.rejects(runCommand(['kw-no-such-command']), /kw-no-such-command: command not found/)
})

t.test('children get default signal dispositions', async t => {
  // Node ignores SIGPIPE; ignored signals would survive exec.
  const { stdout } = await runCommand(['sh', '-c', 'grep SigIgn /proc/self/status'])
  t.equal(BigInt(`0x${stdout.split(/\s+/)[1]}`) & (1n << 12n), 0n, 'SIGPIPE not ignored')
})
