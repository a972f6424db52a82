// Applies one transaction ({ table, commands } as JSON on stdin) as the proxy
// does: one netlink batch from this process's network namespace (run it with
// `ip netns exec`). The kernel's refusal goes to stderr, exit status 2.
import { readFileSync } from 'node:fs'
import { sendBatch } from '../../../dataplane/nftables/netlink-socket.ts'
import { encodeCommands, type NftCommand } from '../../../dataplane/proxy/transaction.ts'

const { table, commands } = JSON.parse(readFileSync(0, 'utf8')) as { table: string; commands: NftCommand[] }
try {
  sendBatch(encodeCommands(table, commands))
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`)
  process.exit(2)
}
