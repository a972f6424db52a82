// A tiny HTTP server for the demo and tests: answers every request with the
// pod's hostname (like agnhost serve-hostname). Usage: node hostname-server.mjs [PORT]
import { createServer } from 'node:http'
import { hostname } from 'node:os'

const port = Number(process.argv[2] ?? 8080)
const server = createServer((req, res) => {
  res.setHeader('content-type', 'text/plain')
  res.end(`${hostname()}\n`)
})
server.listen(port, () => console.log(`serving hostname ${hostname()} on :${port}`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
