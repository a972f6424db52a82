// Built-in runtime for the `nginx` image: an HTTP server on port 80 that
// answers like nginx's default site (welcome page on /, nginx's 404 page
// elsewhere, its Server header) and writes nginx's access log format to
// stdout. Plain JavaScript run by bare Node: no loader per pod keeps a pod's
// process small and quick to start.
import { createServer } from 'node:http'

const VERSION = '1.27.3'
const WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`
const NOT_FOUND = `<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx/${VERSION}</center>
</body>
</html>
`
const port = Number(process.env.NGINX_PORT ?? 80)
process.title = 'nginx: master process nginx -g daemon off;'

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0]
  const found = path === '/' || path === '/index.html'
  const body = req.method === 'HEAD' ? '' : found ? WELCOME : NOT_FOUND
  res.writeHead(found ? 200 : 404, {
    Server: `nginx/${VERSION}`,
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(found ? WELCOME : NOT_FOUND),
  })
  res.end(body)
  const time = new Date().toUTCString()
  process.stdout.write(
    `${String(req.socket.remoteAddress).replace(/^::ffff:/, '')} - - [${time}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ` +
      `${Buffer.byteLength(body)} "-" "${req.headers['user-agent'] ?? '-'}"\n`,
  )
})
server.listen(port, () => process.stdout.write(`nginx/${VERSION}: start worker process on :${port}\n`))
// nginx exits at once on TERM ("fast shutdown"), QUIT drains ("graceful shutdown").
process.on('SIGTERM', () => process.exit(0))
process.on('SIGQUIT', () => server.close(() => process.exit(0)))
