// The sweep behind `kubewire down` and every test teardown: finds a cluster's
// objects by name (ClusterNames.owns), not by state files, so it works after a
// crash half-way through anything, and running it twice is harmless.
// Order: processes (they pin namespaces), namespaces (their links go with them),
// then the root namespace's links and nft tables.
import { ipBatch } from './exec/ip.ts'
import { runner } from './exec/run-command.ts'
import type { ClusterNames } from './names.ts'
import { linkNames } from './network/links.ts'
import { listNetns } from './netns/netns.ts'
import { stopProcessesInNetns } from './process/container.ts'

export interface SweepResult {
  processes: number
  namespaces: string[]
  links: string[]
  nftTables: string[]
}

export async function sweepCluster(names: ClusterNames, graceMs = 2_000): Promise<SweepResult> {
  const namespaces = listNetns().filter(n => names.owns(n))
  const processes = await stopProcessesInNetns(namespaces, graceMs)
  await ipBatch(null, namespaces.map(n => `netns del ${n}`))

  const links = [...(await linkNames(null))].filter(l => names.owns(l))
  // A veth end may vanish between listing and deleting (its peer's namespace went): -force goes on.
  if (links.length) await runner()(['ip', '-force', '-batch', '-'], { input: links.map(l => `link del ${l}\n`).join(''), allowFailure: true })

  const nftTables = (await rootNftTables()).filter(t => names.owns(t.name))
  if (nftTables.length) {
    await runner()(['nft', '-f', '-'], { input: nftTables.map(t => `delete table ${t.family} ${t.name}\n`).join('') })
  }
  return { processes, namespaces, links, nftTables: nftTables.map(t => `${t.family} ${t.name}`) }
}

interface NftTable {
  family: string
  name: string
}

async function rootNftTables(): Promise<NftTable[]> {
  const { stdout } = await runner()(['nft', '-j', 'list', 'tables'])
  const parsed = JSON.parse(stdout) as { nftables: { table?: NftTable }[] }
  return parsed.nftables.flatMap(e => (e.table ? [{ family: e.table.family, name: e.table.name }] : []))
}
