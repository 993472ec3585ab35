/**
 * y-webrtc's own signaling server (its bin/server.js), bound to 127.0.0.1 on a port of the
 * system's choosing, reported to the parent over IPC. server.js listens on all interfaces with no
 * way to choose; so `listen` is redirected before the script runs. It counts signaling bytes too.
 */
import http from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { WebSocketServer } from 'ws'

const traffic = { received: 0, sent: 0 }
const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (this: http.Server, ..._args: unknown[]) {
  this.once('listening', () => process.send!({ port: (this.address() as { port: number }).port }))
  return listen.call(this, { port: 0, host: process.env['BENCH_SIGNALING_HOST'] ?? '127.0.0.1' })
} as typeof listen
// Count what goes through every socket of the server's WebSocketServer.
const handleUpgrade = WebSocketServer.prototype.handleUpgrade
WebSocketServer.prototype.handleUpgrade = function (this: WebSocketServer, ...args: Parameters<typeof handleUpgrade>) {
  const [request, socket, head, callback] = args
  return handleUpgrade.call(this, request, socket, head, (ws, req) => {
    ws.on('message', (data: Buffer) => { traffic.received += data.byteLength })
    const send = ws.send.bind(ws)
    ws.send = ((data: string, ...rest: unknown[]) => {
      traffic.sent += Buffer.byteLength(data)
      return (send as (...a: unknown[]) => void)(data, ...rest)
    }) as typeof ws.send
    callback(ws, req)
  })
}
process.on('message', (message: { type: string }) => {
  if (message.type === 'traffic') process.send!({ traffic })
})
process.on('disconnect', () => process.exit(0))
const require = createRequire(import.meta.url)
const root = path.dirname(path.dirname(require.resolve('y-webrtc')))
await import(pathToFileURL(path.join(root, 'bin', 'server.js')).href)
