// Streaming a watch over HTTP as kube-apiserver does: status 200, chunked
// application/json, one `{"type":...,"object":...}` line per event, written as
// soon as it happens; the response ends when the watch ends (timeoutSeconds,
// a 410 ERROR event, the server closing) and the watch stops when the client
// goes away.
//
// A client that stops reading cannot make the server buffer without bound:
// past MAX_BUFFERED bytes queued on its socket, its watch is cut and it must
// re-watch (client-go does that on any dropped stream).

import type { ServerResponse } from 'node:http'
import type { ApiHandler } from '../api-handler.ts'
import type { KubeObject, WatchEvent } from '../../client/api-client.ts'
import type { ApiRequest } from '../request.ts'
import { watchEventLine } from '../watch/event-encoding.ts'

const MAX_BUFFERED = 16 * 1024 * 1024

/** `transform` may replace an event's object (server-side printing as Tables). */
export async function streamWatch(
  handler: ApiHandler,
  request: ApiRequest,
  res: ServerResponse,
  transform?: (event: WatchEvent) => KubeObject,
): Promise<void> {
  let headWritten = false
  const writeHead = (): void => {
    if (headWritten) return
    headWritten = true
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' })
    res.flushHeaders()
  }
  let cut = false
  const watch = await handler.watch(request, event => {
    if (cut || res.destroyed) return
    writeHead()
    res.write(watchEventLine(event.type, transform === undefined ? event.object : transform(event)))
    if (res.writableLength > MAX_BUFFERED) {
      cut = true
      res.destroy()
    }
  })
  writeHead()
  res.on('close', () => watch.stop())
  await watch.done
  if (!res.destroyed) res.end()
}
