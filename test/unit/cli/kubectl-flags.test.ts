// pflag-style flags as kubectl users type them.

import t from 'tap'
import { parseDuration, parseFlags } from '../../../control/cli/kubectl/flags.ts'
import { splitGlobalFlags } from '../../../control/cli/kubectl/global-flags.ts'

const specs = {
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  watch: { type: 'boolean', short: 'w' },
  wait: { type: 'boolean' },
  replicas: { type: 'int' },
  filename: { type: 'strings', short: 'f' },
  timeout: { type: 'duration' },
} as const

t.test('values in every spelling', async t => {
  const f = parseFlags(['get', '-n', 'team', 'pods', '-ojson', '--replicas=3', '-Aw', '-f', 'a.yaml', '-f=b.yaml,c.yaml', '--wait=false', '--timeout', '1m30s', 'web'], specs)
  t.same(f.positionals, ['get', 'pods', 'web'])
  t.equal(f.string('namespace'), 'team')
  t.equal(f.string('output'), 'json')
  t.equal(f.number('replicas'), 3)
  t.ok(f.boolean('all-namespaces'))
  t.ok(f.boolean('watch'))
  t.equal(f.boolean('wait', true), false)
  t.same(f.strings('filename'), ['a.yaml', 'b.yaml', 'c.yaml'])
  t.equal(f.number('timeout'), 90_000)
  t.notOk(f.has('nope'))
  t.ok(parseFlags(['-h'], specs).help)
  t.same(parseFlags(['a', '--', '-n', 'b'], specs).positionals, ['a', '-n', 'b'], 'after -- everything is positional')
  t.same(parseFlags(['--replicas', '-1'], specs).number('replicas'), -1, 'a negative number is a value')
})

t.test('pflag errors', async t => {
  t.throws(() => parseFlags(['--bogus'], specs), { code: 'EUSAGE', message: 'unknown flag: --bogus' })
  t.throws(() => parseFlags(['-x'], specs), { message: "unknown shorthand flag: 'x' in -x" })
  t.throws(() => parseFlags(['-n'], specs), { message: "flag needs an argument: 'n' in -n" })
  t.throws(() => parseFlags(['--output'], specs), { message: 'flag needs an argument: --output' })
  t.throws(() => parseFlags(['--replicas=three'], specs), { message: 'invalid argument "three" for "--replicas" flag: strconv.ParseInt: parsing "three": invalid syntax' })
  t.throws(() => parseFlags(['--wait=maybe'], specs), { message: 'invalid argument "maybe" for "--wait" flag: strconv.ParseBool: parsing "maybe": invalid syntax' })
  t.throws(() => parseFlags(['--timeout=soon'], specs), { message: 'invalid argument "soon" for "--timeout" flag: time: invalid duration "soon"' })
})

t.test('Go durations', async t => {
  for (const [text, ms] of [['0', 0], ['30s', 30_000], ['1.5h', 5_400_000], ['2h45m', 9_900_000], ['300ms', 300], ['-1s', -1000]] as const) t.equal(parseDuration(text), ms, text)
  t.equal(parseDuration('10'), undefined, 'a unit is required')
  t.equal(parseDuration('1d'), undefined)
})

t.test('connection flags come off before the verb parses', async t => {
  t.same(splitGlobalFlags(['get', '--cluster', 'lab', 'pods', '--kubeconfig=/tmp/k', '-n', 'x', '--context=c']), { args: ['get', 'pods', '-n', 'x'], cluster: 'lab', kubeconfig: '/tmp/k', context: 'c' })
  t.same(splitGlobalFlags(['expose', 'deploy/web', '--name', 'svc']), { args: ['expose', 'deploy/web', '--name', 'svc'] }, '--name is left alone')
})
