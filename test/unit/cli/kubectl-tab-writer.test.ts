// Go's text/tabwriter as kubectl configures it for get and describe.

import t from 'tap'
import { TabWriter, tabbed } from '../../../control/cli/kubectl/tab-writer.ts'

t.test('describe layout: columns aligned per block, blocks end at lines without tabs', async t => {
  t.equal(
    tabbed('Name:\tweb\nNamespace:\tteam\nLabels:\ta=b\n\tc=d\nIPs:\n  IP:\t10.0.0.1\nControlled By:\tReplicaSet/web\nConditions:\n  Type\tStatus\n  Ready \tTrue \nVolumes:\t<none>\n'),
    'Name:       web\nNamespace:  team\nLabels:     a=b\n            c=d\nIPs:\n  IP:           10.0.0.1\nControlled By:  ReplicaSet/web\nConditions:\n  Type    Status\n  Ready   True \nVolumes:  <none>\n',
  )
})

t.test('nested columns and empty cells', async t => {
  t.equal(tabbed('a\tbb\tc\naaa\tb\tcc\nx\n'), 'a    bb  c\naaa  b   cc\nx\n')
  t.equal(tabbed('Namespace\tName\t\tCPU\nteam\tweb-1\t\t0 (0%)\n'), 'Namespace  Name     CPU\nteam       web-1    0 (0%)\n')
  t.equal(tabbed('no tabs at all'), 'no tabs at all', 'a trailing partial line stays as it is')
})

t.test('get layout: minimum width 6, padding 3, widths remembered across flushes', async t => {
  const w = new TabWriter({ minWidth: 6, padding: 3, rememberWidths: true })
  w.write('NAME\tAGE\na\t5s\n')
  t.equal(w.flush(), 'NAME   AGE\na      5s\n')
  w.write('a-much-longer-name\t1s\n')
  t.equal(w.flush(), 'a-much-longer-name   1s\n')
  w.write('b\t2s\n')
  t.equal(w.flush(), 'b                    2s\n', 'the wider column is kept')
  w.resetWidths()
  w.write('c\t3s\n')
  t.equal(w.flush(), 'c     3s\n', 'minimum width 6')
  t.equal(w.flush(), '')
})

t.test('widths count characters, not bytes', async t => {
  t.equal(tabbed('ü\tx\nab\ty\n'), 'ü   x\nab  y\n')
})
