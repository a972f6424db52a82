#!/usr/bin/env node
// Entry point of `npx kubewire`: loads the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api'

// A reader that goes away (`kubewire status | head -1`) must not kill a command
// half-way through its work: drop the output, finish the work.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', e => {
    if (e.code !== 'EPIPE') throw e
  })
}

register()
const { main } = await import('../control/cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
