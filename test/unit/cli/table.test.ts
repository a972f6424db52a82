import t from 'tap'
import { humanAge, renderTable } from '../../../control/cli/table.ts'

t.test('renders kubectl-style columns', async t => {
  t.equal(
    renderTable(['NAME', 'STATUS', 'IP'], [['web', 'Running', '10.244.1.2'], ['a-long-name', 'Completed', '']]),
    'NAME          STATUS      IP\nweb           Running     10.244.1.2\na-long-name   Completed',
  )
})

t.test('ages like kubectl', async t => {
  const now = Date.parse('2026-01-02T00:00:00Z')
  const ago = (s: number) => new Date(now - s * 1000).toISOString()
  for (const [s, want] of [[5, '5s'], [119, '119s'], [125, '2m5s'], [600, '10m'], [7200, '120m'], [3 * 3600 + 60, '3h1m'], [9 * 3600, '9h'], [3 * 86400 + 3600, '3d1h'], [30 * 86400, '30d']] as const) {
    t.equal(humanAge(ago(s), now), want, `${s}s`)
  }
})
