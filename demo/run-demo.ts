/** `npm run demo` (build and serve) or `npm run demo -- --dev` (hot reload). */
import { startDemo } from './demo-server.js'

const demo = await startDemo({ mode: process.argv.includes('--dev') ? 'dev' : 'preview' })
const room = `demo-${Math.random().toString(36).slice(2, 8)}`
console.log(`
  trystero-yjs demo
  signaling (MQTT over WebSocket, this machine only): ${demo.broker.url}

  Open this link in two browser windows (each tab is its own user), and type:
    ${demo.url}?room=${room}
  The page and its signaling listen on this machine only.

  Ctrl+C to stop.
`)
const stop = (): void => { void demo.close().then(() => process.exit(0)) }
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
