/** `npm run demo` (build and serve) or `npm run demo -- --dev` (hot reload). */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { startDemo } from './demo-server.js'

const room = `demo-${Math.random().toString(36).slice(2, 8)}`
// A private room: its write key travels in the link's fragment (never sent to a server); the
// page's "Copy read-only link" makes the viewers' link from it.
const writeKey = randomBytes(32).toString('base64url')
// The keeper's store lives as long as this run: the demo's rooms are made up for it.
const keeperDir = mkdtempSync(join(tmpdir(), 'trystero-yjs-demo-keeper-'))
const demo = await startDemo({ mode: process.argv.includes('--dev') ? 'dev' : 'preview', keep: { rooms: [{ room, writeKey }], dir: keeperDir } })
console.log(`
  trystero-yjs demo
  signaling (MQTT over WebSocket, this machine only): ${demo.broker.url}

  Open this link in two browser windows (each tab is its own user), and type:
    ${demo.url}?room=${room}#write=${writeKey}
  It is a private room: only its links get in ("Copy read-only link" makes one for viewers).
  The page and its signaling listen on this machine only.

  A keeper (trystero-yjs-keeper) keeps this room: close every window, open the link again
  in a private window, and the document is still there.

  Ctrl+C to stop.
`)
const stop = (): void => {
  void demo.close().then(() => {
    rmSync(keeperDir, { recursive: true, force: true })
    process.exit(0)
  })
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
