// Built-in runtime for Kubernetes' e2e test image
// registry.k8s.io/e2e-test-images/agnhost, with the subcommands the upstream
// network tests use: netexec, serve-hostname, liveness, pause. Flags and
// endpoints follow agnhost's; plain JavaScript run by bare Node, one small
// process per container.
import { exec } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { createServer, request } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import { hostname } from 'node:os'
import { flags } from './flags.mjs'

// Run as `node -e <this source> -- ARGS` (see images.ts): the arguments start at argv[1].
const [subcommand, ...rest] = process.argv.slice(1)
process.title = ['agnhost', ...process.argv.slice(1)].join(' ')

const log = text => process.stdout.write(`${text}\n`)
/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; agnhost prints a.b.c.d. */
const plain = address => String(address ?? '').replace(/^::ffff:/, '')
const exitOn = signals => signals.forEach(s => process.on(s, () => process.exit(0)))

const commands = {
  pause() {
    log('Paused')
    exitOn(['SIGTERM', 'SIGINT'])
    setInterval(() => {}, 1 << 30)
  },

  'serve-hostname'(args) {
    const f = flags(args, { port: '9376', http: true, udp: false, tcp: false })
    const port = Number(f.port)
    const name = hostname()
    if (f.tcp) createTcpServer(s => s.end(name)).listen(port, () => log(`Serving on TCP port ${port}`))
    else if (f.udp) {
      const udp = createSocket('udp4')
      udp.on('message', (_m, peer) => udp.send(name, peer.port, peer.address))
      udp.bind(port, () => log(`Serving on UDP port ${port}`))
    }
    if (f.http && !f.tcp) createServer((_q, res) => res.end(name)).listen(port, () => log(`Serving on HTTP port ${port}`))
    exitOn(['SIGTERM', 'SIGINT'])
  },

  liveness() {
    // As the image used in Kubernetes' probe documentation: healthy for 10 s, then 500.
    const started = Date.now()
    createServer((req, res) => {
      if (req.url?.startsWith('/healthz')) {
        const age = (Date.now() - started) / 1000
        if (age > 10) {
          res.writeHead(500)
          res.end(`error: ${age.toFixed(6)}`)
        } else res.end('ok')
      } else res.end()
    }).listen(8080, () => log('Started liveness server on :8080'))
    exitOn(['SIGTERM', 'SIGINT'])
  },

  netexec(args) {
    const f = flags(args, { 'http-port': '8080', 'udp-port': '8081', 'delay-shutdown': '0' })
    const name = hostname()
    let shuttingDown = false
    const json = (res, code, body) => {
      res.writeHead(code, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const http = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      const q = url.searchParams
      log(`GET ${url.pathname}${url.search}`)
      switch (url.pathname) {
        case '/':
          return res.end(`NOW: ${new Date().toISOString()}`)
        case '/hostname':
        case '/hostName':
          return res.end(name)
        case '/clientip':
          return res.end(`${plain(req.socket.remoteAddress)}:${req.socket.remotePort}`)
        case '/echo': {
          const code = Number(q.get('code') ?? 200)
          res.writeHead(Number.isInteger(code) ? code : 200)
          return res.end(q.get('msg') ?? '')
        }
        case '/header':
          return res.end(String(req.headers[(q.get('key') ?? '').toLowerCase()] ?? ''))
        case '/healthz':
          if (shuttingDown) {
            res.writeHead(503)
            return res.end('shutting down')
          }
          return res.end('ok')
        case '/exit': {
          const code = Number(q.get('code') ?? 0)
          res.writeHead(204)
          return res.end(() => process.exit(Number.isInteger(code) ? code : 0))
        }
        case '/shell':
          return exec(q.get('shellCommand') ?? '', { timeout: 30_000 }, (err, stdout, stderr) =>
            json(res, 200, err ? { output: stdout + stderr, error: err.message } : { output: stdout }),
          )
        case '/dial':
          return dial(q).then(result => json(res, result.errors.length && !result.responses.length ? 400 : 200, result))
        default:
          res.writeHead(404)
          return res.end('404 page not found\n')
      }
    })
    http.keepAliveTimeout = 1000
    http.listen(Number(f['http-port']), () => log(`Started HTTP server on port ${f['http-port']}`))

    const udpPort = Number(f['udp-port'])
    if (udpPort > 0) {
      const udp = createSocket('udp4')
      udp.on('message', (msg, peer) => {
        const text = msg.toString().trim()
        let reply = ''
        if (text === 'hostname' || text === 'hostName') reply = name
        else if (text === 'clientip') reply = `${peer.address}:${peer.port}`
        else if (text.startsWith('echo ')) reply = text.slice(5)
        else reply = `unknown command: ${text}`
        udp.send(reply, peer.port, peer.address)
      })
      udp.bind(udpPort, () => log(`Started UDP server on port ${udpPort}`))
    }
    process.on('SIGTERM', () => {
      const delay = Number(f['delay-shutdown']) * 1000
      shuttingDown = true
      log(`Received SIGTERM, shutting down in ${delay / 1000}s`)
      setTimeout(() => process.exit(0), delay)
    })
  },
}

/** /dial: ask another endpoint `request` `tries` times over http or udp; collect answers. */
async function dial(q) {
  const target = { host: q.get('host') ?? '', port: Number(q.get('port')), request: q.get('request') ?? 'hostname' }
  const protocol = q.get('protocol') ?? 'http'
  const tries = Math.max(1, Number(q.get('tries') ?? 1))
  const responses = []
  const errors = []
  for (let i = 0; i < tries; i++) {
    try {
      responses.push(protocol === 'udp' ? await udpAsk(target) : await httpAsk(target))
    } catch (e) {
      errors.push(String(e.message ?? e))
    }
  }
  return { responses, errors }
}

function httpAsk({ host, port, request: path }) {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: `/${path.replace(/^\//, '')}`, timeout: 5000, agent: false }, res => {
      let body = ''
      res.on('data', b => (body += b))
      res.on('end', () => resolve(body))
    })
    req.on('timeout', () => req.destroy(new Error(`timeout dialing ${host}:${port}`)))
    req.on('error', reject)
    req.end()
  })
}

function udpAsk({ host, port, request: text }) {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4')
    const timer = setTimeout(() => {
      socket.close()
      reject(new Error(`reading from udp connection failed. err:'read udp ${host}:${port}: i/o timeout'`))
    }, 5000)
    socket.on('message', msg => {
      clearTimeout(timer)
      socket.close()
      resolve(msg.toString())
    })
    socket.send(text, port, host)
  })
}

const run = commands[subcommand ?? '']
if (!run) {
  log(`Usage: agnhost [command]\n\nAvailable Commands:\n  ${Object.keys(commands).sort().join('\n  ')}`)
  process.exit(subcommand ? 1 : 0)
}
run(rest)
